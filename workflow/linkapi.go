package workflow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
)

// LinkPath is the route of the linking endpoints, on the API (a Lambda
// proxy integration) and on the local endpoint:
//
//	POST   /auth/kakao/link  Authorization: Bearer <Cognito access token>
//	                         body: the login's, {"access_token"|"id_token", "nonce"}
//	DELETE /auth/kakao/link  Authorization: Bearer <Cognito access token>
const LinkPath = "/auth/kakao/link"

// ReferrerUser is the referrer type of an unlink the user asked for
// (DELETE /auth/kakao/link), beside Kakao's own.
const ReferrerUser = "UNLINK_BY_USER"

// CORS answers of the linking route (a browser sends the access token in
// Authorization, so every cross-origin call is preflighted).
const (
	linkAllowMethods = "POST, DELETE"
	linkAllowHeaders = "Authorization, Content-Type"
	linkMaxAge       = "600"
)

// LinkResponse is POST /auth/kakao/link's 200 body.
type LinkResponse struct {
	KakaoID  int64  `json:"kakao_id"`
	Sub      string `json:"sub"`
	Username string `json:"username"`
	// NewLink is false when the Kakao account was linked to the user
	// already (the request changed nothing).
	NewLink bool `json:"new_link"`
}

// UnlinkResponse is DELETE /auth/kakao/link's 200 body.
type UnlinkResponse struct {
	KakaoID int64  `json:"kakao_id"`
	Sub     string `json:"sub"`
}

// LinkEndpoint serves the linking endpoints (API Gateway proxy
// integration; the local endpoint adapts HTTP to the same event). The
// user proves who they are with their Cognito access token (checked by
// Cognito: AccessTokens), the Kakao account with a Kakao token checked
// exactly as a login checks it (validate). Every refusal is answered from
// errors.go's table and audited as link_failed; every change is a
// lifecycle transition (linked, unlinked), audited and on the bus.
func (s *Steps) LinkEndpoint(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	origin := firstHeader(req, "Origin")
	var resp events.APIGatewayProxyResponse
	switch req.HTTPMethod {
	case http.MethodOptions:
		resp = events.APIGatewayProxyResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}}
		if s.corsAllowed(origin) {
			resp.Headers["Access-Control-Allow-Methods"] = linkAllowMethods
			resp.Headers["Access-Control-Allow-Headers"] = linkAllowHeaders
			resp.Headers["Access-Control-Max-Age"] = linkMaxAge
		}
	case http.MethodPost, http.MethodDelete:
		resp = s.linkRequest(ctx, req)
	default:
		// As API Gateway answers a method the route lacks.
		resp = jsonAnswer(http.StatusNotFound, map[string]string{"error": "NotFound", "message": "No such route."})
	}
	if len(s.corsOrigins) > 0 {
		resp.Headers["Vary"] = "Origin"
		if s.corsAllowed(origin) {
			resp.Headers["Access-Control-Allow-Origin"] = origin
		}
	}
	return resp, nil
}

func (s *Steps) corsAllowed(origin string) bool {
	return origin != "" && slices.Contains(s.corsOrigins, origin)
}

// linkRequest is one POST or DELETE, answered and audited.
func (s *Steps) linkRequest(ctx context.Context, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	rc := RequestContext{SourceIP: req.RequestContext.Identity.SourceIP, UserAgent: req.RequestContext.Identity.UserAgent, RequestID: req.RequestContext.RequestID}
	if rc.RequestID == "" {
		rc.RequestID = uuid.NewString()
	}
	rc.ExecutionID = "link:" + rc.RequestID
	var (
		body any
		who  linkParty
	)
	step, handle := "LinkKakao", s.postLink
	if req.HTTPMethod == http.MethodDelete {
		step, handle = "UnlinkKakao", s.deleteLink
	}
	bctx, done, err := withinDeadline(ctx, linkDeadline(ctx, req), step)
	if err == nil {
		body, who, err = handle(bctx, req, rc)
		done(&err)
	}
	if err == nil {
		return jsonAnswer(http.StatusOK, body)
	}
	name := kakaoauth.ErrorName(err)
	out := kakaoauth.OutcomeOf(name)
	level := s.log.InfoContext
	if out.Code == kakaoauth.CodeInternal {
		level = s.log.ErrorContext
	}
	level(ctx, "linking request refused", "method", req.HTTPMethod, "error", name, "cause", err.Error(),
		"kakaoId", who.kakaoID, "sub", who.sub, "requestId", rc.RequestID)
	if s.audit != nil {
		// Its own time: the request's may be used up (LinkBudget left
		// this much of LinkTimeout for it).
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if aerr := s.audit.Record(actx, kakaoauth.AuditEvent{
			Time: millis(s.now()), Type: kakaoauth.EventLinkFailed, Outcome: "failure", Error: name,
			KakaoID: who.kakaoID, Sub: who.sub, ExecutionID: rc.ExecutionID, SourceIP: rc.SourceIP, UserAgent: rc.UserAgent,
			Detail: "method=" + req.HTTPMethod,
		}); aerr != nil {
			s.log.ErrorContext(ctx, "could not audit a refused linking request", "error", aerr.Error())
		}
	}
	resp := jsonAnswer(out.Status, map[string]string{"error": out.Code, "message": out.Message})
	var badToken *kakaoauth.InvalidCognitoToken
	if errors.As(err, &badToken) {
		resp.Headers["WWW-Authenticate"] = `Bearer error="invalid_token"`
	}
	return resp
}

// linkDeadline is when a linking request's calls must be done: LinkBudget
// after API Gateway received it (its requestTimeEpoch, which counts a cold
// start; now when absent, or older than LinkTimeout: no gateway waits
// that long, so it is a replayed event, `sam local invoke` of a fixture),
// and no later than the invocation's own deadline allows (the function's
// Timeout, less what LinkBudget leaves).
func linkDeadline(ctx context.Context, req events.APIGatewayProxyRequest) time.Time {
	start := time.Now()
	if ms := req.RequestContext.RequestTimeEpoch; ms > 0 {
		if at := time.UnixMilli(ms); at.Before(start) && start.Sub(at) < LinkTimeout {
			start = at
		}
	}
	deadline := start.Add(LinkBudget)
	if d, ok := ctx.Deadline(); ok {
		deadline = minTime(deadline, d.Add(LinkBudget-LinkTimeout))
	}
	return deadline
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// linkParty is who a linking request was about, as far as it got: for
// the audit trail of a refusal.
type linkParty struct {
	kakaoID int64
	sub     string
}

// postLink links the Kakao account of the body's token to the bearer's
// user.
func (s *Steps) postLink(ctx context.Context, req events.APIGatewayProxyRequest, rc RequestContext) (any, linkParty, error) {
	var who linkParty
	body, oversized, err := proxyBody(req)
	if err != nil {
		return nil, who, err
	}
	// The body's shape first: it costs no call.
	if _, err := ParseLoginRequest(body); err != nil && !oversized {
		return nil, who, err
	}
	user, err := s.bearerUser(ctx, req)
	if err != nil {
		return nil, who, err
	}
	who.sub = user.Sub
	if user, err = s.poolRecord(ctx, user); err != nil {
		return nil, who, err
	}
	st, err := s.validate(ctx, body, oversized, rc, "LinkKakao")
	if err != nil {
		return nil, who, err
	}
	who.kakaoID = st.Subject.KakaoID
	ac := auditContext{ExecutionID: rc.ExecutionID, SourceIP: rc.SourceIP, UserAgent: rc.UserAgent, AppID: st.Subject.AppID}
	m, ev, err := s.link(ctx, st.Subject.KakaoID, user, "user", rc.ExecutionID, ac)
	if err != nil {
		return nil, who, err
	}
	if ev.ID != "" {
		// The link is made; the outbox keeps its events if they cannot
		// go out now (the sweeper sends them).
		s.finishSoon(ctx, ev)
	}
	return LinkResponse{KakaoID: m.KakaoID, Sub: m.Sub, Username: m.Username, NewLink: ev.ID != ""}, who, nil
}

// deleteLink removes the bearer's Kakao link: Kakao's unlink API first
// (as Kakao asks of services whose users leave; retried by the app when
// Kakao is down, nothing changed), then the link itself, forgotten (a
// later Kakao login starts over). A user kakaoauth created cannot: Kakao
// is its only way in.
func (s *Steps) deleteLink(ctx context.Context, req events.APIGatewayProxyRequest, rc RequestContext) (any, linkParty, error) {
	var who linkParty
	user, err := s.bearerUser(ctx, req)
	if err != nil {
		return nil, who, err
	}
	who.sub = user.Sub
	if kakaoauth.CreatedByKakaoauth(user) {
		return nil, who, &kakaoauth.KakaoOnlyAccount{Username: user.Username}
	}
	m, err := s.linkOf(ctx, user.Sub)
	if err != nil {
		return nil, who, err
	}
	who.kakaoID = m.KakaoID
	if s.accounts == nil {
		return nil, who, errors.New("no Kakao admin API configured for the unlink")
	}
	if err := s.accounts.Unlink(ctx, m.KakaoID); err != nil {
		return nil, who, err
	}
	r := kakaoauth.UnlinkRequest{
		ID: rc.ExecutionID, KakaoID: m.KakaoID, ReferrerType: ReferrerUser, ReceivedAt: millis(s.now()),
		SourceIP: rc.SourceIP, UserAgent: rc.UserAgent, Action: ActionDelete,
	}
	outcome, err := s.UnlinkAccount(ctx, r)
	if err != nil && outcome != UnlinkDone {
		return nil, who, err
	}
	if err != nil {
		// The link is removed; only its events could not go out: the
		// outbox keeps them for the sweeper. A retry would find nothing.
		s.log.WarnContext(ctx, "lifecycle event left in the outbox", "event", kakaoauth.EventUnlinked, "kakaoId", m.KakaoID, "error", err.Error())
	}
	s.log.InfoContext(ctx, "kakao link removed by its user", "kakaoId", m.KakaoID, "sub", user.Sub, "outcome", string(outcome))
	return UnlinkResponse{KakaoID: m.KakaoID, Sub: user.Sub}, who, nil
}

// linkOf is the Kakao account linked to pool user sub: the claim (a
// strongly consistent read) for an active link, else the bySub index for
// a dormant one. *NotLinked when there is none.
func (s *Steps) linkOf(ctx context.Context, sub string) (kakaoauth.Mapping, error) {
	var notFound *kakaoauth.NotFound
	holder, err := s.mappings.ClaimOf(ctx, sub)
	switch {
	case err == nil:
		m, err := s.mappings.Get(ctx, holder)
		if err == nil && m.Linked() && m.Sub == sub && m.Status == kakaoauth.StatusActive {
			return m, nil
		}
		if err != nil && !errors.As(err, &notFound) {
			return m, err
		}
	case !errors.As(err, &notFound):
		return kakaoauth.Mapping{}, err
	}
	m, err := s.mappings.GetBySub(ctx, sub)
	switch {
	case err == nil && m.Linked() && m.Status == kakaoauth.StatusUnlinked:
		return m, nil
	case err == nil, errors.As(err, &notFound):
		return kakaoauth.Mapping{}, &kakaoauth.NotLinked{Sub: sub}
	}
	return kakaoauth.Mapping{}, err
}

// poolRecord is the bearer's user as the pool keeps it (AdminGetUser):
// GetUser, which checked the token, does not say the user's status, and
// link refuses a user Cognito's custom flow cannot sign in (another
// provider's, an unconfirmed one, one that must reset its password).
func (s *Steps) poolRecord(ctx context.Context, user kakaoauth.CognitoUser) (kakaoauth.CognitoUser, error) {
	if s.users == nil {
		return user, errors.New("no user directory configured")
	}
	rec, err := s.users.GetUser(ctx, user.Username)
	var notFound *kakaoauth.NotFound
	switch {
	case errors.As(err, &notFound):
		return user, &kakaoauth.InvalidCognitoToken{Reason: "its user no longer exists"}
	case err != nil:
		return user, err
	case rec.Sub != user.Sub:
		return user, &kakaoauth.InvalidCognitoToken{Reason: "its username is another user's now"}
	}
	return rec, nil
}

// bearerUser checks the request's Cognito access token.
func (s *Steps) bearerUser(ctx context.Context, req events.APIGatewayProxyRequest) (kakaoauth.CognitoUser, error) {
	values := headerValues(req.Headers, req.MultiValueHeaders, "Authorization")
	if len(values) != 1 {
		return kakaoauth.CognitoUser{}, &kakaoauth.InvalidCognitoToken{Reason: "no single Authorization header"}
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return kakaoauth.CognitoUser{}, &kakaoauth.InvalidCognitoToken{Reason: "not a Bearer token"}
	}
	if s.accessTokens == nil {
		return kakaoauth.CognitoUser{}, errors.New("no access-token check configured")
	}
	return s.accessTokens.User(ctx, token)
}

// proxyBody is the request's body as text, and whether it is longer than
// a login's body may be (not carried then, as the login's request
// template does).
func proxyBody(req events.APIGatewayProxyRequest) (string, bool, error) {
	body := req.Body
	if req.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return "", false, &kakaoauth.InvalidRequest{Reason: "body is not base64"}
		}
		body = string(raw)
	}
	if ct := headerValues(req.Headers, req.MultiValueHeaders, "Content-Type"); len(ct) > 0 && !jsonMediaType(ct[0]) {
		return "", false, &kakaoauth.InvalidRequest{Reason: "body is not JSON"}
	}
	if len(body) > MaxBodyBytes {
		return "", true, nil
	}
	return body, false, nil
}

func firstHeader(req events.APIGatewayProxyRequest, name string) string {
	if vs := headerValues(req.Headers, req.MultiValueHeaders, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// jsonMediaType accepts application/json with any parameters.
func jsonMediaType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// jsonAnswer is a proxy response with a JSON body.
func jsonAnswer(status int, v any) events.APIGatewayProxyResponse {
	b, _ := json.Marshal(v)
	return events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}
