package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kakaoauth/kakaoauth/infra/preflight"
)

func init() {
	commands["deploy"] = command{summary: "check every parameter and the region before anything is uploaded, then sam build and sam deploy", run: runDeploy}
}

const deployUsage = `usage: kakaoauth deploy -region REGION [flags] [Name=Value ...]

Checks a deployment before anything is built or uploaded, then runs
sam build and sam deploy with every parameter:
  - every parameter of template.yaml (required ones given, patterns, allowed
    values, bounds) and the template's Rules, in words that say what to fix;
  - the region (one with Cognito user pools and Step Functions);
  - with AWS credentials (unless -offline): who you are, that the Kakao admin
    key's secret exists in that region (and the hosted UI's client secret),
    and that API Gateway can write the access log there.
Parameters come from samconfig.toml's parameter_overrides (what
sam deploy --guided saved) and then from Name=Value arguments, one by one:
unlike sam deploy --parameter-overrides, giving one drops none of the saved
ones. Parameters given nowhere take the template's default.

  kakaoauth deploy -region ap-northeast-2 KakaoAppId=1234567 KakaoAppKeys=0123456789abcdef0123456789abcdef

flags:
`

// DeployMain is `kakaoauth deploy`: the preflight, then SAM.
type DeployMain struct {
	Template   string // template.yaml
	Config     string // samconfig.toml; "" or missing: none
	ConfigEnv  string // its environment, "default"
	Region     string
	Stack      string
	Profile    string
	Overrides  map[string]string // Name=Value arguments
	DryRun     bool              // check and print the commands only
	Offline    bool              // no AWS reads
	List       bool              // print every parameter and exit
	SAM        string            // the SAM CLI; default "sam" on PATH
	AWSTarget  *awsTarget        // for the AWS reads
	Out, Err   io.Writer
	runCommand func(ctx context.Context, dir string, args ...string) error
}

func runDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("deploy", stderr, deployUsage)
	m := DeployMain{Out: stdout, Err: stderr, Overrides: map[string]string{}}
	target := awsTarget{command: "deploy"}
	target.register(f, "")
	// Here -stack is the stack to deploy, not one to read outputs from.
	f.Lookup("stack").Usage = "the CloudFormation stack to deploy (default: samconfig.toml's stack_name, else kakaoauth)"
	f.StringVar(&m.Template, "template", "template.yaml", "the SAM template")
	f.StringVar(&m.Config, "config-file", "samconfig.toml", "SAM's configuration file, whose parameter_overrides, region and stack_name apply")
	f.StringVar(&m.ConfigEnv, "config-env", "default", "the environment of -config-file")
	f.BoolVar(&m.DryRun, "dry-run", false, "check, print the sam commands, run nothing")
	f.BoolVar(&m.Offline, "offline", false, "check without AWS (no credentials needed): parameters, rules and region only")
	f.BoolVar(&m.List, "parameters", false, "list every parameter (group, default, what it is, the value this deploy would use) and exit")
	if err := f.parse(args); err != nil {
		return err
	}
	for _, a := range f.Args() {
		name, value, ok := strings.Cut(a, "=")
		if !ok || !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(name) {
			return fmt.Errorf("deploy: %q: parameters are Name=Value, e.g. KakaoAppId=1234567 (flags come before them)", a)
		}
		if _, dup := m.Overrides[name]; dup {
			return fmt.Errorf("deploy: %s given twice", name)
		}
		m.Overrides[name] = value
	}
	m.Region, m.Stack, m.Profile, m.AWSTarget = target.region, target.stack, target.profile, &target
	if target.endpoint != "" && target.profile != "" {
		return errors.New("deploy: -endpoint-url uses dummy credentials; -profile does not apply")
	}
	return m.Run(ctx)
}

// deployProblems is a refused deployment: exit status 1, not 2.
type deployProblems struct{ n int }

func (e *deployProblems) Error() string {
	return fmt.Sprintf("deploy: %d problem(s) above; nothing was built or uploaded", e.n)
}

func (e *deployProblems) ExitCode() int { return 1 }

// Run checks, then (unless DryRun) builds and deploys.
func (m *DeployMain) Run(ctx context.Context) error {
	tpl, err := preflight.Load(m.Template)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	saved, err := preflight.ReadSamConfig(m.Config, m.ConfigEnv)
	if err != nil {
		return fmt.Errorf("deploy: %s: %w", m.Config, err)
	}
	m.Region = orDefault(m.Region, saved.Region)
	m.Stack = orDefault(orDefault(m.Stack, saved.StackName), "kakaoauth")
	values := map[string]string{}
	from := map[string]string{}
	for k, v := range saved.ParameterOverrides {
		values[k], from[k] = v, filepath.Base(m.Config)
	}
	for k, v := range m.Overrides {
		values[k], from[k] = v, "command line"
	}
	if m.List {
		return m.listParameters(tpl, values, from)
	}

	var problems []string
	okLine := func(what string) { fmt.Fprintf(m.Out, "  ok    %s\n", what) }
	fmt.Fprintf(m.Out, "kakaoauth deploy: stack %s in %s, template %s\n", m.Stack, orDefault(m.Region, "(no region)"), m.Template)
	if msg := preflight.CheckRegion(m.Region); msg != "" {
		problems = append(problems, "region: "+msg)
	} else {
		okLine("region " + m.Region)
	}
	checks := tpl.Check(values)
	for _, p := range checks {
		problems = append(problems, p.String())
	}
	if m.Region != "" {
		problems = append(problems, arnRegionProblems(tpl, values, m.Region)...)
	}
	if len(checks) == 0 {
		okLine(fmt.Sprintf("%d parameters (%d given, the rest defaults) and the template's rules", len(tpl.Parameters), len(values)))
	}
	if len(problems) == 0 && !m.Offline {
		online, err := m.checkAWS(ctx, tpl, values, okLine)
		if err != nil {
			return err
		}
		problems = append(problems, online...)
	}
	if len(problems) > 0 {
		fmt.Fprintln(m.Out, "\nFix these first:")
		for _, p := range problems {
			fmt.Fprintf(m.Out, "  - %s\n", p)
		}
		return &deployProblems{n: len(problems)}
	}

	build := []string{"build"}
	deploy := []string{"deploy", "--region", m.Region, "--stack-name", m.Stack}
	if m.Config != "" {
		if _, err := os.Stat(m.Config); err == nil {
			deploy = append(deploy, "--config-file", m.Config, "--config-env", m.ConfigEnv)
			build = append(build, "--config-file", m.Config, "--config-env", m.ConfigEnv)
		}
	}
	if m.Profile != "" {
		deploy = append(deploy, "--profile", m.Profile)
	}
	if len(values) > 0 {
		deploy = append(deploy, "--parameter-overrides")
		for _, p := range tpl.Parameters {
			if v, ok := values[p.Name]; ok {
				deploy = append(deploy, p.Name+"="+samQuote(v))
			}
		}
	}
	sam := orDefault(m.SAM, "sam")
	fmt.Fprintf(m.Out, "\nthen:\n  %s %s\n  %s %s\n", sam, shellJoin(build), sam, shellJoin(deploy))
	if m.DryRun {
		fmt.Fprintln(m.Out, "(-dry-run: nothing was run)")
		return nil
	}
	if _, err := exec.LookPath(sam); err != nil {
		return fmt.Errorf("deploy: the checks passed, but the SAM CLI is not installed (%s not found): "+
			"https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html (macOS: brew install aws-sam-cli)", sam)
	}
	dir := filepath.Dir(m.Template)
	run := m.runCommand
	if run == nil {
		run = m.exec
	}
	if err := run(ctx, dir, append([]string{sam}, build...)...); err != nil {
		return fmt.Errorf("deploy: sam build: %w", err)
	}
	if err := run(ctx, dir, append([]string{sam}, deploy...)...); err != nil {
		return fmt.Errorf("deploy: sam deploy: %w", err)
	}
	return nil
}

func (m *DeployMain) exec(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, m.Out, m.Err
	return cmd.Run()
}

// checkAWS reads (never writes) what a first deploy trips over: missing
// credentials, a secret not created in this region, no CloudWatch role
// for API Gateway's access log.
func (m *DeployMain) checkAWS(ctx context.Context, tpl *preflight.Template, values map[string]string, ok func(string)) ([]string, error) {
	target := *m.AWSTarget
	target.region = m.Region
	cfg, err := target.config(ctx)
	if err != nil {
		return nil, err
	}
	value := func(name string) string {
		if v, given := values[name]; given {
			return v
		}
		for _, p := range tpl.Parameters {
			if p.Name == name && p.Default != nil {
				return *p.Default
			}
		}
		return ""
	}
	var problems []string
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return []string{fmt.Sprintf("AWS credentials: none that work (%v): configure them (aws configure, AWS_PROFILE or -profile), or check the parameters alone with -offline", err)}, nil
	}
	ok(fmt.Sprintf("AWS account %s, as %s", aws.ToString(who.Account), aws.ToString(who.Arn)))

	secrets := secretsmanager.NewFromConfig(cfg)
	secret := func(param, what, create string) {
		name := value(param)
		_, err := secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: &name})
		var nf *smtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
			problems = append(problems, fmt.Sprintf("%s: the secret %s (%s) does not exist in %s: create it first: %s", param, name, what, m.Region, create))
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: could not read the secret %s in %s: %v", param, name, m.Region, err))
		default:
			ok(fmt.Sprintf("%s: the secret %s exists in %s", param, name, m.Region))
		}
	}
	secret("KakaoAdminKeySecretName", "the Kakao app's admin key",
		fmt.Sprintf("aws secretsmanager create-secret --region %s --name %s --secret-string \"$KAKAO_ADMIN_KEY\" (docs/deploy.md)", m.Region, value("KakaoAdminKeySecretName")))
	if value("HostedUi") == "enabled" {
		secret("KakaoClientSecretName", "the Kakao app's client secret",
			fmt.Sprintf("aws secretsmanager create-secret --region %s --name %s --secret-string \"$KAKAO_CLIENT_SECRET\" (docs/hosted-ui.md)", m.Region, value("KakaoClientSecretName")))
	}
	if value("CreateApiGatewayLoggingRole") != "true" {
		acct, err := apigateway.NewFromConfig(cfg).GetAccount(ctx, &apigateway.GetAccountInput{})
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("CreateApiGatewayLoggingRole: could not read API Gateway's account settings in %s (%v); see docs/deploy.md", m.Region, err))
		case aws.ToString(acct.CloudwatchRoleArn) == "":
			problems = append(problems, fmt.Sprintf("CreateApiGatewayLoggingRole: this account has no CloudWatch role for API Gateway in %s, so the API's access log "+
				"cannot be written and the deploy would fail. Add CreateApiGatewayLoggingRole=true (the stack creates the role and makes it the account's), "+
				"or set one for the account yourself (docs/deploy.md)", m.Region))
		default:
			ok("API Gateway's CloudWatch role is set in " + m.Region + " (access logs)")
		}
	}
	return problems, nil
}

// arnRegionProblems refuses ARNs of another region than the stack's: a
// KMS key or an SNS topic there cannot be used.
func arnRegionProblems(tpl *preflight.Template, values map[string]string, region string) []string {
	var out []string
	for _, p := range tpl.Parameters {
		v := values[p.Name]
		parts := strings.SplitN(v, ":", 6)
		if !strings.HasSuffix(p.Name, "Arn") || len(parts) < 6 || parts[3] == "" || parts[3] == region {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s is in %s, but the stack goes to %s", p.Name, v, parts[3], region))
	}
	return out
}

func (m *DeployMain) listParameters(tpl *preflight.Template, values, from map[string]string) error {
	for _, p := range tpl.Parameters {
		def := "(required)"
		if p.Default != nil {
			def = fmt.Sprintf("default %q", *p.Default)
		}
		fmt.Fprintf(m.Out, "%s  %s\n", p.Name, def)
		if v, ok := values[p.Name]; ok {
			fmt.Fprintf(m.Out, "    this deploy: %q (%s)\n", v, from[p.Name])
		}
		fmt.Fprintf(m.Out, "    %s\n", wrap(p.Description, 94, "    "))
	}
	return nil
}

// wrap breaks text into lines of at most width, joined with newline+indent.
func wrap(text string, width int, indent string) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	lines = append(lines, line)
	return strings.Join(lines, "\n"+indent)
}

// samQuote quotes a parameter value as SAM's --parameter-overrides reads
// it (Name="value", backslash escapes).
func samQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// shellJoin prints args as a shell would need them.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\"'\\$`*?[]{}()<>|&;!#~") {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
