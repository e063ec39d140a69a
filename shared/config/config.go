// Package config reads a Lambda's configuration once, at cold start: plain
// settings from the environment, Kakao settings and secrets from SSM
// Parameter Store (SecureString for secrets), so that nothing secret sits in
// an environment variable or the template.
package config

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/kakaoauth/kakaoauth/shared/password"
)

// Parameter names below PARAMETER_PREFIX (e.g. /kakaoauth/prod).
const (
	ParamKakaoAppID    = "kakao-app-id"    // String: the Kakao app id tokens must belong to
	ParamKakaoAppKeys  = "kakao-app-keys"  // StringList: app keys accepted as ID-token aud
	ParamKakaoAdminKey = "kakao-admin-key" // SecureString: checks unlink callbacks
	ParamPepper        = "pepper"          // SecureString: derives passwords and sign-in proofs
	// ParamUserPoolID is the pool, for the PreSignUp trigger, which the
	// template cannot give it in the environment: the pool names the
	// trigger, so the trigger naming the pool would be a cycle.
	ParamUserPoolID = "user-pool-id" // String
)

// Defaults documented in the README.
const (
	DefaultKakaoAPIBaseURL  = "https://kapi.kakao.com"
	DefaultKakaoAuthBaseURL = "https://kauth.kakao.com"
	DefaultPasswordRotation = 24 * time.Hour
	DefaultAuditRetention   = 400 * 24 * time.Hour
	DefaultUnlinkPolicy     = "disable"
)

// Config is everything a Lambda of the stack may need. Each Lambda loads
// only the parameters it declares, so IAM can grant it only those.
type Config struct {
	UserPoolID       string
	UserPoolClientID string
	MappingTable     string
	AuditTable       string
	KakaoAPIBaseURL  string
	KakaoAuthBaseURL string
	PasswordRotation time.Duration
	AuditRetention   time.Duration
	// EventBusName receives the lifecycle events; UnlinkQueueURL carries
	// unlink callbacks from the webhook to the worker; UnlinkPolicy is
	// "disable" (default) or "delete".
	EventBusName   string
	UnlinkQueueURL string
	UnlinkPolicy   string
	// HostedUI: the stack's hosted-UI flow is on (HOSTED_UI=enabled).
	HostedUI bool

	KakaoAppID    int64
	KakaoAppKeys  []string
	KakaoAdminKey string // secret
	Pepper        []byte // secret
}

// ParameterGetter is the part of the SSM client config needs.
type ParameterGetter interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

var _ ParameterGetter = (*ssm.Client)(nil)

// FromEnv reads the plain settings. getenv is os.Getenv outside tests.
func FromEnv(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{
		UserPoolID:       getenv("USER_POOL_ID"),
		UserPoolClientID: getenv("USER_POOL_CLIENT_ID"),
		MappingTable:     getenv("MAPPING_TABLE"),
		AuditTable:       getenv("AUDIT_TABLE"),
		KakaoAPIBaseURL:  orDefault(getenv("KAKAO_API_BASE_URL"), DefaultKakaoAPIBaseURL),
		KakaoAuthBaseURL: orDefault(getenv("KAKAO_AUTH_BASE_URL"), DefaultKakaoAuthBaseURL),
		PasswordRotation: DefaultPasswordRotation,
		AuditRetention:   DefaultAuditRetention,
		EventBusName:     getenv("EVENT_BUS_NAME"),
		UnlinkQueueURL:   getenv("UNLINK_QUEUE_URL"),
		UnlinkPolicy:     orDefault(getenv("UNLINK_POLICY"), DefaultUnlinkPolicy),
	}
	switch v := getenv("HOSTED_UI"); v {
	case "enabled":
		c.HostedUI = true
	case "", "disabled":
	default:
		return c, fmt.Errorf("HOSTED_UI %q: want enabled or disabled", v)
	}
	if c.UnlinkPolicy != "disable" && c.UnlinkPolicy != "delete" {
		return c, fmt.Errorf("UNLINK_POLICY %q: want disable or delete", c.UnlinkPolicy)
	}
	if v := getenv("PASSWORD_ROTATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("PASSWORD_ROTATION %q: want a positive Go duration such as 24h", v)
		}
		c.PasswordRotation = d
	}
	if v := getenv("AUDIT_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("AUDIT_RETENTION_DAYS %q: want a positive whole number", v)
		}
		c.AuditRetention = time.Duration(n) * 24 * time.Hour
	}
	return c, nil
}

// Require reports the first of the named environment-backed settings that
// is empty, so a Lambda fails at cold start instead of on a request.
func (c Config) Require(names ...string) error {
	values := map[string]string{
		"USER_POOL_ID":        c.UserPoolID,
		"USER_POOL_CLIENT_ID": c.UserPoolClientID,
		"MAPPING_TABLE":       c.MappingTable,
		"AUDIT_TABLE":         c.AuditTable,
		"EVENT_BUS_NAME":      c.EventBusName,
		"UNLINK_QUEUE_URL":    c.UnlinkQueueURL,
		"HOSTED_UI":           map[bool]string{true: "enabled"}[c.HostedUI],
	}
	for _, n := range names {
		v, known := values[n]
		if !known {
			return fmt.Errorf("config: unknown setting %s", n)
		}
		if v == "" {
			return fmt.Errorf("config: %s is not set", n)
		}
	}
	return nil
}

// LoadParameters reads the named parameters (Param* constants) below
// prefix in one GetParameters call, decrypting SecureStrings.
func (c *Config) LoadParameters(ctx context.Context, client ParameterGetter, prefix string, names ...string) error {
	if len(names) == 0 {
		return nil
	}
	if prefix == "" {
		return fmt.Errorf("config: PARAMETER_PREFIX is not set")
	}
	prefix = strings.TrimRight(prefix, "/")
	full := make([]string, len(names))
	for i, n := range names {
		full[i] = prefix + "/" + n
	}
	out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: full, WithDecryption: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("config: reading parameters below %s: %w", prefix, err)
	}
	if len(out.InvalidParameters) > 0 {
		return fmt.Errorf("config: missing parameters: %s", strings.Join(out.InvalidParameters, ", "))
	}
	for _, p := range out.Parameters {
		name := strings.TrimPrefix(aws.ToString(p.Name), prefix+"/")
		if err := c.set(name, aws.ToString(p.Value)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) set(name, value string) error {
	switch name {
	case ParamKakaoAppID:
		id, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("config: %s must be a positive Kakao app id", name)
		}
		c.KakaoAppID = id
	case ParamKakaoAppKeys:
		c.KakaoAppKeys = nil
		for _, k := range strings.Split(value, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.KakaoAppKeys = append(c.KakaoAppKeys, k)
			}
		}
		if len(c.KakaoAppKeys) == 0 {
			return fmt.Errorf("config: %s lists no app key", name)
		}
	case ParamKakaoAdminKey:
		if value == "" {
			return fmt.Errorf("config: %s is empty", name)
		}
		c.KakaoAdminKey = value
	case ParamUserPoolID:
		if strings.TrimSpace(value) == "" {
			return fmt.Errorf("config: %s is empty", name)
		}
		c.UserPoolID = strings.TrimSpace(value)
	case ParamPepper:
		// A short pepper would let anyone compute passwords and proofs. The
		// value itself never appears in an error.
		if err := password.CheckPepper([]byte(value)); err != nil {
			return fmt.Errorf("config: %s: %w", name, err)
		}
		c.Pepper = []byte(value)
	default:
		return fmt.Errorf("config: unexpected parameter %s", name)
	}
	return nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
