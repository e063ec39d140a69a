package tryit

import (
	"net/http"
	"testing"

	"github.com/kakaoauth/kakaoauth"
)

// The page gets every code's message in both languages from errors.go.
func TestMessagesAreErrorsGo(t *testing.T) {
	f := newFixture(t)
	a := f.call(t, http.MethodGet, MessagesPath, "", "", "")
	codes, _ := a.body["codes"].(map[string]any)
	if a.status != http.StatusOK || len(codes) != len(kakaoauth.PublicOutcomes()) {
		t.Fatalf("%d %v", a.status, a.body)
	}
	for _, o := range kakaoauth.PublicOutcomes() {
		got, _ := codes[o.Code].(map[string]any)
		if got["status"] != float64(o.Status) || got["en"] != o.Message || got["ko"] != o.MessageKo {
			t.Errorf("%s: %v, want %d %q %q", o.Code, got, o.Status, o.Message, o.MessageKo)
		}
	}
}
