package chromium

import (
	"fmt"
	"strings"
	"testing"
)

// fatalRecorder is a testing.TB whose Fatal stops the caller and keeps
// the message.
type fatalRecorder struct {
	testing.TB
	msg string
}

type fatal struct{}

func (r *fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	panic(fatal{})
}
func (r *fatalRecorder) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

// Without a browser the tests fail, saying how to get one; they never skip.
func TestMissingChromiumFailsLoudly(t *testing.T) {
	t.Setenv("CHROMIUM", "/nonexistent/chromium")
	rec := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(fatal); !ok {
					panic(r)
				}
			}
		}()
		ForTest(rec)
		t.Fatal("ForTest returned without a browser")
	}()
	if !strings.Contains(rec.msg, "/nonexistent/chromium") || !strings.Contains(rec.msg, "make tools") {
		t.Fatalf("failure message %q", rec.msg)
	}
	Shutdown()
}
