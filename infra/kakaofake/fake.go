// Package kakaofake is an in-memory double of the Kakao API surface the
// broker uses (kapi user APIs, kauth OAuth/OIDC endpoints, the unlink
// callback), plus a control API under /_fake/ that tests and demos use to
// create users, mint tokens, inject faults and trigger unlinks.
//
// One Fake serves both hosts: point the API base URL and the auth base URL
// at the same address. The ID-token issuer is the auth base URL, exactly as
// on real Kakao (iss = https://kauth.kakao.com), so it defaults to the
// Fake's own base URL: the one given to SetBaseURL, or the listener's
// address under Serve, or else the Host of the request that minted the
// token (httptest servers). Config.Issuer overrides all three.
package kakaofake

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults of Config; the local stack is configured with the same values.
const (
	DefaultAppID    int64 = 1001
	DefaultAppKey         = "local-app-key"
	DefaultAdminKey       = "local-admin-key"
	// DefaultExpiresIn is Kakao's access-token lifetime (6 h, minus a second
	// as Kakao reports it).
	DefaultExpiresIn = 21599
)

// Referrer types of Kakao's unlink callback.
var referrerTypes = map[string]bool{
	"ACCOUNT_DELETE":        true,
	"FORCED_ACCOUNT_DELETE": true,
	"UNLINK_FROM_APPS":      true,
	"UNLINK_FROM_ADMIN":     true,
	"INCOMPLETE_SIGN_UP":    true,
}

// Config configures a Fake. Zero values take the defaults above.
type Config struct {
	AppID    int64
	AppKeys  []string // allowed client ids (REST/JS/native keys); first is the default aud
	AdminKey string
	// UnlinkCallbackURL receives the unlink callback on POST /_fake/unlink.
	UnlinkCallbackURL string
	// Issuer is the iss of minted ID tokens; see the package comment.
	Issuer string
	// PageOrigins are the origins (scheme://host[:port]) of the local
	// pages that may call the control API from a browser (the try-it
	// page's); no other site's page may.
	PageOrigins []string
	Clock       func() time.Time
}

// User is a Kakao account known to the Fake. An empty Email is a user who
// gave no email consent.
type User struct {
	ID              int64  `json:"id"`
	Email           string `json:"email"`
	IsEmailVerified bool   `json:"is_email_verified"`
	IsEmailValid    bool   `json:"is_email_valid"`
	Nickname        string `json:"nickname"`
}

// Fault makes the next Count calls to Path fail: after DelayMS, answer
// Status with Kakao's error body. Status 0 with a delay only slows the
// calls down. Code 0 picks the Kakao code that goes with Status.
type Fault struct {
	Path    string `json:"path"`
	Status  int    `json:"status"`
	Code    int    `json:"code,omitempty"`
	Msg     string `json:"msg,omitempty"`
	Count   int    `json:"count"`
	DelayMS int    `json:"delay_ms"`
	// Reset closes the connection without an answer (after DelayMS).
	Reset bool `json:"reset,omitempty"`
}

// TokenRequest asks for tokens of a known user (POST /_fake/tokens).
type TokenRequest struct {
	UserID int64 `json:"user_id"`
	AppID  int64 `json:"app_id"` // 0: the configured app
	// ExpiresIn nil: Kakao's default lifetime; <= 0: an already expired token.
	ExpiresIn *int64 `json:"expires_in"`
	OpenID    bool   `json:"openid"`
	Nonce     string `json:"nonce"`
	Aud       string `json:"aud"` // "": the first app key
}

// Tokens answers a TokenRequest.
type Tokens struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token,omitempty"`
	ExpiresIn   int64  `json:"expires_in"`
}

type signingKey struct {
	kid    string
	public jose.JSONWebKey
	signer jose.Signer
}

type accessToken struct {
	userID    int64
	appID     int64
	expiresAt time.Time
}

// grant is what an authorization code or a refresh token stands for.
type grant struct {
	userID      int64
	clientID    string
	redirectURI string
	scope       string
	openid      bool
	nonce       string
	expiresAt   time.Time
}

// Fake is the Kakao double. It is safe for concurrent use.
type Fake struct {
	cfg       Config
	now       func() time.Time
	callbacks *http.Client
	handler   http.Handler
	mu        sync.Mutex
	baseURL   string
	users     map[int64]User
	tokens    map[string]accessToken
	codes     map[string]grant
	pending   map[string]authRequest // requests waiting at the consent page
	refresh   map[string]grant
	unlinked  map[int64]bool // unlinked the app and not logged in since
	faults    map[string]*Fault
	hits      map[string]int
	keys      []signingKey // keys[0] signs; the previous key stays published
}

// New builds a Fake with a fresh RS256 signing key.
func New(cfg Config) (*Fake, error) {
	if cfg.AppID == 0 {
		cfg.AppID = DefaultAppID
	}
	if len(cfg.AppKeys) == 0 {
		cfg.AppKeys = []string{DefaultAppKey}
	}
	if cfg.AdminKey == "" {
		cfg.AdminKey = DefaultAdminKey
	}
	now := cfg.Clock
	if now == nil {
		now = time.Now
	}
	f := &Fake{
		cfg: cfg,
		now: now,
		// Kakao gives the callback 3 s to answer 200 and counts a redirect
		// as a failure, so the callback client does not follow one.
		callbacks: &http.Client{
			Timeout:       3 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		users:    map[int64]User{},
		tokens:   map[string]accessToken{},
		codes:    map[string]grant{},
		pending:  map[string]authRequest{},
		refresh:  map[string]grant{},
		unlinked: map[int64]bool{},
		faults:   map[string]*Fault{},
		hits:     map[string]int{},
	}
	if _, err := f.RotateKey(); err != nil {
		return nil, err
	}
	f.handler = f.routes()
	return f, nil
}

// Handler serves the Kakao surface and the control API.
func (f *Fake) Handler() http.Handler { return f.handler }

// SetBaseURL sets the URL the Fake is reached at, used in its discovery
// document and as the default issuer.
func (f *Fake) SetBaseURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.baseURL = strings.TrimRight(u, "/")
}

// AppID is the configured app id.
func (f *Fake) AppID() int64 { return f.cfg.AppID }

// AppKeys are the configured app keys.
func (f *Fake) AppKeys() []string { return append([]string(nil), f.cfg.AppKeys...) }

// Hits counts the requests the Fake received on path, faulted ones included.
func (f *Fake) Hits(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

// AddUser creates or replaces a user.
func (f *Fake) AddUser(u User) error {
	if u.ID <= 0 {
		return errors.New("user id must be positive")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[u.ID] = u
	return nil
}

// MintTokens issues tokens for a known user as if the user had logged in.
// The ID token's iss is Config.Issuer or the base URL: a Fake embedded in
// httptest needs SetBaseURL(srv.URL) first, since no request tells it its
// address (POST /_fake/tokens derives it from the request instead).
func (f *Fake) MintTokens(req TokenRequest) (Tokens, error) {
	return f.mintTokens(req, "")
}

func (f *Fake) mintTokens(req TokenRequest, issuer string) (Tokens, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[req.UserID]
	if !ok {
		return Tokens{}, fmt.Errorf("unknown user %d", req.UserID)
	}
	if req.AppID == 0 {
		req.AppID = f.cfg.AppID
	}
	if req.Aud == "" {
		req.Aud = f.cfg.AppKeys[0]
	}
	now := f.now()
	lifetime := int64(DefaultExpiresIn)
	if req.ExpiresIn != nil {
		lifetime = *req.ExpiresIn
	}
	expiresAt := now.Add(time.Duration(lifetime) * time.Second)
	if lifetime <= 0 {
		// An hour in the past is beyond any verifier's clock-skew leeway.
		expiresAt = now.Add(time.Duration(lifetime)*time.Second - time.Hour)
		lifetime = 0
	}
	at := randomToken()
	f.tokens[at] = accessToken{userID: u.ID, appID: req.AppID, expiresAt: expiresAt}
	if req.AppID == f.cfg.AppID {
		delete(f.unlinked, u.ID) // logging in links the app again
	}
	out := Tokens{AccessToken: at, ExpiresIn: lifetime}
	if req.OpenID {
		idt, err := f.signIDTokenLocked(f.issuerLocked(issuer), req.Aud, u, req.Nonce, now, expiresAt)
		if err != nil {
			return Tokens{}, err
		}
		out.IDToken = idt
	}
	return out, nil
}

// SetFault installs (or with Count 0 clears) a fault on a path.
func (f *Fake) SetFault(ft Fault) error {
	if !strings.HasPrefix(ft.Path, "/") || strings.HasPrefix(ft.Path, "/_fake/") {
		return errors.New("fault path must be a Kakao path")
	}
	if ft.Count < 0 || ft.DelayMS < 0 {
		return errors.New("count and delay_ms must not be negative")
	}
	if ft.Status != 0 && (ft.Status < 400 || ft.Status > 599) {
		return errors.New("status must be 0 (delay only) or 4xx/5xx")
	}
	if ft.Status == 0 && ft.DelayMS == 0 && !ft.Reset && ft.Count > 0 {
		return errors.New("a fault needs a status, a delay or a reset")
	}
	if ft.Reset && ft.Status != 0 {
		return errors.New("a reset answers nothing: no status with it")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft.Count == 0 {
		delete(f.faults, ft.Path)
		return nil
	}
	if ft.Status != 0 && ft.Code == 0 {
		ft.Code = codeForStatus(ft.Status)
	}
	if ft.Status != 0 && ft.Msg == "" {
		ft.Msg = msgForCode(ft.Code)
	}
	f.faults[ft.Path] = &ft
	return nil
}

// RotateKey makes a new signing key current. The previous key stays in the
// JWKS, as a real rotation publishes old and new keys side by side, so
// verifiers that cached the old set see an unknown kid and re-fetch.
func (f *Fake) RotateKey() (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	kid := randomToken()[:16]
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return "", fmt.Errorf("signer: %w", err)
	}
	k := signingKey{
		kid:    kid,
		public: jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"},
		signer: signer,
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append([]signingKey{k}, f.keys...)
	if len(f.keys) > 2 {
		f.keys = f.keys[:2]
	}
	return kid, nil
}

// issuerLocked picks the iss of minted ID tokens; fromRequest is the
// request-derived base URL, used only when nothing is configured.
func (f *Fake) issuerLocked(fromRequest string) string {
	switch {
	case f.cfg.Issuer != "":
		return f.cfg.Issuer
	case f.baseURL != "":
		return f.baseURL
	case fromRequest != "":
		return fromRequest
	default:
		return "http://127.0.0.1:8081"
	}
}

type idClaims struct {
	Iss      string `json:"iss"`
	Aud      string `json:"aud"`
	Sub      string `json:"sub"`
	Iat      int64  `json:"iat"`
	Exp      int64  `json:"exp"`
	AuthTime int64  `json:"auth_time"`
	Nonce    string `json:"nonce,omitempty"`
	Nickname string `json:"nickname,omitempty"`
	Email    string `json:"email,omitempty"`
}

func (f *Fake) signIDTokenLocked(iss, aud string, u User, nonce string, iat, exp time.Time) (string, error) {
	c := idClaims{
		Iss: iss, Aud: aud, Sub: fmt.Sprint(u.ID),
		Iat: iat.Unix(), Exp: exp.Unix(), AuthTime: iat.Unix(),
		Nonce: nonce, Nickname: u.Nickname, Email: u.Email,
	}
	payload, err := jsonMarshal(c)
	if err != nil {
		return "", err
	}
	jws, err := f.keys[0].signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeForStatus is the Kakao code a fault without one answers with.
func codeForStatus(status int) int {
	switch {
	case status == http.StatusUnauthorized:
		return -401
	case status == http.StatusForbidden:
		return -5
	case status == http.StatusTooManyRequests:
		return -10
	case status == http.StatusServiceUnavailable:
		return -9798
	case status >= 500:
		return -1
	default:
		return -2
	}
}

func msgForCode(code int) string {
	switch code {
	case -1:
		return "internal error"
	case -2:
		return "invalid argument"
	case -5:
		return "permission denied"
	case -10:
		return "API limit has been exceeded."
	case -401:
		return "this access token does not exist"
	case -9798:
		return "service check"
	default:
		return "error"
	}
}
