package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth/infra/jwks"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
)

func init() {
	commands["login"] = command{summary: "log in through the endpoint (minting a Kakao token at the double) and verify the Cognito ID token", run: runLogin}
}

// LoginMain is a client of POST /auth/kakao: what an app does, from the
// command line.
type LoginMain struct {
	APIURL   string
	KakaoURL string // the double; "" when a token is given
	MotoURL  string // where the pool's JWKS is served locally
	// IssuerJWKS, with no MotoURL, checks the ID token against its
	// issuer's JWKS (a deployed pool's); neither skips the check.
	IssuerJWKS  bool
	UserID      int64
	AccessToken string
	JSON        bool // print the answer whole, as JSON
	Out         io.Writer
	HTTP        *http.Client
}

func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("login", stderr, `usage: kakaoauth login [flags]

Logs in as an app does: creates Kakao account -kakao-id at the Kakao double
(-kakao-url) and mints its access token there (or takes -access-token),
posts it to the login API (-api-url), prints the answer with the tokens
shortened and checks the Cognito ID token's signature against the pool's
JWKS (served by the local moto, -endpoint-url). Defaults: the local stack.

flags:
`)
	m := LoginMain{Out: stdout, HTTP: &http.Client{Timeout: 35 * time.Second}}
	f.StringVar(&m.APIURL, flagAPIURL, envOr("KAKAOAUTH_API_URL", "http://"+localstack.DefaultAPIAddr), "the login API's base URL (env KAKAOAUTH_API_URL)")
	f.StringVar(&m.KakaoURL, flagKakaoURL, envOr("KAKAOAUTH_KAKAO_URL", "http://"+kakaofake.DefaultAddr), "the Kakao double that creates the account and mints its token (env KAKAOAUTH_KAKAO_URL)")
	f.StringVar(&m.MotoURL, flagEndpointURL, envOr("KAKAOAUTH_ENDPOINT_URL", localEndpoint()), "AWS endpoint serving the pool's JWKS (the local moto), to check the ID token's signature; empty: the token issuer's (a deployed pool) (env KAKAOAUTH_ENDPOINT_URL)")
	f.Int64Var(&m.UserID, "kakao-id", kakaofake.DemoUser.ID, "the Kakao account (user id) to log in as; created at the double if new")
	f.StringVar(&m.AccessToken, "access-token", "", "log in with this Kakao access token instead of minting one")
	f.BoolVar(&m.JSON, "json", false, "print the login API's answer as JSON, tokens whole (for scripts)")
	f.alias("api", flagAPIURL)
	f.alias("kakao", flagKakaoURL)
	f.alias("moto", flagEndpointURL)
	f.alias("user", "kakao-id")
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	m.IssuerJWKS = m.MotoURL == ""
	if m.UserID <= 0 && m.AccessToken == "" {
		return fmt.Errorf("login: -kakao-id %d: a Kakao user id is a positive number, e.g. -kakao-id 123", m.UserID)
	}
	for name, u := range map[string]string{flagAPIURL: m.APIURL, flagKakaoURL: m.KakaoURL, flagEndpointURL: m.MotoURL} {
		if err := checkURL(name, u, name != flagEndpointURL || u != ""); err != nil {
			return fmt.Errorf("login: %w", err)
		}
	}
	return m.Run(ctx)
}

// checkURL refuses a flag value that is not an http(s) URL (or, when not
// required, empty).
func checkURL(flagName, value string, required bool) error {
	if value == "" && !required {
		return nil
	}
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-%s %q: want a URL such as http://127.0.0.1:8080", flagName, value)
	}
	return nil
}

// Run logs in once and prints the response, token values shortened.
func (m *LoginMain) Run(ctx context.Context) error {
	token := m.AccessToken
	if token == "" {
		var err error
		if token, err = m.mint(ctx); err != nil {
			return err
		}
	}
	body, _ := json.Marshal(map[string]string{"access_token": token})
	var resp map[string]any
	status, err := m.post(ctx, strings.TrimRight(m.APIURL, "/")+"/auth/kakao", body, &resp)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		out, _ := json.Marshal(resp)
		return fmt.Errorf("login: %s answered %d: %s", m.APIURL, status, out)
	}
	if m.JSON {
		enc := json.NewEncoder(m.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	fmt.Fprintf(m.Out, "HTTP %d  sub=%v username=%v new_user=%v expires_in=%v token_type=%v\n",
		status, resp["sub"], resp["username"], resp["new_user"], resp["expires_in"], resp["token_type"])
	for _, k := range []string{"id_token", "access_token", "refresh_token"} {
		fmt.Fprintf(m.Out, "  %-13s %s\n", k, shorten(fmt.Sprint(resp[k])))
	}
	if m.MotoURL == "" && !m.IssuerJWKS {
		return nil
	}
	claims, err := m.verify(ctx, fmt.Sprint(resp["id_token"]))
	if err != nil {
		return fmt.Errorf("ID token does not verify: %w", err)
	}
	fmt.Fprintf(m.Out, "ID token signature verified against the pool's JWKS: iss=%v sub=%v custom:kakao_id=%v email=%v email_verified=%v\n",
		claims["iss"], claims["sub"], claims["custom:kakao_id"], claims["email"], claims["email_verified"])
	return nil
}

// mint creates the user at the double (201, or 409 when it exists) and
// mints an access token for it.
func (m *LoginMain) mint(ctx context.Context) (string, error) {
	base := strings.TrimRight(m.KakaoURL, "/")
	user, _ := json.Marshal(map[string]any{"id": m.UserID, "email": fmt.Sprintf("user%d@example.com", m.UserID),
		"is_email_verified": true, "is_email_valid": true, "nickname": fmt.Sprintf("user%d", m.UserID)})
	var created struct {
		Error string `json:"error"`
	}
	status, err := m.post(ctx, base+"/_fake/users", user, &created)
	if err != nil {
		return "", fmt.Errorf("login: the Kakao double at %s: %w (is the local stack running? make run)", m.KakaoURL, err)
	}
	if status != http.StatusCreated && status != http.StatusConflict {
		return "", fmt.Errorf("login: the Kakao double refused Kakao account %d (HTTP %d %s)", m.UserID, status, created.Error)
	}
	var tokens struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	req, _ := json.Marshal(map[string]any{"user_id": m.UserID})
	if status, err = m.post(ctx, base+"/_fake/tokens", req, &tokens); err != nil {
		return "", err
	}
	if status != http.StatusOK && status != http.StatusCreated || tokens.AccessToken == "" {
		return "", fmt.Errorf("login: the Kakao double did not mint a token for Kakao account %d (HTTP %d %s)", m.UserID, status, tokens.Error)
	}
	return tokens.AccessToken, nil
}

func (m *LoginMain) post(ctx context.Context, url string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s answered %d with a body that is not JSON", url, resp.StatusCode)
		}
	}
	return resp.StatusCode, nil
}

// verify checks the ID token's RS256 signature against the pool's JWKS:
// moto serves it at /<pool id>/.well-known/jwks.json; without MotoURL, the
// issuer's own (a deployed pool's, public).
func (m *LoginMain) verify(ctx context.Context, raw string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	var unverified struct {
		Iss string `json:"iss"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, err
	}
	pool := unverified.Iss[strings.LastIndex(unverified.Iss, "/")+1:]
	if pool == "" {
		return nil, errors.New("no pool id in iss")
	}
	jwksURL := strings.TrimRight(unverified.Iss, "/") + "/.well-known/jwks.json"
	if m.MotoURL != "" {
		jwksURL = strings.TrimRight(m.MotoURL, "/") + "/" + pool + "/.well-known/jwks.json"
	}
	return jwks.Verify(ctx, m.HTTP, jwksURL, raw)
}

// shorten keeps a token recognisable on screen without printing it whole.
func shorten(s string) string {
	if len(s) <= 24 {
		return s
	}
	return s[:12] + "…" + s[len(s)-8:] + fmt.Sprintf(" (%d chars)", len(s))
}
