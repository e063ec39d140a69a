package config

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/infra/provision"
)

// HOSTED_UI is the stack parameter HostedUi as the functions get it.
func TestHostedUIFromEnv(t *testing.T) {
	for v, want := range map[string]bool{"": false, "disabled": false, "enabled": true} {
		c, err := FromEnv(env(map[string]string{"HOSTED_UI": v}))
		if err != nil || c.HostedUI != want {
			t.Fatalf("HOSTED_UI=%q: %v %v", v, c.HostedUI, err)
		}
		if err := c.Require("HOSTED_UI"); (err == nil) != want {
			t.Fatalf("Require(HOSTED_UI) with %q: %v", v, err)
		}
	}
	if _, err := FromEnv(env(map[string]string{"HOSTED_UI": "on"})); err == nil {
		t.Fatal("HOSTED_UI=on accepted")
	}
}

// The PreSignUp trigger's pool comes from SSM (the template cannot put it
// in the trigger's environment without a cycle).
func TestUserPoolIDFromSSM(t *testing.T) {
	ctx := context.Background()
	client := ssm.NewFromConfig(moto.AWSConfig(ctx, moto.ForTest(t).URL()))
	if err := provision.StoreSettings(ctx, client, map[string]provision.Parameter{
		"/cfgtest/pool/" + ParamUserPoolID:   {Value: "ap-northeast-2_Pool"},
		"/cfgtest/nopool/" + ParamUserPoolID: {Value: " "},
	}); err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := c.LoadParameters(ctx, client, "/cfgtest/pool", ParamUserPoolID); err != nil || c.UserPoolID != "ap-northeast-2_Pool" {
		t.Fatalf("%+v %v", c, err)
	}
	if err := new(Config).LoadParameters(ctx, client, "/cfgtest/nopool", ParamUserPoolID); err == nil {
		t.Fatal("a blank pool id accepted")
	}
}
