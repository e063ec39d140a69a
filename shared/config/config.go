// Package config reads a Lambda's configuration once, at cold start: plain
// settings (the Kakao app id and keys included, which are not secret) from
// the environment, and the two secrets (the pepper, Kakao's admin key) from
// AWS Secrets Manager, whose ids the environment names. Nothing secret sits
// in an environment variable or the template.
package config

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/shared/password"
)

// Secrets a Lambda may read, named by the environment variable that holds
// the secret's id (name or ARN) in Secrets Manager.
const (
	// SecretPepper is JSON: {"current":"1","1":"<pepper>"}; more versions
	// may sit beside the current one while an operator rotates it. The
	// template generates it.
	SecretPepper = "PEPPER_SECRET_ID"
	// SecretKakaoAdminKey is the Kakao app's admin key as plain text: it
	// checks unlink callbacks. The operator stores it before deploying.
	SecretKakaoAdminKey = "KAKAO_ADMIN_KEY_SECRET_ID"
	// SecretProofKey is JSON like the pepper's: the key of the sign-in
	// proofs IssueTokens makes and the PreAuthentication trigger checks,
	// apart from the pepper so that the trigger cannot derive passwords.
	// The template generates it.
	SecretProofKey = "PROOF_KEY_SECRET_ID"
	// SecretUnlinkMACKey is JSON like the pepper's: the key of the MAC the
	// unlink webhook puts on each queued request and the worker checks
	// (and nobody else holds). The template generates it.
	SecretUnlinkMACKey = "UNLINK_MAC_KEY_SECRET_ID"
)

// Defaults documented in docs/deploy.md.
const (
	DefaultKakaoAPIBaseURL  = "https://kapi.kakao.com"
	DefaultKakaoAuthBaseURL = "https://kauth.kakao.com"
	DefaultPasswordRotation = 24 * time.Hour
	DefaultAuditRetention   = 400 * 24 * time.Hour
	// DefaultAnonAuditRetention keeps the events of logins whose Kakao
	// account is unknown (anyone can make them) for a shorter time.
	DefaultAnonAuditRetention = 30 * 24 * time.Hour
	DefaultUnlinkPolicy       = "disable"
)

// Retention is how long the mapping keeps what identifies a person once
// the account is gone (docs/lifecycle.md, "What is kept, and for how
// long"); store.Retention is this type.
type Retention struct {
	// UnlinkedEmail: an unlinked account's last verified email (kept only
	// to give it back on a re-link) is dropped this long after the unlink.
	UnlinkedEmail time.Duration
	// DeletedPII: a deleted account's audit events lose their source IP and
	// user agent this long after the deletion (0: at the next sweep).
	DeletedPII time.Duration
	// DeletedRow: a deleted account's row (ids and times, no personal
	// data) expires (DynamoDB TTL) this long after the deletion, unless it
	// carries a ban; 0 keeps it.
	DeletedRow time.Duration
}

// Defaults of issue 19's settings (template.yaml's parameter defaults).
const (
	DefaultRecreationLimit         = 3
	DefaultRecreationPeriod        = 24 * time.Hour
	DefaultUnlinkedEmailRetention  = 30 * 24 * time.Hour
	DefaultDeletedAccountPII       = 30 * 24 * time.Hour
	DefaultDeletedMappingRetention = 400 * 24 * time.Hour
	DefaultReconcileRate           = 2.0
	DefaultReconcileMaxUnlinks     = 100
)

// Config is everything a Lambda of the stack may need. Each Lambda reads
// only the secrets it declares, so IAM can grant it only those.
type Config struct {
	UserPoolID       string
	UserPoolClientID string
	MappingTable     string
	AuditTable       string
	KakaoAPIBaseURL  string
	KakaoAuthBaseURL string
	// AllowNonKakaoHosts lets the Kakao base URLs name hosts other than
	// Kakao's (ALLOW_NON_KAKAO_HOSTS=true): only for a stack pointed at a
	// Kakao double, which would log anyone in.
	AllowNonKakaoHosts bool
	// AllowIDTokenWithoutNonce accepts an ID token presented without a
	// nonce (ALLOW_ID_TOKEN_WITHOUT_NONCE=true); by default it is refused,
	// since nothing tells it from a replay.
	AllowIDTokenWithoutNonce bool
	// AllowPlainIDTokenNonce also accepts an ID token whose nonce claim is
	// the sent nonce itself (ALLOW_PLAIN_ID_TOKEN_NONCE=true); by default
	// only the hashed form binds (the claim is the nonce's SHA-256), since
	// the plain form lets a stolen token be replayed with the nonce read
	// from its own payload.
	AllowPlainIDTokenNonce bool
	PasswordRotation       time.Duration
	AuditRetention         time.Duration
	// AnonAuditRetention is the retention of audit events whose Kakao
	// account is unknown.
	AnonAuditRetention time.Duration
	// EventBusName receives the lifecycle events; UnlinkQueueURL carries
	// unlink callbacks from the webhook to the worker; UnlinkPolicy is
	// "disable" (default) or "delete".
	EventBusName   string
	UnlinkQueueURL string
	UnlinkPolicy   string
	// HostedUI: the stack's hosted-UI flow is on (HOSTED_UI=enabled).
	HostedUI bool
	// LinkByVerifiedEmail turns the verified-email rule on
	// (LINK_BY_VERIFIED_EMAIL=true).
	LinkByVerifiedEmail bool
	// LinkClientIDs are the app clients, besides UserPoolClientID, whose
	// access tokens may call the linking endpoints (LINK_CLIENT_IDS).
	LinkClientIDs []string
	// BrokerClientName is the broker's app client's name, which the
	// DefineAuthChallenge trigger knows it by (BROKER_CLIENT_NAME).
	BrokerClientName string
	// CORSOrigins may call the linking endpoints from a browser
	// (CORS_ALLOWED_ORIGINS, the stack's CorsAllowedOrigins).
	CORSOrigins []string

	KakaoAppID   int64
	KakaoAppKeys []string

	// Secret ids from the environment; LoadSecrets fills the values below.
	PepperSecretID        string
	KakaoAdminKeySecretID string
	ProofKeySecretID      string

	KakaoAdminKey string // secret: the first of KakaoAdminKeys, which calls Kakao
	// KakaoAdminKeys are every admin key the secret holds (one per line or
	// comma-separated): an unlink callback with any of them is Kakao's.
	KakaoAdminKeys []string // secret

	// Issue 19. OperationsTable keeps the unlink inbox and the
	// reconciler's cursor; UnlinkUsageKey is the API key of the usage plan
	// Kakao's authenticated callbacks spend, KakaoCallbackSources the
	// optional allow-list of their networks (comma-separated CIDRs).
	OperationsTable      string
	UnlinkUsageKey       string
	KakaoCallbackSources []netip.Prefix
	// The recreation limit: RecreationLimit per RecreationPeriod (0: none).
	RecreationLimit  int
	RecreationPeriod time.Duration
	// Retention once an account is gone.
	Retention Retention
	// OutboxGrace, when set (OUTBOX_GRACE, a Go duration; the local stack
	// and its tests), replaces store.DefaultOutboxGrace: how long a
	// transition's own run has to send its events before the sweeper may.
	OutboxGrace time.Duration
	// The reconciler's pace and guard; StackName names its metric.
	ReconcileRate        float64
	ReconcileMaxUnlinks  int
	StackName            string
	UnlinkMACKeySecretID string
	// UnlinkMACKeyVersion is the version new MACs are made with;
	// UnlinkMACKeys holds every version (a MAC of any is checked).
	UnlinkMACKeyVersion int
	UnlinkMACKeys       map[int][]byte // secret
	// Pepper is the current pepper, PepperVersion its version; Peppers
	// holds every version the secret carries.
	Pepper        []byte // secret
	PepperVersion int
	Peppers       map[int][]byte // secret
	// ProofKey is the current proof key, ProofKeyVersion its version;
	// ProofKeys holds every version (a proof of any of them is accepted).
	ProofKey        []byte // secret
	ProofKeyVersion int
	ProofKeys       map[int][]byte // secret
}

// SecretGetter reads a secret's current value by id (shared/secretsmanager
// adapts AWS Secrets Manager). It is an interface, not the SDK client, so
// that a Lambda that reads no secret links no Secrets Manager client.
type SecretGetter interface {
	GetSecret(ctx context.Context, id string) (string, error)
}

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

		AnonAuditRetention: DefaultAnonAuditRetention,
		EventBusName:       getenv("EVENT_BUS_NAME"),
		BrokerClientName:   getenv("BROKER_CLIENT_NAME"),
		LinkClientIDs:      list(getenv("LINK_CLIENT_IDS")),
		CORSOrigins:        list(getenv("CORS_ALLOWED_ORIGINS")),
		UnlinkQueueURL:     getenv("UNLINK_QUEUE_URL"),
		UnlinkPolicy:       orDefault(getenv("UNLINK_POLICY"), DefaultUnlinkPolicy),

		PepperSecretID:        getenv(SecretPepper),
		KakaoAdminKeySecretID: getenv(SecretKakaoAdminKey),
		ProofKeySecretID:      getenv(SecretProofKey),
	}
	if err := c.issue19FromEnv(getenv); err != nil {
		return c, err
	}
	for name, dst := range map[string]*bool{"ALLOW_NON_KAKAO_HOSTS": &c.AllowNonKakaoHosts, "ALLOW_ID_TOKEN_WITHOUT_NONCE": &c.AllowIDTokenWithoutNonce,
		"LINK_BY_VERIFIED_EMAIL":     &c.LinkByVerifiedEmail,
		"ALLOW_PLAIN_ID_TOKEN_NONCE": &c.AllowPlainIDTokenNonce} {
		if v := getenv(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("%s %q: want true or false", name, v)
			}
			*dst = b
		}
	}
	if !c.AllowNonKakaoHosts {
		for _, u := range []struct{ name, value, kakao string }{
			{"KAKAO_API_BASE_URL", c.KakaoAPIBaseURL, DefaultKakaoAPIBaseURL},
			{"KAKAO_AUTH_BASE_URL", c.KakaoAuthBaseURL, DefaultKakaoAuthBaseURL},
		} {
			if strings.TrimRight(u.value, "/") != u.kakao {
				return c, fmt.Errorf("%s %q: only Kakao's %s, unless ALLOW_NON_KAKAO_HOSTS=true (a non-production stack pointed at a Kakao double)", u.name, u.value, u.kakao)
			}
		}
	}
	if v := getenv("KAKAO_APP_ID"); v != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || id <= 0 {
			return c, fmt.Errorf("KAKAO_APP_ID %q: want a positive Kakao app id", v)
		}
		c.KakaoAppID = id
	}
	if v := getenv("KAKAO_APP_KEYS"); v != "" {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.KakaoAppKeys = append(c.KakaoAppKeys, k)
			}
		}
		if len(c.KakaoAppKeys) == 0 {
			return c, fmt.Errorf("KAKAO_APP_KEYS %q lists no app key", v)
		}
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
	for name, dst := range map[string]*time.Duration{"AUDIT_RETENTION_DAYS": &c.AuditRetention, "ANON_AUDIT_RETENTION_DAYS": &c.AnonAuditRetention} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("%s %q: want a positive whole number", name, v)
			}
			*dst = time.Duration(n) * 24 * time.Hour
		}
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
		"OPERATIONS_TABLE":    c.OperationsTable,
		"UNLINK_USAGE_KEY":    c.UnlinkUsageKey,
		"STACK_NAME":          c.StackName,
		"KAKAO_APP_KEYS":      strings.Join(c.KakaoAppKeys, ","),
		"HOSTED_UI":           map[bool]string{true: "enabled"}[c.HostedUI],
		"BROKER_CLIENT_NAME":  c.BrokerClientName,
	}
	if c.KakaoAppID != 0 {
		values["KAKAO_APP_ID"] = strconv.FormatInt(c.KakaoAppID, 10)
	} else {
		values["KAKAO_APP_ID"] = ""
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

// LoadSecrets reads the named secrets (Secret* constants) by the ids the
// environment gave. A value never appears in an error.
func (c *Config) LoadSecrets(ctx context.Context, secrets SecretGetter, names ...string) error {
	for _, name := range names {
		var id string
		switch name {
		case SecretPepper:
			id = c.PepperSecretID
		case SecretKakaoAdminKey:
			id = c.KakaoAdminKeySecretID
		case SecretProofKey:
			id = c.ProofKeySecretID
		case SecretUnlinkMACKey:
			id = c.UnlinkMACKeySecretID
		default:
			return fmt.Errorf("config: unknown secret %s", name)
		}
		if id == "" {
			return fmt.Errorf("config: %s is not set", name)
		}
		value, err := secrets.GetSecret(ctx, id)
		if err != nil {
			return fmt.Errorf("config: reading secret %s (%s): %w", id, name, err)
		}
		if err := c.setSecret(name, value); err != nil {
			return fmt.Errorf("config: secret %s (%s): %w", id, name, err)
		}
	}
	return nil
}

func (c *Config) setSecret(name, value string) error {
	switch name {
	case SecretKakaoAdminKey:
		keys := ParseAdminKeys(value)
		if len(keys) == 0 {
			return fmt.Errorf("empty")
		}
		c.KakaoAdminKeys, c.KakaoAdminKey = keys, keys[0]
	case SecretUnlinkMACKey:
		version, keys, err := parseVersioned(value, "unlink MAC key")
		if err != nil {
			return err
		}
		c.UnlinkMACKeyVersion, c.UnlinkMACKeys = version, keys
	case SecretPepper:
		version, peppers, err := ParsePeppers(value)
		if err != nil {
			return err
		}
		c.PepperVersion, c.Peppers, c.Pepper = version, peppers, peppers[version]
	case SecretProofKey:
		version, keys, err := parseVersioned(value, "proof key")
		if err != nil {
			return err
		}
		c.ProofKeyVersion, c.ProofKeys, c.ProofKey = version, keys, keys[version]
	}
	return nil
}

// ParsePeppers reads the pepper secret: {"current":"<n>","<n>":"<pepper>",
// ...} with whole-number versions from 1. Every pepper must be long
// enough: a short one would let anyone compute passwords and proofs.
// Errors name versions, never values.
func ParsePeppers(secret string) (current int, peppers map[int][]byte, err error) {
	return parseVersioned(secret, "pepper")
}

// parseVersioned reads a versioned secret (the pepper, the proof key):
// {"current":"<n>","<n>":"<key>",...}; what names the key in errors.
func parseVersioned(secret, what string) (current int, peppers map[int][]byte, err error) {
	var fields map[string]string
	if err := json.Unmarshal([]byte(secret), &fields); err != nil {
		return 0, nil, fmt.Errorf(`want JSON {"current":"1","1":"<%s>"}`, what)
	}
	peppers = make(map[int][]byte, len(fields))
	var versions []string
	for k := range fields {
		versions = append(versions, k)
	}
	sort.Strings(versions)
	for _, k := range versions {
		if k == "current" {
			continue
		}
		v, err := strconv.Atoi(k)
		if err != nil || v < 1 || strconv.Itoa(v) != k {
			return 0, nil, fmt.Errorf("%s version %q: want a whole number from 1", what, k)
		}
		if err := password.CheckPepper([]byte(fields[k])); err != nil {
			return 0, nil, fmt.Errorf("%s version %d: %w", what, v, err)
		}
		peppers[v] = []byte(fields[k])
	}
	current, err = strconv.Atoi(fields["current"])
	if err != nil || peppers[current] == nil {
		return 0, nil, fmt.Errorf(`"current" must name one of the secret's %s versions`, what)
	}
	return current, peppers, nil
}

// list splits a comma-separated setting, dropping empty items.
func list(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// ParseAdminKeys reads the admin key secret: one key, or several (one per
// line, or comma-separated) while an app rotates its key, the one to call
// Kakao with first.
func ParseAdminKeys(secret string) []string {
	var keys []string
	for _, k := range strings.FieldsFunc(secret, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' }) {
		if k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// issue19FromEnv reads the settings of bans, the unlink path, retention
// and the reconciler; absent ones keep the template's defaults.
func (c *Config) issue19FromEnv(getenv func(string) string) error {
	c.OperationsTable = getenv("OPERATIONS_TABLE")
	c.UnlinkUsageKey = getenv("UNLINK_USAGE_KEY")
	var err error
	if c.KakaoCallbackSources, err = ParseSourceNetworks(getenv("KAKAO_CALLBACK_CIDRS")); err != nil {
		return fmt.Errorf("KAKAO_CALLBACK_CIDRS: %w", err)
	}
	c.StackName = getenv("STACK_NAME")
	c.UnlinkMACKeySecretID = getenv(SecretUnlinkMACKey)
	c.RecreationLimit, c.RecreationPeriod = DefaultRecreationLimit, DefaultRecreationPeriod
	c.Retention = Retention{UnlinkedEmail: DefaultUnlinkedEmailRetention, DeletedPII: DefaultDeletedAccountPII, DeletedRow: DefaultDeletedMappingRetention}
	c.ReconcileRate, c.ReconcileMaxUnlinks = DefaultReconcileRate, DefaultReconcileMaxUnlinks
	for name, dst := range map[string]*int{"RECREATION_LIMIT": &c.RecreationLimit, "RECONCILE_MAX_UNLINKS": &c.ReconcileMaxUnlinks} {
		if n, ok, err := wholeEnv(getenv, name, "a whole number"); err != nil {
			return err
		} else if ok {
			*dst = n
		}
	}
	if v := getenv("RECREATION_PERIOD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("RECREATION_PERIOD %q: want a positive Go duration such as 24h", v)
		}
		c.RecreationPeriod = d
	}
	for name, dst := range map[string]*time.Duration{"UNLINKED_EMAIL_RETENTION_DAYS": &c.Retention.UnlinkedEmail,
		"DELETED_ACCOUNT_PII_DAYS": &c.Retention.DeletedPII, "DELETED_MAPPING_RETENTION_DAYS": &c.Retention.DeletedRow} {
		if n, ok, err := wholeEnv(getenv, name, "a whole number of days"); err != nil {
			return err
		} else if ok {
			*dst = time.Duration(n) * 24 * time.Hour
		}
	}
	if v := getenv("OUTBOX_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("OUTBOX_GRACE %q: want a positive Go duration", v)
		}
		c.OutboxGrace = d
	}
	if v := getenv("RECONCILE_REQUESTS_PER_SECOND"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || f > 100 {
			return fmt.Errorf("RECONCILE_REQUESTS_PER_SECOND %q: want a number above 0, at most 100", v)
		}
		c.ReconcileRate = f
	}
	return nil
}

// ParseSourceNetworks reads a comma-separated list of CIDRs (or single
// addresses), as the KakaoCallbackSourceCidrs parameter gives it.
func ParseSourceNetworks(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a CIDR", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// wholeEnv reads a whole number, 0 or more, from the environment; ok is
// false when the variable is unset. what names the number in the error.
func wholeEnv(getenv func(string) string, name, what string) (n int, ok bool, err error) {
	v := getenv(name)
	if v == "" {
		return 0, false, nil
	}
	if n, err = strconv.Atoi(v); err != nil || n < 0 {
		return 0, false, fmt.Errorf("%s %q: want %s, 0 or more", name, v, what)
	}
	return n, true, nil
}
