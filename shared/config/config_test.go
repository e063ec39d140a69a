package config

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaultsAndOverrides(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.KakaoAPIBaseURL != DefaultKakaoAPIBaseURL || c.KakaoAuthBaseURL != DefaultKakaoAuthBaseURL || c.PasswordRotation != DefaultPasswordRotation ||
		c.AuditRetention != DefaultAuditRetention || c.AnonAuditRetention != DefaultAnonAuditRetention || c.AllowNonKakaoHosts ||
		c.AllowPlainIDTokenNonce {
		t.Fatalf("defaults %+v", c)
	}
	c, err = FromEnv(env(map[string]string{"PASSWORD_ROTATION": "90m", "AUDIT_RETENTION_DAYS": "30", "ANON_AUDIT_RETENTION_DAYS": "7",
		"KAKAO_API_BASE_URL": "http://k", "ALLOW_NON_KAKAO_HOSTS": "true", "ALLOW_PLAIN_ID_TOKEN_NONCE": "true"}))
	if err != nil || c.PasswordRotation != 90*time.Minute || c.AuditRetention != 30*24*time.Hour || c.AnonAuditRetention != 7*24*time.Hour || c.KakaoAPIBaseURL != "http://k" ||
		!c.AllowPlainIDTokenNonce {
		t.Fatalf("overrides %+v %v", c, err)
	}
	for _, bad := range []map[string]string{{"PASSWORD_ROTATION": "soon"}, {"PASSWORD_ROTATION": "-1h"}, {"AUDIT_RETENTION_DAYS": "0"}, {"AUDIT_RETENTION_DAYS": "x"},
		{"ANON_AUDIT_RETENTION_DAYS": "-3"}, {"ALLOW_NON_KAKAO_HOSTS": "yes please"}, {"ALLOW_PLAIN_ID_TOKEN_NONCE": "plain"}} {
		if _, err := FromEnv(env(bad)); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

// A production stack pointed at a test double would log anyone in: the
// Kakao base URLs name Kakao's hosts exactly unless ALLOW_NON_KAKAO_HOSTS
// says this is not production. The error names the setting and the way out.
func TestKakaoHostsOnlyUnlessAllowed(t *testing.T) {
	for _, ok := range []map[string]string{
		{"KAKAO_API_BASE_URL": "https://kapi.kakao.com", "KAKAO_AUTH_BASE_URL": "https://kauth.kakao.com"},
		{"KAKAO_API_BASE_URL": "https://kapi.kakao.com/", "KAKAO_AUTH_BASE_URL": "https://kauth.kakao.com/"},
		{"KAKAO_API_BASE_URL": "http://127.0.0.1:8081", "KAKAO_AUTH_BASE_URL": "http://127.0.0.1:8081", "ALLOW_NON_KAKAO_HOSTS": "true"},
	} {
		if _, err := FromEnv(env(ok)); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for _, bad := range []map[string]string{
		{"KAKAO_API_BASE_URL": "http://127.0.0.1:8081"},
		{"KAKAO_AUTH_BASE_URL": "https://kauth.kakao.com.evil.example"},
		{"KAKAO_API_BASE_URL": "http://kapi.kakao.com"},
		{"KAKAO_API_BASE_URL": "https://kapi.kakao.com/v2"},
		{"KAKAO_AUTH_BASE_URL": "https://KAUTH.kakao.com"},
		{"KAKAO_API_BASE_URL": "https://staging.example", "ALLOW_NON_KAKAO_HOSTS": "false"},
	} {
		_, err := FromEnv(env(bad))
		if err == nil || !strings.Contains(err.Error(), "ALLOW_NON_KAKAO_HOSTS") {
			t.Errorf("%v: %v, want a refusal that names ALLOW_NON_KAKAO_HOSTS", bad, err)
		}
	}
}

func TestRequire(t *testing.T) {
	c := Config{UserPoolID: "p", MappingTable: "m"}
	if err := c.Require("USER_POOL_ID", "MAPPING_TABLE"); err != nil {
		t.Fatal(err)
	}
	if err := c.Require("AUDIT_TABLE"); err == nil || !strings.Contains(err.Error(), "AUDIT_TABLE") {
		t.Fatalf("missing AUDIT_TABLE: %v", err)
	}
	if err := c.Require("NOPE"); err == nil {
		t.Fatal("unknown setting accepted")
	}
}

func TestFromEnvKakaoApp(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"KAKAO_APP_ID": "1001", "KAKAO_APP_KEYS": "restkey1, jskey222 ,", SecretPepper: "arn:p"}))
	if err != nil || c.KakaoAppID != 1001 || strings.Join(c.KakaoAppKeys, "|") != "restkey1|jskey222" || c.PepperSecretID != "arn:p" {
		t.Fatalf("%+v %v", c, err)
	}
	if err := c.Require("KAKAO_APP_ID", "KAKAO_APP_KEYS"); err != nil {
		t.Fatal(err)
	}
	if err := (Config{}).Require("KAKAO_APP_ID"); err == nil {
		t.Fatal("missing KAKAO_APP_ID passed Require")
	}
	for _, bad := range []map[string]string{{"KAKAO_APP_ID": "0"}, {"KAKAO_APP_ID": "12a"}, {"KAKAO_APP_KEYS": " , "}} {
		if _, err := FromEnv(env(bad)); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

// secretMap is Secrets Manager in memory; the adapter itself is tested
// against moto in shared/secretsmanager.
type secretMap map[string]string

func (m secretMap) GetSecret(_ context.Context, id string) (string, error) {
	v, ok := m[id]
	if !ok {
		return "", errors.New("ResourceNotFoundException")
	}
	return v, nil
}

const (
	pepperOne = "0123456789abcdef0123456789abcdef-one"
	pepperTwo = "0123456789abcdef0123456789abcdef-two"
)

func TestLoadSecrets(t *testing.T) {
	secrets := secretMap{
		"pepper": `{"current":"2","1":"` + pepperOne + `","2":"` + pepperTwo + `"}`,
		"admin":  " admin-key\n",
	}
	c := Config{PepperSecretID: "pepper", KakaoAdminKeySecretID: "admin"}
	if err := c.LoadSecrets(context.Background(), secrets, SecretPepper, SecretKakaoAdminKey); err != nil {
		t.Fatal(err)
	}
	if string(c.Pepper) != pepperTwo || c.PepperVersion != 2 || string(c.Peppers[1]) != pepperOne || c.KakaoAdminKey != "admin-key" {
		t.Fatalf("loaded %d %q", c.PepperVersion, c.KakaoAdminKey)
	}
	// A secret the function did not declare is not read.
	c = Config{PepperSecretID: "pepper"}
	if err := c.LoadSecrets(context.Background(), secrets, SecretPepper); err != nil || c.KakaoAdminKey != "" {
		t.Fatalf("%v %q", err, c.KakaoAdminKey)
	}
	for name, cfg := range map[string]Config{
		"no id":     {},
		"not found": {PepperSecretID: "nope"},
	} {
		if err := cfg.LoadSecrets(context.Background(), secrets, SecretPepper); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if err := (&Config{}).LoadSecrets(context.Background(), secrets, "OTHER"); err == nil {
		t.Error("unknown secret name accepted")
	}
	empty := Config{KakaoAdminKeySecretID: "blank"}
	if err := empty.LoadSecrets(context.Background(), secretMap{"blank": "  "}, SecretKakaoAdminKey); err == nil {
		t.Error("blank admin key accepted")
	}
}

func TestParsePeppersRefusesAndNeverEchoes(t *testing.T) {
	short := "short-pepper-value"
	for name, secret := range map[string]string{
		"not json":        pepperOne,
		"no current":      `{"1":"` + pepperOne + `"}`,
		"current missing": `{"current":"2","1":"` + pepperOne + `"}`,
		"short":           `{"current":"1","1":"` + short + `"}`,
		"short old":       `{"current":"1","1":"` + pepperOne + `","2":"` + short + `"}`,
		"version zero":    `{"current":"0","0":"` + pepperOne + `"}`,
		"version text":    `{"current":"v1","v1":"` + pepperOne + `"}`,
		"leading zero":    `{"current":"1","01":"` + pepperOne + `","1":"` + pepperTwo + `"}`,
	} {
		_, _, err := ParsePeppers(secret)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), short) || strings.Contains(err.Error(), pepperOne) {
			t.Errorf("%s: error quotes a pepper: %v", name, err)
		}
	}
	v, p, err := ParsePeppers(`{"current":"1","1":"` + pepperOne + `"}`)
	if err != nil || v != 1 || len(p) != 1 {
		t.Fatalf("%d %d %v", v, len(p), err)
	}
}
