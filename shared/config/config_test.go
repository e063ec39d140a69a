package config

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaultsAndOverrides(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.KakaoAPIBaseURL != DefaultKakaoAPIBaseURL || c.KakaoAuthBaseURL != DefaultKakaoAuthBaseURL || c.PasswordRotation != DefaultPasswordRotation || c.AuditRetention != DefaultAuditRetention {
		t.Fatalf("defaults %+v", c)
	}
	c, err = FromEnv(env(map[string]string{"PASSWORD_ROTATION": "90m", "AUDIT_RETENTION_DAYS": "30", "KAKAO_API_BASE_URL": "http://k"}))
	if err != nil || c.PasswordRotation != 90*time.Minute || c.AuditRetention != 30*24*time.Hour || c.KakaoAPIBaseURL != "http://k" {
		t.Fatalf("overrides %+v %v", c, err)
	}
	for _, bad := range []map[string]string{{"PASSWORD_ROTATION": "soon"}, {"PASSWORD_ROTATION": "-1h"}, {"AUDIT_RETENTION_DAYS": "0"}, {"AUDIT_RETENTION_DAYS": "x"}} {
		if _, err := FromEnv(env(bad)); err == nil {
			t.Fatalf("%v accepted", bad)
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

// LoadParameters reads real SSM (moto), SecureStrings decrypted, and
// never puts a secret value into an error.
func TestLoadParametersFromSSM(t *testing.T) {
	ctx := context.Background()
	client := ssm.NewFromConfig(moto.AWSConfig(ctx, moto.ForTest(t).URL()))
	const pepper = "pepper-pepper-pepper-pepper-pepper-0123"
	if err := provision.StoreSettings(ctx, client, map[string]provision.Parameter{
		"/cfgtest/ok/" + ParamKakaoAppID:    {Value: "1001"},
		"/cfgtest/ok/" + ParamKakaoAppKeys:  {Value: "key-a, key-b"},
		"/cfgtest/ok/" + ParamKakaoAdminKey: {Value: "admin-key-value", Secure: true},
		"/cfgtest/ok/" + ParamPepper:        {Value: pepper, Secure: true},
		"/cfgtest/weak/" + ParamPepper:      {Value: "short-secret", Secure: true},
		"/cfgtest/weak/" + ParamKakaoAppID:  {Value: "not-a-number"},
	}); err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := c.LoadParameters(ctx, client, "/cfgtest/ok/", ParamKakaoAppID, ParamKakaoAppKeys, ParamKakaoAdminKey, ParamPepper); err != nil {
		t.Fatal(err)
	}
	if c.KakaoAppID != 1001 || strings.Join(c.KakaoAppKeys, "|") != "key-a|key-b" || c.KakaoAdminKey != "admin-key-value" || string(c.Pepper) != pepper {
		t.Fatalf("loaded %+v", c)
	}
	// Only what is asked for is read.
	var partial Config
	if err := partial.LoadParameters(ctx, client, "/cfgtest/ok", ParamKakaoAppID); err != nil || partial.Pepper != nil || partial.KakaoAppID != 1001 {
		t.Fatalf("partial %+v %v", partial, err)
	}
	for _, name := range []string{ParamPepper, ParamKakaoAppID} {
		err := new(Config).LoadParameters(ctx, client, "/cfgtest/weak", name)
		if err == nil || strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), "not-a-number") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := new(Config).LoadParameters(ctx, client, "/cfgtest/missing", ParamPepper); err == nil || !strings.Contains(err.Error(), "missing parameters") {
		t.Fatalf("missing: %v", err)
	}
	if err := new(Config).LoadParameters(ctx, client, "", ParamPepper); err == nil {
		t.Fatal("empty prefix accepted")
	}
}
