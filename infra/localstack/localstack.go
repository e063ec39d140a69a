// Package localstack runs the whole kakaoauth stack on one machine, with
// no AWS account and no Docker: moto_server for Cognito, DynamoDB, SQS,
// EventBridge and Secrets Manager (resources provisioned from
// template.yaml), the Kakao double, and the
// login endpoint running statemachine.asl.json through the local executor
// with the same Go handlers the Lambdas run. `kakaoauth local` (make run)
// is this package's Main.
package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kakaoauth/kakaoauth/infra/eventsource"
	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/infra/localonly"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/infra/tryit"
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/cognitojwt"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/shared/wiring"
	"github.com/kakaoauth/kakaoauth/workflow"
	"github.com/kakaoauth/kakaoauth/workflow/asl"
)

// Defaults of Config.
const (
	DefaultAPIAddr         = "127.0.0.1:8080"
	DefaultPrefix          = "kakaoauth-local"
	DefaultQueueVisibility = 5 * time.Second
	DefaultSweepEvery      = 5 * time.Second
)

// Config says where each part listens and which Kakao to use.
type Config struct {
	// MotoAddr is where moto listens or is started (default 127.0.0.1:5000).
	// MotoURL, when set, is an already running moto (tests); MotoAddr is
	// then ignored.
	MotoAddr string
	MotoURL  string
	// AWSEndpoint, when set, is where the steps' AWS clients go instead of
	// moto (tests put infra/faultproxy there); provisioning and the queue's
	// event source still use moto directly.
	AWSEndpoint string
	// AWSCallTimeout bounds each of the steps' AWS calls, retries included
	// (default bootstrap.AWSCallTimeout, as in Lambda); fault tests shorten
	// it so that a stall costs them less time.
	AWSCallTimeout time.Duration
	// KakaoAddr is where the Kakao double listens (default 127.0.0.1:8081).
	KakaoAddr string
	// KakaoAPIBaseURL and KakaoAuthBaseURL, when set, point at a real Kakao
	// (or another double) and no double is started.
	KakaoAPIBaseURL  string
	KakaoAuthBaseURL string
	// APIAddr is where the login endpoint listens (default 127.0.0.1:8080).
	APIAddr string
	// Prefix names the pool, client, tables, queues, bus and secrets (see
	// provision.NamesFor and AdminKeySecretName).
	Prefix string
	// Kakao app settings; default to the double's.
	AppID    int64
	AppKeys  []string
	AdminKey string
	// TemplatePath is template.yaml, the source of the resource shapes.
	TemplatePath string
	// PasswordRotation overrides the default rotation interval.
	PasswordRotation time.Duration
	// UnlinkPolicy is the stack's UnlinkPolicy: "disable" (default) or
	// "delete".
	UnlinkPolicy string
	// AllowIDTokenWithoutNonce is the stack's AllowIdTokenWithoutNonce:
	// by default an ID token presented without a nonce is refused.
	AllowIDTokenWithoutNonce bool
	// UserPoolID is the stack's UserPoolId: an existing pool of moto's to
	// add Kakao to (its app clients are created there, and the stack's
	// triggers attached to it as `kakaoauth pool attach` attaches them).
	// Empty: the stack's own pool.
	UserPoolID string
	// LinkByVerifiedEmail is the stack's LinkByVerifiedEmail.
	LinkByVerifiedEmail bool
	// AllowPlainIDTokenNonce is the stack's AllowPlainIdTokenNonce: by
	// default only the hashed nonce (the token carries its SHA-256) binds.
	AllowPlainIDTokenNonce bool
	// QueueVisibility is the unlink queue's visibility timeout here
	// (default DefaultQueueVisibility; the template's is 360 s): how soon a
	// failed unlink is retried.
	QueueVisibility time.Duration
	// CORSOrigins may call the login endpoint from a browser page on
	// another origin (kakaoauth tryit), as the API's CorsAllowedOrigins.
	CORSOrigins []string
	// Issue 19. ExtraAdminKeys are accepted on unlink callbacks besides
	// AdminKey (an app rotating its key holds several). CallbackSources is
	// KakaoCallbackSourceCidrs (empty: any source).
	ExtraAdminKeys  []string
	CallbackSources string
	// SweepEvery is how often the sweeper runs (default DefaultSweepEvery;
	// the template's schedule is every minute; negative: only on demand,
	// Main.Sweep, as the tests run it); OutboxGrace how long a
	// transition's own run has before the sweeper sends its events
	// (default store.DefaultOutboxGrace). ReconcileEvery is how often the
	// reconciler runs (0: only on demand, Main.Reconcile).
	SweepEvery     time.Duration
	OutboxGrace    time.Duration
	ReconcileEvery time.Duration
	// RecreationLimit and RecreationPeriod are the stack's (0: the
	// template's defaults); ReconcileRate its ReconcileRequestsPerSecond.
	RecreationLimit  int
	RecreationPeriod time.Duration
	ReconcileRate    float64
	// Retention, when set, replaces the template's retention defaults
	// (UnlinkedEmailRetentionDays, DeletedAccountPiiDays,
	// DeletedMappingRetentionDays), in whole days.
	Retention *store.Retention
	// HostedUI provisions the stack as HostedUi=enabled: the PreSignUp
	// trigger, the pool's domain (served by moto's layer at
	// <moto>/<prefix>), Kakao as its identity provider (the double) and
	// the hosted UI's client, whose redirect URI is the try-it page's.
	HostedUI bool
	// Log receives the stack's structured logs (the steps' included).
	Log *slog.Logger
	// MotoLog receives moto_server's own output.
	MotoLog interface{ Write([]byte) (int, error) }
}

func (c *Config) defaults() {
	if c.MotoAddr == "" {
		c.MotoAddr = moto.DefaultAddr
	}
	if c.KakaoAddr == "" {
		c.KakaoAddr = kakaofake.DefaultAddr
	}
	if c.APIAddr == "" {
		c.APIAddr = DefaultAPIAddr
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.AppID == 0 {
		c.AppID = kakaofake.DefaultAppID
	}
	if len(c.AppKeys) == 0 {
		c.AppKeys = []string{kakaofake.DefaultAppKey}
	}
	if c.AdminKey == "" {
		c.AdminKey = kakaofake.DefaultAdminKey
	}
	if c.TemplatePath == "" {
		c.TemplatePath = "template.yaml"
	}
	if c.AWSCallTimeout <= 0 {
		c.AWSCallTimeout = bootstrap.AWSCallTimeout
	}
	if c.QueueVisibility <= 0 {
		c.QueueVisibility = DefaultQueueVisibility
	}
	if c.SweepEvery == 0 {
		c.SweepEvery = DefaultSweepEvery
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Main is the running local stack.
type Main struct {
	cfg Config

	moto    *moto.Server
	fake    *kakaofake.Fake
	stack   provision.Stack
	demo    DemoNative
	deps    *wiring.Stack
	machine *asl.Machine
	steps   *workflow.Steps

	kakaoURL string
	apiURL   string

	// The pool's trigger functions (triggers.go).
	triggers    *http.Server
	triggerMoto string

	cancel context.CancelFunc
	wg     sync.WaitGroup
	// upkeep serialises the sweeper's and the reconciler's runs, as one
	// scheduled function each never overlaps itself in AWS.
	upkeep sync.Mutex
	errs   chan error
	api    *http.Server
}

// New returns a stack that Run starts.
func New(cfg Config) *Main {
	cfg.defaults()
	return &Main{cfg: cfg, errs: make(chan error, 3)}
}

// Run starts what is not running yet, provisions, and serves the login
// endpoint; it returns once everything answers. Close stops what Run
// started (a moto that was already running is left alone).
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	var bg context.Context
	bg, m.cancel = context.WithCancel(context.WithoutCancel(ctx))

	motoURL := m.cfg.MotoURL
	if motoURL == "" {
		if m.moto, err = moto.Ensure(ctx, m.cfg.MotoAddr, moto.Options{LogWriter: m.cfg.MotoLog}); err != nil {
			return err
		}
		motoURL = m.moto.URL()
	}
	awsCfg := moto.AWSConfig(ctx, motoURL)

	apiLn, err := net.Listen("tcp", m.cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("login endpoint: %w", err)
	}
	defer func() {
		if err != nil {
			apiLn.Close()
		}
	}()
	m.apiURL = "http://" + apiLn.Addr().String()

	apiBase, authBase := m.cfg.KakaoAPIBaseURL, m.cfg.KakaoAuthBaseURL
	if apiBase == "" || authBase == "" {
		if err := m.startFake(bg); err != nil {
			return err
		}
		apiBase, authBase = m.kakaoURL, m.kakaoURL
	}

	names := provision.NamesFor(m.cfg.Prefix)
	// The local stack always has the app integration's optional parts:
	// the identity pool (here) and GET /me (the login endpoint's routes).
	provisionOpts := []provision.Option{provision.WithQueueVisibility(m.cfg.QueueVisibility), provision.WithUserPool(m.cfg.UserPoolID),
		provision.WithParameters(map[string]string{"EnableIdentityPool": "true", "CorsAllowedOrigins": strings.Join(m.cfg.CORSOrigins, ",")})}
	if m.cfg.HostedUI {
		params, err := m.hostedUIParameters(ctx, awsCfg, apiBase, authBase)
		if err != nil {
			return err
		}
		provisionOpts = append(provisionOpts, provision.WithParameters(params))
	}
	if m.stack, err = provision.Provision(ctx, awsCfg, m.cfg.TemplatePath, names, provisionOpts...); err != nil {
		return err
	}
	// The team's own app, as a team adopting kakaoauth has it (demo.go).
	idp := cip.NewFromConfig(awsCfg)
	if m.demo.ClientID, err = ensureTeamApp(ctx, idp, m.stack.UserPoolID, m.cfg.Prefix); err != nil {
		return err
	}

	stepsCfg := awsCfg
	if m.cfg.AWSEndpoint != "" {
		stepsCfg = moto.AWSConfig(ctx, m.cfg.AWSEndpoint)
	}
	// Bounded as a Lambda's clients are.
	stepsCfg = bootstrap.BoundCalls(stepsCfg, m.cfg.AWSCallTimeout)
	// The operator's step before a deploy: the admin key's secret.
	adminKeyARN, err := provision.PutSecret(ctx, awssm.NewFromConfig(awsCfg), AdminKeySecretName(m.cfg.Prefix),
		strings.Join(append([]string{m.cfg.AdminKey}, m.cfg.ExtraAdminKeys...), "\n"))
	if err != nil {
		return err
	}
	// The same path a Lambda's cold start takes: environment, then secrets.
	env := map[string]string{
		"KAKAO_APP_ID":             strconv.FormatInt(m.cfg.AppID, 10),
		"KAKAO_APP_KEYS":           strings.Join(m.cfg.AppKeys, ","),
		config.SecretPepper:        m.stack.PepperSecretARN,
		config.SecretKakaoAdminKey: adminKeyARN,
		config.SecretProofKey:      m.stack.ProofKeySecretARN,
		"USER_POOL_ID":             m.stack.UserPoolID,
		"USER_POOL_CLIENT_ID":      m.stack.UserPoolClientID,
		"MAPPING_TABLE":            m.stack.MappingTable,
		"AUDIT_TABLE":              m.stack.AuditTable,
		"KAKAO_API_BASE_URL":       apiBase,
		"KAKAO_AUTH_BASE_URL":      authBase,
		// Not production: the double (or whatever Kakao -kakao-api-url names).
		"ALLOW_NON_KAKAO_HOSTS":        "true",
		"EVENT_BUS_NAME":               m.stack.EventBusName,
		"UNLINK_QUEUE_URL":             m.stack.UnlinkQueueURL,
		"UNLINK_POLICY":                m.cfg.UnlinkPolicy,
		"ALLOW_ID_TOKEN_WITHOUT_NONCE": strconv.FormatBool(m.cfg.AllowIDTokenWithoutNonce),
		// The linking endpoints and the custom auth triggers.
		"BROKER_CLIENT_NAME":         names.UserPoolClient,
		"LINK_CLIENT_IDS":            m.demo.ClientID,
		"LINK_BY_VERIFIED_EMAIL":     strconv.FormatBool(m.cfg.LinkByVerifiedEmail),
		"CORS_ALLOWED_ORIGINS":       strings.Join(m.cfg.CORSOrigins, ","),
		"ALLOW_PLAIN_ID_TOKEN_NONCE": strconv.FormatBool(m.cfg.AllowPlainIDTokenNonce),
		// Issue 19.
		"OPERATIONS_TABLE":        m.stack.OperationsTable,
		config.SecretUnlinkMACKey: m.stack.UnlinkMACKeySecretARN,
		"UNLINK_USAGE_KEY":        "kakao-unlink-callbacks-" + m.cfg.Prefix,
		"KAKAO_CALLBACK_CIDRS":    m.cfg.CallbackSources,
		"STACK_NAME":              m.cfg.Prefix,
	}
	if m.cfg.OutboxGrace > 0 {
		env["OUTBOX_GRACE"] = m.cfg.OutboxGrace.String()
	}
	if m.cfg.RecreationLimit > 0 {
		env["RECREATION_LIMIT"] = strconv.Itoa(m.cfg.RecreationLimit)
	}
	if m.cfg.RecreationPeriod > 0 {
		env["RECREATION_PERIOD"] = m.cfg.RecreationPeriod.String()
	}
	if r := m.cfg.Retention; r != nil {
		days := func(d time.Duration) string { return strconv.Itoa(int(d / (24 * time.Hour))) }
		env["UNLINKED_EMAIL_RETENTION_DAYS"], env["DELETED_ACCOUNT_PII_DAYS"], env["DELETED_MAPPING_RETENTION_DAYS"] =
			days(r.UnlinkedEmail), days(r.DeletedPII), days(r.DeletedRow)
	}
	if m.cfg.ReconcileRate > 0 {
		env["RECONCILE_REQUESTS_PER_SECOND"] = strconv.FormatFloat(m.cfg.ReconcileRate, 'f', -1, 64)
	}
	if m.cfg.HostedUI {
		env["HOSTED_UI"] = "enabled"
	}
	if m.cfg.PasswordRotation > 0 {
		env["PASSWORD_ROTATION"] = m.cfg.PasswordRotation.String()
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err == nil {
		err = cfg.LoadSecrets(ctx, secretsmanager.FromConfig(awsCfg), config.SecretPepper, config.SecretKakaoAdminKey, config.SecretProofKey, config.SecretUnlinkMACKey)
	}
	if err != nil {
		return err
	}
	m.deps = wiring.New(bootstrap.New(cfg, stepsCfg, m.cfg.Log))
	// The metrics' EMF lines, which CloudWatch Logs would extract in AWS,
	// go into the stack's log.
	m.deps.MetricsOut = metricLog{m.cfg.Log}
	// One Steps for the workflow and the unlink webhook, wired from the
	// configuration the Lambdas load (the webhook's admin key comes from
	// the secret stored above).
	steps := m.deps.Steps()
	m.steps = steps
	if m.machine, err = workflow.NewMachine(steps); err != nil {
		return err
	}
	if err := m.startTriggers(ctx, motoURL, steps); err != nil {
		return err
	}
	if m.cfg.UserPoolID != "" {
		// Deployed into an existing pool, the operator's next step.
		if err := attachTriggers(ctx, idp, m.stack); err != nil {
			return err
		}
	}
	// A person already in the pool (demo.go): created once the pool's
	// triggers answer, as AdminCreateUser runs PreSignUp.
	if err := ensureDemoUser(ctx, idp, m.stack.UserPoolID, &m.demo); err != nil {
		return err
	}
	// The unlink worker, fed from the queue as Lambda's event source
	// mapping feeds it (batch of 5, partial batch failures).
	m.startWorker(bg, awsCfg, steps)
	if err := m.startEventTap(bg, awsCfg); err != nil {
		return err
	}
	// The schedules: the sweeper, and the reconciler when asked to.
	if m.cfg.SweepEvery > 0 {
		m.every(bg, m.cfg.SweepEvery, "sweep", func(ctx context.Context) error { _, err := m.Sweep(ctx); return err })
	}
	if m.cfg.ReconcileEvery > 0 {
		m.every(bg, m.cfg.ReconcileEvery, "reconcile", func(ctx context.Context) error { _, err := m.Reconcile(ctx); return err })
	}
	login := localapi.New(localapi.ExecutorFunc(m.execute), m.cfg.Log, localapi.WithAllowedOrigins(m.cfg.CORSOrigins...))
	routes := map[string]http.Handler{
		// The unlink callback behind its authorizer, as on API Gateway.
		workflow.UnlinkPath: Authorized(steps.UnlinkAuthorizer, ProxyHandler(steps.UnlinkWebhook, m.cfg.Log), m.cfg.Log),
		workflow.LinkPath:   ProxyHandler(steps.LinkEndpoint, m.cfg.Log),
		// The stack's optional GET /me (EnableMeRoute), always on here.
		localapi.MePath: localapi.NewMe(m.poolTokens(motoURL), m.cfg.Log, m.cfg.CORSOrigins...),
	}
	page, err := m.tryItPage(awsCfg, motoURL, authBase)
	if err != nil {
		return err
	}
	maps.Copy(routes, page.Routes())
	// Requests addressed to this machine only: a DNS-rebinding page gets
	// neither the page's backend nor the login endpoint.
	m.api = &http.Server{Handler: localonly.Hosts(localapi.Mux(login, routes)), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 35 * time.Second}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.api.Serve(apiLn); !errors.Is(err, http.ErrServerClosed) {
			m.errs <- fmt.Errorf("login endpoint: %w", err)
		}
	}()
	return nil
}

// poolTokens verifies the pool's tokens as API Gateway's Cognito
// authorizer does, against moto's JWKS of the pool.
func (m *Main) poolTokens(motoURL string) *cognitojwt.Verifier {
	return cognitojwt.New(&http.Client{Timeout: 5 * time.Second}, cognitojwt.Issuer(moto.Region, m.stack.UserPoolID),
		cognitojwt.JWKSURL(moto.Region, m.stack.UserPoolID, motoURL), []string{m.stack.UserPoolClientID})
}

// tryItPage is the try-it page on the login endpoint's address: Kakao's
// authorize page (the double's consent page), the stack's pool through
// its public app client with no credentials, as an app uses it, and the
// local-only extras: unlink at the double, the mapping's status.
func (m *Main) tryItPage(awsCfg aws.Config, motoURL, authBase string) (*tryit.Page, error) {
	api := cip.NewFromConfig(awsCfg, func(o *cip.Options) { o.Credentials = aws.AnonymousCredentials{} })
	opts := []tryit.Option{tryit.WithAccounts(m.deps.Mappings()), tryit.WithLogger(m.cfg.Log), tryit.WithMeRoute(),
		tryit.WithIdentityPool(m.stack.IdentityPoolID, motoURL, motoURL),
		tryit.WithTeamApp(tryit.TeamApp{ClientID: m.demo.ClientID, Username: m.demo.Email, Password: m.demo.Password})}
	if m.fake != nil {
		opts = append(opts, tryit.WithDouble(m.kakaoURL))
	}
	if h := m.stack.HostedUI; h != nil {
		opts = append(opts, tryit.WithHostedUI(tryit.HostedUI{DomainURL: HostedUIDomainURL(motoURL, h.Domain), ClientID: h.ClientID}))
	}
	return tryit.New(tryit.Kakao{AuthURL: authBase, ClientID: m.cfg.AppKeys[0]},
		tryit.NewPool(api, moto.Region, m.stack.UserPoolID, m.stack.UserPoolClientID, motoURL), opts...)
}

// pageOrigins are the origins the try-it page has in a browser: the login
// endpoint's address, under its IP or as localhost.
func (m *Main) pageOrigins() []string {
	origins := []string{m.apiURL}
	if _, port, err := net.SplitHostPort(strings.TrimPrefix(m.apiURL, "http://")); err == nil {
		origins = append(origins, "http://localhost:"+port)
	}
	return origins
}

func (m *Main) startFake(ctx context.Context) error {
	ln, err := net.Listen("tcp", m.cfg.KakaoAddr)
	if err != nil {
		return fmt.Errorf("kakao double: %w", err)
	}
	m.kakaoURL = "http://" + ln.Addr().String()
	fake, err := kakaofake.New(kakaofake.Config{AppID: m.cfg.AppID, AppKeys: m.cfg.AppKeys, AdminKey: m.cfg.AdminKey,
		UnlinkCallbackURL: m.apiURL + "/kakao/unlink", PageOrigins: m.pageOrigins()})
	if err != nil {
		ln.Close()
		return err
	}
	if err := fake.AddUser(kakaofake.DemoUser); err != nil {
		ln.Close()
		return err
	}
	fake.SetBaseURL(m.kakaoURL)
	m.fake = fake
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := fake.ServeListener(ctx, ln); err != nil {
			m.errs <- fmt.Errorf("kakao double: %w", err)
		}
	}()
	return nil
}

// startWorker polls the unlink queue for the worker, as the template's
// SQS event (UnlinkWorkerFunction) does in AWS.
func (m *Main) startWorker(ctx context.Context, awsCfg aws.Config, steps *workflow.Steps) {
	q := sqs.NewFromConfig(awsCfg)
	poller := eventsource.New(q, m.stack.UnlinkQueueURL, m.stack.UnlinkQueueARN, awsCfg.Region,
		steps.UnlinkWorker, eventsource.WithBatchSize(5), eventsource.WithLogger(m.cfg.Log))
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		poller.Run(ctx)
	}()
}

// startEventTap subscribes a queue of its own to the lifecycle bus and
// logs every event it receives ("lifecycle event"), so that `make run`
// shows what an app's backend would get. In AWS the rules and targets are
// the apps'; this one exists only here.
func (m *Main) startEventTap(ctx context.Context, awsCfg aws.Config) error {
	tap, err := SubscribeToBus(ctx, awsCfg, m.stack.EventBusName, m.cfg.Prefix+"-tap")
	if err != nil {
		return err
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for ctx.Err() == nil {
			evs, err := tap.Receive(ctx)
			if err != nil && ctx.Err() == nil {
				m.cfg.Log.WarnContext(ctx, "event tap: receive failed", "error", err.Error())
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			for _, e := range evs {
				m.cfg.Log.InfoContext(ctx, "lifecycle event", "detailType", e.DetailType, "source", e.Source,
					"eventId", e.Detail.ID, "kakaoId", e.Detail.KakaoID, "sub", e.Detail.Sub, "previousSub", e.Detail.PreviousSub, "reason", e.Detail.Reason)
			}
		}
	}()
	return nil
}

// every runs fn every d until ctx ends, as EventBridge Scheduler starts
// the upkeep functions in AWS.
func (m *Main) every(ctx context.Context, d time.Duration, what string, fn func(context.Context) error) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := fn(ctx); err != nil && ctx.Err() == nil {
					m.cfg.Log.WarnContext(ctx, what+" failed", "error", err.Error())
				}
			}
		}
	}()
}

// Sweep runs the sweeper once, now (what SweeperFunction does every
// minute in AWS).
func (m *Main) Sweep(ctx context.Context) (workflow.SweepReport, error) {
	m.upkeep.Lock()
	defer m.upkeep.Unlock()
	return m.steps.Sweep(ctx, workflow.SweepEvent{})
}

// Reconcile runs the reconciler once, now (what ReconcilerFunction does
// on its schedule in AWS).
func (m *Main) Reconcile(ctx context.Context) (workflow.ReconcileReport, error) {
	m.upkeep.Lock()
	defer m.upkeep.Unlock()
	return m.steps.Reconcile(ctx, workflow.ReconcileEvent{})
}

// metricLog logs each embedded-metric-format line it is given ("metric",
// with the line as its emf attribute).
type metricLog struct{ log *slog.Logger }

func (l metricLog) Write(p []byte) (int, error) {
	l.log.Info("metric", "emf", json.RawMessage(bytes.TrimSpace(p)))
	return len(p), nil
}

// AdminKeySecretName is the local stack's Kakao admin key secret (the
// template's KakaoAdminKeySecretName).
func AdminKeySecretName(prefix string) string { return prefix + "/kakao-admin-key" }

// KakaoClientSecretName is the local stack's Kakao client secret (the
// template's KakaoClientSecretName; the double does not check it).
func KakaoClientSecretName(prefix string) string { return prefix + "/kakao-client-secret" }

// HostedUIDomainURL is where moto's layer serves a pool domain's hosted UI
// (Cognito's https://<domain>.auth.<region>.amazoncognito.com).
func HostedUIDomainURL(motoURL, domain string) string {
	return strings.TrimRight(motoURL, "/") + "/" + domain
}

// hostedUIParameters are the template parameters of a stack with the
// hosted UI, for this local stack: its domain is the prefix, Kakao is the
// double (or the configured Kakao), the redirect URIs are the try-it
// page's callback (by address and by localhost name).
func (m *Main) hostedUIParameters(ctx context.Context, awsCfg aws.Config, apiBase, authBase string) (map[string]string, error) {
	if _, err := provision.PutSecret(ctx, awssm.NewFromConfig(awsCfg), KakaoClientSecretName(m.cfg.Prefix), "local-kakao-client-secret"); err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(m.apiURL, "http://"))
	callbacks := []string{m.apiURL + tryit.CallbackPath}
	signOuts := []string{m.apiURL + "/"}
	if !strings.HasPrefix(m.apiURL, "http://localhost:") {
		callbacks = append(callbacks, "http://localhost:"+port+tryit.CallbackPath)
		signOuts = append(signOuts, "http://localhost:"+port+"/")
	}
	return map[string]string{
		"HostedUi": "enabled", "KakaoIdAttribute": "mutable", "HostedUiDomainPrefix": strings.ToLower(m.cfg.Prefix),
		"HostedUiCallbackUrls": strings.Join(callbacks, ","), "HostedUiSignOutUrls": strings.Join(signOuts, ","),
		"KakaoRestApiKey": m.cfg.AppKeys[0], "KakaoClientSecretName": KakaoClientSecretName(m.cfg.Prefix),
		"KakaoApiBaseUrl": apiBase, "KakaoAuthBaseUrl": authBase, "AllowNonKakaoHosts": "true",
	}, nil
}

// execute is StartSyncExecution for the local endpoint.
func (m *Main) execute(ctx context.Context, input json.RawMessage) (localapi.Result, error) {
	exec, err := m.machine.Run(ctx, input)
	if err != nil {
		return localapi.Result{}, err
	}
	m.cfg.Log.InfoContext(ctx, "execution finished", "executionId", exec.ID, "status", exec.Status, "error", exec.Error,
		"path", strings.Join(exec.Path, ">"), "durationMs", exec.StopTime.Sub(exec.StartTime).Milliseconds())
	return localapi.Result{Status: exec.Status, Output: exec.Output, Error: exec.Error, Cause: exec.Cause}, nil
}

// MotoURL is the AWS endpoint the stack provisioned into.
func (m *Main) MotoURL() string {
	if m.cfg.MotoURL != "" {
		return m.cfg.MotoURL
	}
	if m.moto != nil {
		return m.moto.URL()
	}
	return ""
}

// APIURL is the login endpoint's base URL.
func (m *Main) APIURL() string { return m.apiURL }

// KakaoURL is the Kakao double's base URL ("" when a real Kakao is used).
func (m *Main) KakaoURL() string { return m.kakaoURL }

// Double is the Kakao double (nil when a real Kakao is used).
func (m *Main) Double() *kakaofake.Fake { return m.fake }

// Stack is what was provisioned.
func (m *Main) Stack() provision.Stack { return m.stack }

// Demo is the team's own app client and the person already in the pool
// (demo.go).
func (m *Main) Demo() DemoNative { return m.demo }

// Deps are the configuration and its adapters (for tests and the
// commands that inspect the stack).
func (m *Main) Deps() *wiring.Stack { return m.deps }

// Err reports a component that stopped on its own.
func (m *Main) Err() <-chan error { return m.errs }

// Close stops the endpoint, the triggers, the double and a moto this
// stack started.
func (m *Main) Close() error {
	var errs []error
	if m.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, m.api.Shutdown(ctx))
		cancel()
	}
	errs = append(errs, m.stopTriggers())
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.moto != nil {
		errs = append(errs, m.moto.Close())
	}
	return errors.Join(errs...)
}
