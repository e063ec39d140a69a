package kakaoauth

import (
	"testing"
	"unicode"
)

// Every answer an app can get has an English and a Korean message, and
// one code has one message whichever error name leads to it.
func TestOutcomesHaveBothMessages(t *testing.T) {
	byCode := map[string]Outcome{}
	for _, name := range append(PublicErrorNames(), "SomethingElse") {
		o := OutcomeOf(name)
		if prev, ok := byCode[o.Code]; ok && prev != o {
			t.Errorf("code %s answers both %+v and %+v", o.Code, prev, o)
		}
		byCode[o.Code] = o
	}
	public := PublicOutcomes()
	if len(public) != len(byCode)+2 { // and RouteNotFound, UnauthorizedOutcome
		t.Errorf("PublicOutcomes %d, codes %d+2", len(public), len(byCode))
	}
	for i, o := range public {
		hangul := false
		for _, r := range o.MessageKo {
			hangul = hangul || unicode.Is(unicode.Hangul, r)
		}
		if o.Code == "" || o.Status < 400 || o.Message == "" || !hangul {
			t.Errorf("outcome %+v: a code, a 4xx/5xx status and both messages (Korean in Hangul)", o)
		}
		if i > 0 && (public[i-1].Status > o.Status || public[i-1].Status == o.Status && public[i-1].Code >= o.Code) {
			t.Errorf("PublicOutcomes out of order at %s", o.Code)
		}
	}
}
