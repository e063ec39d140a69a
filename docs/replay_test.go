package docs_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"testing"

	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
)

// kakaoNonceClaim is the nonce claim the Kakao double signs into the ID
// token for a login whose app keeps the raw nonce: the pages give Kakao
// the raw nonce's hex SHA-256 (the hashed-nonce contract), which the
// broker checks.
func kakaoNonceClaim(raw string) string { return kakao.HashNonce(raw) }

// Each platform's login body, with real tokens of the Kakao double for
// every member it names, is answered 200 by the local endpoint, for one
// and the same user: the JSON the snippets send is the API's.
func TestLoginSnippetsReplayed(t *testing.T) {
	s := localstack.ForTest(t, "../template.yaml")
	id := kakaofake.DemoUser.ID
	var sub string
	for _, p := range platforms {
		keys := loginBody(t, p)
		if !slices.Contains(keys, "access_token") && !slices.Contains(keys, "id_token") {
			t.Errorf("%s sends %v: no token", p, keys)
			continue
		}
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		nonce := base64.RawURLEncoding.EncodeToString(raw)
		_, tok := postJSON(t, s.KakaoURL()+"/_fake/tokens", map[string]any{"user_id": id, "openid": true, "nonce": kakaoNonceClaim(nonce)})
		body := map[string]any{}
		for _, k := range keys {
			switch k {
			case "access_token":
				body[k] = tok["access_token"]
			case "id_token":
				body[k] = tok["id_token"]
			case "nonce":
				body[k] = nonce
			}
		}
		status, ans := postJSON(t, s.APIURL()+"/auth/kakao", body)
		if status != http.StatusOK {
			t.Errorf("%s's login body %v: %d %v", p, keys, status, ans)
			continue
		}
		if sub == "" {
			sub, _ = ans["sub"].(string)
		}
		if ans["sub"] != sub {
			t.Errorf("%s's login: sub %v, want %s", p, ans["sub"], sub)
		}
	}
	if sub == "" {
		t.Fatal("no snippet logged in")
	}
}
