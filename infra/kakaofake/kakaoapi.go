package kakaofake

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/localonly"
)

func (f *Fake) routes() http.Handler {
	mux := http.NewServeMux()
	// Kakao API (kapi.kakao.com).
	mux.HandleFunc("GET /v1/user/access_token_info", f.accessTokenInfo)
	mux.HandleFunc("GET /v2/user/me", f.me)
	mux.HandleFunc("POST /v2/user/me", f.me)
	mux.HandleFunc("POST /v1/user/unlink", f.unlinkByToken)
	mux.HandleFunc("GET /v2/app/users", f.appUsers)
	mux.HandleFunc("POST /v2/app/users", f.appUsers)
	// Kakao auth server (kauth.kakao.com).
	mux.HandleFunc("GET /oauth/authorize", f.authorize)
	mux.HandleFunc("POST /oauth/authorize", f.consent)
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /.well-known/jwks.json", f.jwks)
	// Control API: for programs and the local page only (JSON, no other
	// site's page).
	control := http.NewServeMux()
	control.HandleFunc("POST /_fake/users", f.controlUsers)
	control.HandleFunc("POST /_fake/tokens", f.controlTokens)
	control.HandleFunc("POST /_fake/faults", f.controlFaults)
	control.HandleFunc("POST /_fake/unlink", f.controlUnlink)
	control.HandleFunc("POST /_fake/keys/rotate", f.controlRotate)
	mux.Handle("/_fake/", localonly.Browser(control, f.cfg.PageOrigins...))
	// Requests addressed to this machine only (DNS rebinding); a Lambda
	// under `sam local` reaches the double as host.docker.internal.
	return localonly.Hosts(f.countAndFault(mux), DockerHostName)
}

// DockerHostName is the name containers (sam local invoke) reach the
// host's double by.
const DockerHostName = "host.docker.internal"

// countAndFault records every request and plays the path's fault, if any,
// before the real handler runs.
func (f *Fake) countAndFault(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		f.mu.Lock()
		f.hits[path]++
		var ft Fault
		faulted := false
		if p := f.faults[path]; p != nil {
			ft, faulted = *p, true
			if p.Count--; p.Count <= 0 {
				delete(f.faults, path)
			}
		}
		f.mu.Unlock()
		if faulted {
			if ft.DelayMS > 0 {
				t := time.NewTimer(time.Duration(ft.DelayMS) * time.Millisecond)
				select {
				case <-t.C:
				case <-r.Context().Done(): // the caller gave up; don't hold the handler
					t.Stop()
					return
				}
			}
			if ft.Reset {
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					if tcp, ok := conn.(*net.TCPConn); ok {
						_ = tcp.SetLinger(0) // RST, not FIN: a reset, as a dropped connection looks
					}
					conn.Close()
				}
				return
			}
			if ft.Status != 0 {
				writeKakaoError(w, ft.Status, ft.Code, ft.Msg)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeKakaoError answers with Kakao's API error body.
func writeKakaoError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"msg": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// bearer extracts the access token of "Authorization: Bearer <token>".
func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// lookupToken resolves a bearer token or writes Kakao's -401 answer.
func (f *Fake) lookupToken(w http.ResponseWriter, r *http.Request) (accessToken, User, bool) {
	tok, ok := bearer(r)
	if !ok {
		writeKakaoError(w, http.StatusUnauthorized, -401, "no authentication key!")
		return accessToken{}, User{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.tokens[tok]
	if !ok {
		writeKakaoError(w, http.StatusUnauthorized, -401, "this access token does not exist")
		return accessToken{}, User{}, false
	}
	if !f.now().Before(at.expiresAt) {
		writeKakaoError(w, http.StatusUnauthorized, -401, "this access token is already expired")
		return accessToken{}, User{}, false
	}
	u, ok := f.users[at.userID]
	if !ok {
		writeKakaoError(w, http.StatusUnauthorized, -401, "this access token does not exist")
		return accessToken{}, User{}, false
	}
	return at, u, true
}

// lookupTarget resolves an admin-key request's target_id_type=user_id and
// target_id, or writes Kakao's answer: -401 for a wrong key, -2 for a bad
// target, -101 for a user who is not linked to the app (unknown, or
// unlinked and not logged in since).
func (f *Fake) lookupTarget(w http.ResponseWriter, r *http.Request) (User, bool) {
	_, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.TrimSpace(key) != f.cfg.AdminKey {
		writeKakaoError(w, http.StatusUnauthorized, -401, "wrong admin key")
		return User{}, false
	}
	var id int64
	if r.FormValue("target_id_type") != "user_id" || json.Unmarshal([]byte(r.FormValue("target_id")), &id) != nil || id <= 0 {
		writeKakaoError(w, http.StatusBadRequest, -2, "target_id_type must be user_id and target_id a user id")
		return User{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, known := f.users[id]
	if !known || f.unlinked[id] {
		writeKakaoError(w, http.StatusBadRequest, -101, "NotRegisteredUserException")
		return User{}, false
	}
	return u, true
}

func (f *Fake) accessTokenInfo(w http.ResponseWriter, r *http.Request) {
	at, u, ok := f.lookupToken(w, r)
	if !ok {
		return
	}
	remaining := int64(at.expiresAt.Sub(f.now()) / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "expires_in": remaining, "app_id": at.appID})
}

// me answers /v2/user/me. Without property_keys it returns every field the
// user consented to; with them, only the listed groups. With the admin key
// (Authorization: KakaoAK) it answers about target_id, a user of the app.
func (f *Fake) me(w http.ResponseWriter, r *http.Request) {
	var u User
	var ok bool
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "KakaoAK") {
		u, ok = f.lookupTarget(w, r)
	} else {
		_, u, ok = f.lookupToken(w, r)
	}
	if !ok {
		return
	}
	wantEmail, wantProfile := true, true
	if raw := r.FormValue("property_keys"); raw != "" {
		var keys []string
		if err := json.Unmarshal([]byte(raw), &keys); err != nil {
			writeKakaoError(w, http.StatusBadRequest, -2, "invalid property_keys")
			return
		}
		wantEmail = slices.Contains(keys, "kakao_account.email")
		wantProfile = slices.Contains(keys, "kakao_account.profile") || slices.Contains(keys, "kakao_account.profile.nickname")
	}
	account := map[string]any{}
	if wantProfile {
		account["profile_nickname_needs_agreement"] = false
		account["profile"] = map[string]any{"nickname": u.Nickname, "is_default_nickname": false}
	}
	if wantEmail {
		if u.Email == "" {
			// No consent: Kakao says consent is needed and sends no email fields.
			account["email_needs_agreement"] = true
		} else {
			account["has_email"] = true
			account["email_needs_agreement"] = false
			account["is_email_valid"] = u.IsEmailValid
			account["is_email_verified"] = u.IsEmailVerified
			account["email"] = u.Email
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            u.ID,
		"connected_at":  "2024-01-01T00:00:00Z",
		"kakao_account": account,
	})
}

// unlinkByToken is POST /v1/user/unlink: the app unlinks the user, with
// the user's access token or, as a service does when its user leaves it,
// with the admin key (Authorization: KakaoAK, target_id_type=user_id,
// target_id). Kakao sends no unlink callback for this path; a user who is
// not linked (any more) is -101.
func (f *Fake) unlinkByToken(w http.ResponseWriter, r *http.Request) {
	appID := f.cfg.AppID
	var u User
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "KakaoAK") {
		var ok bool
		if u, ok = f.lookupTarget(w, r); !ok {
			return
		}
	} else {
		at, tu, ok := f.lookupToken(w, r)
		if !ok {
			return
		}
		u, appID = tu, at.appID
	}
	f.mu.Lock()
	f.revokeLocked(u.ID, appID)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID})
}

// revokeLocked drops every token of the user for the app, as an unlink does.
func (f *Fake) revokeLocked(userID, appID int64) {
	if appID == f.cfg.AppID {
		f.unlinked[userID] = true
	}
	for k, t := range f.tokens {
		if t.userID == userID && t.appID == appID {
			delete(f.tokens, k)
		}
	}
	if appID == f.cfg.AppID {
		for k, g := range f.refresh {
			if g.userID == userID {
				delete(f.refresh, k)
			}
		}
	}
}

// requestBase is the base URL the request reached the Fake at.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (f *Fake) base(r *http.Request) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.baseURL != "" {
		return f.baseURL
	}
	return requestBase(r)
}

func (f *Fake) discovery(w http.ResponseWriter, r *http.Request) {
	base := f.base(r)
	f.mu.Lock()
	iss := f.issuerLocked(requestBase(r))
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                base + "/oauth/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"jwks_uri":                              base + "/.well-known/jwks.json",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"request_uri_parameter_supported":       false,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"scopes_supported":                      []string{"openid"},
		"claims_supported":                      []string{"iss", "aud", "sub", "auth_time", "exp", "iat", "nonce", "nickname", "email"},
	})
}

func (f *Fake) jwks(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	keys := make([]any, 0, len(f.keys))
	for _, k := range f.keys {
		keys = append(keys, k.public)
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// oauthError answers with the auth server's error body.
func oauthError(w http.ResponseWriter, status int, code, description, kakaoCode string) {
	body := map[string]any{"error": code, "error_description": description}
	if kakaoCode != "" {
		body["error_code"] = kakaoCode
	}
	writeJSON(w, status, body)
}

func (f *Fake) knownClient(clientID string) bool { return slices.Contains(f.cfg.AppKeys, clientID) }

func hasScope(scope, want string) bool { return slices.Contains(strings.Fields(scope), want) }

// authorize is GET /oauth/authorize. In a browser it shows the consent
// page (showConsent), which stands in for Kakao's login and consent
// screens. Programmatic callers name the account with the double-only
// user_id parameter and are redirected straight back with a code, as Kakao
// does for a user who is logged in and has consented before.
func (f *Fake) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !f.knownClient(q.Get("client_id")) {
		oauthError(w, http.StatusBadRequest, "invalid_client", "unknown client_id", "KOE101")
		return
	}
	if q.Get("response_type") != "code" {
		oauthError(w, http.StatusBadRequest, "unsupported_response_type", "response_type must be code", "")
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri must be an absolute URL", "")
		return
	}
	s := q.Get("user_id")
	if s == "" {
		f.showConsent(w, q)
		return
	}
	var userID int64
	if err := json.Unmarshal([]byte(s), &userID); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "user_id must be a number", "")
		return
	}
	f.mu.Lock()
	if _, ok := f.users[userID]; !ok {
		f.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_request", "no such user: create one with POST /_fake/users", "")
		return
	}
	code := f.issueCodeLocked(userID, q.Get("client_id"), q.Get("redirect_uri"), q.Get("scope"), q.Get("nonce"))
	f.mu.Unlock()
	redirectWithCode(w, r, redirect, code, q.Get("state"))
}

// issueCodeLocked records a single-use authorization code for the user,
// who consented to the app: linked to it again after an unlink.
func (f *Fake) issueCodeLocked(userID int64, clientID, redirectURI, scope, nonce string) string {
	delete(f.unlinked, userID)
	code := randomToken()
	f.codes[code] = grant{
		userID:      userID,
		clientID:    clientID,
		redirectURI: redirectURI,
		scope:       scope,
		openid:      hasScope(scope, "openid"),
		nonce:       nonce,
		expiresAt:   f.now().Add(10 * time.Minute),
	}
	return code
}

// redirectWithCode sends the browser back to the app with code and state,
// keeping the redirect URI's own query.
func redirectWithCode(w http.ResponseWriter, r *http.Request, redirect *url.URL, code, state string) {
	rq := redirect.Query()
	rq.Set("code", code)
	if state != "" {
		rq.Set("state", state)
	}
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token is POST /oauth/token for the authorization_code and refresh_token
// grants. Codes are single use; refresh tokens are not rotated.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body", "")
		return
	}
	clientID := r.PostForm.Get("client_id")
	if !f.knownClient(clientID) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id", "KOE101")
		return
	}
	issuer := requestBase(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	var g grant
	var refreshToken string
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		c, ok := f.codes[code]
		delete(f.codes, code) // single use, even when the exchange fails
		if !ok || !now.Before(c.expiresAt) || c.clientID != clientID {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "authorization code not found", "KOE320")
			return
		}
		if c.redirectURI != r.PostForm.Get("redirect_uri") {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch", "")
			return
		}
		g = c
		refreshToken = randomToken()
		f.refresh[refreshToken] = grant{
			userID: c.userID, clientID: c.clientID, scope: c.scope, openid: c.openid,
			expiresAt: now.Add(60 * 24 * time.Hour),
		}
	case "refresh_token":
		rt, ok := f.refresh[r.PostForm.Get("refresh_token")]
		if !ok || !now.Before(rt.expiresAt) || rt.clientID != clientID {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "refresh token not found", "")
			return
		}
		g = rt
		g.nonce = "" // a refreshed ID token carries no nonce
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token", "")
		return
	}
	u, ok := f.users[g.userID]
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "user not found", "")
		return
	}
	expiresAt := now.Add(DefaultExpiresIn * time.Second)
	at := randomToken()
	f.tokens[at] = accessToken{userID: u.ID, appID: f.cfg.AppID, expiresAt: expiresAt}
	body := map[string]any{
		"access_token": at,
		"token_type":   "bearer",
		"expires_in":   DefaultExpiresIn,
	}
	if g.scope != "" {
		body["scope"] = g.scope
	}
	if refreshToken != "" {
		body["refresh_token"] = refreshToken
		body["refresh_token_expires_in"] = int64(60*24*time.Hour/time.Second) - 1
	}
	if g.openid {
		idt, err := f.signIDTokenLocked(f.issuerLocked(issuer), g.clientID, u, g.nonce, now, expiresAt)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", "could not sign the id token", "")
			return
		}
		body["id_token"] = idt
	}
	writeJSON(w, http.StatusOK, body)
}

// maxAppUsers is how many ids /v2/app/users takes at once without
// property_keys.
const maxAppUsers = 100

// appUsers is GET (or POST) /v2/app/users: with the admin key, the users
// of the app among target_ids (a JSON array of at most 100 user ids,
// target_id_type user_id), each {"id","connected_at"}, as a JSON array
// (Kakao's example; its reference names the same list "elements"). A user
// who is unknown, or unlinked and not logged in since, is left out.
func (f *Fake) appUsers(w http.ResponseWriter, r *http.Request) {
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "KakaoAK") || strings.TrimSpace(key) != f.cfg.AdminKey {
		writeKakaoError(w, http.StatusUnauthorized, -401, "wrong admin key")
		return
	}
	var ids []int64
	if r.FormValue("target_id_type") != "user_id" || json.Unmarshal([]byte(r.FormValue("target_ids")), &ids) != nil || len(ids) == 0 || len(ids) > maxAppUsers {
		writeKakaoError(w, http.StatusBadRequest, -2, "target_id_type must be user_id and target_ids a JSON array of 1 to 100 user ids")
		return
	}
	f.mu.Lock()
	out := []map[string]any{}
	for _, id := range ids {
		if _, known := f.users[id]; known && !f.unlinked[id] {
			out = append(out, map[string]any{"id": id, "connected_at": "2024-01-01T00:00:00Z"})
		}
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
