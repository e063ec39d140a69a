package tryit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth/infra/jwks"
	"github.com/kakaoauth/kakaoauth/shared/cognitojwt"
)

// CognitoAPI is what the page's backend does at Cognito: the team app's
// password sign-in (team.go), a public (unsigned) call an app makes with
// its app client, no AWS credentials. Refresh and sign-out run in the
// browser, through the JavaScript client.
type CognitoAPI interface {
	InitiateAuth(context.Context, *cip.InitiateAuthInput, ...func(*cip.Options)) (*cip.InitiateAuthOutput, error)
}

var _ CognitoAPI = (*cip.Client)(nil)

// Pool is the stack's user pool as an app sees it.
type Pool struct {
	ID string
	// ClientID is the public app client (output UserPoolClientId): the
	// aud of its ID tokens.
	ClientID string
	// Issuer is the iss of the pool's tokens.
	Issuer string
	// JWKSURL is where the pool publishes its signing keys.
	JWKSURL string
	API     CognitoAPI
	// Region and Endpoint are where the page's script reaches Cognito
	// (the JavaScript client refreshes and signs out from the browser).
	Region   string
	Endpoint string
}

// NewPool describes pool poolID in region. endpoint is Cognito's base URL:
// "" for AWS (https://cognito-idp.<region>.amazonaws.com), or moto's. The
// issuer is AWS's form either way; moto issues it too.
func NewPool(api CognitoAPI, region, poolID, clientID, endpoint string) Pool {
	if endpoint == "" {
		endpoint = fmt.Sprintf("https://cognito-idp.%s.amazonaws.com", region)
	}
	endpoint = strings.TrimRight(endpoint, "/")
	return Pool{ID: poolID, ClientID: clientID, Issuer: cognitojwt.Issuer(region, poolID), JWKSURL: cognitojwt.JWKSURL(region, poolID, endpoint),
		API: api, Region: region, Endpoint: endpoint}
}

// idClaims are the ID-token claims the page shows.
var idClaims = []string{"sub", "custom:kakao_id", "email", "email_verified", "exp", "iat", "iss", "aud", "token_use", "cognito:username"}

type verifyRequest struct {
	IDToken string `json:"id_token"`
}

type verifyAnswer struct {
	// Verified: the RS256 signature checks out against a key of the pool's
	// JWKS, and iss, aud, token_use and exp are the pool's and current.
	Verified bool           `json:"verified"`
	Problems []string       `json:"problems,omitempty"`
	Claims   map[string]any `json:"claims,omitempty"`
	JWKSURL  string         `json:"jwks_url"`
	JWKSMS   int64          `json:"jwks_ms"`
}

// verify checks a Cognito ID token as a resource server would.
func (p *Page) verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if !p.decode(w, r, &req) {
		return
	}
	if !required(req.IDToken) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "No ID token.")
		return
	}
	ctx, cancel, elapsed := p.upstream(r.Context())
	defer cancel()
	claims, err := jwks.Verify(ctx, p.http, p.pool.JWKSURL, req.IDToken)
	ans := verifyAnswer{JWKSURL: p.pool.JWKSURL, JWKSMS: elapsed()}
	if err != nil {
		ans.Problems = append(ans.Problems, err.Error())
		p.hop(ctx, "jwks verify", "signature refused", ans.JWKSMS)
		writeJSON(w, http.StatusOK, ans)
		return
	}
	ans.Claims = map[string]any{}
	for _, k := range idClaims {
		if v, ok := claims[k]; ok {
			ans.Claims[k] = v
		}
	}
	exp, _ := claims["exp"].(float64)
	checks := []struct {
		ok      bool
		problem string
	}{
		{claims["iss"] == p.pool.Issuer, fmt.Sprintf("iss is %v, not the pool's %s", claims["iss"], p.pool.Issuer)},
		{claims["aud"] == p.pool.ClientID || p.hosted.ClientID != "" && claims["aud"] == p.hosted.ClientID || p.team.ClientID != "" && claims["aud"] == p.team.ClientID,
			fmt.Sprintf("aud is %v, not an app client of the stack", claims["aud"])},
		{claims["token_use"] == "id", fmt.Sprintf("token_use is %v, not id", claims["token_use"])},
		{float64(p.now().Unix()) < exp, "the token has expired"},
	}
	for _, c := range checks {
		if !c.ok {
			ans.Problems = append(ans.Problems, c.problem)
		}
	}
	ans.Verified = len(ans.Problems) == 0
	p.hop(ctx, "jwks verify", fmt.Sprintf("verified=%t", ans.Verified), ans.JWKSMS)
	writeJSON(w, http.StatusOK, ans)
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return "unavailable"
}

// writeCognitoError passes Cognito's error code and message on: they are
// meant for the app (e.g. NotAuthorizedException "Incorrect username or
// password."). Cognito failing or unreachable is a 502.
func writeCognitoError(w http.ResponseWriter, err error) {
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorFault() == smithy.FaultServer {
		writeError(w, http.StatusBadGateway, "CognitoUnavailable", "Cognito did not answer.")
		return
	}
	status := http.StatusBadRequest
	switch api.ErrorCode() {
	case "NotAuthorizedException":
		status = http.StatusUnauthorized
	case "TooManyRequestsException", "LimitExceededException":
		status = http.StatusTooManyRequests
	}
	writeError(w, status, api.ErrorCode(), api.ErrorMessage())
}
