package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	sharedconfig "github.com/kakaoauth/kakaoauth/shared/config"

	"github.com/kakaoauth/kakaoauth/infra/kakaofake"
	"github.com/kakaoauth/kakaoauth/infra/localapi"
	"github.com/kakaoauth/kakaoauth/infra/localonly"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

func init() {
	commands["local"] = command{summary: "run the whole stack locally: moto, the Kakao double, POST /auth/kakao and the try-it page", run: runLocal}
	commands["fake-kakao"] = command{summary: "run only the Kakao double", run: func(ctx context.Context, args []string, stdout, _ io.Writer) error {
		return kakaofake.Main(ctx, args, stdout)
	}}
}

func runLocal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("local", stderr, `usage: kakaoauth local [flags]

Runs the whole stack on this machine (what make run runs): moto for the AWS
APIs, the Kakao double, POST /auth/kakao and the try-it page.

flags:
`)
	var cfg localstack.Config
	fs.StringVar(&cfg.APIAddr, "addr", envOr("KAKAOAUTH_ADDR", localstack.DefaultAPIAddr), "login endpoint listen address (env KAKAOAUTH_ADDR)")
	fs.StringVar(&cfg.MotoAddr, "moto-addr", envOr("KAKAOAUTH_MOTO_ADDR", moto.DefaultAddr), "moto_server address; started there unless already running (env KAKAOAUTH_MOTO_ADDR)")
	fs.StringVar(&cfg.KakaoAddr, "kakao-addr", envOr("KAKAOAUTH_KAKAO_ADDR", kakaofake.DefaultAddr), "Kakao double listen address (env KAKAOAUTH_KAKAO_ADDR)")
	fs.StringVar(&cfg.KakaoAPIBaseURL, "kakao-api-url", os.Getenv("KAKAO_API_BASE_URL"), "use this Kakao API (kapi) instead of the double (env KAKAO_API_BASE_URL)")
	fs.StringVar(&cfg.KakaoAuthBaseURL, "kakao-auth-url", os.Getenv("KAKAO_AUTH_BASE_URL"), "use this Kakao auth server (kauth) instead of the double (env KAKAO_AUTH_BASE_URL)")
	fs.StringVar(&cfg.TemplatePath, "template", envOr("KAKAOAUTH_TEMPLATE", "template.yaml"), "SAM template the resources are provisioned from (env KAKAOAUTH_TEMPLATE)")
	fs.Int64Var(&cfg.AppID, "app-id", kakaofake.DefaultAppID, "Kakao app id tokens must belong to")
	appKeys := fs.String("app-keys", kakaofake.DefaultAppKey, "comma-separated Kakao app keys accepted as ID-token aud")
	fs.DurationVar(&cfg.PasswordRotation, "password-rotation", 0, "password nonce rotation interval (default 24h)")
	fs.StringVar(&cfg.UnlinkPolicy, "unlink-policy", envOr("KAKAOAUTH_UNLINK_POLICY", sharedconfig.DefaultUnlinkPolicy), "what a Kakao unlink does: disable (the person can come back) or delete (env KAKAOAUTH_UNLINK_POLICY)")
	fs.BoolVar(&cfg.AllowIDTokenWithoutNonce, "allow-id-token-without-nonce", false, "accept ID tokens presented without a nonce (the stack parameter AllowIdTokenWithoutNonce)")
	fs.StringVar(&cfg.UserPoolID, "user-pool-id", "", "add Kakao to this existing pool of the local moto instead of creating one (the stack parameter UserPoolId)")
	fs.BoolVar(&cfg.LinkByVerifiedEmail, "link-by-verified-email", false, "link a Kakao login to the pool's user with the same verified email (the stack parameter LinkByVerifiedEmail)")
	fs.BoolVar(&cfg.AllowPlainIDTokenNonce, "allow-plain-id-token-nonce", false, "also accept ID tokens whose nonce claim is the sent nonce itself, not its SHA-256 (the stack parameter AllowPlainIdTokenNonce)")
	// Issue 19: the upkeep's schedules, shorter than in AWS.
	fs.DurationVar(&cfg.SweepEvery, "sweep-every", localstack.DefaultSweepEvery, "how often the sweeper runs (AWS: every minute; negative: never)")
	fs.DurationVar(&cfg.ReconcileEvery, "reconcile-every", time.Minute, "how often the reconciler asks the double which accounts are still linked (AWS: ReconcileIntervalMinutes; 0: never)")
	fs.BoolVar(&cfg.HostedUI, "hosted-ui", os.Getenv("KAKAOAUTH_HOSTED_UI") == "true", "also run Cognito's hosted UI with Kakao, as the stack parameter HostedUi=enabled does (make run turns it on): its PreSignUp trigger and the link run locally (env KAKAOAUTH_HOSTED_UI=true)")
	corsOrigins := fs.String("cors-origins", os.Getenv("KAKAOAUTH_CORS_ORIGINS"), "comma-separated origins whose pages may call the login endpoint, e.g. http://localhost:8090 for kakaoauth tryit (env KAKAOAUTH_CORS_ORIGINS)")
	logLevel := fs.String("log-level", envOr("KAKAOAUTH_LOG_LEVEL", "info"), "debug|info|warn|error (env KAKAOAUTH_LOG_LEVEL)")
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	cfg.AppKeys = strings.Split(*appKeys, ",")
	var err error
	if cfg.CORSOrigins, err = localapi.ParseOrigins(*corsOrigins); err != nil {
		return fmt.Errorf("-cors-origins: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	cfg.Log = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	localonly.Warn(stdout, "the login endpoint and try-it page (-addr)", cfg.APIAddr, "sign in as any Kakao account of the double and read its accounts' state")
	localonly.Warn(stdout, "the Kakao double (-kakao-addr)", cfg.KakaoAddr, "create Kakao users, mint their tokens and send unlink callbacks")
	localonly.Warn(stdout, "moto (-moto-addr)", cfg.MotoAddr, "call the local AWS APIs without credentials: read the pepper, change any user")
	fmt.Fprintln(stdout, "kakaoauth local: starting (moto, Kakao double, login endpoint)...")
	stack := localstack.New(cfg)
	if err := waitSaying(stdout, "kakaoauth local: still starting (moto; the pool, tables and queues from "+cfg.TemplatePath+")", func() error {
		return stack.Run(ctx)
	}); err != nil {
		return err
	}
	defer stack.Close()
	printWelcome(stdout, stack)
	select {
	case <-ctx.Done():
	case err := <-stack.Err():
		return err
	}
	fmt.Fprintln(stdout, "\nkakaoauth local: stopping")
	return nil
}

func printWelcome(w io.Writer, s *localstack.Main) {
	st := s.Stack()
	// The CLI's defaults are this stack's default addresses; other
	// addresses are spelt out.
	flags := func(name, url, def string) string {
		if url == def {
			return ""
		}
		return " -" + name + " " + url
	}
	loginFlags := flags(flagAPIURL, s.APIURL(), "http://"+localstack.DefaultAPIAddr) +
		flags(flagKakaoURL, s.KakaoURL(), "http://"+kakaofake.DefaultAddr) + flags(flagEndpointURL, s.MotoURL(), "http://"+moto.DefaultAddr)
	adminFlags := flags(flagEndpointURL, s.MotoURL(), "http://"+moto.DefaultAddr)
	fmt.Fprintf(w, `
kakaoauth local stack is up.
  try-it page     %[1]s/   (open it, click the Kakao button)
  login endpoint  POST %[1]s/auth/kakao
  Kakao double    %[2]s
  moto (AWS)      user pool %[3]s, client %[4]s, tables %[5]s and %[6]s

Try it (another terminal; kakaoauth is what make install installs, or go run ./cmd/kakaoauth):
  kakaoauth login -kakao-id 123%[9]s
or with curl:
  curl -s -X POST %[2]s/_fake/users -H 'Content-Type: application/json' -d '{"id":123,"email":"a@example.com","is_email_verified":true,"is_email_valid":true,"nickname":"n"}'
  TOKEN=$(curl -s -X POST %[2]s/_fake/tokens -H 'Content-Type: application/json' -d '{"user_id":123}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s -X POST %[1]s/auth/kakao -H 'Content-Type: application/json' -d "{\"access_token\":\"$TOKEN\"}"

A person already in the pool (the team's app, email and password):
  email %[10]s  password %[11]s
  on the try-it page: sign in with them, link Kakao, log out, log in with Kakao (the same sub), unlink;
  or by hand: POST %[1]s/auth/kakao/link with "Authorization: Bearer <their access token>" and a Kakao token

Unlink at Kakao and come back (lifecycle events show up in this log as "lifecycle event"):
  curl -s -X POST %[2]s/_fake/unlink -H 'Content-Type: application/json' -d '{"user_id":123,"referrer_type":"UNLINK_FROM_APPS"}'
  kakaoauth admin show -kakao-id 123%[8]s
  kakaoauth login -kakao-id 123%[9]s      # a fresh Kakao login: same sub again

Ctrl-C stops everything this command started (%[7]s).
`, s.APIURL(), orNone(s.KakaoURL()), st.UserPoolID, st.UserPoolClientID, st.MappingTable, st.AuditTable, time.Now().Format(time.RFC3339), adminFlags, loginFlags,
		s.Demo().Email, s.Demo().Password)
	if h := st.HostedUI; h != nil {
		fmt.Fprintf(w, `
Cognito's hosted UI (HostedUi=enabled; moto serves the pool's domain):
  domain          %s   (client %s, identity provider %s = the Kakao double)
  sign in         the try-it page's hosted-UI button; the first sign-in of a Kakao account runs the
                  PreSignUp trigger, which links it to the broker's user
                  (kakao_<id>, or the person it is linked to)
`, localstack.HostedUIDomainURL(s.MotoURL(), h.Domain), h.ClientID, h.Provider)
	}
}

// progressEvery is how often a wait says it is still waiting.
const progressEvery = 2 * time.Second

// waitSaying runs fn and, while it takes longer than progressEvery, says
// so on w with the time so far: no wait over a second or two is silent.
func waitSaying(w io.Writer, what string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	start := time.Now()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			fmt.Fprintf(w, "%s... %ds\n", what, int(time.Since(start).Seconds()))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(not started: real Kakao configured)"
	}
	return s
}
