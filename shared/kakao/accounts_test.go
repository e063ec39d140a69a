package kakao

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
)

const secretAdminKey = "adm-SECRET-0123456789"

// The admin lookup against Kakao-shaped answers: the request Kakao
// documents (KakaoAK, target_id_type=user_id, target_id, the broker's
// property keys), the broker's email rule, and the error kinds.
func TestAccountsLookupRecorded(t *testing.T) {
	cases := []struct {
		file  string
		email string
	}{
		{"user_me_full.json", "gildong@example.com"},
		{"user_me_unverified_email.json", ""},
		{"user_me_invalid_email.json", ""},
		{"user_me_no_email.json", ""},
	}
	for _, c := range cases {
		rec := &recorded{status: 200, file: c.file}
		srv := rec.server(t)
		id, err := NewAccounts(testClient(srv.URL), secretAdminKey).Lookup(context.Background(), 3141592653)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if id.KakaoID != 3141592653 || id.Email != c.email || !id.EmailChecked || id.Nickname == "" {
			t.Fatalf("%s: %+v", c.file, id)
		}
		r := rec.last.Load()
		q := r.URL.Query()
		if r.Method != http.MethodGet || r.URL.Path != "/v2/user/me" || r.Header.Get("Authorization") != "KakaoAK "+secretAdminKey ||
			q.Get("target_id_type") != "user_id" || q.Get("target_id") != "3141592653" || !strings.Contains(q.Get("property_keys"), "kakao_account.email") {
			t.Fatalf("request %s %s %q", r.Method, r.URL, r.Header.Get("Authorization"))
		}
	}

	// Kakao answering for another user is not believed.
	rec := &recorded{status: 200, file: "user_me_full.json"}
	var unavailable *kakaoauth.KakaoUnavailable
	if _, err := NewAccounts(testClient(rec.server(t).URL), secretAdminKey).Lookup(context.Background(), 42); !errors.As(err, &unavailable) {
		t.Fatalf("another user's answer: %v", err)
	}
}

func TestAccountsLookupErrors(t *testing.T) {
	cases := []struct {
		status int
		file   string
		check  func(error) bool
		hits   int32
	}{
		// Not this app's user (never logged in, or unlinked since).
		{400, "error_-101.json", func(err error) bool { var e *kakaoauth.AccountUnlinked; return errors.As(err, &e) }, 1},
		// A refused admin key is the stack's configuration: internal, not retried.
		{401, "error_-401.json", func(err error) bool {
			return err != nil && kakaoauth.OutcomeOf(kakaoauth.ErrorName(err)).Code == kakaoauth.CodeInternal && strings.Contains(err.Error(), "kakao-admin-key")
		}, 1},
		{400, "error_-2.json", func(err error) bool {
			return kakaoauth.OutcomeOf(kakaoauth.ErrorName(err)).Code == kakaoauth.CodeInternal
		}, 1},
		// A spent quota: once, never retried.
		{400, "error_-10.json", func(err error) bool { var e *kakaoauth.KakaoQuotaExceeded; return errors.As(err, &e) }, 1},
		// Outages: retried, then KakaoUnavailable.
		{503, "error_-9798.json", func(err error) bool { var e *kakaoauth.KakaoUnavailable; return errors.As(err, &e) }, 3},
		{500, "error_500.html", func(err error) bool { var e *kakaoauth.KakaoUnavailable; return errors.As(err, &e) }, 3},
	}
	for _, c := range cases {
		rec := &recorded{status: c.status, file: c.file}
		_, err := NewAccounts(testClient(rec.server(t).URL), secretAdminKey).Lookup(context.Background(), 3141592653)
		if !c.check(err) || rec.hits.Load() != c.hits {
			t.Fatalf("%s: %T %v after %d calls, want %d", c.file, err, err, rec.hits.Load(), c.hits)
		}
		if err != nil && strings.Contains(err.Error(), secretAdminKey) {
			t.Fatalf("%s: the admin key is in the error", c.file)
		}
	}
	if _, err := NewAccounts(testClient("http://127.0.0.1:1"), "").Lookup(context.Background(), 1); err == nil {
		t.Fatal("looked up without an admin key")
	}
}

// Against the Kakao double: a user of the app is found, with the email
// rule; once the user unlinks the app, Kakao no longer answers for them
// (-101), until they log in again. This is the freshness a hosted-UI
// sign-in after an unlink relies on.
func TestAccountsLookupAgainstTheDouble(t *testing.T) {
	f, err := kakaofake.New(kakaofake.Config{AdminKey: secretAdminKey, UnlinkCallbackURL: "http://127.0.0.1:1/unlink"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	for _, u := range []kakaofake.User{
		{ID: 11, Email: "eleven@example.com", IsEmailValid: true, IsEmailVerified: true, Nickname: "eleven"},
		{ID: 12, Email: "twelve@example.com", IsEmailValid: true, IsEmailVerified: false, Nickname: "twelve"},
	} {
		if err := f.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	accounts := NewAccounts(testClient(srv.URL), secretAdminKey)
	ctx := context.Background()
	if id, err := accounts.Lookup(ctx, 11); err != nil || id.Email != "eleven@example.com" || id.Nickname != "eleven" {
		t.Fatalf("11: %+v %v", id, err)
	}
	if id, err := accounts.Lookup(ctx, 12); err != nil || id.Email != "" || !id.EmailChecked {
		t.Fatalf("12 (unverified email): %+v %v", id, err)
	}
	var unlinked *kakaoauth.AccountUnlinked
	if _, err := accounts.Lookup(ctx, 13); !errors.As(err, &unlinked) {
		t.Fatalf("unknown user: %v", err)
	}
	// The unlink's callback target is down; the unlink at Kakao happens anyway.
	_, _ = f.Unlink(ctx, 11, "UNLINK_FROM_APPS")
	if _, err := accounts.Lookup(ctx, 11); !errors.As(err, &unlinked) {
		t.Fatalf("after the unlink: %v", err)
	}
	if _, err := f.MintTokens(kakaofake.TokenRequest{UserID: 11}); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.Lookup(ctx, 11); err != nil {
		t.Fatalf("after logging in again: %v", err)
	}
	if _, err := NewAccounts(testClient(srv.URL), "wrong-key").Lookup(ctx, 11); err == nil || kakaoauth.ErrorName(err) == "AccountUnlinked" {
		t.Fatalf("a wrong admin key: %v", err)
	}
}

// Kakao's unlink API with the admin key, against the double: the user's
// tokens stop working and Kakao no longer answers for them; unlinking
// again, or a user Kakao does not know, is done already; a wrong key is
// an error that never quotes it.
func TestAccountsUnlinkAgainstTheDouble(t *testing.T) {
	f, err := kakaofake.New(kakaofake.Config{AdminKey: secretAdminKey, UnlinkCallbackURL: "http://127.0.0.1:1/unlink"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.Handler())
	t.Cleanup(srv.Close)
	if err := f.AddUser(kakaofake.User{ID: 21, Nickname: "twenty-one"}); err != nil {
		t.Fatal(err)
	}
	tok, err := f.MintTokens(kakaofake.TokenRequest{UserID: 21})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	accounts := NewAccounts(testClient(srv.URL), secretAdminKey)
	if err := accounts.Unlink(ctx, 21); err != nil {
		t.Fatal(err)
	}
	var unlinked *kakaoauth.AccountUnlinked
	if _, err := accounts.Lookup(ctx, 21); !errors.As(err, &unlinked) {
		t.Fatalf("lookup after the unlink: %v", err)
	}
	if _, err := testClient(srv.URL).AccessTokenInfo(ctx, tok.AccessToken); err == nil {
		t.Fatal("the user's token survived the unlink")
	}
	for _, id := range []int64{21, 99} {
		if err := accounts.Unlink(ctx, id); err != nil {
			t.Fatalf("unlink of %d (not linked): %v", id, err)
		}
	}
	err = NewAccounts(testClient(srv.URL), "wrong-key").Unlink(ctx, 21)
	if err == nil || strings.Contains(err.Error(), "wrong-key") {
		t.Fatalf("a wrong admin key: %v", err)
	}
}

// Linked asks /v2/app/users as Kakao documents it (admin key, user_id,
// target_ids as a JSON array), reads both documented answer shapes, and
// never believes an answer about someone it did not ask about; one
// attempt, never retried (a quota answer spent twice is spent for
// nothing); the admin key never in an error.
func TestAccountsLinked(t *testing.T) {
	var got *http.Request
	answer, status := `[{"id":1,"connected_at":"2024-01-01T00:00:00Z"},{"id":3}]`, 200
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, calls = r, calls+1
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	a := NewAccounts(testClient(srv.URL), secretAdminKey)
	ctx := context.Background()
	linked, err := a.Linked(ctx, []int64{1, 2, 3})
	if err != nil || len(linked) != 2 || !linked[1] || linked[2] || !linked[3] {
		t.Fatalf("linked %v %v", linked, err)
	}
	q := got.URL.Query()
	if got.URL.Path != "/v2/app/users" || got.Header.Get("Authorization") != "KakaoAK "+secretAdminKey || q.Get("target_id_type") != "user_id" || q.Get("target_ids") != "[1,2,3]" {
		t.Fatalf("request %s %q", got.URL, got.Header.Get("Authorization"))
	}
	answer = `{"elements":[{"id":2}]}`
	if linked, err := a.Linked(ctx, []int64{1, 2}); err != nil || !linked[2] || linked[1] {
		t.Fatalf("the elements shape: %v %v", linked, err)
	}
	answer = `[{"id":99}]`
	var unavailable *kakaoauth.KakaoUnavailable
	if _, err := a.Linked(ctx, []int64{1}); !errors.As(err, &unavailable) {
		t.Fatalf("an answer about someone not asked about: %v", err)
	}
	calls = 0
	answer, status = `{"code":-10,"msg":"API limit has been exceeded."}`, 400
	var quota *kakaoauth.KakaoQuotaExceeded
	if _, err := a.Linked(ctx, []int64{1}); !errors.As(err, &quota) || calls != 1 {
		t.Fatalf("quota: %v after %d calls", err, calls)
	}
	answer, status = `{"code":-401,"msg":"wrong admin key `+secretAdminKey+`"}`, 401
	_, err = a.Linked(ctx, []int64{1})
	if err == nil || errors.As(err, &unavailable) || strings.Contains(err.Error(), secretAdminKey) {
		t.Fatalf("a refused admin key: %v", err)
	}
	ids := make([]int64, MaxLinkedBatch+1)
	if _, err := a.Linked(ctx, ids); err == nil {
		t.Fatal("more than 100 ids in one request")
	}
	if l, err := a.Linked(ctx, nil); err != nil || len(l) != 0 || calls != 2 {
		t.Fatalf("no ids: %v %v (%d calls)", l, err, calls)
	}
}

// The double's /v2/app/users answers as Kakao does for linked users only,
// and the client reads it.
func TestAccountsLinkedAgainstTheDouble(t *testing.T) {
	fake, err := kakaofake.New(kakaofake.Config{AdminKey: secretAdminKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{7, 8} {
		_ = fake.AddUser(kakaofake.User{ID: id, Nickname: "n"})
	}
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	if err := fake.UnlinkDroppingCallback(8); err != nil {
		t.Fatal(err)
	}
	linked, err := NewAccounts(testClient(srv.URL), secretAdminKey).Linked(context.Background(), []int64{7, 8, 9})
	if err != nil || !linked[7] || linked[8] || linked[9] {
		t.Fatalf("linked %v %v", linked, err)
	}
	if _, err := NewAccounts(testClient(srv.URL), "another-admin-key").Linked(context.Background(), []int64{7}); err == nil {
		t.Fatal("the double took a wrong admin key")
	}
	// Logging in again links the user again.
	if _, err := fake.MintTokens(kakaofake.TokenRequest{UserID: 8}); err != nil {
		t.Fatal(err)
	}
	if linked, _ := NewAccounts(testClient(srv.URL), secretAdminKey).Linked(context.Background(), []int64{8}); !linked[8] {
		t.Fatal("a user who logged in again is not linked")
	}
}
