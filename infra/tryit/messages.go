package tryit

import (
	"cmp"
	"slices"

	"github.com/kakaoauth/kakaoauth"
)

// The login API's error messages, in each language the page speaks, are
// served to the page with its settings: errors.go is their one source, so
// the page never carries a second copy of what the API says.

// brokerMessagesKo is the Korean of each public error code of errors.go.
//
// It stands in for Outcome.MessageKo, which errors.go is getting: once it
// has it, brokerMessages reads the Korean from there and this table goes.
// TestBrokerMessagesComplete fails for a code without its Korean.
var brokerMessagesKo = map[string]string{
	"InvalidRequest":       "요청이 올바르지 않습니다: access_token 또는 id_token을 담은 JSON을 보내 주세요.",
	"InvalidKakaoToken":    "카카오 토큰이 유효하지 않거나 만료되었습니다.",
	"WrongKakaoApp":        "다른 앱에 발급된 카카오 토큰입니다.",
	"AccountUnlinked":      "이 카카오 계정은 앱과 연결이 끊겼습니다.",
	"AccountDisabled":      "사용이 중지된 계정입니다.",
	"AccountConflict":      "이 카카오 계정의 이메일은 다른 사용자의 것입니다.",
	"Throttled":            "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
	"KakaoUnavailable":     "카카오에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
	"Timeout":              "로그인이 너무 오래 걸렸습니다. 다시 시도해 주세요.",
	kakaoauth.CodeInternal: "내부 오류입니다.",
}

// brokerOutcomes are the answers the login API gives besides 200, one per
// error code (several error names share a code), internal included.
func brokerOutcomes() []kakaoauth.Outcome {
	names := append(kakaoauth.PublicErrorNames(), "") // "": any other name, internal
	var out []kakaoauth.Outcome
	for _, n := range names {
		o := kakaoauth.OutcomeOf(n)
		if !slices.ContainsFunc(out, func(x kakaoauth.Outcome) bool { return x.Code == o.Code }) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b kakaoauth.Outcome) int { return cmp.Compare(a.Code, b.Code) })
	return out
}

// brokerMessages is the page's copy of the login API's messages by
// language ("en", "ko") and error code.
func brokerMessages() map[string]map[string]string {
	m := map[string]map[string]string{"en": {}, "ko": {}}
	for _, o := range brokerOutcomes() {
		m["en"][o.Code] = o.Message
		if ko := brokerMessagesKo[o.Code]; ko != "" {
			m["ko"][o.Code] = ko
		}
	}
	return m
}
