package kakaofake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// adminMe asks /v2/user/me about target with the admin key key, as a
// server does without the user's token.
func adminMe(t *testing.T, base, key, targetType, target string) (int, map[string]any) {
	t.Helper()
	q := url.Values{"target_id_type": {targetType}, "target_id": {target}, "property_keys": {`["kakao_account.email","kakao_account.profile"]`}}
	req, _ := http.NewRequest(http.MethodGet, base+"/v2/user/me?"+q.Encode(), nil)
	req.Header.Set("Authorization", "KakaoAK "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// The admin-key lookup Kakao documents for servers: the profile of a user
// of the app; -101 for one who is not (unknown, or unlinked until they log
// in again); -401 for a wrong key; -2 for a bad target.
func TestUserMeWithAdminKey(t *testing.T) {
	f, srv := newFake(t, Config{AdminKey: "adm", UnlinkCallbackURL: "http://127.0.0.1:1/unlink"})
	mustAddUser(t, f, alice)
	status, body := adminMe(t, srv.URL, "adm", "user_id", "1234567890")
	acc, _ := body["kakao_account"].(map[string]any)
	if status != 200 || body["id"] != 1234567890.0 || acc["email"] != alice.Email || acc["is_email_verified"] != true {
		t.Fatalf("%d %v", status, body)
	}
	for _, c := range []struct {
		key, typ, target string
		status           int
		code             float64
	}{
		{"wrong", "user_id", "1234567890", 401, -401},
		{"adm", "app_user_id", "1234567890", 400, -2},
		{"adm", "user_id", "x", 400, -2},
		{"adm", "user_id", "42", 400, -101},
	} {
		if status, body := adminMe(t, srv.URL, c.key, c.typ, c.target); status != c.status || body["code"] != c.code {
			t.Errorf("%+v: %d %v", c, status, body)
		}
	}
	// Unlinked: Kakao no longer answers for the user...
	_, _ = f.Unlink(t.Context(), alice.ID, "UNLINK_FROM_APPS") // the callback target is down; the unlink happens anyway
	if status, body := adminMe(t, srv.URL, "adm", "user_id", "1234567890"); status != 400 || body["code"] != -101.0 {
		t.Fatalf("after the unlink: %d %v", status, body)
	}
	// ...until they log in to the app again.
	mustMint(t, f, TokenRequest{UserID: alice.ID})
	if status, _ := adminMe(t, srv.URL, "adm", "user_id", "1234567890"); status != 200 {
		t.Fatalf("after logging in again: %d", status)
	}
}
