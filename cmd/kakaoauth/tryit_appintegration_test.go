package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// -stack also reads the optional parts' outputs: the identity pool
// (IdentityPoolId) and GET /me (MeUrl) reach the page's configuration
// only when the stack has them.
func TestTryItAppIntegrationOutputs(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer api.Close()
	page := func(outputs map[string]string) string {
		t.Helper()
		m := TryItMain{Stack: "kakaoauth-prod", Stacks: fakeStacks{outputs: outputs},
			KakaoAuthURL: "https://kauth.kakao.com", KakaoClientID: "restkey123", Addr: "127.0.0.1:0", Out: io.Discard}
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		resp, err := http.Get(m.URL() + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	base := map[string]string{"ApiUrl": api.URL + "/v1", "UserPoolId": "ap-northeast-2_AbCdEf123", "UserPoolClientId": "client123"}
	without := page(base)
	if strings.Contains(without, `"identityPoolID"`) || strings.Contains(without, `"meURL"`) {
		t.Errorf("a stack without them: %s", without)
	}
	with := map[string]string{"IdentityPoolId": "ap-northeast-2:abc", "MeUrl": api.URL + "/v1/me"}
	for k, v := range base {
		with[k] = v
	}
	got := page(with)
	for _, want := range []string{`"identityPoolID":"ap-northeast-2:abc"`, `"identityEndpoint":"https://cognito-identity.ap-northeast-2.amazonaws.com/"`,
		`"meURL":"` + api.URL + `/v1/me"`, `"userPoolClientID":"client123"`, `"cognitoEndpoint":"https://cognito-idp.ap-northeast-2.amazonaws.com/"`} {
		if !strings.Contains(got, want) {
			t.Errorf("page config lacks %s", want)
		}
	}
}
