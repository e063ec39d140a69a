package rie_test

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/rie"
)

// coldStarts is how many cold starts each function's figures are the
// median of.
const coldStarts = 7

// initReport is the emulator's report of a function's init phase.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// BenchmarkColdStart starts each function cold under aws-lambda-rie,
// coldStarts times, with env.json's environment against moto and the Kakao
// double, and invokes its committed event at once. It reports the median
// of the init duration the emulator reports (init-ms) and of the time from
// starting the emulator to the first answer (first-answer-ms: the
// emulator's own start, the function's init, including reading its secrets,
// and one invocation). make bench runs it; docs/performance.md quotes it.
func BenchmarkColdStart(b *testing.B) {
	s := newStack(b)
	fns := build(b)
	for _, f := range fnsInOrder(b) {
		b.Run(f.LogicalID, func(b *testing.B) {
			env := s.environment(b, f.LogicalID)
			ev := event(b, f.Dir, nil)
			var inits, answers []float64
			for b.Loop() {
				for range coldStarts {
					log := &lockedBuffer{}
					start := time.Now()
					e, err := rie.Start(b.Context(), rie.Options{RIE: fns.rie, Bootstrap: fns.bins[f.LogicalID], Env: env, Log: log, LogLevel: "info"})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := e.Invoke(b.Context(), ev); err != nil {
						b.Fatalf("%s: %v\n%s", f.LogicalID, err, log.String())
					}
					answers = append(answers, float64(time.Since(start).Microseconds())/1000)
					if err := e.Close(); err != nil {
						b.Fatal(err)
					}
					m := initReport.FindStringSubmatch(log.String())
					if m == nil {
						b.Fatalf("%s: the emulator reported no init:\n%s", f.LogicalID, log.String())
					}
					ms, _ := strconv.ParseFloat(m[1], 64)
					inits = append(inits, ms)
				}
			}
			b.ReportMetric(median(inits), "init-ms")
			b.ReportMetric(median(answers), "first-answer-ms")
			b.ReportMetric(float64(len(inits)), "cold-starts")
		})
	}
}

func fnsInOrder(tb testing.TB) []rie.Function {
	tb.Helper()
	fns, err := rie.MakefileFunctions(filepath.Join(root, "Makefile"))
	if err != nil {
		tb.Fatal(err)
	}
	slices.SortFunc(fns, func(a, b rie.Function) int { return strings.Compare(a.LogicalID, b.LogicalID) })
	return fns
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
