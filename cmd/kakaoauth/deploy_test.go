package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// fakeSAM puts a `sam` on PATH that records each invocation (one line of
// arguments, NUL-separated) and succeeds: what kakaoauth deploy hands the
// SAM CLI, which is not installed here. It returns the environment to run
// the binary with and the record's path.
func fakeSAM(t *testing.T) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	record := filepath.Join(dir, "calls")
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\" >> " + record + "\nprintf '\\n' >> " + record + "\n"
	if err := os.WriteFile(filepath.Join(dir, "sam"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")}, record
}

func samCalls(t *testing.T, record string) [][]string {
	t.Helper()
	raw, err := os.ReadFile(record)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		calls = append(calls, strings.Split(strings.TrimSuffix(line, "\x00"), "\x00"))
	}
	return calls
}

// deployDir is a copy of the template and a samconfig.toml with what a
// guided deploy saved.
func deployDir(t *testing.T, samconfig string) string {
	t.Helper()
	dir := t.TempDir()
	tpl, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), tpl, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "samconfig.toml"), []byte(samconfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const savedConfig = `version = 0.1
[default.global.parameters]
stack_name = "kakaoauth"
region = "ap-northeast-2"
[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
parameter_overrides = "KakaoAppId=\"1234567\" KakaoAppKeys=\"0123456789abcdef0123456789abcdef\""
`

// The done-criterion: a bad parameter set is refused, in words,
// before anything is built or uploaded (sam is never called).
func TestDeployRefusesABadParameterSetBeforeAnyUpload(t *testing.T) {
	env, record := fakeSAM(t)
	dir := deployDir(t, "version = 0.1\n")
	flags := []string{"deploy", "-template", filepath.Join(dir, "template.yaml"), "-config-file", filepath.Join(dir, "samconfig.toml")}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-region", "ap-northeast-2", "-offline"}, []string{"KakaoAppId: is required and has no default: the numeric Kakao app id", "KakaoAppKeys: is required"}},
		{[]string{"-region", "ap-northeast-2", "-offline", "KakaoAppId=", "KakaoAppKeys=key"}, []string{"KakaoAppId: is empty: the numeric Kakao app id", `KakaoAppKeys: "key" is not one or more Kakao app keys`}},
		{[]string{"-region", "seoul", "-offline", "KakaoAppId=1234567", "KakaoAppKeys=0123456789abcdef"}, []string{`region: "seoul" is not an AWS region code`}},
		{[]string{"-offline", "KakaoAppId=1234567", "KakaoAppKeys=0123456789abcdef"}, []string{"region: no region"}},
		{[]string{"-region", "ap-northeast-2", "-offline", "KakaoAppId=1234567", "KakaoAppKeys=0123456789abcdef", "HostedUi=enabled"}, []string{"HostedUi=enabled needs KakaoIdAttribute=mutable"}},
		{[]string{"-region", "ap-northeast-2", "-offline", "KakaoAppId=1234567", "KakaoAppKeys=0123456789abcdef", "AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:ops"},
			[]string{"AlarmTopicArn: arn:aws:sns:us-east-1:123456789012:ops is in us-east-1, but the stack goes to ap-northeast-2"}},
	} {
		stdout, stderr, code := runCLIEnv(t, env, append(flags, c.args...)...)
		for _, w := range append(c.want, "Fix these first:", "nothing was built or uploaded") {
			if !strings.Contains(stdout+stderr, w) {
				t.Errorf("deploy %v: exit %d, output lacks %q:\n%s%s", c.args, code, w, stdout, stderr)
			}
		}
		if code != 1 {
			t.Errorf("deploy %v: exit %d, want 1", c.args, code)
		}
	}
	if calls := samCalls(t, record); len(calls) != 0 {
		t.Fatalf("sam was called: %q", calls)
	}
	if _, stderr, code := runCLIEnv(t, env, append(flags, "-region", "ap-northeast-2", "KakaoAppId")...); code != 2 || !strings.Contains(stderr, "parameters are Name=Value") {
		t.Fatalf("a bare name: exit %d %s", code, stderr)
	}
}

// A good set: sam build, then sam deploy in the named region with every
// parameter given, samconfig.toml's saved ones and the command line's
// together (the command line wins, one by one; nothing saved is dropped,
// unlike sam deploy --parameter-overrides).
func TestDeployRunsSAMWithEveryParameter(t *testing.T) {
	env, record := fakeSAM(t)
	dir := deployDir(t, savedConfig)
	tplPath, cfgPath := filepath.Join(dir, "template.yaml"), filepath.Join(dir, "samconfig.toml")
	stdout, stderr, code := runCLIEnv(t, env, "deploy", "-template", tplPath, "-config-file", cfgPath, "-region", "ap-northeast-2", "-offline", "-dry-run",
		"CorsAllowedOrigins=http://localhost:8090")
	if code != 0 || !strings.Contains(stdout, "-dry-run: nothing was run") || len(samCalls(t, record)) != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLIEnv(t, env, "deploy", "-template", tplPath, "-config-file", cfgPath, "-region", "ap-northeast-2", "-offline",
		"KakaoAppKeys=0123456789abcdef0123456789abcdef,fedcba9876543210", "HostedUiKakaoScopes=profile_nickname account_email")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	calls := samCalls(t, record)
	if len(calls) != 2 || calls[0][0] != "build" || calls[1][0] != "deploy" {
		t.Fatalf("sam calls %q", calls)
	}
	deploy := strings.Join(calls[1], " ")
	for _, want := range []string{
		"deploy --region ap-northeast-2 --stack-name kakaoauth --config-file " + cfgPath + " --config-env default --parameter-overrides",
		`KakaoAppId="1234567"`, // saved
		`KakaoAppKeys="0123456789abcdef0123456789abcdef,fedcba9876543210"`, // the command line's, over the saved one
		`HostedUiKakaoScopes="profile_nickname account_email"`,
	} {
		if !strings.Contains(deploy, want) {
			t.Errorf("sam %s\nlacks %s", deploy, want)
		}
	}
	for _, w := range []string{"ok    region ap-northeast-2", " parameters (3 given, the rest defaults)", "sam build", "sam deploy --region ap-northeast-2"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
}

// With AWS credentials (here moto's), the preflight reads what a first
// deploy trips over, and only reads: a secret not created in the region,
// an account without API Gateway's CloudWatch role.
func TestDeployChecksTheAccount(t *testing.T) {
	env, record := fakeSAM(t)
	motoURL := moto.ForTest(t).URL()
	dir := deployDir(t, "version = 0.1\n")
	name := fmt.Sprintf("kakaoauth/deploy-test-%d/kakao-admin-key", os.Getpid())
	args := []string{"deploy", "-template", filepath.Join(dir, "template.yaml"), "-config-file", filepath.Join(dir, "samconfig.toml"),
		"-region", moto.Region, "-endpoint-url", motoURL, "-dry-run", "KakaoAppId=1234567", "KakaoAppKeys=0123456789abcdef", "KakaoAdminKeySecretName=" + name}
	stdout, _, code := runCLIEnv(t, env, args...)
	for _, w := range []string{
		"ok    AWS account",
		"KakaoAdminKeySecretName: the secret " + name + " (the Kakao app's admin key) does not exist in us-east-1: create it first: aws secretsmanager create-secret --region us-east-1 --name " + name,
		"CreateApiGatewayLoggingRole: this account has no CloudWatch role for API Gateway in us-east-1",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("first try: output lacks %q:\n%s", w, stdout)
		}
	}
	if code != 1 {
		t.Errorf("first try: exit %d", code)
	}

	cfg := moto.AWSConfig(t.Context(), motoURL)
	if _, err := secretsmanager.NewFromConfig(cfg).CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: aws.String("admin-key")}); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runCLIEnv(t, env, append(args, "CreateApiGatewayLoggingRole=true")...)
	if code != 0 || !strings.Contains(stdout, "ok    KakaoAdminKeySecretName: the secret "+name+" exists in us-east-1") || strings.Contains(stdout, "CloudWatch role") {
		t.Fatalf("with the secret and the stack's own logging role: exit %d\n%s", code, stdout)
	}
	if _, err := apigateway.NewFromConfig(cfg).UpdateAccount(t.Context(), &apigateway.UpdateAccountInput{PatchOperations: []agtypes.PatchOperation{
		{Op: agtypes.OpReplace, Path: aws.String("/cloudwatchRoleArn"), Value: aws.String("arn:aws:iam::123456789012:role/apigw-logs")}}}); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = runCLIEnv(t, env, args...)
	if code != 0 || !strings.Contains(stdout, "ok    API Gateway's CloudWatch role is set in us-east-1") {
		t.Fatalf("with the account's role set: exit %d\n%s", code, stdout)
	}
	if calls := samCalls(t, record); len(calls) != 0 {
		t.Fatalf("sam was called on a dry run: %q", calls)
	}
}
