// Package bootstrap is a Lambda's cold start: its configuration
// (environment and, when it needs some, secrets from Secrets Manager), the AWS SDK
// configuration from the Lambda environment, JSON logs, and the workflow
// options that configuration implies. It imports no AWS service client:
// each lambdas/<name>/main.go wires the adapters its step uses, so its
// binary links only those clients (shared/wiring wires all of them, for
// the processes that run the whole stack).
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"

	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// AWSCallTimeout bounds every AWS API call, retries included (see
// BoundCalls); the state machine's own task timeouts are longer.
const AWSCallTimeout = 5 * time.Second

// KakaoHTTPTimeout is the outer bound of one Kakao request (the client
// also applies its own per-attempt timeout).
const KakaoHTTPTimeout = 5 * time.Second

// Deps is a Lambda's configuration and what every adapter is built from.
type Deps struct {
	Config config.Config
	AWS    aws.Config
	Log    *slog.Logger
	// HTTP is the client for Kakao: bounded, no cookies, no redirects.
	HTTP *http.Client
}

// Needs says what a Lambda requires at cold start.
type Needs struct {
	// Secrets are the config.Secret* it reads.
	Secrets []string
	// Env are settings that must be set (see config.Config.Require).
	Env []string
	// SecretStore reads Secrets: the function's main passes Secrets
	// Manager's adapter (shared/secretsmanager) when it reads any.
	SecretStore func(aws.Config) config.SecretGetter
}

// New wires already loaded configuration.
func New(cfg config.Config, awsCfg aws.Config, log *slog.Logger) *Deps {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deps{Config: cfg, AWS: awsCfg, Log: log, HTTP: newHTTPClient()}
}

// Load reads the environment and the secrets needs names.
func Load(ctx context.Context, log *slog.Logger, needs Needs) (*Deps, error) {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := LambdaAWSConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	// The environment first: it costs nothing, the secrets a network call.
	if err := cfg.Require(needs.Env...); err != nil {
		return nil, err
	}
	if len(needs.Secrets) > 0 {
		if needs.SecretStore == nil {
			return nil, errors.New("bootstrap: secrets named but no secret store wired")
		}
		if err := cfg.LoadSecrets(ctx, needs.SecretStore(awsCfg), needs.Secrets...); err != nil {
			return nil, err
		}
	}
	return New(cfg, awsCfg, log), nil
}

// LambdaAWSConfig is the SDK configuration Lambda's environment gives:
// its region and the function role's credentials (also what `sam local
// invoke` and aws-lambda-rie pass), and AWS_ENDPOINT_URL when a local
// stack stands in for AWS. It is built by hand rather than by the SDK's
// config loader, whose shared-config, SSO and STS providers a Lambda never
// uses but would link (see docs/performance.md, Bootstrap sizes and cold starts).
func LambdaAWSConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || key == "" || secret == "" {
		return aws.Config{}, errors.New("bootstrap: AWS_REGION and the function's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) must be in the environment, as Lambda sets them")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))),
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return BoundCalls(cfg, AWSCallTimeout), nil
}

// BoundCalls makes every API call of clients built from cfg end within d,
// its retries and their backoff included, and each HTTP attempt too. An
// HTTP client timeout alone bounds one attempt: the SDK's three attempts
// against a stalled endpoint would outlive the function's 10 s. When the
// bound cuts a retry's backoff short, the call's error keeps the last
// attempt's error beside the cancellation, so that a call throttled to the
// end still reads as throttled (429), not as an internal error.
func BoundCalls(cfg aws.Config, d time.Duration) aws.Config {
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(d)
	cfg.APIOptions = append(append([]func(*middleware.Stack) error(nil), cfg.APIOptions...), func(st *middleware.Stack) error {
		if err := st.Initialize.Add(middleware.InitializeMiddlewareFunc("kakaoauthCallTimeout",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				last := &lastAttempt{}
				out, md, err := next.HandleInitialize(context.WithValue(ctx, lastAttemptKey{}, last), in)
				if err != nil && ctx.Err() != nil && last.err != nil && !errors.Is(last.err, ctx.Err()) {
					err = fmt.Errorf("%w, after %w", err, last.err)
				}
				return out, md, err
			}), middleware.Before); err != nil {
			return err
		}
		// After the retry middleware: once per attempt.
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("kakaoauthLastAttempt",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if last, ok := ctx.Value(lastAttemptKey{}).(*lastAttempt); ok && err != nil {
					last.err = err
				}
				return out, md, err
			}), middleware.After)
	})
	return cfg
}

type lastAttemptKey struct{}

// lastAttempt is the error of a call's latest attempt (attempts of one
// call run one after another).
type lastAttempt struct{ err error }

func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 2 * time.Second
	t.ResponseHeaderTimeout = 3 * time.Second
	t.MaxIdleConnsPerHost = 16
	return &http.Client{
		Timeout: KakaoHTTPTimeout, Transport: t,
		// Kakao answers its API calls itself: a redirect (a misconfigured
		// base URL, a hijacked DNS name, a proxy) is not followed to whatever
		// host it names; the 3xx is the answer (KakaoUnavailable).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Options are the workflow settings the configuration implies (no
// adapters: the caller adds the ones its step uses).
func (d *Deps) Options() []workflow.Option {
	c := d.Config
	opts := []workflow.Option{
		workflow.WithLogger(d.Log),
		workflow.WithPasswordRotation(c.PasswordRotation),
		workflow.WithUnlinkPolicy(c.UnlinkPolicy),
		workflow.WithLinkByVerifiedEmail(c.LinkByVerifiedEmail),
		workflow.WithCORSOrigins(c.CORSOrigins...),
	}
	if len(c.Pepper) > 0 {
		opts = append(opts, workflow.WithPeppers(c.PepperVersion, c.Peppers))
	}
	if len(c.ProofKey) > 0 {
		opts = append(opts, workflow.WithProofKeys(c.ProofKeyVersion, c.ProofKeys))
	}
	if keys := c.KakaoAdminKeys; len(keys) > 0 || c.KakaoAdminKey != "" {
		if len(keys) == 0 {
			keys = []string{c.KakaoAdminKey}
		}
		opts = append(opts, workflow.WithUnlinkAuth(c.KakaoAppID, keys...))
	}
	// Issue 19: the unlink MAC, the unlink route's authorizer, the
	// recreation limit.
	if len(c.UnlinkMACKeys) > 0 {
		opts = append(opts, workflow.WithUnlinkMACKeys(c.UnlinkMACKeyVersion, c.UnlinkMACKeys))
	}
	if c.UnlinkUsageKey != "" {
		opts = append(opts, workflow.WithUnlinkAuthorizer(c.UnlinkUsageKey, c.KakaoCallbackSources))
	}
	opts = append(opts, workflow.WithRecreationLimit(workflow.RecreationLimit{Max: c.RecreationLimit, Period: c.RecreationPeriod}))
	return opts
}

// Steps are the workflow's handlers with the configuration's options and
// the given adapters.
func (d *Deps) Steps(adapters ...workflow.Option) *workflow.Steps {
	return workflow.New(append(d.Options(), adapters...)...)
}

// Start is a Lambda's whole main: JSON logs through lambdacontext, load
// and check the configuration (exiting on failure, so a misconfigured
// function fails at cold start rather than on a request), then serve the
// handler that handler builds from the Deps, once.
func Start(needs Needs, handler func(*Deps) any) {
	log := lambdacontext.NewLogger()
	deps, err := Load(context.Background(), log, needs)
	if err != nil {
		log.Error("cold start failed", "error", fmt.Sprint(err))
		os.Exit(1)
	}
	slog.SetDefault(log)
	lambda.Start(handler(deps))
}
