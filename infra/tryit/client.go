package tryit

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	jsclient "github.com/kakaoauth/kakaoauth/clients/js"
)

// ClientModulePath is where the page loads the JavaScript client
// (clients/js) from: its ES modules as they are, no build step.
const ClientModulePath = "/tryit/client/index.js"

// WithIdentityPool lets the page get AWS credentials for the signed-in
// user from the stack's identity pool (the IdentityPoolId output), at
// Cognito Identity's endpoint ("" for AWS's in the pool's region), and
// show whose they are: STS GetCallerIdentity at stsEndpoint ("" for
// AWS's), through the page's backend (the browser cannot sign it without
// an AWS SDK).
func WithIdentityPool(id, endpoint, stsEndpoint string) Option {
	return func(p *Page) {
		p.identity = identityPool{ID: id, Endpoint: strings.TrimRight(endpoint, "/"), STSEndpoint: strings.TrimRight(stsEndpoint, "/")}
	}
}

// WithMeRoute says the stack serves GET /me (EnableMeRoute): the page gets
// a button that calls it with the ID token.
func WithMeRoute() Option { return func(p *Page) { p.meRoute = true } }

type identityPool struct {
	ID          string
	Endpoint    string
	STSEndpoint string
}

// clientConfig is what the page's script gives the JavaScript client
// (new KakaoAuth(...)); a field is empty when the stack lacks the part.
type clientConfig struct {
	ClientModule     string `json:"clientModule"`
	Region           string `json:"region"`
	UserPoolClientID string `json:"userPoolClientID"`
	CognitoEndpoint  string `json:"cognitoEndpoint"`
	IdentityPoolID   string `json:"identityPoolID,omitempty"`
	IdentityEndpoint string `json:"identityEndpoint,omitempty"`
	MeURL            string `json:"meURL,omitempty"`
}

func (p *Page) clientConfig(r *http.Request) clientConfig {
	c := clientConfig{
		ClientModule: ClientModulePath, Region: p.pool.Region, UserPoolClientID: p.pool.ClientID,
		CognitoEndpoint: p.userPoolEndpoint() + "/",
	}
	if p.identity.ID != "" {
		c.IdentityPoolID = p.identity.ID
		c.IdentityEndpoint = p.identityEndpoint() + "/"
	}
	if p.meRoute {
		api := p.apiURL
		if api == "" {
			api = p.origin(r)
		}
		c.MeURL = api + "/me"
	}
	return c
}

func (p *Page) userPoolEndpoint() string {
	if p.pool.Endpoint != "" {
		return p.pool.Endpoint
	}
	return "https://cognito-idp." + p.pool.Region + ".amazonaws.com"
}

func (p *Page) identityEndpoint() string {
	if p.identity.Endpoint != "" {
		return p.identity.Endpoint
	}
	return "https://cognito-identity." + p.pool.Region + ".amazonaws.com"
}

// connectSources are the origins the page's script calls besides its own
// and the API's: Cognito (refresh, sign-out) and Cognito Identity.
func (p *Page) connectSources() []string {
	var out []string
	targets := []string{p.userPoolEndpoint()}
	if p.identity.ID != "" {
		targets = append(targets, p.identityEndpoint())
	}
	for _, u := range targets {
		if parsed, err := url.Parse(u); err == nil && parsed.Host != "" && !containsString(out, parsed.Scheme+"://"+parsed.Host) {
			out = append(out, parsed.Scheme+"://"+parsed.Host)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// clientModules serves the JavaScript client's modules.
func clientModules() http.Handler {
	return http.StripPrefix("/tryit/client/", noCache(http.FileServerFS(jsclient.Source())))
}

type callerRequest struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token"`
}

type callerAnswer struct {
	Arn     string `json:"arn"`
	Account string `json:"account"`
	UserID  string `json:"user_id"`
	STSMS   int64  `json:"sts_ms"`
}

// caller shows whose the identity pool's credentials are: STS
// GetCallerIdentity signed with them (it needs no permission). The
// credentials are used for this one call and never logged.
func (p *Page) caller(w http.ResponseWriter, r *http.Request) {
	if p.identity.ID == "" {
		writeError(w, http.StatusNotFound, "NotAvailable", "The stack has no identity pool (EnableIdentityPool).")
		return
	}
	var req callerRequest
	if !p.decode(w, r, &req) {
		return
	}
	if !required(req.AccessKeyID, req.SecretAccessKey, req.SessionToken) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Give the credentials' access key id, secret access key and session token.")
		return
	}
	ctx, cancel, elapsed := p.upstream(r.Context())
	defer cancel()
	out, err := p.callerIdentity(ctx, req)
	ms := elapsed()
	if err != nil {
		p.hop(ctx, "sts get-caller-identity", errorCode(err), ms)
		writeCognitoError(w, err)
		return
	}
	p.hop(ctx, "sts get-caller-identity", "ok", ms)
	writeJSON(w, http.StatusOK, callerAnswer{Arn: aws.ToString(out.Arn), Account: aws.ToString(out.Account), UserID: aws.ToString(out.UserId), STSMS: ms})
}

func (p *Page) callerIdentity(ctx context.Context, req callerRequest) (*sts.GetCallerIdentityOutput, error) {
	opts := sts.Options{
		Region:      p.pool.Region,
		Credentials: credentials.NewStaticCredentialsProvider(req.AccessKeyID, req.SecretAccessKey, req.SessionToken),
		HTTPClient:  p.http,
	}
	if p.identity.STSEndpoint != "" {
		opts.BaseEndpoint = aws.String(p.identity.STSEndpoint)
	}
	return sts.New(opts).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
}
