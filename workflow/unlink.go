package workflow

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// UnlinkPath is the route of Kakao's unlink callback, on the API and on the
// local endpoint.
const UnlinkPath = "/kakao/unlink"

// maxUnlinkBody bounds the callback's body: Kakao sends three short form
// fields.
const maxUnlinkBody = 4 << 10

// unlinkWorkTimeout bounds an unlink once it is authorised. Kakao gives up
// after 3 s, but its giving up must not stop an unlink half-way.
const unlinkWorkTimeout = 10 * time.Second

// referrerTypePattern accepts Kakao's referrer types (ACCOUNT_DELETE,
// UNLINK_FROM_APPS, ...) and any it adds later, but nothing else reaches
// the audit trail.
var referrerTypePattern = regexp.MustCompile(`^[A-Z][A-Z_]{0,63}$`)

// unlinkAuth is what an unlink callback must present: the app id, and the
// admin key as "Authorization: KakaoAK <key>". Only a SHA-256 of that
// header value is kept, so the comparison is constant-time whatever the
// length of what a caller sends, and the key itself is not held.
type unlinkAuth struct {
	appID  int64
	header [sha256.Size]byte
}

// WithUnlinkAuth enables the unlink webhook for Kakao app appID with its
// admin key. Without it (or with an empty key) the webhook refuses every
// call: it fails closed.
func WithUnlinkAuth(appID int64, adminKey string) Option {
	return func(s *Steps) {
		s.unlinkAuth = nil
		if appID > 0 && adminKey != "" {
			s.unlinkAuth = &unlinkAuth{appID: appID, header: sha256.Sum256([]byte("KakaoAK " + adminKey))}
		}
	}
}

// UnlinkWebhook handles Kakao's unlink callback (API Gateway proxy
// integration; the local endpoint adapts HTTP to the same event). Kakao
// calls it, GET or POST, with app_id, user_id and referrer_type as query or
// form fields after a user unlinked the app on Kakao's side, and counts
// only a 200 within 3 s as delivered.
//
// Order of effects, chosen so that no failure leaves a user who can still
// sign in while the mapping says unlinked:
//  1. Cognito first: revoke refresh tokens and disable the user. If that
//     fails, nothing else changed and the answer is 500 (Kakao documents no
//     retry; an operator can replay the callback, which is idempotent).
//  2. Then the mapping: status unlinked, conditionally, so it reports
//     whether this call changed it. If this write fails after step 1, the
//     user is disabled while the mapping still says active: every sign-in
//     is refused (AccountDisabled), the safe side; the answer is 500.
//  3. The audit event unlinked, only when step 2 changed the mapping: a
//     repeated callback re-runs step 1 (harmless, and it repairs a
//     half-done earlier call) but writes no second event.
//
// An unknown Kakao id (no mapping) is answered 200 and nothing else
// happens: Kakao calls back for users the app never saw. A later login of
// an unlinked account is refused (AccountUnlinked, see UpsertUser) even
// after the user consents again at Kakao: re-linking is an operator's
// decision (set the mapping active and enable the Cognito user).
func (s *Steps) UnlinkWebhook(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	if req.HTTPMethod != http.MethodGet && req.HTTPMethod != http.MethodPost {
		resp := unlinkAnswer(http.StatusMethodNotAllowed, "MethodNotAllowed")
		resp.Headers["Allow"] = "GET, POST"
		return resp, nil
	}
	// The key before anything else: an unauthenticated caller learns
	// nothing about which parameters are right.
	if !s.unlinkAuthorized(req) {
		s.log.WarnContext(ctx, "unlink callback refused", "webhook", "unlink", "reason", "authorization", "sourceIp", req.RequestContext.Identity.SourceIP)
		return unlinkAnswer(http.StatusUnauthorized, "Unauthorized"), nil
	}
	p, err := parseUnlink(req)
	if err != nil {
		s.log.WarnContext(ctx, "unlink callback refused", "webhook", "unlink", "reason", err.Error())
		return unlinkAnswer(http.StatusBadRequest, "InvalidRequest"), nil
	}
	if p.appID != s.unlinkAuth.appID {
		// Same answer as a wrong key: the key and the app id are one
		// credential.
		s.log.WarnContext(ctx, "unlink callback refused", "webhook", "unlink", "reason", "app id", "appId", p.appID)
		return unlinkAnswer(http.StatusUnauthorized, "Unauthorized"), nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlinkWorkTimeout)
	defer cancel()
	if err := s.unlink(ctx, p, req.RequestContext); err != nil {
		s.log.ErrorContext(ctx, "unlink failed", "webhook", "unlink", "kakaoId", p.userID, "referrerType", p.referrerType, "error", err.Error())
		return unlinkAnswer(http.StatusInternalServerError, kakaoauth.CodeInternal), nil
	}
	return unlinkAnswer(http.StatusOK, ""), nil
}

func (s *Steps) unlink(ctx context.Context, p unlinkParams, rc events.APIGatewayProxyRequestContext) error {
	var notFound *kakaoauth.NotFound
	m, err := s.mappings.Get(ctx, p.userID)
	switch {
	case errors.As(err, &notFound):
		s.log.InfoContext(ctx, "unlink of an unknown kakao account", "webhook", "unlink", "kakaoId", p.userID, "referrerType", p.referrerType)
		return nil
	case err != nil:
		return err
	}
	// A user deleted from the pool by an operator has nothing left to
	// disable; the mapping is still marked.
	if err := s.users.DisableAndSignOut(ctx, m.Username); err != nil && !errors.As(err, &notFound) {
		return err
	}
	now := millis(s.now())
	changed, err := s.mappings.MarkUnlinked(ctx, p.userID, now)
	switch {
	case errors.As(err, &notFound):
		return nil // deleted meanwhile: nothing left to mark
	case err != nil:
		return err
	}
	s.log.InfoContext(ctx, "kakao account unlinked", "webhook", "unlink", "kakaoId", p.userID, "sub", m.Sub, "referrerType", p.referrerType, "changed", changed)
	if !changed {
		return nil
	}
	return s.audit.Record(ctx, kakaoauth.AuditEvent{
		Time: now, Type: kakaoauth.EventUnlinked, Outcome: "success",
		KakaoID: p.userID, Sub: m.Sub, AppID: p.appID, Detail: p.referrerType,
		// The webhook runs no execution: the API request id correlates.
		ExecutionID: rc.RequestID, SourceIP: rc.Identity.SourceIP, UserAgent: rc.Identity.UserAgent,
	})
}

// unlinkAuthorized compares the Authorization header with the expected one
// in constant time. A missing or repeated header, or no configured key,
// is refused.
func (s *Steps) unlinkAuthorized(req events.APIGatewayProxyRequest) bool {
	if s.unlinkAuth == nil {
		return false
	}
	values := headerValues(req, "Authorization")
	if len(values) != 1 {
		return false
	}
	got := sha256.Sum256([]byte(values[0]))
	return subtle.ConstantTimeCompare(got[:], s.unlinkAuth.header[:]) == 1
}

// headerValues looks a header up case-insensitively (API Gateway passes
// names as the client sent them), preferring the multi-value map.
func headerValues(req events.APIGatewayProxyRequest, name string) []string {
	var out []string
	for k, vs := range req.MultiValueHeaders {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	if out != nil {
		return out
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			out = append(out, v)
		}
	}
	return out
}

type unlinkParams struct {
	appID        int64
	userID       int64
	referrerType string
}

// parseUnlink reads the fields from the query string and, for a POST, the
// form-encoded body. Each must appear exactly once across both, so a
// forwarded or doctored request cannot carry two different user ids.
func parseUnlink(req events.APIGatewayProxyRequest) (unlinkParams, error) {
	var p unlinkParams
	values := url.Values{}
	if req.MultiValueQueryStringParameters != nil {
		for k, vs := range req.MultiValueQueryStringParameters {
			values[k] = append(values[k], vs...)
		}
	} else {
		for k, v := range req.QueryStringParameters {
			values.Add(k, v)
		}
	}
	if req.HTTPMethod == http.MethodPost && req.Body != "" {
		body := req.Body
		if len(body) > maxUnlinkBody*4/3+4 {
			return p, errors.New("body too large")
		}
		if req.IsBase64Encoded {
			raw, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				return p, errors.New("body is not base64")
			}
			body = string(raw)
		}
		if len(body) > maxUnlinkBody {
			return p, errors.New("body too large")
		}
		if ct := headerValues(req, "Content-Type"); len(ct) > 0 {
			mt, _, err := mime.ParseMediaType(ct[0])
			if err != nil || mt != "application/x-www-form-urlencoded" {
				return p, errors.New("body is not form-encoded")
			}
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			return p, errors.New("body is not form-encoded")
		}
		for k, vs := range form {
			values[k] = append(values[k], vs...)
		}
	}
	one := func(name string) (string, error) {
		vs := values[name]
		if len(vs) != 1 || vs[0] == "" {
			return "", errors.New(name + " must be given exactly once")
		}
		return vs[0], nil
	}
	id := func(name string) (int64, error) {
		v, err := one(name)
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, errors.New(name + " must be a positive integer")
		}
		return n, nil
	}
	var err error
	if p.appID, err = id("app_id"); err != nil {
		return p, err
	}
	if p.userID, err = id("user_id"); err != nil {
		return p, err
	}
	if p.referrerType, err = one("referrer_type"); err != nil {
		return p, err
	}
	if !referrerTypePattern.MatchString(p.referrerType) {
		return p, errors.New("referrer_type is not a Kakao referrer type")
	}
	return p, nil
}

// unlinkAnswer is a small fixed JSON body: Kakao looks only at the status,
// and a refused caller learns nothing beyond it.
func unlinkAnswer(status int, code string) events.APIGatewayProxyResponse {
	body := `{"ok":true}`
	if code != "" {
		b, _ := json.Marshal(map[string]string{"error": code})
		body = string(b)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       body,
	}
}
