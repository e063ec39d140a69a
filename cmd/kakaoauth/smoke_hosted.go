package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	sharedconfig "github.com/kakaoauth/kakaoauth/shared/config"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/jwks"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// HostedUISmoke is what `smoke --hosted-ui` checks on a deployed stack
// with Cognito's hosted UI (HostedUi=enabled): that the domain's authorize
// endpoint sends the browser to Kakao's with the stack's REST API key,
// Cognito's /oauth2/idpresponse and the scopes; and, given the address a
// browser landed on after signing in there (-callback), that the code
// gets the pool's tokens and that they are for the same Cognito user (sub)
// as the broker's login of the same Kakao account (KAKAO_ACCESS_TOKEN).
// Empty fields come from the stack (-stack): outputs HostedUiDomainUrl,
// HostedUiClientId, UserPoolId; parameters HostedUiCallbackUrls (its
// first URL), KakaoRestApiKey, KakaoAuthBaseUrl, HostedUiKakaoScopes.
type HostedUISmoke struct {
	Enabled     bool
	DomainURL   string
	ClientID    string
	RedirectURI string
	// KakaoClientID, KakaoAuthURL and KakaoScopes are what the redirect
	// to Kakao must carry.
	KakaoClientID string
	KakaoAuthURL  string
	KakaoScopes   string
	// Callback is the whole address the browser landed on after signing
	// in through the printed authorize URL.
	Callback   string
	UserPoolID string
	// CognitoEndpoint replaces Cognito's for the pool's JWKS (tests).
	CognitoEndpoint string
}

// hostedSmokeState is the authorize request's state: the person running
// smoke pastes the callback of this very request back.
const hostedSmokeState = "kakaoauth-smoke"

// fill takes what is not given from the stack's outputs and parameters.
func (h *HostedUISmoke) fill(outputs, params map[string]string) {
	h.DomainURL = strings.TrimRight(orDefault(h.DomainURL, outputs["HostedUiDomainUrl"]), "/")
	h.ClientID = orDefault(h.ClientID, outputs["HostedUiClientId"])
	h.UserPoolID = orDefault(h.UserPoolID, outputs["UserPoolId"])
	first, _, _ := strings.Cut(params["HostedUiCallbackUrls"], ",")
	h.RedirectURI = orDefault(h.RedirectURI, first)
	h.KakaoClientID = orDefault(h.KakaoClientID, params["KakaoRestApiKey"])
	h.KakaoAuthURL = strings.TrimRight(orDefault(h.KakaoAuthURL, orDefault(params["KakaoAuthBaseUrl"], sharedconfig.DefaultKakaoAuthBaseURL)), "/")
	h.KakaoScopes = orDefault(h.KakaoScopes, orDefault(params["HostedUiKakaoScopes"], "profile_nickname account_email"))
}

// authorizeURL is the sign-in an app starts (Amplify's
// signInWithRedirect with the custom provider Kakao).
func (h *HostedUISmoke) authorizeURL() string {
	return h.DomainURL + "/oauth2/authorize?" + url.Values{
		"identity_provider": {kakaoauth.HostedUIProvider}, "client_id": {h.ClientID}, "response_type": {"code"},
		"scope": {"openid email profile"}, "redirect_uri": {h.RedirectURI}, "state": {hostedSmokeState},
	}.Encode()
}

// hostedUIChecks runs the checks and returns the names of those that
// failed; brokerSub is the sub the broker's login answered ("" if none).
func (m *SmokeMain) hostedUIChecks(ctx context.Context, brokerSub string) []string {
	h := &m.Hosted
	var failed []string
	fail := func(what, format string, args ...any) {
		fmt.Fprintf(m.Out, "FAIL  %-28s %s\n", what, fmt.Sprintf(format, args...))
		failed = append(failed, what)
	}
	var missing []string
	for name, v := range map[string]string{"-hosted-ui-domain (HostedUiDomainUrl)": h.DomainURL, "-hosted-ui-client-id (HostedUiClientId)": h.ClientID,
		"-redirect-uri (HostedUiCallbackUrls)": h.RedirectURI, "-kakao-client-id (KakaoRestApiKey)": h.KakaoClientID, "-user-pool-id (UserPoolId)": h.UserPoolID} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		fail("hosted UI settings", "missing %s: does the stack have HostedUi=enabled?", strings.Join(missing, ", "))
		return failed
	}

	const authorize = "hosted UI authorize"
	if detail, err := m.checkHostedAuthorize(ctx); err != nil {
		fail(authorize, "%v", err)
	} else {
		fmt.Fprintf(m.Out, "ok    %-28s %s\n", authorize, detail)
	}

	const signIn = "hosted UI sign-in"
	if h.Callback == "" {
		fmt.Fprintf(m.Out, `skip  %-28s open this address in a browser and sign in with Kakao:
      %s
      then run smoke again with -callback '<the address the browser landed on>' (and KAKAO_ACCESS_TOKEN of the
      same Kakao account, to compare subs). Should a first sign-in land with error_description "...%s..." or
      "Already found an entry for username" (a stack being updated, or Cognito as it was before 2023), open the
      address once more (apps do that by themselves).
`, signIn, h.authorizeURL(), workflow.LinkedErrorCode)
		return failed
	}
	claims, err := m.hostedSignIn(ctx)
	if err != nil {
		fail(signIn, "%v", err)
		return failed
	}
	sub := fmt.Sprint(claims["sub"])
	fmt.Fprintf(m.Out, "ok    %-28s sub=%s username=%v custom:kakao_id=%v email_verified=%v\n", signIn, sub, claims["cognito:username"], claims["custom:kakao_id"], claims["email_verified"])

	const same = "same sub as the broker"
	switch {
	case brokerSub == "":
		fmt.Fprintf(m.Out, "skip  %-28s give KAKAO_ACCESS_TOKEN of the same Kakao account\n", same)
	case brokerSub != sub:
		fail(same, "the hosted UI signed in sub %s, the broker %s: two Cognito users for one Kakao account?", sub, brokerSub)
	default:
		fmt.Fprintf(m.Out, "ok    %-28s %s\n", same, sub)
	}
	return failed
}

// checkHostedAuthorize asks the domain's authorize endpoint what an app
// asks, without following the redirect, and checks where it sends the
// browser: Kakao's authorize page, for the stack's Kakao app, back to
// Cognito's idpresponse, with openid and the consent items.
func (m *SmokeMain) checkHostedAuthorize(ctx context.Context) (string, error) {
	h := &m.Hosted
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.authorizeURL(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "kakaoauth-smoke")
	noFollow := *m.HTTP
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("answered %d, not a redirect to Kakao", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("redirect to %q: %v", resp.Header.Get("Location"), err)
	}
	q := loc.Query()
	loc.RawQuery = ""
	scopes := strings.Fields(q.Get("scope"))
	var problems []string
	if got := loc.String(); got != h.KakaoAuthURL+"/oauth/authorize" {
		problems = append(problems, "goes to "+got+", not "+h.KakaoAuthURL+"/oauth/authorize")
	}
	if got := q.Get("client_id"); got != h.KakaoClientID {
		problems = append(problems, "client_id "+got+", not the REST API key "+h.KakaoClientID)
	}
	if got, want := q.Get("redirect_uri"), h.DomainURL+"/oauth2/idpresponse"; got != want {
		problems = append(problems, "redirect_uri "+got+", not "+want)
	}
	if q.Get("response_type") != "code" {
		problems = append(problems, "response_type "+q.Get("response_type"))
	}
	for _, want := range append([]string{"openid"}, strings.Fields(h.KakaoScopes)...) {
		if !slices.Contains(scopes, want) {
			problems = append(problems, "scope lacks "+want)
		}
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("%d to Kakao: client_id=%s scope=%q", resp.StatusCode, q.Get("client_id"), q.Get("scope")), nil
}

// hostedSignIn reads the callback, exchanges its code at the domain's
// token endpoint and verifies the ID token against the pool's JWKS.
func (m *SmokeMain) hostedSignIn(ctx context.Context) (map[string]any, error) {
	h := &m.Hosted
	cb, err := url.Parse(strings.TrimSpace(h.Callback))
	if err != nil {
		// Not err itself: url.Parse quotes the whole input, code= included.
		return nil, errors.New("-callback: not a URL")
	}
	q := cb.Query()
	switch {
	case q.Get("state") != hostedSmokeState:
		return nil, fmt.Errorf("-callback is not the answer to smoke's authorize request (state %q)", q.Get("state"))
	case strings.Contains(q.Get("error_description"), workflow.LinkedErrorCode),
		strings.Contains(q.Get("error_description"), "Already found an entry for username"):
		return nil, errors.New("the first sign-in linked the Kakao account to its Cognito user (expected, once): " +
			"open the authorize address again and pass the address of that sign-in")
	case q.Get("error") != "":
		return nil, fmt.Errorf("the hosted UI answered %s: %s", q.Get("error"), q.Get("error_description"))
	case q.Get("code") == "":
		return nil, errors.New("-callback has no code")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {h.ClientID}, "code": {q.Get("code")}, "redirect_uri": {h.RedirectURI}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.DomainURL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := m.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.IDToken == "" {
		return nil, fmt.Errorf("token endpoint answered %d %s (a code works once, within minutes)", resp.StatusCode, tok.Error)
	}
	region, _, _ := strings.Cut(h.UserPoolID, "_")
	issuer := "https://cognito-idp." + region + ".amazonaws.com/" + h.UserPoolID
	jwksURL := issuer + "/.well-known/jwks.json"
	if h.CognitoEndpoint != "" {
		jwksURL = strings.TrimRight(h.CognitoEndpoint, "/") + "/" + h.UserPoolID + "/.well-known/jwks.json"
	}
	claims, err := jwks.Verify(ctx, m.HTTP, jwksURL, tok.IDToken)
	if err != nil {
		return nil, fmt.Errorf("the ID token does not verify against the pool's JWKS: %v", err)
	}
	switch {
	case claims["iss"] != issuer:
		return nil, fmt.Errorf("ID token iss %v, not the pool %s", claims["iss"], issuer)
	case claims["aud"] != h.ClientID:
		return nil, fmt.Errorf("ID token aud %v, not the hosted UI's client %s", claims["aud"], h.ClientID)
	case claims["token_use"] != "id":
		return nil, fmt.Errorf("token_use %v", claims["token_use"])
	}
	fmt.Fprintf(m.Out, "      %-13s %s\n      %-13s %s\n", "id_token", shorten(tok.IDToken), "access_token", shorten(tok.AccessToken))
	return claims, nil
}
