package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth/infra/jwks"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

func init() {
	commands["login"] = command{summary: "log in through the endpoint (minting a Kakao token at the double) and verify the Cognito ID token", run: runLogin}
}

// LoginMain is a client of POST /auth/kakao: what an app does, from the
// command line.
type LoginMain struct {
	APIURL      string
	KakaoURL    string // the double; "" when a token is given
	MotoURL     string // where the pool's JWKS is served locally; "" skips verification
	UserID      int64
	AccessToken string
	Out         io.Writer
	HTTP        *http.Client
}

func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	fs.SetOutput(stderr)
	m := LoginMain{Out: stdout, HTTP: &http.Client{Timeout: 35 * time.Second}}
	fs.StringVar(&m.APIURL, "api", envOr("KAKAOAUTH_API_URL", "http://"+localstack.DefaultAPIAddr), "base URL of the login API (env KAKAOAUTH_API_URL)")
	fs.StringVar(&m.KakaoURL, "kakao", envOr("KAKAOAUTH_KAKAO_URL", "http://"+kakaofake.DefaultAddr), "Kakao double that mints the token (env KAKAOAUTH_KAKAO_URL)")
	fs.StringVar(&m.MotoURL, "moto", envOr("KAKAOAUTH_MOTO_URL", "http://"+moto.DefaultAddr), "moto URL serving the pool's JWKS, to verify the ID token; empty skips (env KAKAOAUTH_MOTO_URL)")
	fs.Int64Var(&m.UserID, "user", kakaofake.DemoUser.ID, "Kakao user id at the double (created if missing)")
	fs.StringVar(&m.AccessToken, "access-token", "", "use this Kakao access token instead of minting one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return m.Run(ctx)
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
		return fmt.Errorf("login answered %d: %s", status, out)
	}
	fmt.Fprintf(m.Out, "HTTP %d  sub=%v username=%v new_user=%v expires_in=%v token_type=%v\n",
		status, resp["sub"], resp["username"], resp["new_user"], resp["expires_in"], resp["token_type"])
	for _, k := range []string{"id_token", "access_token", "refresh_token"} {
		fmt.Fprintf(m.Out, "  %-13s %s\n", k, shorten(fmt.Sprint(resp[k])))
	}
	if m.MotoURL == "" {
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
	if _, err := m.post(ctx, base+"/_fake/users", user, nil); err != nil {
		return "", err
	}
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	req, _ := json.Marshal(map[string]any{"user_id": m.UserID})
	status, err := m.post(ctx, base+"/_fake/tokens", req, &tokens)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK && status != http.StatusCreated || tokens.AccessToken == "" {
		return "", fmt.Errorf("the Kakao double did not mint a token (HTTP %d)", status)
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

// verify checks the ID token's RS256 signature against the pool's JWKS,
// which moto serves at /<pool id>/.well-known/jwks.json.
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
	return jwks.Verify(ctx, m.HTTP, strings.TrimRight(m.MotoURL, "/")+"/"+pool+"/.well-known/jwks.json", raw)
}

// shorten keeps a token recognisable on screen without printing it whole.
func shorten(s string) string {
	if len(s) <= 24 {
		return s
	}
	return s[:12] + "…" + s[len(s)-8:] + fmt.Sprintf(" (%d chars)", len(s))
}
