package tryit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

type exchangeRequest struct {
	Code string `json:"code"`
}

// kakaoTokens is Kakao's answer to the code exchange, or its error.
type kakaoTokens struct {
	AccessToken      string `json:"access_token"`
	IDToken          string `json:"id_token"`
	RefreshToken     string `json:"refresh_token"`
	ExpiresIn        int64  `json:"expires_in"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCode        string `json:"error_code"`
}

// exchangeAnswer is what the page gets: the Kakao tokens it hands to the
// login API. Kakao's refresh token stays here: the page has no use for it.
type exchangeAnswer struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token,omitempty"`
	Scope       string `json:"scope,omitempty"`
	ExpiresIn   int64  `json:"expires_in"`
	KakaoMS     int64  `json:"kakao_ms"`
}

// exchange is the code exchange a web app's backend makes:
// POST {kauth}/oauth/token with grant_type=authorization_code, the app key,
// the same redirect URI as the authorize request and, when the app has
// one, the client secret.
func (p *Page) exchange(w http.ResponseWriter, r *http.Request) {
	var req exchangeRequest
	if !p.decode(w, r, &req) {
		return
	}
	if !required(req.Code) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "No authorization code.")
		return
	}
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"client_id":    {p.kakao.ClientID},
		"redirect_uri": {p.redirectURI(r)},
		"code":         {req.Code},
	}
	if p.kakao.ClientSecret != "" {
		form.Set("client_secret", p.kakao.ClientSecret)
	}
	ctx, cancel, elapsed := p.upstream(r.Context())
	defer cancel()
	var tok kakaoTokens
	status, decodeErr, err := p.postTokenForm(ctx, p.kakao.AuthURL+"/oauth/token", "application/x-www-form-urlencoded;charset=utf-8", form, &tok)
	ms := elapsed()
	switch {
	case err != nil:
		p.hop(ctx, "kakao token", "unreachable", ms)
		writeError(w, http.StatusBadGateway, "KakaoUnavailable", "Kakao's token endpoint did not answer.")
	case status >= 500 || decodeErr != nil:
		p.hop(ctx, "kakao token", "unavailable", ms)
		writeError(w, http.StatusBadGateway, "KakaoUnavailable", fmt.Sprintf("Kakao's token endpoint failed (HTTP %d).", status))
	case status != http.StatusOK:
		p.hop(ctx, "kakao token", "refused "+tok.Error, ms)
		code := tok.Error
		if code == "" {
			code = "KakaoRefused"
		}
		msg := "Kakao refused the code exchange"
		if tok.ErrorCode != "" {
			msg += " (" + tok.ErrorCode + ")"
		}
		if tok.ErrorDescription != "" {
			msg += ": " + tok.ErrorDescription
		}
		writeError(w, http.StatusBadRequest, code, msg)
	case tok.AccessToken == "":
		p.hop(ctx, "kakao token", "no access token", ms)
		writeError(w, http.StatusBadGateway, "KakaoUnavailable", "Kakao's answer had no access token.")
	default:
		p.hop(ctx, "kakao token", "ok", ms)
		writeJSON(w, http.StatusOK, exchangeAnswer{AccessToken: tok.AccessToken, IDToken: tok.IDToken, Scope: tok.Scope, ExpiresIn: tok.ExpiresIn, KakaoMS: ms})
	}
}

// postTokenForm posts an OAuth 2.0 token request (a form) to endpoint and
// decodes the JSON answer, whatever its status, into out. err is a request
// that got no answer; decodeErr an answer that is not the JSON expected.
func (p *Page) postTokenForm(ctx context.Context, endpoint, contentType string, form url.Values, out any) (status int, decodeErr, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out), nil
}
