package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// ForTest runs a whole stack for one test: its own pool, tables, queues
// and secrets on the test binary's shared moto (the package's TestMain must
// call moto.RunTests), its own Kakao double and login endpoint on free
// ports; closed when the test ends. templatePath is template.yaml relative
// to the test's package; change adjusts the Config before the start.
func ForTest(tb testing.TB, templatePath string, change ...func(*Config)) *Main {
	tb.Helper()
	m := StartForTests(tb, templatePath, change...)
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("close the local stack: %v", err)
		}
	})
	return m
}

// StartForTests runs a stack as ForTest does, for the caller to Close:
// a package whose tests share one stack starts it in its first test and
// closes it in TestMain (before moto stops).
func StartForTests(tb testing.TB, templatePath string, change ...func(*Config)) *Main {
	tb.Helper()
	srv := moto.ForTest(tb)
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	name := "t" + hex.EncodeToString(id)
	cfg := Config{
		MotoURL: srv.URL(), KakaoAddr: "127.0.0.1:0", APIAddr: "127.0.0.1:0",
		// A failed unlink comes round again in a second, not five.
		QueueVisibility: time.Second,
		// The upkeep runs when a test says (Main.Sweep, Main.Reconcile):
		// in the background it would spend calls the tests count.
		SweepEvery:   -1,
		Prefix:       "kakaoauth-" + name,
		TemplatePath: templatePath,
	}
	for _, c := range change {
		c(&cfg)
	}
	m := New(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		tb.Fatalf("local stack: %v", err)
	}
	return m
}
