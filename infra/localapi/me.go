package localapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/cognitojwt"
)

// MePath is the optional protected route (template.yaml's MeRoute): the
// example of an app's own API behind a Cognito user-pool authorizer.
const MePath = "/me"

// Preflight answers of GET /me, as its OPTIONS method gives them.
const (
	MeCORSAllowMethods = "GET"
	MeCORSAllowHeaders = "Authorization"
)

// TokenVerifier checks a token of the stack's user pool
// (*cognitojwt.Verifier).
type TokenVerifier interface {
	Verify(ctx context.Context, raw string, use cognitojwt.Use) (cognitojwt.Claims, error)
}

var _ TokenVerifier = (*cognitojwt.Verifier)(nil)

// MeAnswer is GET /me's body: who the caller is, from the ID token's
// claims. KakaoID is null for a user of the pool without a Kakao account.
type MeAnswer struct {
	Sub      string  `json:"sub"`
	Username string  `json:"username"`
	KakaoID  *string `json:"kakao_id"`
}

// Me serves GET /me as API Gateway does with a Cognito user-pool
// authorizer and no OAuth scopes on the method: the Authorization header
// must hold the pool's ID token itself (no "Bearer " prefix), valid and
// current, for the stack's app client; otherwise 401 Unauthorized. The
// answer comes from the token's claims (the API's MOCK integration maps
// them the same way).
type Me struct {
	verify TokenVerifier
	log    *slog.Logger
	cors   CORS
}

// NewMe returns the handler; origins may call it from a browser (CORS).
func NewMe(v TokenVerifier, log *slog.Logger, origins ...string) *Me {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Me{verify: v, log: log, cors: CORS{origins: slices.Clone(origins)}}
}

func (m *Me) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		m.cors.preflightFor(w, r, MeCORSAllowMethods, MeCORSAllowHeaders)
		return
	}
	m.cors.apply(w, r)
	if r.Method != http.MethodGet {
		writeNotFound(w)
		return
	}
	raw := r.Header.Get("Authorization")
	if raw == "" {
		writeOutcome(w, kakaoauth.UnauthorizedOutcome)
		return
	}
	claims, err := m.verify.Verify(r.Context(), raw, cognitojwt.UseID)
	var invalid *cognitojwt.InvalidToken
	switch {
	case errors.As(err, &invalid):
		m.log.InfoContext(r.Context(), "me: token refused", "reason", invalid.Reason)
		writeOutcome(w, kakaoauth.UnauthorizedOutcome)
		return
	case err != nil:
		// The pool's keys could not be read: the authorizer's failure, a 500.
		m.log.ErrorContext(r.Context(), "me: cannot verify tokens", "error", err.Error())
		writeOutcome(w, kakaoauth.OutcomeOf(""))
		return
	}
	ans := MeAnswer{Sub: claims.Sub, Username: claims.Username}
	if claims.KakaoID != "" {
		ans.KakaoID = &claims.KakaoID
	}
	writeJSON(w, http.StatusOK, ans)
}
