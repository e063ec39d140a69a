// Package tryit is the try-it page: the Kakao login a web app runs
// (authorize at Kakao, the code exchanged for Kakao tokens, POST
// /auth/kakao) and what a developer wants to see of the answer (status,
// error code, the Cognito tokens shortened, the ID token's claims checked
// against the pool's JWKS, new or returning user, the time of each hop),
// with buttons to refresh, sign out, call GET /me, get AWS credentials,
// log in again and, on the local stack, unlink at Kakao and walk the
// linking story with the team's own app (team.go).
//
// The page (assets/, embedded) runs in the browser and does what a web
// app does there, through the JavaScript client (clients/js, served under
// /tryit/client/): the broker login, the Cognito refresh and sign-out,
// GET /me, the identity pool's credentials, linking and unlinking Kakao.
// What a web app's backend does runs here, in a few JSON endpoints under
// /tryit/api/: the Kakao code exchange (it may carry the Kakao client
// secret), the ID token's signature check, whose AWS credentials these are
// (STS), and on the local stack the team app's password sign-in, the
// double's unlink and the account's state. `kakaoauth local` serves it
// beside the login endpoint; `kakaoauth tryit` serves it against a
// deployed stack.
package tryit

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/localonly"
)

// CallbackPath is where Kakao sends the browser back: register
// <page origin>/callback as the Kakao app's Redirect URI.
const CallbackPath = "/callback"

// upstreamTimeout bounds each call the page's backend makes (Kakao,
// Cognito, the double, DynamoDB).
const upstreamTimeout = 10 * time.Second

// maxBody bounds what the JSON endpoints read: a few tokens.
const maxBody = 32 << 10

//go:embed assets
var assets embed.FS

var indexPage = template.Must(template.ParseFS(assets, "assets/index.html"))

// Kakao is the Kakao app the page logs in with.
type Kakao struct {
	// AuthURL is Kakao's auth server (https://kauth.kakao.com) or the
	// double's base URL.
	AuthURL string
	// ClientID is the app key sent as client_id: the REST API key.
	ClientID string
	// ClientSecret, when the app has one enabled, is sent with the code
	// exchange, from the server only; it never reaches the browser.
	ClientSecret string
}

// Page serves the try-it page and its backend.
type Page struct {
	kakao     Kakao
	pool      Pool
	apiURL    string
	publicURL string
	target    string
	double    string
	accounts  Accounts
	hosted    HostedUI // see WithHostedUI (hosted.go)
	team      TeamApp  // see WithTeamApp (team.go)
	identity  identityPool
	meRoute   bool
	http      *http.Client
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
}

// Option configures a Page.
type Option func(*Page)

// WithAPIURL is the base URL of the login API (the stack's ApiUrl output);
// the page POSTs to <url>/auth/kakao from the browser, so a deployed API
// must allow the page's origin (CORS). Default: the page's own origin (the
// local stack serves both).
func WithAPIURL(u string) Option { return func(p *Page) { p.apiURL = strings.TrimRight(u, "/") } }

// WithPublicURL is the page's one origin, e.g. http://localhost:8090: the
// Redirect URI registered at Kakao is built from it, and a request that
// reached the page under another host name is redirected to it. Default:
// whatever host the browser used (the local stack, where the double
// accepts any redirect URI).
func WithPublicURL(u string) Option { return func(p *Page) { p.publicURL = strings.TrimRight(u, "/") } }

// WithTarget names the stack on the page, e.g. "kakaoauth (ap-northeast-2)".
func WithTarget(s string) Option { return func(p *Page) { p.target = s } }

// WithDouble enables "unlink at Kakao" through the Kakao double at base
// URL u (POST /_fake/unlink): the local stack only.
func WithDouble(u string) Option { return func(p *Page) { p.double = strings.TrimRight(u, "/") } }

// WithAccounts lets the page show a Kakao account's mapping state, read
// through the store adapter: the local stack only.
func WithAccounts(a Accounts) Option { return func(p *Page) { p.accounts = a } }

// WithHTTPClient replaces the client for Kakao, the JWKS and the double.
func WithHTTPClient(c *http.Client) Option { return func(p *Page) { p.http = c } }

// WithLogger sets the structured log (never a token or secret).
func WithLogger(l *slog.Logger) Option { return func(p *Page) { p.log = l } }

// New builds the page for a Kakao app and a user pool.
func New(kakao Kakao, pool Pool, opts ...Option) (*Page, error) {
	kakao.AuthURL = strings.TrimRight(kakao.AuthURL, "/")
	switch {
	case kakao.AuthURL == "" || kakao.ClientID == "":
		return nil, errors.New("tryit: the Kakao auth URL and client id (REST API key) are required")
	case pool.ID == "" || pool.ClientID == "" || pool.Issuer == "" || pool.JWKSURL == "" || pool.API == nil:
		return nil, errors.New("tryit: the user pool id, app client id, issuer, JWKS URL and Cognito client are required")
	}
	p := &Page{kakao: kakao, pool: pool, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	if p.publicURL != "" {
		if u, err := url.Parse(p.publicURL); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			return nil, fmt.Errorf("tryit: public URL %q: want scheme://host[:port]", p.publicURL)
		}
	}
	if p.http == nil {
		p.http = &http.Client{Timeout: upstreamTimeout}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.target == "" {
		p.target = "local"
	}
	p.mux = p.routes()
	return p, nil
}

func (p *Page) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.index)
	mux.HandleFunc("GET "+CallbackPath, p.index)
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /tryit/assets/", http.StripPrefix("/tryit/assets/", noCache(http.FileServerFS(static))))
	mux.HandleFunc("POST /tryit/api/exchange", p.exchange)
	mux.HandleFunc("POST /tryit/api/verify", p.verify)
	mux.HandleFunc("POST /tryit/api/unlink", p.unlink)
	mux.HandleFunc("GET /tryit/api/account", p.account)
	mux.HandleFunc("GET "+MessagesPath, p.messages)
	mux.HandleFunc("POST /tryit/api/hosted/token", p.hostedToken)
	mux.HandleFunc("POST /tryit/api/password", p.password)
	mux.Handle("GET /tryit/client/", clientModules())
	mux.HandleFunc("POST /tryit/api/caller", p.caller)
	mux.HandleFunc("/tryit/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFound", "No such route.")
	})
	return mux
}

// Routes are the page's routes, for a server that serves other routes too
// (the local stack's, beside /auth/kakao and /kakao/unlink).
func (p *Page) Routes() map[string]http.Handler {
	h := p.guard(p.mux)
	return map[string]http.Handler{"GET /{$}": h, "GET " + CallbackPath: h, "/tryit/": h}
}

// ServeHTTP serves the page alone (kakaoauth tryit): its routes, and the
// API's JSON 404 for anything else.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := p.mux.Handler(r); pattern == "" {
			writeError(w, http.StatusNotFound, "NotFound", "No such route.")
			return
		}
		p.mux.ServeHTTP(w, r)
	})).ServeHTTP(w, r)
}

// guard serves h for requests addressed to this machine or to the page's
// public URL only: a DNS-rebinding page (another site's name resolved to
// this machine) reaches none of it.
func (p *Page) guard(h http.Handler) http.Handler {
	var names []string
	if u, err := url.Parse(p.publicURL); err == nil && u.Hostname() != "" {
		names = append(names, u.Hostname())
	}
	return localonly.Hosts(h, names...)
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// pageConfig is what the page's script knows about the stack.
type pageConfig struct {
	APIURL       string `json:"apiURL"`
	AuthorizeURL string `json:"authorizeURL"`
	ClientID     string `json:"clientID"`
	RedirectURI  string `json:"redirectURI"`
	Target       string `json:"target"`
	UserPoolID   string `json:"userPoolID"`
	Unlink       bool   `json:"unlink"`
	Accounts     bool   `json:"accounts"`
	// HostedUI is set when the stack has Cognito's hosted UI.
	HostedUI *hostedConfig `json:"hostedUI,omitempty"`
	// TeamApp is set when the page also shows the team's own app (a
	// password sign-in, then linking Kakao): the local stack.
	TeamApp *teamConfig `json:"teamApp,omitempty"`
	// Client is the JavaScript client's configuration (client.go).
	Client clientConfig `json:"client"`
}

// origin is the page's origin as the browser sees it.
func (p *Page) origin(r *http.Request) string {
	if p.publicURL != "" {
		return p.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (p *Page) redirectURI(r *http.Request) string { return p.origin(r) + CallbackPath }

func (p *Page) index(w http.ResponseWriter, r *http.Request) {
	if p.publicURL != "" && r.URL.Path == "/" && "http://"+r.Host != p.publicURL && "https://"+r.Host != p.publicURL {
		// Kakao sends the browser back to the registered origin only; a
		// login started elsewhere could not find its state there.
		http.Redirect(w, r, p.publicURL+"/", http.StatusFound)
		return
	}
	cfg, err := json.Marshal(pageConfig{
		APIURL: p.apiURL, AuthorizeURL: p.kakao.AuthURL + "/oauth/authorize", ClientID: p.kakao.ClientID,
		RedirectURI: p.redirectURI(r), Target: p.target, UserPoolID: p.pool.ID,
		Unlink: p.double != "", Accounts: p.accounts != nil, HostedUI: p.hostedConfig(), Client: p.clientConfig(r), TeamApp: p.teamConfig(),
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "Internal error.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	// The page talks to its own backend, the login API, and Cognito (the
	// JavaScript client's refresh, sign-out and identity-pool calls).
	connect := "'self'"
	if u, err := url.Parse(p.apiURL); err == nil && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	for _, o := range p.connectSources() {
		connect += " " + o
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "+connect+"; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	_ = indexPage.Execute(w, struct{ Config template.JS }{template.JS(cfg)})
}
