package workflow

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
)

// UnlinkPath is the route of Kakao's unlink callback, on the API and on the
// local endpoint.
const UnlinkPath = "/kakao/unlink"

// maxUnlinkBody bounds the callback's body: Kakao sends three short form
// fields.
const maxUnlinkBody = 4 << 10

// Kakao gives up on a callback after 3 s. The hand-over to the queue gets
// enqueueTimeout; if the queue fails, keeping the request in the inbox
// gets inboxTimeout; both fit, with the function's own time, in Kakao's.
const (
	enqueueTimeout = 1200 * time.Millisecond
	inboxTimeout   = 1200 * time.Millisecond
)

// referrerTypePattern accepts Kakao's referrer types (ACCOUNT_DELETE,
// UNLINK_FROM_APPS, ...) and any it adds later, but nothing else reaches
// the audit trail.
var referrerTypePattern = regexp.MustCompile(`^[A-Z][A-Z_]{0,63}$`)

// UnlinkKeys is the one check of Kakao's unlink credential, shared by the
// webhook and its API Gateway authorizer: "Authorization: KakaoAK <key>"
// with any of the app's admin keys (an app may hold several at once since
// Kakao's 2025-12 app-key change, so a key can be rotated without losing
// a callback). Only a SHA-256 of each expected header value is kept, so
// every comparison is constant-time whatever the length of what a caller
// sends, and the keys themselves are not held.
type UnlinkKeys struct {
	headers [][sha256.Size]byte
}

// NewUnlinkKeys accepts the given admin keys; empty ones are ignored.
func NewUnlinkKeys(adminKeys ...string) UnlinkKeys {
	var k UnlinkKeys
	for _, key := range adminKeys {
		if key = strings.TrimSpace(key); key != "" {
			k.headers = append(k.headers, sha256.Sum256([]byte("KakaoAK "+key)))
		}
	}
	return k
}

// Empty reports that no key is accepted: every call is refused.
func (k UnlinkKeys) Empty() bool { return len(k.headers) == 0 }

// Match reports whether an Authorization header value carries one of the
// keys. Every key is compared, so the time taken does not tell which.
func (k UnlinkKeys) Match(header string) bool {
	got := sha256.Sum256([]byte(header))
	ok := 0
	for _, want := range k.headers {
		ok |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return ok == 1
}

// unlinkAuth is what an unlink callback must present: the app id, and one
// of the admin keys.
type unlinkAuth struct {
	appID int64
	keys  UnlinkKeys
}

// WithUnlinkAuth enables the unlink webhook for Kakao app appID with its
// admin keys. Without it (or with no key) the webhook refuses every call:
// it fails closed.
func WithUnlinkAuth(appID int64, adminKeys ...string) Option {
	return func(s *Steps) {
		s.unlinkAuth = nil
		if keys := NewUnlinkKeys(adminKeys...); appID > 0 && !keys.Empty() {
			s.unlinkAuth = &unlinkAuth{appID: appID, keys: keys}
		}
	}
}

// UnlinkWebhook handles Kakao's unlink callback (API Gateway proxy
// integration behind UnlinkAuthorizer; the local endpoint adapts HTTP to
// the same events). Kakao calls it, GET or POST, with app_id, user_id and
// referrer_type as query or form fields after a user unlinked the app on
// Kakao's side, counts only a 200 within 3 s as delivered, and never calls
// again. So the webhook only authenticates the call, signs it (a MAC the
// worker checks) and puts it on the unlink queue; the unlink worker
// (UnlinkWorker) carries it out with retries and a dead-letter queue. If
// the queue fails, the request is kept in the inbox (DynamoDB) and Kakao
// still gets its 200: the sweeper queues it later (Sweep). Only when both
// fail does Kakao get a 500, and the log line has what an operator needs
// to replay it.
//
// An unknown Kakao id is queued like any other (the worker finds nothing
// to do): whether an account exists is nobody's business here.
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
		return unlinkUnauthorized(), nil
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
		return unlinkUnauthorized(), nil
	}
	rc := req.RequestContext
	r := kakaoauth.UnlinkRequest{
		ID: rc.RequestID, KakaoID: p.userID, AppID: p.appID, ReferrerType: p.referrerType,
		ReceivedAt: millis(s.now()), SourceIP: rc.Identity.SourceIP, UserAgent: rc.Identity.UserAgent,
	}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	msg, err := s.SignUnlink(r)
	if err != nil {
		s.log.ErrorContext(ctx, "unlink callback not signed", "webhook", "unlink", "kakaoId", p.userID, "referrerType", p.referrerType, "requestId", r.ID, "error", err.Error())
		return unlinkAnswer(http.StatusInternalServerError, kakaoauth.CodeInternal), nil
	}
	// Well inside Kakao's 3 s, and not cut short if Kakao hangs up first.
	base := context.WithoutCancel(ctx)
	qctx, cancel := context.WithTimeout(base, enqueueTimeout)
	qerr := s.unlinks.Enqueue(qctx, msg)
	cancel()
	if qerr == nil {
		s.log.InfoContext(ctx, "unlink callback queued", "webhook", "unlink", "kakaoId", p.userID, "referrerType", p.referrerType, "requestId", r.ID)
		return unlinkAnswer(http.StatusOK, ""), nil
	}
	if s.inbox != nil {
		ictx, cancel := context.WithTimeout(base, inboxTimeout)
		ierr := s.inbox.Keep(ictx, kakaoauth.InboxEntry{ID: r.ID, ReceivedAt: r.ReceivedAt, Message: msg})
		cancel()
		if ierr == nil {
			s.log.WarnContext(ctx, "unlink callback kept in the inbox; the sweeper queues it", "webhook", "unlink", "kakaoId", p.userID,
				"referrerType", p.referrerType, "requestId", r.ID, "queueError", qerr.Error())
			return unlinkAnswer(http.StatusOK, ""), nil
		}
		qerr = fmt.Errorf("%w; inbox: %w", qerr, ierr)
	}
	// Kakao will not call again: the operator replays it with `kakaoauth
	// admin unlink` (the log line has what it needs), or the reconciler
	// finds it.
	s.log.ErrorContext(ctx, "unlink callback not queued", "webhook", "unlink", "kakaoId", p.userID, "referrerType", p.referrerType,
		"receivedAt", r.ReceivedAt, "requestId", r.ID, "error", qerr.Error())
	return unlinkAnswer(http.StatusInternalServerError, kakaoauth.CodeInternal), nil
}

// unlinkAuthorized checks the Authorization header against the admin
// keys (allows).
func (s *Steps) unlinkAuthorized(req events.APIGatewayProxyRequest) bool {
	return s.unlinkAuth.allows(headerValues(req.Headers, req.MultiValueHeaders, "Authorization"))
}

// allows is the one check of Kakao's admin key, for the webhook and its
// authorizer alike: exactly one Authorization header, carrying one of the
// admin keys (UnlinkKeys.Match). No configured key refuses all.
func (a *unlinkAuth) allows(authorization []string) bool {
	return a != nil && len(authorization) == 1 && a.keys.Match(authorization[0])
}

// headerValues looks a header up case-insensitively (API Gateway passes
// names as the client sent them), preferring the multi-value map.
func headerValues(single map[string]string, multi map[string][]string, name string) []string {
	var out []string
	for k, vs := range multi {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	if out != nil {
		return out
	}
	for k, v := range single {
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
		if ct := headerValues(req.Headers, req.MultiValueHeaders, "Content-Type"); len(ct) > 0 {
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

// unlinkUnauthorized is the webhook's answer to a wrong key or app id: the
// authorizer's own (the gateway response UNAUTHORIZED, errors.go's
// UnauthorizedOutcome), so that a forger cannot tell which check refused.
func unlinkUnauthorized() events.APIGatewayProxyResponse {
	o := kakaoauth.UnauthorizedOutcome
	b, _ := json.Marshal(map[string]string{"error": o.Code, "message": o.Message})
	return events.APIGatewayProxyResponse{StatusCode: o.Status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
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
