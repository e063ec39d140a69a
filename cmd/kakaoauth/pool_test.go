package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/userpool"
	"github.com/kakaoauth/kakaoauth/shared/userpool/userpooltest"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/existing-pool.md's sample dry-run output from this run")

// poolFixture is the team's fully configured pool in moto, a kakaoauth
// stack (its outputs) deployed into it, and the wire in between.
type poolFixture struct {
	*userpooltest.TeamPool
	stack string
	fns   userpool.Functions
}

func newPoolFixture(t *testing.T, name string, hostedUI bool) *poolFixture {
	t.Helper()
	ctx := context.Background()
	name = fmt.Sprintf("%s-%d", name, time.Now().UnixNano()%1_000_000) // fresh on every run against one moto
	p := userpooltest.New(t, moto.ForTest(t).URL(), name)
	f := &poolFixture{TeamPool: p, stack: name + "-kakaoauth", fns: userpool.Functions{}}
	poolID := p.ID
	outputs := map[string]any{"UserPoolId": map[string]string{"Value": poolID}}
	for _, o := range poolOutputs {
		if o.slot == userpool.PreSignUp && !hostedUI {
			continue
		}
		arn := userpooltest.FunctionARN("kakaoauth-" + strings.TrimSuffix(o.output, "Arn") + "-1A2B3C4D5E6F")
		f.fns[o.slot] = arn
		outputs[o.output] = map[string]string{"Value": arn}
	}
	tpl, _ := json.Marshal(map[string]any{
		"Resources": map[string]any{"Handle": map[string]string{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
		"Outputs":   outputs,
	})
	if _, err := cloudformation.NewFromConfig(moto.AWSConfig(ctx, p.Endpoint)).CreateStack(ctx, &cloudformation.CreateStackInput{StackName: &f.stack, TemplateBody: aws.String(string(tpl))}); err != nil {
		t.Fatal(err)
	}
	p.Proxy.Reset()
	return f
}

// pool runs the binary against the fixture's stack; stdin answers the
// confirmation.
func (f *poolFixture) pool(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	args = append(append([]string{"pool"}, args...), "-stack", f.stack, endpointFlag(), f.Endpoint)
	return runCLIInput(t, stdin, args...)
}

func (f *poolFixture) triggers(t *testing.T) map[userpool.Slot]string {
	t.Helper()
	out, err := f.IDP.DescribeUserPool(context.Background(), &cip.DescribeUserPoolInput{UserPoolId: &f.ID})
	if err != nil {
		t.Fatal(err)
	}
	lc := out.UserPool.LambdaConfig
	return map[userpool.Slot]string{
		userpool.PreAuthentication: aws.ToString(lc.PreAuthentication), userpool.DefineAuthChallenge: aws.ToString(lc.DefineAuthChallenge),
		userpool.CreateAuthChallenge: aws.ToString(lc.CreateAuthChallenge), userpool.VerifyAuthChallengeResponse: aws.ToString(lc.VerifyAuthChallengeResponse),
		userpool.PreSignUp: aws.ToString(lc.PreSignUp), "PostConfirmation": aws.ToString(lc.PostConfirmation),
	}
}

// A person's path through attach and detach, through the real binary: the
// dry run shows the change and writes nothing, a "no" writes nothing, a
// "yes" attaches and says how to undo, a second attach has nothing to do,
// and detach puts the pool's triggers back as they were.
func TestPoolThroughTheBinary(t *testing.T) {
	f := newPoolFixture(t, "team-cli", true)

	out, stderr, code := f.pool(t, "", "attach", "-dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		"kakaoauth pool attach: user pool " + f.ID,
		"  LambdaConfig.PreAuthentication\n  - (none)\n  + " + f.fns[userpool.PreAuthentication] + "\n",
		"  LambdaConfig.PreSignUp\n  - (none)\n  + " + f.fns[userpool.PreSignUp] + "\n",
		"  SchemaAttributes[custom:kakao_id]\n  - (none)\n  + String, mutable, 1 to 20 characters (AddCustomAttributes)\n",
		"Dry run: nothing was changed.",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PostConfirmation") || f.Writes() != 0 {
		t.Fatalf("dry run: %d writes\n%s", f.Writes(), out)
	}

	out, stderr, code = f.pool(t, "no\n", "attach")
	if code != 1 || !strings.Contains(stderr, "Type yes to go on") || !strings.Contains(stderr, "not confirmed; nothing was changed") || f.Writes() != 0 {
		t.Fatalf("declined: exit %d, %d writes\n%s%s", code, f.Writes(), out, stderr)
	}

	out, stderr, code = f.pool(t, "yes\n", "attach", "-backup", filepath.Join(t.TempDir(), "before.json"))
	if code != 0 {
		t.Fatalf("attach: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "Done: user pool "+f.ID+" read back; nothing but the lines above changed.") ||
		!strings.Contains(out, "To undo: kakaoauth pool detach -stack "+f.stack+" "+endpointFlag()+" "+f.Endpoint+"\n") ||
		!strings.Contains(out, "custom:kakao_id stays") {
		t.Fatalf("attach said:\n%s", out)
	}
	got := f.triggers(t)
	for slot, arn := range f.fns {
		if got[slot] != arn {
			t.Fatalf("after attach %s = %q", slot, got[slot])
		}
	}
	if got["PostConfirmation"] != aws.ToString(userpooltest.TheirTriggers.PostConfirmation) {
		t.Fatalf("the team's PostConfirmation: %q", got["PostConfirmation"])
	}
	if f.Proxy.Count("UpdateUserPool") != 1 || f.Proxy.Count("AddCustomAttributes") != 1 {
		t.Fatalf("attach wrote %v", f.Proxy.Counts())
	}

	f.Proxy.Reset()
	out, stderr, code = f.pool(t, "", "attach")
	if code != 0 || !strings.Contains(out, "Nothing to change") || f.Writes() != 0 {
		t.Fatalf("second attach: exit %d, %d writes\n%s%s", code, f.Writes(), out, stderr)
	}

	out, stderr, code = f.pool(t, "", "detach", "-yes")
	if code != 0 || !strings.Contains(out, "  LambdaConfig.DefineAuthChallenge\n  - "+f.fns[userpool.DefineAuthChallenge]+"\n  + (none)\n") ||
		!strings.Contains(out, "custom:kakao_id stays in the pool's schema") || !strings.Contains(out, "To put them back: kakaoauth pool attach") {
		t.Fatalf("detach: exit %d\n%s%s", code, out, stderr)
	}
	got = f.triggers(t)
	for slot := range f.fns {
		if got[slot] != "" {
			t.Fatalf("after detach %s = %q", slot, got[slot])
		}
	}
	if got["PostConfirmation"] == "" {
		t.Fatal("detach took the team's PostConfirmation")
	}
}

// A slot another function holds is refused, naming the function, before
// anything is written, also with -yes.
func TestPoolRefusesATakenSlot(t *testing.T) {
	ctx := context.Background()
	f := newPoolFixture(t, "team-taken", false)
	read, err := userpool.Read(ctx, f.IDP, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	passwordless := userpooltest.FunctionARN("team-passwordless-define-challenge")
	in := userpool.UpdateInput(&read.Pool)
	in.LambdaConfig.DefineAuthChallenge = &passwordless
	if _, err := f.IDP.UpdateUserPool(ctx, in); err != nil {
		t.Fatal(err)
	}
	f.Proxy.Reset()
	backup := filepath.Join(t.TempDir(), "pool.json")
	out, stderr, code := f.pool(t, "", "attach", "-yes", "-backup", backup)
	if code != 1 {
		t.Fatalf("taken slot: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "the DefineAuthChallenge trigger is held by "+passwordless) || !strings.Contains(stderr, "Nothing was changed") {
		t.Fatalf("message:\n%s", stderr)
	}
	if f.Writes() != 0 {
		t.Fatalf("refused, yet wrote: %v", f.Proxy.Counts())
	}
	if got := f.triggers(t); got[userpool.DefineAuthChallenge] != passwordless || got[userpool.PreAuthentication] != "" {
		t.Fatalf("triggers %v", got)
	}
	// The backup was written before the refusal, from what was read.
	var saved struct{ UserPool struct{ Id string } }
	if b, err := os.ReadFile(backup); err != nil || json.Unmarshal(b, &saved) != nil || saved.UserPool.Id != f.ID {
		t.Fatalf("backup %v %+v", err, saved)
	}
	// An existing backup is never overwritten.
	if _, stderr, code := f.pool(t, "", "attach", "-dry-run", "-backup", backup); code != 2 || !strings.Contains(stderr, "file exists") {
		t.Fatalf("second backup: exit %d %s", code, stderr)
	}
}

func TestPoolUsage(t *testing.T) {
	for _, args := range [][]string{{"pool", "-h"}, {"pool", "attach", "-h"}, {"pool", "detach", "--help"}} {
		_, stderr, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(stderr, "kakaoauth pool attach|detach") {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
	}
	if _, stderr, code := runCLI(t, "pool", "attach", "-h"); !strings.Contains(stderr, "-dry-run") || !strings.Contains(stderr, "-user-pool-id") || code != 0 {
		t.Fatalf("flags:\n%s", stderr)
	}
	arn := userpooltest.FunctionARN("f")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pool"}, "attach or detach?"},
		{[]string{"pool", "nope"}, `unknown action "nope"`},
		{[]string{"pool", "attach", endpointFlag(), "http://127.0.0.1:1"}, "give -stack or the -*-arn flags"},
		{[]string{"pool", "attach", "-stack", "s", "-pre-auth-arn", arn, endpointFlag(), "http://127.0.0.1:1"}, "not both"},
		{[]string{"pool", "attach", "-pre-auth-arn", arn, endpointFlag(), "http://127.0.0.1:1"}, "give -user-pool-id"},
		{[]string{"pool", "attach", "-user-pool-id", "ap-northeast-2_x", "-pre-auth-arn", arn, endpointFlag(), "http://127.0.0.1:1"}, "give -region ap-northeast-2"},
		{[]string{"pool", "attach", "extra", "-stack", "s"}, `unexpected argument "extra"`},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, stderr)
		}
	}
}

// A stack without the pool outputs (an older kakaoauth) says which are
// missing; explicit ARNs must name every function attach needs.
func TestPoolNeedsKakaoauthsFunctions(t *testing.T) {
	ctx := context.Background()
	f := newPoolFixture(t, "team-old-stack", false)
	old := f.stack + "-old"
	tpl := `{"Resources":{"Handle":{"Type":"AWS::CloudFormation::WaitConditionHandle"}},"Outputs":{"UserPoolId":{"Value":"` + f.ID + `"}}}`
	if _, err := cloudformation.NewFromConfig(moto.AWSConfig(ctx, f.Endpoint)).CreateStack(ctx, &cloudformation.CreateStackInput{StackName: &old, TemplateBody: &tpl}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "pool", "attach", "-stack", old, endpointFlag(), f.Endpoint)
	if code != 2 || !strings.Contains(stderr, "has no PreAuthFunctionArn, DefineAuthChallengeFunctionArn, CreateAuthChallengeFunctionArn, VerifyAuthChallengeFunctionArn output") {
		t.Fatalf("old stack: exit %d %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "pool", "attach", "-user-pool-id", f.ID, "-pre-auth-arn", f.fns[userpool.PreAuthentication], endpointFlag(), f.Endpoint)
	if code != 2 || !strings.Contains(stderr, "no function for the DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse trigger") {
		t.Fatalf("one ARN: exit %d %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "pool", "attach", "-stack", f.stack, "-user-pool-id", "us-east-1_other", endpointFlag(), f.Endpoint)
	if code != 2 || !strings.Contains(stderr, "serves user pool "+f.ID+", not us-east-1_other") {
		t.Fatalf("another pool: exit %d %s", code, stderr)
	}
	// A stack that created its own pool: CloudFormation owns its triggers.
	own := f.stack + "-own"
	tpl = `{"Parameters":{"UserPoolId":{"Type":"String","Default":""}},"Resources":{"Handle":{"Type":"AWS::CloudFormation::WaitConditionHandle"}},` +
		`"Outputs":{"UserPoolId":{"Value":"` + f.ID + `"},"PreAuthFunctionArn":{"Value":"` + f.fns[userpool.PreAuthentication] + `"}}}`
	if _, err := cloudformation.NewFromConfig(moto.AWSConfig(ctx, f.Endpoint)).CreateStack(ctx, &cloudformation.CreateStackInput{StackName: &own, TemplateBody: &tpl}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCLI(t, "pool", "detach", "-stack", own, endpointFlag(), f.Endpoint)
	if code != 2 || !strings.Contains(stderr, "created its own user pool and CloudFormation sets its triggers") {
		t.Fatalf("own pool: exit %d %s", code, stderr)
	}
	if f.Writes() != 0 {
		t.Fatalf("wrote %v", f.Proxy.Counts())
	}
}

// endpointFlag is awsTarget's flag for an AWS endpoint.
func endpointFlag() string { return "-" + flagEndpointURL }

const docsPath = "../../docs/existing-pool.md"

// The sample in docs/existing-pool.md is this run's output (the pool's
// random moto id aside): go test ./cmd/kakaoauth -run TestPoolDocsSample -update-docs
// rewrites it.
func TestPoolDocsSample(t *testing.T) {
	f := newPoolFixture(t, "team-users", false)
	out, stderr, code := f.pool(t, "", "attach", "-dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	checkDocSample(t, "pool attach -dry-run sample: TestPoolDocsSample", f.docSample(out))
}

// docSample is output as the docs show it: the example pool's id and name.
func (f *poolFixture) docSample(out string) string {
	out = strings.ReplaceAll(out, f.ID, "us-east-1_EXAMPLE")
	return regexp.MustCompile(`team-users-\d+`).ReplaceAllString(out, "team-users")
}

// checkDocSample compares the text block after the marker comment in
// docs/existing-pool.md with out (-update-docs writes out there).
func checkDocSample(t *testing.T, marker, out string) {
	t.Helper()
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)(<!-- " + regexp.QuoteMeta(marker) + " -->\n```text\n)(.*?)(```)")
	m := block.FindSubmatchIndex(doc)
	if m == nil {
		t.Fatalf("%s has no block marked %q", docsPath, marker)
	}
	if *updateDocs {
		doc = append(append(append([]byte{}, doc[:m[4]]...), out...), doc[m[5]:]...)
		if err := os.WriteFile(docsPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := string(doc[m[4]:m[5]]); got != out {
		t.Fatalf("%s's sample is not what the tool prints now (rerun with -update-docs):\n%s\nprints\n%s", docsPath, got, out)
	}
}

// A pool with users named as kakaoauth names its own that it did not
// create (a native kakao_1234 with a password, an identity provider's
// kakao_987654321) is refused, naming them, before anything is written:
// by the dry run and with -yes. Once they are kakaoauth's (custom:kakao_id)
// attach goes on. The refusal in docs/existing-pool.md is this run's.
func TestPoolRefusesReservedUsernames(t *testing.T) {
	f := newPoolFixture(t, "team-users", false)
	userpooltest.CreateUser(t, f.IDP, f.ID, "kakao_1234", "Team-Passw0rd-Team-Passw0rd!", "email", "kim@team.example")
	userpooltest.CreateUser(t, f.IDP, f.ID, "kakao_987654321", "")
	userpooltest.CreateUser(t, f.IDP, f.ID, "kakao_jiwoo", "Team-Passw0rd-Team-Passw0rd!")
	f.Proxy.Reset()
	for _, args := range [][]string{{"attach", "-dry-run"}, {"attach", "-yes"}} {
		out, stderr, code := f.pool(t, "", args...)
		if code != 1 || out != "" {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
		for _, want := range []string{
			"kakaoauth: user pool " + f.ID + " has 2 users named as kakaoauth names",
			"\n  kakao_1234 (CONFIRMED)\n  kakao_987654321 (FORCE_CHANGE_PASSWORD)\n",
			"Nothing was changed", "(docs/existing-pool.md,\n\"A Kakao OIDC provider already in your pool\")",
		} {
			if !strings.Contains(stderr, want) {
				t.Fatalf("%v: stderr lacks %q:\n%s", args, want, stderr)
			}
		}
		if strings.Contains(stderr, "kakao_jiwoo") || f.Writes() != 0 {
			t.Fatalf("%v: %d writes\n%s", args, f.Writes(), stderr)
		}
		if args[1] == "-dry-run" {
			checkDocSample(t, "pool attach refusal sample: TestPoolRefusesReservedUsernames", f.docSample(stderr))
		}
	}
	if got := f.triggers(t); got[userpool.PreAuthentication] != "" {
		t.Fatalf("refused, yet PreAuthentication is %q", got[userpool.PreAuthentication])
	}

	// The same names, kakaoauth's own: attach goes on.
	ctx := context.Background()
	for _, name := range []string{"kakao_1234", "kakao_987654321"} {
		if _, err := f.IDP.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: &f.ID, Username: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.IDP.AddCustomAttributes(ctx, &cip.AddCustomAttributesInput{UserPoolId: &f.ID, CustomAttributes: []types.SchemaAttributeType{{
		Name: aws.String("kakao_id"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true),
		StringAttributeConstraints: &types.StringAttributeConstraintsType{MinLength: aws.String("1"), MaxLength: aws.String("20")},
	}}}); err != nil {
		t.Fatal(err)
	}
	userpooltest.CreateUser(t, f.IDP, f.ID, "kakao_1234", "", "custom:kakao_id", "1234")
	userpooltest.CreateUser(t, f.IDP, f.ID, "kakao_987654321", "", "custom:kakao_id", "987654321")
	out, stderr, code := f.pool(t, "", "attach", "-yes")
	if code != 0 || !strings.Contains(out, "Done: user pool "+f.ID) {
		t.Fatalf("kakaoauth's own users: exit %d\n%s%s", code, out, stderr)
	}
	if got := f.triggers(t); got[userpool.PreAuthentication] != f.fns[userpool.PreAuthentication] {
		t.Fatalf("PreAuthentication is %q", got[userpool.PreAuthentication])
	}
}
