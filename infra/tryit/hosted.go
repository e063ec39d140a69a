package tryit

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// HostedUI is the stack's Cognito hosted UI (stack parameter HostedUi):
// the page then also signs in the way a web app with Amplify's
// signInWithRedirect does. Its redirect URI, <page>/callback, must be one
// of the stack's HostedUiCallbackUrls.
type HostedUI struct {
	// DomainURL is the Cognito domain (output HostedUiDomainUrl).
	DomainURL string
	// ClientID is the hosted UI's app client (output HostedUiClientId).
	ClientID string
}

// WithHostedUI offers the hosted-UI sign-in beside the broker's.
func WithHostedUI(h HostedUI) Option {
	return func(p *Page) {
		h.DomainURL = strings.TrimRight(h.DomainURL, "/")
		p.hosted = h
	}
}

// hostedScopes are what the page asks the hosted UI for.
const hostedScopes = "openid email profile"

// hostedConfig is what the page's script knows of the hosted UI.
type hostedConfig struct {
	AuthorizeURL string `json:"authorizeURL"`
	ClientID     string `json:"clientID"`
	Provider     string `json:"provider"`
	Scopes       string `json:"scopes"`
	// LinkedCode marks the first sign-in that linked the Kakao identity
	// (workflow.LinkedErrorCode): the page restarts the sign-in once.
	LinkedCode string `json:"linkedCode"`
}

func (p *Page) hostedConfig() *hostedConfig {
	if p.hosted.DomainURL == "" {
		return nil
	}
	return &hostedConfig{
		AuthorizeURL: p.hosted.DomainURL + "/oauth2/authorize", ClientID: p.hosted.ClientID,
		Provider: kakaoauth.HostedUIProvider, Scopes: hostedScopes, LinkedCode: workflow.LinkedErrorCode,
	}
}

type hostedTokenRequest struct {
	Code         string `json:"code"`
	CodeVerifier string `json:"code_verifier"`
}

type hostedTokenAnswer struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	CognitoMS    int64  `json:"cognito_ms"`
}

// cognitoTokenAnswer is the hosted UI's token endpoint's answer or error.
type cognitoTokenAnswer struct {
	hostedTokenAnswer
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// hostedToken is the code exchange at the hosted UI's token endpoint, as
// Amplify makes it: grant_type=authorization_code, the public client, the
// same redirect URI and the PKCE verifier (no client secret).
func (p *Page) hostedToken(w http.ResponseWriter, r *http.Request) {
	var req hostedTokenRequest
	if !p.decode(w, r, &req) {
		return
	}
	switch {
	case p.hosted.DomainURL == "":
		writeError(w, http.StatusNotFound, "NotFound", "This stack has no hosted UI.")
		return
	case !required(req.Code, req.CodeVerifier):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "No authorization code or PKCE verifier.")
		return
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {p.hosted.ClientID},
		"code":          {req.Code},
		"redirect_uri":  {p.redirectURI(r)},
		"code_verifier": {req.CodeVerifier},
	}
	ctx, cancel, elapsed := p.upstream(r.Context())
	defer cancel()
	var tok cognitoTokenAnswer
	status, decodeErr, err := p.postTokenForm(ctx, p.hosted.DomainURL+"/oauth2/token", "application/x-www-form-urlencoded", form, &tok)
	ms := elapsed()
	switch {
	case err != nil:
		p.hop(ctx, "hosted ui token", "unreachable", ms)
		writeError(w, http.StatusBadGateway, "CognitoUnavailable", "The hosted UI's token endpoint did not answer.")
	case status >= 500 || decodeErr != nil:
		p.hop(ctx, "hosted ui token", "unavailable", ms)
		writeError(w, http.StatusBadGateway, "CognitoUnavailable", fmt.Sprintf("The hosted UI's token endpoint failed (HTTP %d).", status))
	case status != http.StatusOK:
		p.hop(ctx, "hosted ui token", "refused "+tok.Error, ms)
		code := tok.Error
		if code == "" {
			code = "CognitoRefused"
		}
		writeError(w, http.StatusBadRequest, code, strings.TrimSpace("Cognito refused the code exchange. "+tok.ErrorDescription))
	case tok.IDToken == "" || tok.AccessToken == "":
		p.hop(ctx, "hosted ui token", "no tokens", ms)
		writeError(w, http.StatusBadGateway, "CognitoUnavailable", "The hosted UI's answer had no tokens.")
	default:
		p.hop(ctx, "hosted ui token", "ok", ms)
		ans := tok.hostedTokenAnswer
		ans.CognitoMS = ms
		writeJSON(w, http.StatusOK, ans)
	}
}
