package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	sharedconfig "github.com/kakaoauth/kakaoauth/shared/config"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/infra/localonly"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/infra/tryit"
)

func init() {
	commands["tryit"] = command{summary: "serve the try-it page on localhost against a deployed stack and a real Kakao app", run: runTryIt}
}

// Defaults of tryit.
const (
	DefaultTryItAddr = "127.0.0.1:8090"
)

// TryItMain serves the try-it page on this machine against a deployed
// stack: the browser logs in at Kakao, this process exchanges the code
// (the REST API key, and the client secret if the Kakao app has one), the
// browser posts the Kakao token to the stack's API (which must allow the
// page's origin, CorsAllowedOrigins) and this process refreshes and signs
// out through the pool's public app client, with no AWS credentials.
type TryItMain struct {
	// Stack, when set, supplies APIURL, UserPoolID and UserPoolClientID
	// from its outputs (ApiUrl, UserPoolId, UserPoolClientId) where they
	// are not given; reading them is the only call that needs AWS
	// credentials (cloudformation:DescribeStacks).
	Stack            string
	Region           string // default: the AWS config's, else the user pool id's prefix
	APIURL           string
	UserPoolID       string
	UserPoolClientID string
	// CognitoEndpoint replaces Cognito's (moto, in tests).
	CognitoEndpoint string
	// HostedUIDomain and HostedUIClientID are the stack's hosted UI
	// (outputs HostedUiDomainUrl, HostedUiClientId), when it has one: the
	// page then offers a sign-in through it too.
	HostedUIDomain   string
	HostedUIClientID string
	// IdentityPoolID (output IdentityPoolId) and MeRoute (output MeUrl)
	// are the stack's optional app-integration parts: the page then gets
	// AWS credentials for the signed-in user, and a button for GET /me.
	IdentityPoolID string
	MeRoute        bool

	KakaoAuthURL      string
	KakaoClientID     string // the Kakao app's REST API key
	KakaoClientSecret string // when the app enables one

	// Addr is where the page listens; PublicURL is its origin in the
	// browser, registered at Kakao (default http://localhost:<port>).
	Addr      string
	PublicURL string

	Stacks StackDescriber // needed with Stack
	HTTP   *http.Client
	Out    io.Writer
	Log    *slog.Logger

	srv *http.Server
	ln  net.Listener
	err chan error
}

func runTryIt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("tryit", stderr, `usage: kakaoauth tryit [flags]

Serves the try-it page on this machine against a stack and a Kakao app: a
deployed stack with -stack NAME -region REGION (its outputs ApiUrl,
UserPoolId, UserPoolClientId) and a real Kakao app (KAKAO_REST_API_KEY,
and KAKAO_CLIENT_SECRET if it has one); by default the local stack and its
Kakao double, on another origin (start it with
kakaoauth local -cors-origins http://localhost:8090).

flags:
`)
	m := TryItMain{Out: stdout, Log: slog.New(slog.NewJSONHandler(stderr, nil))}
	target := awsTarget{command: "tryit"}
	target.register(f, "the API, the pool and its app client")
	f.StringVar(&m.APIURL, flagAPIURL, "", "the API's base URL with the stage (default: the stack's output ApiUrl, else the local stack's)")
	f.StringVar(&m.UserPoolID, "user-pool-id", "", "the user pool (default: the stack's output UserPoolId, else the local stack's)")
	f.StringVar(&m.UserPoolClientID, "user-pool-client-id", "", "the pool's public app client (default: the stack's output UserPoolClientId, else the local stack's)")
	f.StringVar(&m.HostedUIDomain, "hosted-ui-domain", "", "the stack's hosted UI domain (output HostedUiDomainUrl), if it has one")
	f.StringVar(&m.HostedUIClientID, "hosted-ui-client-id", "", "the hosted UI's app client (output HostedUiClientId)")
	f.StringVar(&m.IdentityPoolID, "identity-pool-id", "", "the stack's identity pool (output IdentityPoolId), if it has one")
	f.BoolVar(&m.MeRoute, "me-route", false, "the stack has GET /me (output MeUrl)")
	f.StringVar(&m.KakaoAuthURL, "kakao-auth-url", os.Getenv("KAKAO_AUTH_BASE_URL"), "Kakao auth server (env KAKAO_AUTH_BASE_URL; default "+sharedconfig.DefaultKakaoAuthBaseURL+", or the local stack's Kakao double)")
	f.StringVar(&m.KakaoClientID, "kakao-client-id", os.Getenv("KAKAO_REST_API_KEY"), "the Kakao app's REST API key (env KAKAO_REST_API_KEY; the local double's: "+kakaofake.DefaultAppKey+")")
	f.StringVar(&m.Addr, "addr", envOr("KAKAOAUTH_TRYIT_ADDR", DefaultTryItAddr), "listen address (env KAKAOAUTH_TRYIT_ADDR)")
	f.StringVar(&m.PublicURL, "public-url", "", "the page's origin as registered at Kakao (default http://localhost:<port>)")
	f.alias("cognito-endpoint", flagEndpointURL)
	if err := f.parseNoArgs(args); err != nil {
		return err
	}
	// A secret only from the environment: flags show in the process list.
	m.KakaoClientSecret = os.Getenv("KAKAO_CLIENT_SECRET")
	explicitEndpoint := target.endpoint != ""
	if err := target.check(f); err != nil {
		return err
	}
	m.Stack, m.Region = target.stack, target.region
	if explicitEndpoint || (target.local() && m.APIURL == "") {
		m.CognitoEndpoint = target.endpoint
	}
	switch {
	case m.Stack != "":
		cfg, err := target.config(ctx)
		if err != nil {
			return err
		}
		if m.Region == "" {
			m.Region = cfg.Region
		}
		m.Stacks = cloudformation.NewFromConfig(cfg)
	case target.local() && m.APIURL == "":
		// The local stack, found as make run left it.
		if err := m.localStack(ctx, &target); err != nil {
			return target.explain(err)
		}
	}
	m.KakaoAuthURL = orDefault(m.KakaoAuthURL, sharedconfig.DefaultKakaoAuthBaseURL)
	if err := m.Run(ctx); err != nil {
		return err
	}
	defer m.Close()
	select {
	case <-ctx.Done():
	case err := <-m.err:
		return err
	}
	fmt.Fprintln(m.Out, "\nkakaoauth tryit: stopping")
	return nil
}

// Run resolves the stack, listens and serves the page; it returns once
// the page answers, after printing where it is and what Kakao and the
// stack must allow.
func (m *TryItMain) Run(ctx context.Context) error {
	if m.HTTP == nil {
		m.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if m.Out == nil {
		m.Out = io.Discard
	}
	if m.Stack != "" {
		if m.Stacks == nil {
			return errors.New("tryit: no CloudFormation client")
		}
		outs, err := stackOutputs(ctx, m.Stacks, m.Stack)
		if err != nil {
			return err
		}
		m.APIURL = orDefault(m.APIURL, outs["ApiUrl"])
		m.UserPoolID = orDefault(m.UserPoolID, outs["UserPoolId"])
		m.UserPoolClientID = orDefault(m.UserPoolClientID, outs["UserPoolClientId"])
		m.HostedUIDomain = orDefault(m.HostedUIDomain, outs["HostedUiDomainUrl"])
		m.HostedUIClientID = orDefault(m.HostedUIClientID, outs["HostedUiClientId"])
		m.IdentityPoolID = orDefault(m.IdentityPoolID, outs["IdentityPoolId"])
		m.MeRoute = m.MeRoute || outs["MeUrl"] != ""
	}
	switch {
	case m.APIURL == "" || m.UserPoolID == "" || m.UserPoolClientID == "":
		return errors.New("tryit: give -stack NAME -region REGION, or -api-url, -user-pool-id and -user-pool-client-id")
	case m.KakaoClientID == "":
		return errors.New("tryit: give the Kakao app's REST API key (-kakao-client-id or KAKAO_REST_API_KEY)")
	case (m.HostedUIDomain == "") != (m.HostedUIClientID == ""):
		return errors.New("tryit: the hosted UI needs both -hosted-ui-domain and -hosted-ui-client-id")
	}
	if m.Region == "" {
		// Pool ids are <region>_<id>.
		m.Region, _, _ = strings.Cut(m.UserPoolID, "_")
	}

	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("tryit: listen %s: %w", m.Addr, err)
	}
	localonly.Warn(m.Out, "the try-it page (-addr)", ln.Addr().String(), "use its backend: exchange codes with the Kakao app's client secret")
	if m.PublicURL == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		m.PublicURL = "http://localhost:" + port
	}
	// Cognito's token APIs take no AWS signature: the app client is public.
	api := cip.New(cip.Options{
		Region: m.Region, Credentials: aws.AnonymousCredentials{}, HTTPClient: m.HTTP,
		BaseEndpoint: nilIfEmpty(m.CognitoEndpoint),
	})
	target := m.Stack
	if target == "" {
		target = m.APIURL
	}
	opts := []tryit.Option{
		tryit.WithAPIURL(m.APIURL), tryit.WithPublicURL(m.PublicURL), tryit.WithTarget(target),
		tryit.WithHTTPClient(m.HTTP), tryit.WithLogger(m.Log),
	}
	if m.HostedUIDomain != "" {
		opts = append(opts, tryit.WithHostedUI(tryit.HostedUI{DomainURL: m.HostedUIDomain, ClientID: m.HostedUIClientID}))
	}
	if m.IdentityPoolID != "" {
		opts = append(opts, tryit.WithIdentityPool(m.IdentityPoolID, m.CognitoEndpoint, m.CognitoEndpoint))
	}
	if m.MeRoute {
		opts = append(opts, tryit.WithMeRoute())
	}
	page, err := tryit.New(
		tryit.Kakao{AuthURL: m.KakaoAuthURL, ClientID: m.KakaoClientID, ClientSecret: m.KakaoClientSecret},
		tryit.NewPool(api, m.Region, m.UserPoolID, m.UserPoolClientID, m.CognitoEndpoint),
		opts...,
	)
	if err != nil {
		ln.Close()
		return err
	}
	m.ln = ln
	m.err = make(chan error, 1)
	m.srv = &http.Server{Handler: page, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := m.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.err <- err
		}
	}()
	m.printWelcome(ctx)
	return nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (m *TryItMain) printWelcome(ctx context.Context) {
	fmt.Fprintf(m.Out, `kakaoauth tryit: open %[1]s/
  API             POST %[2]s/auth/kakao
  user pool       %[3]s (app client %[4]s, %[5]s)
  Kakao app       REST API key %[6]s at %[7]s%[8]s

In the Kakao Developers console, for this app:
  Platform > Web > Site domain   %[1]s
  Kakao Login > Redirect URI     %[1]s%[9]s
`, m.PublicURL, strings.TrimRight(m.APIURL, "/"), m.UserPoolID, m.UserPoolClientID, m.Region, m.KakaoClientID, m.KakaoAuthURL,
		map[bool]string{true: " (with client secret)", false: ""}[m.KakaoClientSecret != ""], tryit.CallbackPath)
	if m.HostedUIDomain != "" {
		fmt.Fprintf(m.Out, `The stack's hosted UI   %[1]s (app client %[2]s)
  its HostedUiCallbackUrls must include %[3]s%[4]s
`, strings.TrimRight(m.HostedUIDomain, "/"), m.HostedUIClientID, m.PublicURL, tryit.CallbackPath)
	}
	fmt.Fprintf(m.Out, "The stack must allow this origin: CorsAllowedOrigins=%s\n", m.PublicURL)
	if ok, err := m.corsAllows(ctx); err != nil {
		fmt.Fprintf(m.Out, "warning: could not ask the API about CORS: %v\n", err)
	} else if !ok {
		fmt.Fprintf(m.Out, "warning: the API does not allow %s yet: the browser will refuse its answers. Deploy with CorsAllowedOrigins=%s\n", m.PublicURL, m.PublicURL)
	}
}

// corsAllows asks the API's preflight, as the browser will, whether the
// page's origin may POST to the login route.
func (m *TryItMain) corsAllows(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, strings.TrimRight(m.APIURL, "/")+localapi.LoginPath, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Origin", m.PublicURL)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := m.HTTP.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.Header.Get("Access-Control-Allow-Origin") == m.PublicURL, nil
}

// localStack fills in what the local stack (make run) serves: its API,
// the pool and app client provisioned in its moto, its Kakao double.
func (m *TryItMain) localStack(ctx context.Context, target *awsTarget) error {
	cfg, err := target.config(ctx)
	if err != nil {
		return err
	}
	idp := cip.NewFromConfig(cfg)
	names := provision.NamesFor(localstack.DefaultPrefix)
	if m.UserPoolID == "" {
		if m.UserPoolID, err = localPoolID(ctx, idp, names.UserPool); err != nil {
			return err
		}
	}
	if m.UserPoolClientID == "" {
		out, err := idp.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{UserPoolId: &m.UserPoolID, MaxResults: aws.Int32(60)})
		if err != nil {
			return err
		}
		for _, c := range out.UserPoolClients {
			if aws.ToString(c.ClientName) == names.UserPoolClient {
				m.UserPoolClientID = aws.ToString(c.ClientId)
			}
		}
		if m.UserPoolClientID == "" {
			return fmt.Errorf("tryit: the local pool has no app client %s", names.UserPoolClient)
		}
	}
	// The local stack has both optional parts of the app integration.
	m.MeRoute = true
	if m.IdentityPoolID == "" {
		pools, err := cognitoidentity.NewFromConfig(cfg).ListIdentityPools(ctx, &cognitoidentity.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
		if err != nil {
			return err
		}
		for _, p := range pools.IdentityPools {
			if aws.ToString(p.IdentityPoolName) == names.IdentityPool {
				m.IdentityPoolID = aws.ToString(p.IdentityPoolId)
			}
		}
	}
	m.APIURL = "http://" + localstack.DefaultAPIAddr
	m.KakaoAuthURL = orDefault(m.KakaoAuthURL, "http://"+kakaofake.DefaultAddr)
	m.KakaoClientID = orDefault(m.KakaoClientID, kakaofake.DefaultAppKey)
	m.Region = orDefault(m.Region, cfg.Region)
	return nil
}

// URL is the page's origin.
func (m *TryItMain) URL() string { return m.PublicURL }

// Close stops the page.
func (m *TryItMain) Close() error {
	if m.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return m.srv.Shutdown(ctx)
}
