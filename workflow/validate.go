package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/kakaoauth/kakaoauth"
)

// Request limits. Kakao access tokens are under 100 bytes and ID tokens a
// few KiB; anything far larger is abuse, refused before Kakao is called.
const (
	MaxBodyBytes  = 16 << 10
	maxTokenBytes = 8 << 10
	maxNonceBytes = 256
)

// loginFields are the members a login body may have, matched exactly:
// API Gateway's request model compares names case-sensitively, and so
// must the local endpoint (encoding/json alone would take ACCESS_TOKEN).
var loginFields = map[string]func(*LoginRequest) *string{
	"access_token": func(r *LoginRequest) *string { return &r.AccessToken },
	"id_token":     func(r *LoginRequest) *string { return &r.IDToken },
	"nonce":        func(r *LoginRequest) *string { return &r.Nonce },
}

// ParseLoginRequest decodes a POST /auth/kakao body strictly: one JSON
// object, known fields only (names matched exactly), at least one token.
// Errors are *kakaoauth.InvalidRequest with fixed reasons: they never
// quote the body, not even a member's name a client chose, since they
// reach logs and the execution's cause.
func ParseLoginRequest(body string) (LoginRequest, error) {
	var req LoginRequest
	if len(body) > MaxBodyBytes {
		return req, &kakaoauth.InvalidRequest{Reason: "body too large"}
	}
	var members map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&members); err != nil {
		return req, &kakaoauth.InvalidRequest{Reason: describeDecodeError(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, &kakaoauth.InvalidRequest{Reason: "trailing data after the JSON object"}
	}
	if members == nil { // the body is null
		return req, &kakaoauth.InvalidRequest{Reason: "body is not a JSON object"}
	}
	// In name order, so that a body with two faults always gets one reason.
	for _, name := range slices.Sorted(maps.Keys(members)) {
		field, known := loginFields[name]
		if !known {
			return req, &kakaoauth.InvalidRequest{Reason: "unknown field"}
		}
		if err := json.Unmarshal(members[name], field(&req)); err != nil {
			// name is one of loginFields, not the client's text.
			return req, &kakaoauth.InvalidRequest{Reason: "field " + name + " must be a string"}
		}
	}
	if req.AccessToken == "" && req.IDToken == "" {
		return req, &kakaoauth.InvalidRequest{Reason: "neither access_token nor id_token given"}
	}
	if len(req.AccessToken) > maxTokenBytes || len(req.IDToken) > maxTokenBytes || len(req.Nonce) > maxNonceBytes {
		return req, &kakaoauth.InvalidRequest{Reason: "a field is too long"}
	}
	if req.Nonce != "" && req.IDToken == "" {
		return req, &kakaoauth.InvalidRequest{Reason: "nonce given without id_token"}
	}
	return req, nil
}

// describeDecodeError names why a body is not a JSON object, in fixed
// text: encoding/json's own messages can quote the body.
func describeDecodeError(err error) string {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	default:
		// The body is JSON of another type ([], "x", 1).
		return "body is not a JSON object"
	}
}

// accessTokenMaxBytes bounds an access token far above Kakao's (under 100
// bytes) and far below the request model's 8192.
const accessTokenMaxBytes = 1024

// CheckTokenShapes refuses, as *kakaoauth.InvalidKakaoToken and before
// Kakao is called, tokens that cannot be Kakao's: an access token is an
// OAuth bearer token (RFC 6750's b64token: letters, digits, -._~+/ then
// any =) of at most accessTokenMaxBytes, an ID token a JWS compact
// serialization (three base64url segments). A control character (CR, LF,
// NUL) could not even be sent in the Authorization header: without this
// check it read as a Kakao outage (502, retried, audited as such).
func CheckTokenShapes(req LoginRequest) error {
	if req.AccessToken != "" && !kakaoauth.BearerToken(req.AccessToken, accessTokenMaxBytes) {
		return &kakaoauth.InvalidKakaoToken{Reason: "access token is not a bearer token"}
	}
	if req.IDToken != "" && !kakaoauth.CompactJWS(req.IDToken) {
		return &kakaoauth.InvalidKakaoToken{Reason: "id token is not a JWS compact serialization"}
	}
	return nil
}

// ValidateToken is the first state: it checks the request and the Kakao
// token and outputs the identity, dropping the token from the state.
func (s *Steps) ValidateToken(ctx context.Context, in ValidateTokenInput) (_ LoginState, err error) {
	rc := in.Context
	if in.ExecutionID != "" {
		rc.ExecutionID = in.ExecutionID
	}
	if !in.StartedAt.IsZero() {
		rc.StartedAt = in.StartedAt
	}
	ctx, done, err := withinBudget(ctx, rc, "ValidateToken")
	if err != nil {
		return LoginState{}, err
	}
	defer done(&err)
	return s.validate(ctx, in.Body, in.Oversized, rc, "ValidateToken")
}

// validate is how a Kakao token is checked, whatever asks (a login, a
// linking request): the body decoded strictly, the token's shape, then
// Kakao. It returns the identity as a login state, without the token.
func (s *Steps) validate(ctx context.Context, body string, oversized bool, rc RequestContext, step string) (LoginState, error) {
	req, err := ParseLoginRequest(body)
	if oversized {
		err = &kakaoauth.InvalidRequest{Reason: "body too large"}
	}
	if err == nil {
		err = CheckTokenShapes(req)
	}
	if err != nil {
		s.log.InfoContext(ctx, "login request rejected", "step", step, "error", kakaoauth.ErrorName(err), "reason", err.Error(), "executionId", rc.ExecutionID)
		return LoginState{}, err
	}
	// Kakao answers after this moment, so it vouched for the token no
	// earlier: a sound lower bound to compare with an unlink's time.
	checked := millis(s.now())
	id, err := s.kakao.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: req.AccessToken, IDToken: req.IDToken, Nonce: req.Nonce})
	if err != nil {
		s.log.InfoContext(ctx, "kakao token rejected", "step", step, "error", kakaoauth.ErrorName(err), "reason", err.Error(), "executionId", rc.ExecutionID)
		return LoginState{}, err
	}
	s.log.InfoContext(ctx, "kakao token valid", "step", step, "kakaoId", id.KakaoID, "appId", id.AppID, "hasVerifiedEmail", id.Email != "", "executionId", rc.ExecutionID)
	// When Kakao vouched for the token: an unlinked account comes back only
	// for a token vouched for after its unlink (UpsertUser).
	vouched := id.IDTokenIssuedAt
	if vouched.IsZero() {
		vouched = checked
	}
	return LoginState{
		Subject: Subject{KakaoID: id.KakaoID, AppID: id.AppID, VouchedAt: vouched},
		Profile: Profile{Email: id.Email, EmailChecked: id.EmailChecked, Nickname: id.Nickname},
		Context: rc,
	}, nil
}
