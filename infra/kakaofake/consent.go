package kakaofake

import (
	"cmp"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authRequest is an authorization request waiting at the consent page, as
// Kakao keeps it in the browser's login session between its screens.
type authRequest struct {
	clientID    string
	redirectURI string
	state       string
	scope       string
	nonce       string
	expiresAt   time.Time
}

// authRequestTTL bounds how long the consent page may stay open.
const authRequestTTL = 10 * time.Minute

//go:embed consent.html
var consentHTML string

var consentPage = template.Must(template.New("consent").Parse(consentHTML))

type consentView struct {
	RequestID   string
	ClientID    string
	RedirectURI string
	OpenID      bool
	User        User
	Known       []User
}

// showConsent stands in for Kakao's login and consent screens: it keeps
// the request and asks which Kakao account logs in and what it agrees to.
// The form is prefilled with the lowest known user id (the demo user on
// the local stack), or with DemoUser's values when no user exists yet.
func (f *Fake) showConsent(w http.ResponseWriter, q url.Values) {
	now := f.now()
	id := randomToken()
	f.mu.Lock()
	for k, p := range f.pending {
		if !now.Before(p.expiresAt) {
			delete(f.pending, k)
		}
	}
	f.pending[id] = authRequest{
		clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), state: q.Get("state"),
		scope: q.Get("scope"), nonce: q.Get("nonce"), expiresAt: now.Add(authRequestTTL),
	}
	known := make([]User, 0, len(f.users))
	for _, u := range f.users {
		known = append(known, u)
	}
	f.mu.Unlock()
	slices.SortFunc(known, func(a, b User) int { return cmp.Compare(a.ID, b.ID) })
	view := consentView{RequestID: id, ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
		OpenID: hasScope(q.Get("scope"), "openid"), User: DemoUser, Known: known}
	if len(known) > 0 {
		view.User = known[0]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The page is only ever shown by the double itself.
	w.Header().Set("X-Frame-Options", "DENY")
	_ = consentPage.Execute(w, view)
}

// consent is the consent page's form: Cancel redirects back with Kakao's
// access_denied error; Agree creates or updates the Kakao account as
// entered and redirects back with a code, as Kakao does.
func (f *Fake) consent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body", "")
		return
	}
	f.mu.Lock()
	req, ok := f.pending[r.PostForm.Get("request")]
	delete(f.pending, r.PostForm.Get("request")) // single use, like a login session step
	f.mu.Unlock()
	if !ok || !f.now().Before(req.expiresAt) {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the authorization request expired or was used: start the login again", "KOE102")
		return
	}
	redirect, err := url.Parse(req.redirectURI)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri must be an absolute URL", "")
		return
	}
	switch r.PostForm.Get("action") {
	case "cancel":
		// Kakao's own answer when the user cancels: %20, not +.
		extra := "error=access_denied&error_description=User%20denied%20access"
		if req.state != "" {
			extra += "&state=" + url.QueryEscape(req.state)
		}
		if redirect.RawQuery != "" {
			redirect.RawQuery += "&"
		}
		redirect.RawQuery += extra
		http.Redirect(w, r, redirect.String(), http.StatusFound)
		return
	case "consent":
	default:
		oauthError(w, http.StatusBadRequest, "invalid_request", "action must be consent or cancel", "")
		return
	}
	u, err := userFromForm(r.PostForm)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error(), "")
		return
	}
	if err := f.AddUser(u); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error(), "")
		return
	}
	f.mu.Lock()
	code := f.issueCodeLocked(u.ID, req.clientID, req.redirectURI, req.scope, req.nonce)
	f.mu.Unlock()
	redirectWithCode(w, r, redirect, code, req.state)
}

type formError string

func (e formError) Error() string { return string(e) }

// userFromForm reads the account the consent form names. Without email
// consent the account has no email for this app, as a Kakao user who
// declined the optional item.
func userFromForm(form url.Values) (User, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(form.Get("id")), 10, 64)
	if err != nil || id <= 0 {
		return User{}, formError("user id must be a positive number")
	}
	u := User{ID: id, Nickname: strings.TrimSpace(form.Get("nickname"))}
	if u.Nickname == "" {
		u.Nickname = "user" + strconv.FormatInt(id, 10)
	}
	if email := strings.TrimSpace(form.Get("email")); email != "" && form.Get("consent_email") != "" {
		u.Email, u.IsEmailValid, u.IsEmailVerified = email, true, form.Get("email_verified") != ""
	}
	return u, nil
}
