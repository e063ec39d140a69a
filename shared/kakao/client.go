// Package kakao talks to Kakao: the user APIs on kapi.kakao.com (token
// info, profile) and the OIDC ID tokens kauth.kakao.com signs. Verifier
// combines both into the kakaoauth.KakaoVerifier port.
//
// Every failure is a kakaoauth error kind: *InvalidKakaoToken when Kakao (or
// the ID token itself) says the token is bad, *KakaoQuotaExceeded when a
// quota is spent, *KakaoUnavailable when Kakao could not answer. Error texts
// never contain a token.
package kakao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/kakaoauth/kakaoauth"
)

// Kakao's production hosts.
const (
	DefaultAPIBaseURL  = "https://kapi.kakao.com"
	DefaultAuthBaseURL = "https://kauth.kakao.com"
)

const (
	defaultTimeout = 3 * time.Second
	defaultRetries = 2
	defaultBackoff = 50 * time.Millisecond
	// maxBody bounds what is read of any Kakao answer.
	maxBody = 1 << 20
)

// TokenInfo is /v1/user/access_token_info: who the token is for and which
// app it was issued to.
type TokenInfo struct {
	ID        int64 `json:"id"`
	ExpiresIn int64 `json:"expires_in"`
	AppID     int64 `json:"app_id"`
}

// Profile is the part of /v2/user/me the broker uses. Email is "" when the
// user gave no email consent; it is trustworthy only when both flags hold.
type Profile struct {
	ID              int64
	Email           string
	IsEmailValid    bool
	IsEmailVerified bool
	Nickname        string
}

// Option configures a Client.
type Option func(*Client)

// WithAPIBaseURL points the client at another kapi host (the local double).
func WithAPIBaseURL(u string) Option {
	return func(c *Client) { c.apiBase = strings.TrimRight(u, "/") }
}

// WithAuthBaseURL sets the kauth host; it is also the ID-token issuer.
func WithAuthBaseURL(u string) Option {
	return func(c *Client) { c.authBase = strings.TrimRight(u, "/") }
}

// WithTimeout bounds each HTTP attempt (default 3 s). A call with retries
// takes at most (retries+1) timeouts plus the backoff, and never outlives
// the caller's context.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithRetries sets how many times a retryable failure is retried (default 2).
func WithRetries(n int) Option {
	return func(c *Client) { c.retries = max(n, 0) }
}

// WithBackoff sets the base of the jittered exponential backoff between
// retries (default 50 ms: attempt n waits up to base*2^n).
func WithBackoff(base time.Duration) Option { return func(c *Client) { c.backoff = base } }

// Client calls Kakao's user APIs with a user's access token.
type Client struct {
	http     *http.Client
	apiBase  string
	authBase string
	timeout  time.Duration
	retries  int
	backoff  time.Duration
}

// NewClient builds a Client on an injected http.Client (nil: a plain one;
// per-attempt timeouts come from WithTimeout, not from the http.Client).
func NewClient(httpClient *http.Client, opts ...Option) *Client {
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	c := &Client{
		http:     httpClient,
		apiBase:  DefaultAPIBaseURL,
		authBase: DefaultAuthBaseURL,
		timeout:  defaultTimeout,
		retries:  defaultRetries,
		backoff:  defaultBackoff,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// AuthBaseURL is the kauth host the client was configured with, which is
// also the issuer of Kakao's ID tokens.
func (c *Client) AuthBaseURL() string { return c.authBase }

// AccessTokenInfo asks Kakao whose token this is and for which app.
func (c *Client) AccessTokenInfo(ctx context.Context, accessToken string) (TokenInfo, error) {
	var info TokenInfo
	if err := c.get(ctx, "/v1/user/access_token_info", nil, accessToken, &info); err != nil {
		return TokenInfo{}, err
	}
	if info.ID <= 0 {
		return TokenInfo{}, &kakaoauth.KakaoUnavailable{Reason: "access_token_info: answer has no user id"}
	}
	return info, nil
}

// meKeys asks /v2/user/me for just what the broker uses, in the JSON-array
// form Kakao documents for property_keys.
var meKeys = func() url.Values {
	b, _ := json.Marshal([]string{"kakao_account.email", "kakao_account.profile"})
	return url.Values{"property_keys": {string(b)}}
}()

type meBody struct {
	ID           int64 `json:"id"`
	KakaoAccount struct {
		Email           string `json:"email"`
		IsEmailValid    bool   `json:"is_email_valid"`
		IsEmailVerified bool   `json:"is_email_verified"`
		Profile         struct {
			Nickname string `json:"nickname"`
		} `json:"profile"`
	} `json:"kakao_account"`
}

// Me reads the user's profile.
func (c *Client) Me(ctx context.Context, accessToken string) (Profile, error) {
	var b meBody
	if err := c.get(ctx, "/v2/user/me", meKeys, accessToken, &b); err != nil {
		return Profile{}, err
	}
	if b.ID <= 0 {
		return Profile{}, &kakaoauth.KakaoUnavailable{Reason: "user/me: answer has no user id"}
	}
	a := b.KakaoAccount
	return Profile{
		ID:              b.ID,
		Email:           a.Email,
		IsEmailValid:    a.IsEmailValid,
		IsEmailVerified: a.IsEmailVerified,
		Nickname:        a.Profile.Nickname,
	}, nil
}

// get runs a GET with retries. GETs are safe to repeat, so every retryable
// failure is retried until the budget or the caller's context runs out.
func (c *Client) get(ctx context.Context, path string, query url.Values, token string, out any) error {
	u := c.apiBase + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	header := http.Header{"Authorization": {"Bearer " + token}}
	return retry(ctx, c.retries, c.backoff, func() (bool, error) {
		return c.once(ctx, path, u, header, token, out)
	})
}

// retry runs attempt until it succeeds, fails for good, or the retries or
// ctx are used up; the last failure is returned.
func retry(ctx context.Context, retries int, backoff time.Duration, attempt func() (retryable bool, err error)) error {
	for n := 0; ; n++ {
		retryable, err := attempt()
		if err == nil || !retryable || n >= retries {
			return err
		}
		// Full jitter: concurrent Lambdas do not retry in lockstep.
		wait := time.Duration(rand.Int64N(int64(backoff)<<n + 1))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// once is one HTTP attempt, classified into a kakaoauth kind and whether it
// may be retried.
func (c *Client) once(ctx context.Context, path, u string, header http.Header, token string, out any) (retryable bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, status, err := fetch(ctx, c.http, u, header)
	if err != nil {
		return true, &kakaoauth.KakaoUnavailable{Reason: path + ": " + transportReason(ctx, err)}
	}
	if status == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			return false, &kakaoauth.KakaoUnavailable{Reason: path + ": malformed answer"}
		}
		return false, nil
	}
	return classify(path, status, body, token)
}

// fetch GETs u and reads a bounded body.
func fetch(ctx context.Context, hc *http.Client, u string, header http.Header) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, err
	}
	return body, resp.StatusCode, nil
}

// transportReason names a transport failure without echoing the request
// (which the URL error would); the URL holds no token, but keep it short.
func transportReason(ctx context.Context, err error) string {
	var ne interface{ Timeout() bool }
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "network error: " + err.Error()
	}
}

// apiError is Kakao's error body.
type apiError struct {
	Msg  string `json:"msg"`
	Code *int   `json:"code"`
}

// Kakao API error codes the client distinguishes (developers.kakao.com,
// REST API > Error code).
const (
	codeInternal      = -1
	codeInvalidArg    = -2
	codeQuota         = -10
	codePaidLimit     = -11 // a paid API's daily or monthly limit
	codeNotRegistered = -101
	codeInvalidToken  = -401
	codeTimeout       = -603 // a timeout inside Kakao's platform
	codeMaintenance   = -9798
)

// answer is what a failed call to Kakao means: the one classification of
// Kakao's answers that every caller (user APIs, the admin lookup, the
// JWKS) shares.
type answerClass int

const (
	// answerTokenRefused: the credential sent is no good (-401, a -2 on
	// the token, -101 not this app's user, HTTP 401). Never retried.
	answerTokenRefused answerClass = iota
	// answerQuota: a quota is spent (-10, -11, HTTP 429). Never retried: a
	// retry spends the app's quota again and cannot succeed before it resets.
	answerQuota
	// answerTransient: Kakao or the way there failed in a way that may pass
	// (a transport error or timeout, -1, -603, -9798, 5xx). Retried.
	answerTransient
	// answerRefused: anything else (app settings, permissions): Kakao
	// refusing to serve this stack; a retry will not change it.
	answerRefused
)

// classifyAnswer classifies a non-200 answer by its status and Kakao code
// (nil when the body is not Kakao's JSON).
func classifyAnswer(status int, code *int) answerClass {
	if code != nil {
		switch *code {
		case codeInvalidToken,
			// The token is the only argument the caller controls (the
			// property keys are fixed), so "invalid argument" means a
			// malformed token.
			codeInvalidArg,
			// The token's user is not linked to the app: the token cannot
			// sign anyone in here, and retrying will not change that.
			codeNotRegistered:
			return answerTokenRefused
		case codeQuota, codePaidLimit:
			return answerQuota
		case codeInternal, codeTimeout, codeMaintenance:
			return answerTransient
		}
	}
	switch {
	case status == http.StatusTooManyRequests:
		return answerQuota
	case status == http.StatusUnauthorized:
		return answerTokenRefused
	case status >= 500:
		return answerTransient
	default:
		return answerRefused
	}
}

// classify maps a non-200 answer to an error kind and whether to retry.
// token is the credential sent, kept out of the error text.
func classify(path string, status int, body []byte, token string) (retryable bool, err error) {
	var ae apiError
	var reason string
	if json.Unmarshal(body, &ae) != nil || ae.Code == nil {
		// Not Kakao's JSON (a proxy's HTML page, an empty body): only the
		// status is known.
		ae.Code = nil
		reason = fmt.Sprintf("%s: HTTP %d", path, status)
	} else {
		reason = fmt.Sprintf("%s: HTTP %d, code %d (%s)", path, status, *ae.Code, sanitize(ae.Msg, token))
	}
	return answerError(classifyAnswer(status, ae.Code), reason)
}

// answerError is the error kind of a classified answer, and whether to
// retry it.
func answerError(c answerClass, reason string) (retryable bool, err error) {
	switch c {
	case answerTokenRefused:
		return false, &kakaoauth.InvalidKakaoToken{Reason: reason}
	case answerQuota:
		return false, &kakaoauth.KakaoQuotaExceeded{Reason: reason}
	case answerTransient:
		return true, &kakaoauth.KakaoUnavailable{Reason: reason}
	default:
		return false, &kakaoauth.KakaoUnavailable{Reason: reason}
	}
}

// sanitize makes Kakao's msg safe for an error text: one line of valid
// UTF-8 without control characters (C1 ones included: some terminals obey
// them), without the token in case Kakao ever echoes it, and bounded. The
// token is looked for after blanking, the result is mended if a token that
// is not whole characters split one, and checked again, so that nothing
// here can spell the token (two fuzzing findings); if it would, the msg is
// dropped.
func sanitize(msg, token string) string {
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	if token != "" {
		msg = strings.ToValidUTF8(strings.ReplaceAll(msg, token, "[token]"), "\uFFFD")
	}
	if r := []rune(msg); len(r) > 120 {
		msg = string(r[:120]) + "…"
	}
	if token != "" && strings.Contains(msg, token) {
		return ""
	}
	return msg
}
