package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"io"
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

// ParseLoginRequest decodes a POST /auth/kakao body strictly: one JSON
// object, known fields only, at least one token. Errors are
// *kakaoauth.InvalidRequest and never quote the body.
func ParseLoginRequest(body string) (LoginRequest, error) {
	var req LoginRequest
	if len(body) > MaxBodyBytes {
		return req, &kakaoauth.InvalidRequest{Reason: "body too large"}
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, &kakaoauth.InvalidRequest{Reason: describeDecodeError(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, &kakaoauth.InvalidRequest{Reason: "trailing data after the JSON object"}
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

// describeDecodeError keeps the decoder's reason but never a value from the
// body: encoding/json's messages name fields and types, not contents, except
// for syntax errors, which are summarised.
func describeDecodeError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON"
	case errors.As(err, &typ) && typ.Field == "":
		// The body itself has the wrong type ([], "x", 1): naming the Go
		// type it missed would only confuse.
		return "body is not a JSON object"
	case errors.As(err, &typ):
		return "field " + typ.Field + " must be a " + typ.Type.String()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	default:
		return "body is not a JSON object"
	}
}

// ValidateToken is the first state: it checks the request and the Kakao
// token and outputs the identity, dropping the token from the state.
func (s *Steps) ValidateToken(ctx context.Context, in ValidateTokenInput) (LoginState, error) {
	rc := in.Context
	if in.ExecutionID != "" {
		rc.ExecutionID = in.ExecutionID
	}
	req, err := ParseLoginRequest(in.Body)
	if in.Oversized {
		err = &kakaoauth.InvalidRequest{Reason: "body too large"}
	}
	if err != nil {
		s.log.InfoContext(ctx, "login request rejected", "step", "ValidateToken", "error", kakaoauth.ErrorName(err), "reason", err.Error(), "executionId", rc.ExecutionID)
		return LoginState{}, err
	}
	// Kakao answers after this moment, so it vouched for the token no
	// earlier: a sound lower bound to compare with an unlink's time.
	checked := millis(s.now())
	id, err := s.kakao.Verify(ctx, kakaoauth.KakaoTokens{AccessToken: req.AccessToken, IDToken: req.IDToken, Nonce: req.Nonce})
	if err != nil {
		s.log.InfoContext(ctx, "kakao token rejected", "step", "ValidateToken", "error", kakaoauth.ErrorName(err), "reason", err.Error(), "executionId", rc.ExecutionID)
		return LoginState{}, err
	}
	s.log.InfoContext(ctx, "kakao token valid", "step", "ValidateToken", "kakaoId", id.KakaoID, "appId", id.AppID, "hasVerifiedEmail", id.Email != "", "executionId", rc.ExecutionID)
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
