// Package bootstrap builds what a Lambda needs, once, at cold start: its
// configuration (environment and SSM), the AWS SDK configuration, and the
// adapters of the kakaoauth ports. Every lambdas/<name>/main.go and the
// local stack wire through it, so the two cannot drift apart.
package bootstrap

import (
	"context"
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
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/eventbridge"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
	"github.com/kakaoauth/kakaoauth/shared/sqs"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// AWSCallTimeout bounds every AWS API call, retries included; the state
// machine's own task timeouts are longer.
const AWSCallTimeout = 5 * time.Second

// KakaoHTTPTimeout is the outer bound of one Kakao request (the client
// also applies its own per-attempt timeout).
const KakaoHTTPTimeout = 5 * time.Second

// Deps is a Lambda's configuration and clients.
type Deps struct {
	Config config.Config
	AWS    aws.Config
	Log    *slog.Logger
	// HTTP is the client for Kakao: bounded, no cookies.
	HTTP *http.Client
}

// Load reads the environment and the named SSM parameters (config.Param*)
// below PARAMETER_PREFIX, with the default AWS credential chain. The SDK
// honours AWS_ENDPOINT_URL, which is how a Lambda run locally reaches moto.
func Load(ctx context.Context, log *slog.Logger, params ...string) (*Deps, error) {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	if err := cfg.LoadParameters(ctx, ssm.NewFromConfig(awsCfg), os.Getenv("PARAMETER_PREFIX"), params...); err != nil {
		return nil, err
	}
	return New(cfg, awsCfg, log), nil
}

// AWSConfig is the default AWS configuration with a bounded HTTP client.
func AWSConfig(ctx context.Context, opts ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	opts = append([]func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(AWSCallTimeout)),
	}, opts...)
	c, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return c, nil
}

// New wires already loaded configuration.
func New(cfg config.Config, awsCfg aws.Config, log *slog.Logger) *Deps {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deps{Config: cfg, AWS: awsCfg, Log: log, HTTP: newHTTPClient()}
}

func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 2 * time.Second
	t.ResponseHeaderTimeout = 3 * time.Second
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Timeout: KakaoHTTPTimeout, Transport: t}
}

// Kakao is the token verifier. One per process: it holds the JWKS cache.
func (d *Deps) Kakao() *kakao.Verifier {
	c := d.Config
	client := kakao.NewClient(d.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL))
	ids := kakao.NewIDTokenVerifier(d.HTTP, client.AuthBaseURL(), "", c.KakaoAppKeys)
	return kakao.NewVerifier(client, ids, c.KakaoAppID)
}

// Users is the Cognito user pool.
func (d *Deps) Users() *cognito.Directory {
	return cognito.New(cip.NewFromConfig(d.AWS), d.Config.UserPoolID, d.Config.UserPoolClientID)
}

func (d *Deps) dynamo() *dynamodb.Client { return dynamodb.NewFromConfig(d.AWS) }

// Mappings is the mapping table.
func (d *Deps) Mappings() *store.Mappings {
	return store.NewMappings(d.dynamo(), d.Config.MappingTable)
}

// Audit is the audit table.
func (d *Deps) Audit() *store.Audit {
	return store.NewAudit(d.dynamo(), d.Config.AuditTable, d.Config.AuditRetention, time.Now)
}

// Events is the lifecycle event bus.
func (d *Deps) Events() *eventbridge.Bus {
	return eventbridge.New(awseb.NewFromConfig(d.AWS), d.Config.EventBusName)
}

// UnlinkQueue is the queue between the unlink webhook and its worker.
func (d *Deps) UnlinkQueue() *sqs.Queue {
	return sqs.New(awssqs.NewFromConfig(d.AWS), d.Config.UnlinkQueueURL)
}

// Steps wires the workflow with the adapters this configuration allows:
// a Lambda that was given no Kakao settings gets no Kakao verifier, and so
// on, so each Lambda holds only what its IAM role lets it use.
func (d *Deps) Steps() *workflow.Steps {
	c := d.Config
	opts := []workflow.Option{
		workflow.WithLogger(d.Log),
		workflow.WithPasswordRotation(c.PasswordRotation),
		workflow.WithUnlinkPolicy(c.UnlinkPolicy),
	}
	if c.KakaoAppID != 0 {
		opts = append(opts, workflow.WithKakao(d.Kakao()))
	}
	if c.UserPoolID != "" {
		opts = append(opts, workflow.WithUsers(d.Users()))
	}
	if c.MappingTable != "" {
		opts = append(opts, workflow.WithMappings(d.Mappings()))
	}
	if c.AuditTable != "" {
		opts = append(opts, workflow.WithAudit(d.Audit()))
	}
	if len(c.Pepper) > 0 {
		opts = append(opts, workflow.WithPepper(c.Pepper))
	}
	if c.EventBusName != "" {
		opts = append(opts, workflow.WithEvents(d.Events()))
	}
	if c.UnlinkQueueURL != "" {
		opts = append(opts, workflow.WithUnlinkQueue(d.UnlinkQueue()))
	}
	if c.KakaoAdminKey != "" {
		opts = append(opts, workflow.WithUnlinkAuth(c.KakaoAppID, c.KakaoAdminKey))
	}
	if c.HostedUI {
		opts = append(opts, workflow.WithHostedUI(d.HostedUI()))
	}
	return workflow.New(opts...)
}

// HostedUI is the hosted-UI flow's wiring (HOSTED_UI=enabled): the pool's
// app clients, its links (with a pool id) and Kakao's admin lookup (with
// the admin key). The lookup runs inside a Cognito trigger, which has 5 s
// in all: each attempt gets 1 s.
func (d *Deps) HostedUI() workflow.HostedUI {
	c := d.Config
	api := cip.NewFromConfig(d.AWS)
	h := workflow.HostedUI{UserPoolID: c.UserPoolID, Clients: cognito.NewAppClients(api, 0, nil)}
	if c.UserPoolID != "" {
		h.Links = cognito.NewFederation(api, c.UserPoolID)
	}
	if c.KakaoAdminKey != "" {
		client := kakao.NewClient(d.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL), kakao.WithTimeout(time.Second))
		h.Accounts = kakao.NewAccounts(client, c.KakaoAdminKey)
	}
	return h
}

// Needs says what a Lambda requires at cold start.
type Needs struct {
	// Params are config.Param* names read from SSM below PARAMETER_PREFIX.
	Params []string
	// Env are settings that must be set (see config.Config.Require).
	Env []string
}

// Start is a Lambda's whole main: JSON logs through lambdacontext, load
// and check the configuration (exiting on failure, so a misconfigured
// function fails at cold start rather than on a request), then serve the
// handler that handler picks from the wired Deps.
func Start(needs Needs, handler func(*Deps) any) {
	log := lambdacontext.NewLogger()
	deps, err := Load(context.Background(), log, needs.Params...)
	if err == nil {
		err = deps.Config.Require(needs.Env...)
	}
	if err != nil {
		log.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	slog.SetDefault(log)
	lambda.Start(handler(deps))
}
