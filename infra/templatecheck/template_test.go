package templatecheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/preflight"
	"github.com/kakaoauth/kakaoauth/infra/python"
	"github.com/kakaoauth/kakaoauth/infra/rie"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/password"
	"github.com/kakaoauth/kakaoauth/workflow"
)

const root = "../.."

// cfn is the CloudFormation template the SAM translator produces.
type cfn struct {
	Metadata   map[string]any
	Rules      map[string]any
	Resources  map[string]resource
	Outputs    map[string]map[string]any
	Parameters map[string]map[string]any
	Conditions map[string]any
}

type resource struct {
	Type string
	// DeletionPolicy and UpdateReplacePolicy: a policy, or {"Ref": a
	// parameter} (see name).
	DeletionPolicy      any
	UpdateReplacePolicy any
	Properties          map[string]any
	Metadata            map[string]any
	DependsOn           any
	Condition           string
}

var translated struct {
	once sync.Once
	tpl  cfn
	err  error
}

// pythonTool is a Python program as the Makefile's tools installed it
// (infra/python: the repository's virtual environment, else $PYTHON or
// PATH).
func pythonTool(t *testing.T, name string) string {
	t.Helper()
	find := python.Tool
	if name == "python3" {
		find = func(string) (string, error) { return python.Interpreter() }
	}
	p, err := find(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// transformed runs sam_translate.py (the aws-sam-translator package that
// cfn-lint ships with; `make tools` installs it) once per test binary. A
// template the translator refuses fails every test that reads it.
func transformed(t *testing.T) cfn {
	t.Helper()
	translated.once.Do(func() {
		cmd := exec.Command(pythonTool(t, "python3"), "sam_translate.py", filepath.Join(root, "template.yaml"),
			"KakaoAppId=1001", "KakaoAppKeys=abcdef0123456789abcdef0123456789")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			translated.err = fmt.Errorf("the SAM translator refused template.yaml: %v\n%s", err, stderr.String())
			return
		}
		translated.err = json.Unmarshal(stdout.Bytes(), &translated.tpl)
	})
	if translated.err != nil {
		t.Fatal(translated.err)
	}
	return translated.tpl
}

// at walks maps (string keys) and slices (int keys); nil when absent.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// name names what a CloudFormation value points at: X for {"Ref": X} and
// {"Fn::GetAtt": [X, "Arn"]}, secret:<parameter> for the ARN of a secret a
// parameter names, the string itself otherwise.
func name(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if r, ok := at(v, "Ref").(string); ok {
		return r
	}
	if g, ok := at(v, "Fn::GetAtt").([]any); ok && len(g) == 2 && g[1] == "Arn" {
		return fmt.Sprint(g[0])
	}
	if s, ok := at(v, "Fn::Sub").(string); ok {
		if m := secretARN.FindStringSubmatch(s); m != nil {
			return "secret:" + m[1]
		}
		if m := poolARN.FindStringSubmatch(s); m != nil {
			return "userpool:" + m[1]
		}
		if m := busARN.FindStringSubmatch(s); m != nil {
			return "bus:" + m[1]
		}
		return "sub:" + s
	}
	// !If [Condition, a, b]: both branches, for values that depend on a
	// parameter (the stack's own event bus, or the operator's).
	if f, ok := at(v, "Fn::If").([]any); ok && len(f) == 3 {
		both := name(f[1]) + "|" + name(f[2])
		// The user pool, in both pool modes (UserPoolId): "UserPool".
		if f[0] == "CreateUserPool" && (both == "UserPool|UserPoolId" || both == "UserPool|userpool:UserPoolId") {
			return "UserPool"
		}
		return both
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// secretARN is a secret named by a parameter: Secrets Manager appends six
// random characters to the name.
var secretARN = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:\$\{(\w+)\}-\?\?\?\?\?\?$`)

// poolARN is a user pool named by a parameter (UserPoolId).
var poolARN = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:cognito-idp:\$\{AWS::Region\}:\$\{AWS::AccountId\}:userpool/\$\{(\w+)\}$`)

// busARN is an event bus named by a parameter.
var busARN = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:events:\$\{AWS::Region\}:\$\{AWS::AccountId\}:event-bus/\$\{(\w+)\}$`)

// eventBus is where lifecycle events go: the stack's bus, or the one the
// EventBusName parameter names.
const eventBus = "EventBus|bus:EventBusName"

func makefileFunctions(t *testing.T) []rie.Function {
	t.Helper()
	fns, err := rie.MakefileFunctions(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	return fns
}

// base is a function's logical ID without "Function": its role and log
// group are <base>Role and <base>LogGroup.
func base(logicalID string) string { return strings.TrimSuffix(logicalID, "Function") }

// needs is what lambdas/<dir>/main.go declares in bootstrap.Needs: the
// secrets (by the environment variable naming each) and the environment
// settings it requires at cold start, and whether it wires a secret store.
type needs struct {
	Secrets     []string
	Env         []string
	SecretStore bool
}

func readNeeds(t *testing.T, dir string) needs {
	t.Helper()
	consts := secretConstants(t)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(root, "lambdas", dir, "main.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var n needs
	found := false
	ast.Inspect(f, func(node ast.Node) bool {
		lit, ok := node.(*ast.CompositeLit)
		if !ok {
			return true
		}
		sel, ok := lit.Type.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Needs" {
			return true
		}
		found = true
		for _, el := range lit.Elts {
			kv := el.(*ast.KeyValueExpr)
			if kv.Key.(*ast.Ident).Name == "SecretStore" {
				n.SecretStore = true
				continue
			}
			list := kv.Value.(*ast.CompositeLit)
			for _, item := range list.Elts {
				switch x := item.(type) {
				case *ast.SelectorExpr:
					v, ok := consts[x.Sel.Name]
					if !ok {
						t.Fatalf("lambdas/%s: unknown secret constant %s", dir, x.Sel.Name)
					}
					n.Secrets = append(n.Secrets, v)
				case *ast.BasicLit:
					s, _ := strconv.Unquote(x.Value)
					n.Env = append(n.Env, s)
				default:
					t.Fatalf("lambdas/%s: cannot read %T in bootstrap.Needs", dir, item)
				}
			}
			if kv.Key.(*ast.Ident).Name == "Secrets" && len(n.Secrets) == 0 && len(list.Elts) > 0 {
				t.Fatalf("lambdas/%s: Secrets not read", dir)
			}
		}
		return false
	})
	if !found {
		t.Fatalf("lambdas/%s/main.go has no bootstrap.Needs literal", dir)
	}
	if n.SecretStore != (len(n.Secrets) > 0) {
		t.Fatalf("lambdas/%s: wires a secret store %v for %d secrets (a store without secrets links a client for nothing)", dir, n.SecretStore, len(n.Secrets))
	}
	return n
}

// secretConstants are shared/config's Secret* constants: name -> the
// environment variable naming the secret.
func secretConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "shared", "config", "config.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && strings.HasPrefix(id.Name, "Secret") {
					out[id.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Secret* constants in shared/config")
	}
	return out
}

// secretResources is the resource each secret's environment variable
// points at: the stack's generated pepper, the operator's admin key.
var secretResources = map[string]string{"PEPPER_SECRET_ID": "PepperSecret", "KAKAO_ADMIN_KEY_SECRET_ID": "secret:KakaoAdminKeySecretName",
	"PROOF_KEY_SECRET_ID": "ProofKeySecret", "UNLINK_MAC_KEY_SECRET_ID": "UnlinkMacKeySecret"}

// Every function sam build builds is in the template as the SAM translator
// sees it, with the runtime, architecture, handler, logging and tracing
// issue 4 asks for, and no function is deployed that is not built.
func TestFunctionsAsDeployed(t *testing.T) {
	tpl := transformed(t)
	built := map[string]bool{}
	for _, f := range makefileFunctions(t) {
		built[f.LogicalID] = true
		r, ok := tpl.Resources[f.LogicalID]
		if !ok || r.Type != "AWS::Lambda::Function" {
			t.Errorf("%s (lambdas/%s) is not a function of the template", f.LogicalID, f.Dir)
			continue
		}
		p := r.Properties
		checks := map[string][2]any{
			"runtime":      {p["Runtime"], "provided.al2023"},
			"architecture": {at(p, "Architectures", 0), "arm64"},
			"handler":      {p["Handler"], "bootstrap"},
			"tracing":      {at(p, "TracingConfig", "Mode"), "Active"},
			"log format":   {at(p, "LoggingConfig", "LogFormat"), "JSON"},
			"log group":    {name(at(p, "LoggingConfig", "LogGroup")), base(f.LogicalID) + "LogGroup"},
			"build method": {at(r.Metadata, "BuildMethod"), "makefile"},
			"code":         {at(p, "Code", "S3Key"), "local:."},
			"role":         {name(p["Role"]), base(f.LogicalID) + "Role"},
		}
		for what, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s %s: %v, want %v", f.LogicalID, what, c[0], c[1])
			}
		}
		if lg := tpl.Resources[base(f.LogicalID)+"LogGroup"]; lg.Type != "AWS::Logs::LogGroup" || name(lg.Properties["RetentionInDays"]) != "LogRetentionDays" {
			t.Errorf("%s: log group %+v has no retention", f.LogicalID, lg)
		}
		timeout, _ := p["Timeout"].(float64)
		switch f.LogicalID {
		case "SweeperFunction":
			// A sweep ends well inside its one-minute schedule.
			if timeout <= 0 || timeout > 60 {
				t.Errorf("%s: timeout %v, want at most its schedule's 60 s", f.LogicalID, timeout)
			}
		case "ReconcilerFunction":
			// A run paces its requests to Kakao; Lambda's limit is 15 min.
			if timeout < 60 || timeout > 900 {
				t.Errorf("%s: timeout %v, want 1 to 15 minutes", f.LogicalID, timeout)
			}
		case "UnlinkWorkerFunction":
			// Lambda's advice for SQS consumers: visibility at least six
			// times the function's timeout, or a slow batch is delivered
			// twice while it still runs.
			vis, _ := at(tpl.Resources["UnlinkQueue"].Properties, "VisibilityTimeout").(float64)
			if timeout <= 0 || vis < 6*timeout {
				t.Errorf("%s: timeout %v with a queue visibility of %v", f.LogicalID, timeout, vis)
			}
		default:
			// A step never outlives the state machine's 10 s task timeout,
			// the webhook API Gateway's 10 s integration timeout.
			if timeout <= 0 || timeout > 10 {
				t.Errorf("%s: timeout %v, want at most 10 s", f.LogicalID, p["Timeout"])
			}
		}
	}
	for id, r := range tpl.Resources {
		if r.Type == "AWS::Lambda::Function" && !built[id] {
			t.Errorf("%s is deployed but the Makefile's FUNCTIONS does not build it", id)
		}
	}
	// Cognito waits at most 5 s for a trigger.
	for _, trigger := range []string{"PreAuthFunction", "PreSignUpFunction", "DefineAuthChallengeFunction", "CreateAuthChallengeFunction", "VerifyAuthChallengeFunction"} {
		if to := tpl.Resources[trigger].Properties["Timeout"]; to != 5.0 {
			t.Errorf("%s timeout %v, want 5", trigger, to)
		}
	}
}

// Every ${...} of statemachine.asl.json has a DefinitionSubstitutions key
// and the reverse; each names the Lambda the local executor binds to it
// (workflow.Functions), and the state machine role may invoke exactly those.
func TestStateMachineSubstitutions(t *testing.T) {
	tpl := transformed(t)
	sm := tpl.Resources["LoginStateMachine"]
	if sm.Type != "AWS::StepFunctions::StateMachine" {
		t.Fatalf("LoginStateMachine is %q", sm.Type)
	}
	placeholders := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllSubmatch(kakaoauth.StateMachineDefinition, -1) {
		placeholders[string(m[1])] = true
	}
	subs, _ := sm.Properties["DefinitionSubstitutions"].(map[string]any)
	for p := range placeholders {
		if _, ok := subs[p]; !ok {
			t.Errorf("statemachine.asl.json uses ${%s}, which DefinitionSubstitutions does not define", p)
		}
	}
	var targets []string
	for k, v := range subs {
		if !placeholders[k] {
			t.Errorf("DefinitionSubstitutions defines %s, which statemachine.asl.json does not use", k)
		}
		step, ok := workflow.Functions[k]
		if !ok {
			t.Errorf("DefinitionSubstitutions %s is not in workflow.Functions (the local executor would not bind it)", k)
			continue
		}
		if got := name(v); got != step+"Function" {
			t.Errorf("%s points at %s, want %sFunction (workflow.Functions)", k, got, step)
		}
		targets = append(targets, name(v))
	}
	if len(workflow.Functions) != len(subs) {
		t.Errorf("workflow.Functions has %d entries, DefinitionSubstitutions %d", len(workflow.Functions), len(subs))
	}
	var invocable []string
	for _, g := range grants(t, tpl, "StateMachineRole") {
		if a, r, _ := strings.Cut(g, "@"); a == "lambda:InvokeFunction" {
			invocable = append(invocable, r)
		}
	}
	slices.Sort(targets)
	slices.Sort(invocable)
	if !slices.Equal(targets, invocable) {
		t.Errorf("the state machine role may invoke %v, the definition uses %v", invocable, targets)
	}

	p := sm.Properties
	checks := map[string][2]any{
		"type":           {p["StateMachineType"], "EXPRESS"},
		"definition":     {at(p, "DefinitionS3Location", "Key"), "local:statemachine.asl.json"},
		"execution data": {at(p, "LoggingConfiguration", "IncludeExecutionData"), false},
		"log level":      {at(p, "LoggingConfiguration", "Level"), "ALL"},
		"log group":      {name(at(p, "LoggingConfiguration", "Destinations", 0, "CloudWatchLogsLogGroup", "LogGroupArn")), "StateMachineLogGroup"},
		"tracing":        {at(p, "TracingConfiguration", "Enabled"), true},
		"role":           {name(p["RoleArn"]), "StateMachineRole"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("state machine %s: %v, want %v", what, c[0], c[1])
		}
	}
	lg := tpl.Resources["StateMachineLogGroup"].Properties
	if s, _ := at(lg, "LogGroupName", "Fn::Sub", 0).(string); !strings.HasPrefix(s, "/aws/vendedlogs/states/") || name(lg["RetentionInDays"]) != "LogRetentionDays" {
		t.Errorf("state machine log group %v", lg)
	}
}

// grants lists what a role allows as "action@target" (see name), with
// "?" appended to statements that apply only under a template condition
// the role itself does not have. Its inline policies count, and the
// policies attached to it as resources of their own (AWS::IAM::Policy:
// what a Cognito trigger's role gets on the pool, which the role itself
// cannot name without a dependency cycle).
func grants(t *testing.T, tpl cfn, role string) []string {
	t.Helper()
	r, ok := tpl.Resources[role]
	if !ok || r.Type != "AWS::IAM::Role" {
		t.Fatalf("no role %s", role)
	}
	var out []string
	policies, _ := r.Properties["Policies"].([]any)
	for _, pol := range policies {
		out = append(out, statementGrants(t, role, at(pol, "PolicyDocument", "Statement"), "")...)
	}
	for id, p := range tpl.Resources {
		if p.Type != "AWS::IAM::Policy" || !slices.ContainsFunc(asList(p.Properties["Roles"]), func(v any) bool { return name(v) == role }) {
			continue
		}
		suffix := ""
		if p.Condition != r.Condition {
			suffix = "?"
		}
		out = append(out, statementGrants(t, role+" ("+id+")", at(p.Properties, "PolicyDocument", "Statement"), suffix)...)
	}
	slices.Sort(out)
	return out
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// statementGrants lists what a policy's statements allow (see grants).
func statementGrants(t *testing.T, role string, statements any, condSuffix string) []string {
	t.Helper()
	var out []string
	stmts, _ := statements.([]any)
	for _, st := range stmts {
		suffix := condSuffix
		if branches, ok := at(st, "Fn::If").([]any); ok {
			if len(branches) != 3 || name(branches[2]) != "AWS::NoValue" {
				t.Fatalf("%s: conditional statement %v", role, st)
			}
			st, suffix = branches[1], "?"
		}
		if at(st, "Effect") != "Allow" {
			t.Fatalf("%s: statement %v is not an Allow", role, st)
		}
		actions := at(st, "Action")
		if s, ok := actions.(string); ok {
			actions = []any{s}
		}
		resources := at(st, "Resource")
		if _, ok := resources.([]any); !ok {
			resources = []any{resources}
		}
		for _, a := range actions.([]any) {
			for _, res := range resources.([]any) {
				out = append(out, fmt.Sprint(a)+"@"+name(res)+suffix)
			}
		}
	}
	return out
}

// What each function's code calls besides Secrets Manager (read from
// shared/cognito, shared/store and the workflow step it runs), on which
// resource. Secret grants come from the secrets each main.go declares.
var wantCalls = map[string][]string{
	"ValidateTokenFunction": nil,
	"UpsertUserFunction": {
		"cognito-idp:AdminCreateUser@UserPool", "cognito-idp:AdminGetUser@UserPool", "cognito-idp:ListUsers@UserPool",
		"cognito-idp:AdminUpdateUserAttributes@UserPool", "cognito-idp:AdminDeleteUserAttributes@UserPool",
		"cognito-idp:AdminDeleteUser@UserPool", "cognito-idp:AdminEnableUser@UserPool", "cognito-idp:AdminUserGlobalSignOut@UserPool",
		"dynamodb:GetItem@MappingTable", "dynamodb:PutItem@MappingTable", "dynamodb:UpdateItem@MappingTable", "dynamodb:DeleteItem@MappingTable",
		"dynamodb:PutItem@AuditTable", "events:PutEvents@" + eventBus,
	},
	"SetPasswordFunction": {
		"cognito-idp:AdminSetUserPassword@UserPool",
		"dynamodb:GetItem@MappingTable", "dynamodb:UpdateItem@MappingTable",
	},
	"IssueTokensFunction": {
		"cognito-idp:AdminInitiateAuth@UserPool", "cognito-idp:AdminRespondToAuthChallenge@UserPool", "cognito-idp:AdminUserGlobalSignOut@UserPool",
		"cognito-idp:AdminGetUser@UserPool",
		"dynamodb:GetItem@MappingTable", "dynamodb:UpdateItem@MappingTable", "dynamodb:PutItem@AuditTable",
	},
	"RecordFailureFunction": {"dynamodb:PutItem@AuditTable"},
	// With the hosted UI: is the sign-in's client federated-only.
	"PreAuthFunction": {"dynamodb:PutItem@AuditTable", "cognito-idp:DescribeUserPoolClient@UserPool?"},
	// The queue, or the inbox when the queue refuses.
	"UnlinkFunction": {"sqs:SendMessage@UnlinkQueue", "dynamodb:PutItem@OperationsTable"},
	"UnlinkWorkerFunction": {
		"sqs:ReceiveMessage@UnlinkQueue", "sqs:DeleteMessage@UnlinkQueue", "sqs:GetQueueAttributes@UnlinkQueue", "sqs:ChangeMessageVisibility@UnlinkQueue",
		"cognito-idp:AdminDisableUser@UserPool", "cognito-idp:AdminUserGlobalSignOut@UserPool", "cognito-idp:AdminGetUser@UserPool",
		"cognito-idp:AdminDeleteUserAttributes@UserPool", "cognito-idp:AdminDeleteUser@UserPool",
		"cognito-idp:AdminDisableProviderForUser@UserPool?", // the hosted UI's link
		"dynamodb:GetItem@MappingTable", "dynamodb:UpdateItem@MappingTable", "dynamodb:DeleteItem@MappingTable", "dynamodb:PutItem@AuditTable",
		"events:PutEvents@" + eventBus,
	},
	// The linking endpoints: GetUser (the access token) takes no IAM
	// permission; AdminGetUser, the user's status; the hosted UI's link
	// goes with a removed link.
	"LinkFunction": {
		"cognito-idp:AdminGetUser@UserPool", "cognito-idp:AdminDisableProviderForUser@UserPool?",
		"dynamodb:GetItem@MappingTable", "dynamodb:PutItem@MappingTable", "dynamodb:UpdateItem@MappingTable", "dynamodb:DeleteItem@MappingTable",
		"dynamodb:Query@sub:${MappingTable.Arn}/index/bySub", "dynamodb:PutItem@AuditTable", "events:PutEvents@" + eventBus,
	},
	// The custom authentication triggers: which client a sign-in runs on;
	// nothing; the audit of a refused answer.
	"DefineAuthChallengeFunction": {"cognito-idp:DescribeUserPoolClient@UserPool"},
	"CreateAuthChallengeFunction": nil,
	"VerifyAuthChallengeFunction": {"dynamodb:PutItem@AuditTable"},
	// The hosted UI's PreSignUp: UpsertUser's calls, the permanent
	// password of a user about to be linked, the link.
	"PreSignUpFunction": {
		"cognito-idp:AdminCreateUser@UserPool", "cognito-idp:AdminGetUser@UserPool", "cognito-idp:ListUsers@UserPool",
		"cognito-idp:AdminUpdateUserAttributes@UserPool", "cognito-idp:AdminDeleteUserAttributes@UserPool",
		"cognito-idp:AdminDeleteUser@UserPool", "cognito-idp:AdminEnableUser@UserPool", "cognito-idp:AdminUserGlobalSignOut@UserPool",
		"cognito-idp:AdminSetUserPassword@UserPool", "cognito-idp:AdminLinkProviderForUser@UserPool",
		"dynamodb:GetItem@MappingTable", "dynamodb:PutItem@MappingTable", "dynamodb:UpdateItem@MappingTable", "dynamodb:DeleteItem@MappingTable",
		"dynamodb:PutItem@AuditTable", "events:PutEvents@" + eventBus,
	},
	// Issue 19. The authorizer reads the admin keys only.
	"UnlinkAuthorizerFunction": nil,
	// The inbox to the queue; the rows with work due (byDue), their
	// events, and a deleted account's audit events scrubbed.
	"SweeperFunction": {
		"dynamodb:Query@OperationsTable", "dynamodb:DeleteItem@OperationsTable", "sqs:SendMessage@UnlinkQueue",
		"dynamodb:Query@sub:${MappingTable.Arn}/index/byDue", "dynamodb:GetItem@MappingTable", "dynamodb:UpdateItem@MappingTable",
		"dynamodb:PutItem@AuditTable", "dynamodb:Query@AuditTable", "dynamodb:UpdateItem@AuditTable",
		"events:PutEvents@" + eventBus,
	},
	// The pass (Scan), the cursor, the unlink worker's calls (a linked
	// account's claim released: DeleteItem), the metric.
	"ReconcilerFunction": {
		"dynamodb:Scan@MappingTable", "dynamodb:GetItem@MappingTable", "dynamodb:UpdateItem@MappingTable", "dynamodb:DeleteItem@MappingTable",
		"dynamodb:GetItem@OperationsTable", "dynamodb:PutItem@OperationsTable", "dynamodb:PutItem@AuditTable",
		"events:PutEvents@" + eventBus,
		"cognito-idp:AdminDisableUser@UserPool", "cognito-idp:AdminUserGlobalSignOut@UserPool", "cognito-idp:AdminGetUser@UserPool",
		"cognito-idp:AdminDeleteUserAttributes@UserPool", "cognito-idp:AdminDeleteUser@UserPool",
		"cognito-idp:AdminDisableProviderForUser@UserPool?",
	},
}

// Actions that take no resource-level permission, so "*" is their only
// possible resource.
var starOnly = map[string]bool{
	"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true, "xray:GetSamplingRules": true, "xray:GetSamplingTargets": true,
	"logs:CreateLogDelivery": true, "logs:GetLogDelivery": true, "logs:UpdateLogDelivery": true, "logs:DeleteLogDelivery": true,
	"logs:ListLogDeliveries": true, "logs:PutResourcePolicy": true, "logs:DescribeResourcePolicies": true, "logs:DescribeLogGroups": true,
}

// Least privilege: each function's role grants exactly its calls on this
// stack's resources, its own log group, X-Ray, the secrets its main.go
// reads (and kms:Decrypt through Secrets Manager, only with a customer
// key); the API may only start the state machine;
// no action is a wildcard and "*" is only where IAM allows nothing else.
func TestLeastPrivilege(t *testing.T) {
	tpl := transformed(t)
	roles := map[string][]string{}
	for _, f := range makefileFunctions(t) {
		role := name(tpl.Resources[f.LogicalID].Properties["Role"])
		n := readNeeds(t, f.Dir)
		calls, ok := wantCalls[f.LogicalID]
		if !ok {
			t.Errorf("%s: add its calls to wantCalls", f.LogicalID)
		}
		want := append([]string{
			"logs:CreateLogStream@" + base(f.LogicalID) + "LogGroup", "logs:PutLogEvents@" + base(f.LogicalID) + "LogGroup",
			"xray:PutTraceSegments@*", "xray:PutTelemetryRecords@*",
		}, calls...)
		for _, env := range n.Secrets {
			want = append(want, "secretsmanager:GetSecretValue@"+secretResources[env])
		}
		if len(n.Secrets) > 0 {
			want = append(want, "kms:Decrypt@SecretsKmsKeyArn?")
		}
		slices.Sort(want)
		if got := grants(t, tpl, role); !slices.Equal(got, want) {
			t.Errorf("%s (%s) grants\n  %v\nwant\n  %v", f.LogicalID, role, got, want)
		}
		roles[role] = want
	}
	roles["StateMachineRole"] = grants(t, tpl, "StateMachineRole") // checked in TestStateMachineSubstitutions
	if got := grants(t, tpl, "ApiRole"); !slices.Equal(got, []string{"states:StartSyncExecution@LoginStateMachine"}) {
		t.Errorf("ApiRole grants %v", got)
	}
	roles["ApiRole"] = nil
	// EventBridge Scheduler may start the sweeper and the reconciler only.
	if got := grants(t, tpl, "SchedulerRole"); !slices.Equal(got, []string{"lambda:InvokeFunction@ReconcilerFunction", "lambda:InvokeFunction@SweeperFunction"}) {
		t.Errorf("SchedulerRole grants %v", got)
	}
	roles["SchedulerRole"] = nil
	// The identity pool's users' role (EnableIdentityPool): their own
	// prefix of the bucket (appintegration_test.go checks the prefix).
	if got, want := grants(t, tpl, "IdentityAuthenticatedRole"), []string{"s3:DeleteObject@" + ownPrefix, "s3:GetObject@" + ownPrefix,
		"s3:ListBucket@UserFilesBucket", "s3:PutObject@" + ownPrefix}; !slices.Equal(got, want) {
		t.Errorf("IdentityAuthenticatedRole grants %v, want %v", got, want)
	}
	roles["IdentityAuthenticatedRole"] = nil

	for id, r := range tpl.Resources {
		if r.Type != "AWS::IAM::Role" {
			continue
		}
		if id == "ApiGatewayLoggingRole" {
			// The account-wide role API Gateway logs with: AWS's own policy.
			if arns := fmt.Sprint(r.Properties["ManagedPolicyArns"]); !strings.Contains(arns, "AmazonAPIGatewayPushToCloudWatchLogs") || r.Properties["Policies"] != nil {
				t.Errorf("ApiGatewayLoggingRole: %v", r.Properties)
			}
			continue
		}
		if _, ok := roles[id]; !ok {
			t.Errorf("role %s is not covered by this test", id)
		}
		if r.Properties["ManagedPolicyArns"] != nil {
			t.Errorf("%s attaches managed policies %v", id, r.Properties["ManagedPolicyArns"])
		}
		for _, g := range grants(t, tpl, id) {
			action, target, _ := strings.Cut(g, "@")
			if strings.Contains(action, "*") {
				t.Errorf("%s: wildcard action %s", id, action)
			}
			if target == "*" && !starOnly[action] {
				t.Errorf("%s: %s on every resource", id, action)
			}
		}
	}
	// The KMS grant is scoped to decryption through Secrets Manager.
	for _, role := range []string{"UpsertUserRole", "SetPasswordRole", "IssueTokensRole", "PreAuthRole", "UnlinkRole",
		"UnlinkWorkerRole", "UnlinkAuthorizerRole", "ReconcilerRole"} {
		s := fmt.Sprint(tpl.Resources[role].Properties["Policies"])
		if !strings.Contains(s, "kms:ViaService") || !strings.Contains(s, "secretsmanager.${AWS::Region}") || !strings.Contains(s, "HasSecretsKey") {
			t.Errorf("%s: kms:Decrypt not conditioned on a customer key and kms:ViaService", role)
		}
	}
}

// Each function is given the settings its main.go requires, pointing at
// this stack's resources; env.json sets exactly the variables the template
// declares for each function (sam local ignores any other), and in AWS the
// SDK endpoint override is empty.
func TestEnvironment(t *testing.T) {
	tpl := transformed(t)
	raw, err := os.ReadFile(filepath.Join(root, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var envJSON map[string]map[string]string
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&envJSON); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	wantValue := map[string]string{
		"USER_POOL_ID": "UserPool", "USER_POOL_CLIENT_ID": "UserPoolClient", "MAPPING_TABLE": "MappingTable",
		"AUDIT_TABLE": "AuditTable", "KAKAO_API_BASE_URL": "KakaoApiBaseUrl",
		"KAKAO_APP_ID": "KakaoAppId", "KAKAO_APP_KEYS": "KakaoAppKeys",
		"PEPPER_SECRET_ID": "PepperSecret", "KAKAO_ADMIN_KEY_SECRET_ID": "KakaoAdminKeySecretName",
		"KAKAO_AUTH_BASE_URL": "KakaoAuthBaseUrl", "PASSWORD_ROTATION": "PasswordRotation",
		"AUDIT_RETENTION_DAYS": "AuditRetentionDays", "AWS_ENDPOINT_URL": "",
		"EVENT_BUS_NAME": "EventBus|EventBusName", "UNLINK_QUEUE_URL": "UnlinkQueue", "UNLINK_POLICY": "UnlinkPolicy",
		"HOSTED_UI":             "HostedUi",
		"ALLOW_NON_KAKAO_HOSTS": "AllowNonKakaoHosts", "ANON_AUDIT_RETENTION_DAYS": "AnonymousAuditRetentionDays",
		"ALLOW_ID_TOKEN_WITHOUT_NONCE": "AllowIdTokenWithoutNonce", "PROOF_KEY_SECRET_ID": "ProofKeySecret",
		"LINK_BY_VERIFIED_EMAIL": "LinkByVerifiedEmail", "LINK_CLIENT_IDS": "LinkClientIds", "CORS_ALLOWED_ORIGINS": "CorsAllowedOrigins",
		// The broker's app client, by the name the template gives it.
		"BROKER_CLIENT_NAME":         "sub:${AWS::StackName}-app",
		"ALLOW_PLAIN_ID_TOKEN_NONCE": "AllowPlainIdTokenNonce",
		// Issue 19.
		"OPERATIONS_TABLE": "OperationsTable", "UNLINK_MAC_KEY_SECRET_ID": "UnlinkMacKeySecret",
		"UNLINK_USAGE_KEY":     `{"Fn::Sub":["kakao-unlink-callbacks-${StackSuffix}",{"StackSuffix":{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}}]}`,
		"KAKAO_CALLBACK_CIDRS": "KakaoCallbackSourceCidrs", "STACK_NAME": "AWS::StackName",
		"UNLINKED_EMAIL_RETENTION_DAYS": "UnlinkedEmailRetentionDays", "DELETED_ACCOUNT_PII_DAYS": "DeletedAccountPiiDays",
		"DELETED_MAPPING_RETENTION_DAYS": "DeletedMappingRetentionDays", "RECONCILE_REQUESTS_PER_SECOND": "ReconcileRequestsPerSecond",
		"RECONCILE_MAX_UNLINKS": "ReconcileMaxUnlinksPerRun",
		"RECREATION_LIMIT":      "RecreationLimit", "RECREATION_PERIOD": "RecreationPeriod",
	}
	fns := makefileFunctions(t)
	entries := map[string]bool{"Parameters": true}
	for _, f := range fns {
		entries[f.LogicalID] = true
		vars, _ := at(tpl.Resources[f.LogicalID].Properties, "Environment", "Variables").(map[string]any)
		n := readNeeds(t, f.Dir)
		required := append(slices.Clone(n.Env), n.Secrets...)
		for _, k := range required {
			if _, ok := vars[k]; !ok {
				t.Errorf("%s: lambdas/%s requires %s, which the template does not set", f.LogicalID, f.Dir, k)
			}
		}
		for k, v := range vars {
			want, known := wantValue[k]
			if !known {
				t.Errorf("%s: variable %s: add its expected value to this test", f.LogicalID, k)
			} else if name(v) != want {
				t.Errorf("%s: %s = %v, want %q", f.LogicalID, k, v, want)
			}
		}
		local := maps.Clone(envJSON["Parameters"])
		maps.Copy(local, envJSON[f.LogicalID])
		declared := slices.Sorted(maps.Keys(vars))
		if got := slices.Sorted(maps.Keys(local)); !slices.Equal(got, declared) {
			t.Errorf("%s: env.json sets %v, the template declares %v", f.LogicalID, got, declared)
		}
	}
	for k := range envJSON {
		if !entries[k] {
			t.Errorf("env.json has an entry for %s, which is no function", k)
		}
	}
}

// One event per function, named after its lambdas/ directory, each a valid
// input of that function's handler (unknown fields refused, so a misspelt
// field cannot hide). infra/rie invokes them.
func TestEventsAreHandlerInputs(t *testing.T) {
	inputs := map[string]func() any{
		"validatetoken":       func() any { return new(workflow.ValidateTokenInput) },
		"upsertuser":          func() any { return new(workflow.LoginState) },
		"setpassword":         func() any { return new(workflow.LoginState) },
		"issuetokens":         func() any { return new(workflow.LoginState) },
		"recordfailure":       func() any { return new(workflow.FailureInput) },
		"preauth":             func() any { return new(events.CognitoEventUserPoolsPreAuthentication) },
		"unlink":              func() any { return new(events.APIGatewayProxyRequest) },
		"unlinkauthorizer":    func() any { return new(events.APIGatewayCustomAuthorizerRequestTypeRequest) },
		"unlinkworker":        func() any { return new(events.SQSEvent) },
		"presignup":           func() any { return new(events.CognitoEventUserPoolsPreSignup) },
		"sweeper":             func() any { return new(workflow.SweepEvent) },
		"reconciler":          func() any { return new(workflow.ReconcileEvent) },
		"link":                func() any { return new(events.APIGatewayProxyRequest) },
		"defineauthchallenge": func() any { return new(events.CognitoEventUserPoolsDefineAuthChallenge) },
		"createauthchallenge": func() any { return new(events.CognitoEventUserPoolsCreateAuthChallenge) },
		"verifyauthchallenge": func() any { return new(events.CognitoEventUserPoolsVerifyAuthChallenge) },
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, f := range files {
		got = append(got, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	for _, f := range makefileFunctions(t) {
		want = append(want, f.Dir)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("events/ has %v, want one per function: %v", got, want)
	}
	for _, n := range got {
		mk, ok := inputs[n]
		if !ok {
			t.Errorf("events/%s.json: add the handler's input type to this test", n)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(root, "events", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(mk()); err != nil {
			t.Errorf("events/%s.json: %v", n, err)
		}
	}
}

// The derived password (shared/password) must satisfy the pool's policy.
func TestPasswordPolicyFitsDerivedPasswords(t *testing.T) {
	pool := transformed(t).Resources["UserPool"].Properties
	minLen, _ := at(pool, "Policies", "PasswordPolicy", "MinimumLength").(float64)
	if minLen <= 0 || int(minLen) > password.Length {
		t.Fatalf("pool MinimumLength %v, derived passwords have %d characters", minLen, password.Length)
	}
}

// The pool's triggers are wired: the stack's own pool names each function
// (an existing pool gets them from `kakaoauth pool attach`, from the
// outputs), and only the pool (either way) may invoke it.
func TestPoolTriggers(t *testing.T) {
	tpl := transformed(t)
	for slot, fn := range map[string]string{
		"PreAuthentication": "PreAuthFunction", "DefineAuthChallenge": "DefineAuthChallengeFunction",
		"CreateAuthChallenge": "CreateAuthChallengeFunction", "VerifyAuthChallengeResponse": "VerifyAuthChallengeFunction",
	} {
		if got := name(at(tpl.Resources["UserPool"].Properties, "LambdaConfig", slot)); got != fn {
			t.Errorf("pool %s trigger: %s, want %s", slot, got, fn)
		}
		p := tpl.Resources[base(fn)+"InvokePermission"]
		if p.Type != "AWS::Lambda::Permission" || name(p.Properties["FunctionName"]) != fn ||
			p.Properties["Principal"] != "cognito-idp.amazonaws.com" || name(p.Properties["SourceArn"]) != "UserPool" || name(p.Properties["SourceAccount"]) != "AWS::AccountId" {
			t.Errorf("%sInvokePermission: %+v", base(fn), p)
		}
		if out := name(tpl.Outputs[fn+"Arn"]["Value"]); out != fn {
			t.Errorf("output %sArn = %s", fn, out)
		}
	}
	// The broker's client may start CUSTOM_AUTH, and nothing else new.
	flows := fmt.Sprint(tpl.Resources["UserPoolClient"].Properties["ExplicitAuthFlows"])
	if flows != "[ALLOW_ADMIN_USER_PASSWORD_AUTH ALLOW_CUSTOM_AUTH ALLOW_REFRESH_TOKEN_AUTH]" {
		t.Errorf("broker client flows %s", flows)
	}
}

// The pepper CloudFormation generates is in the format shared/config reads
// (a current version and its pepper, long enough), and it outlives the
// stack: without it every account's next login pays a password reset.
func TestPepperSecretIsGeneratedAsConfigReadsIt(t *testing.T) {
	r := transformed(t).Resources["PepperSecret"]
	if r.Type != "AWS::SecretsManager::Secret" || name(r.DeletionPolicy) != "Retain" {
		t.Fatalf("PepperSecret: %s, deletion policy %v", r.Type, r.DeletionPolicy)
	}
	gen, _ := r.Properties["GenerateSecretString"].(map[string]any)
	length, _ := gen["PasswordLength"].(float64)
	key, _ := gen["GenerateStringKey"].(string)
	var doc map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(gen["SecretStringTemplate"])), &doc); err != nil || key == "" {
		t.Fatalf("GenerateSecretString %v: %v", gen, err)
	}
	// What CloudFormation stores: the template with the generated key set
	// (here to the longest run of one letter it could generate).
	doc[key] = strings.Repeat("a", int(length))
	value, _ := json.Marshal(doc)
	version, peppers, err := config.ParsePeppers(string(value))
	if err != nil {
		t.Fatalf("the generated secret %s would not load: %v", gen, err)
	}
	if len(peppers[version]) < 64 {
		t.Errorf("generated pepper of %d characters, want at least 64", len(peppers[version]))
	}
	if kms := name(r.Properties["KmsKeyId"]); kms != "SecretsKmsKeyArn|AWS::NoValue" {
		t.Errorf("PepperSecret KmsKeyId %s", kms)
	}
}

func TestOutputs(t *testing.T) {
	out := transformed(t).Outputs
	want := []string{"ApiUrl", "AuditTableName", "CreateAuthChallengeFunctionArn", "DefineAuthChallengeFunctionArn", "EventBusName",
		"HostedUiClientId", "HostedUiDomainUrl", "HostedUiKakaoRedirectUri", "IdentityPoolId", "LinkUrl", "LoginUrl",
		"MappingTableName", "MeUrl", "PepperSecretArn", "PreAuthFunctionArn", "PreSignUpFunctionArn", "StateMachineArn",
		"UnlinkCallbackUrl", "UnlinkDeadLetterQueueUrl", "UnlinkQueueUrl", "UserFilesBucketName", "UserPoolClientId", "UserPoolId", "VerifyAuthChallengeFunctionArn"}
	if got := slices.Sorted(maps.Keys(out)); !slices.Equal(got, want) {
		t.Fatalf("outputs %v, want %v", got, want)
	}
	stage := apiStage(t)
	base := "https://${LoginApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + stage
	for k, suffix := range map[string]string{"ApiUrl": "", "LoginUrl": "/auth/kakao", "UnlinkCallbackUrl": workflow.UnlinkPath, "LinkUrl": workflow.LinkPath, "MeUrl": "/me"} {
		if got := at(out[k], "Value", "Fn::Sub"); got != base+suffix {
			t.Errorf("%s = %v, want %s", k, got, base+suffix)
		}
	}
	for k, target := range map[string]string{"UserPoolId": "UserPool", "UserPoolClientId": "UserPoolClient", "MappingTableName": "MappingTable",
		"AuditTableName": "AuditTable", "StateMachineArn": "LoginStateMachine", "PepperSecretArn": "PepperSecret",
		"EventBusName": "EventBus|EventBusName", "UnlinkQueueUrl": "UnlinkQueue", "UnlinkDeadLetterQueueUrl": "UnlinkDeadLetterQueue",
		"IdentityPoolId": "IdentityPool", "UserFilesBucketName": "UserFilesBucket"} {
		if got := name(out[k]["Value"]); got != target {
			t.Errorf("%s = %s, want %s", k, got, target)
		}
	}
}

// apiStage is the API's one stage name, checked for throttling and logging.
func apiStage(t *testing.T) string {
	t.Helper()
	tpl := transformed(t)
	var stages []resource
	for _, r := range tpl.Resources {
		if r.Type == "AWS::ApiGateway::Stage" {
			stages = append(stages, r)
		}
	}
	if len(stages) != 1 {
		t.Fatalf("%d API stages", len(stages))
	}
	p := stages[0].Properties
	if name(p["RestApiId"]) != "LoginApi" {
		t.Fatalf("stage of %v", p["RestApiId"])
	}
	if name(at(p, "MethodSettings", 0, "ThrottlingBurstLimit")) != "ThrottleBurstLimit" ||
		name(at(p, "MethodSettings", 0, "ThrottlingRateLimit")) != "ThrottleRateLimit" || at(p, "MethodSettings", 0, "ResourcePath") != "/*" {
		t.Errorf("stage throttling: %v", p["MethodSettings"])
	}
	// The access log is JSON and holds nothing of the body: not even the
	// validation error, which can quote it. API Gateway escapes nothing it
	// puts in, so only values a client cannot put a quote or a backslash
	// into may appear: not the user agent (a quote in it forged fields).
	format, _ := at(p, "AccessLogSetting", "Format").(string)
	vars := regexp.MustCompile(`\$context\.[A-Za-z.]+`)
	filled := vars.ReplaceAllString(format, "x")
	if !json.Valid([]byte(filled)) || strings.Contains(format, "$input") || strings.Contains(format, "validationErrorString") || strings.Contains(format, "requestOverride") {
		t.Errorf("access log format %q", format)
	}
	// API Gateway's own values: ids, times, numbers, the method, the
	// resource template (not the client's path), enum names, the source IP.
	unforgeable := map[string]bool{
		"$context.requestId": true, "$context.requestTime": true, "$context.identity.sourceIp": true, "$context.httpMethod": true,
		"$context.resourcePath": true, "$context.status": true, "$context.responseLength": true, "$context.responseLatency": true,
		"$context.integration.status": true, "$context.integration.latency": true, "$context.error.responseType": true,
	}
	for _, v := range vars.FindAllString(format, -1) {
		if !unforgeable[v] {
			t.Errorf("access log format has %s, which a client can fill with a quote (API Gateway does not escape it)", v)
		}
	}
	if !strings.Contains(fmt.Sprint(at(p, "AccessLogSetting", "DestinationArn")), "${ApiAccessLogGroup}") {
		t.Errorf("access log destination %v", at(p, "AccessLogSetting", "DestinationArn"))
	}
	if name(tpl.Resources["ApiAccessLogGroup"].Properties["RetentionInDays"]) != "LogRetentionDays" {
		t.Error("the access log group keeps logs forever")
	}
	s, _ := p["StageName"].(string)
	return s
}

// jsonTags lists the JSON field names of a struct type.
func jsonTags(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out = append(out, tag)
	}
	slices.Sort(out)
	return out
}

// The unlink pipeline as issue 9 asks for it: the webhook queues, the
// worker consumes with partial batch failures and bounded concurrency,
// failures go to a dead-letter queue after a bounded number of receives,
// and an alarm watches it; lifecycle events have a bus unless the operator
// names one; the app client tells a missing user apart.
func TestUnlinkPipelineAndBus(t *testing.T) {
	tpl := transformed(t)
	var mappings []resource
	for _, r := range tpl.Resources {
		if r.Type == "AWS::Lambda::EventSourceMapping" {
			mappings = append(mappings, r)
		}
	}
	if len(mappings) != 1 {
		t.Fatalf("%d event source mappings", len(mappings))
	}
	esm := mappings[0].Properties
	checks := map[string][2]any{
		"function":        {name(esm["FunctionName"]), "UnlinkWorkerFunction"},
		"queue":           {name(esm["EventSourceArn"]), "UnlinkQueue"},
		"partial batches": {at(esm, "FunctionResponseTypes", 0), "ReportBatchItemFailures"},
		"concurrency":     {at(esm, "ScalingConfig", "MaximumConcurrency"), 2.0},
	}
	q := tpl.Resources["UnlinkQueue"].Properties
	dlq := tpl.Resources["UnlinkDeadLetterQueue"].Properties
	alarm := tpl.Resources["UnlinkDeadLetterAlarm"]
	checks["dead-letter queue"] = [2]any{name(at(q, "RedrivePolicy", "deadLetterTargetArn")), "UnlinkDeadLetterQueue"}
	checks["max receives"] = [2]any{at(q, "RedrivePolicy", "maxReceiveCount"), 5.0}
	checks["queue encryption"] = [2]any{q["SqsManagedSseEnabled"], true}
	checks["dead letters kept"] = [2]any{dlq["MessageRetentionPeriod"], 1209600.0}
	checks["alarm type"] = [2]any{alarm.Type, "AWS::CloudWatch::Alarm"}
	checks["alarm metric"] = [2]any{alarm.Properties["MetricName"], "ApproximateNumberOfMessagesVisible"}
	checks["alarm queue"] = [2]any{fmt.Sprint(at(alarm.Properties, "Dimensions", 0, "Value")), `map[Fn::GetAtt:[UnlinkDeadLetterQueue QueueName]]`}
	checks["alarm threshold"] = [2]any{alarm.Properties["Threshold"], 0.0}
	checks["alarm topic"] = [2]any{name(at(alarm.Properties, "AlarmActions")), `[{"Ref":"AlarmTopicArn"}]|AWS::NoValue`}
	checks["bus"] = [2]any{tpl.Resources["EventBus"].Type + " if " + tpl.Resources["EventBus"].Condition, "AWS::Events::EventBus if CreateEventBus"}
	checks["policy values"] = [2]any{fmt.Sprint(tpl.Parameters["UnlinkPolicy"]["AllowedValues"]), "[" + workflow.UnlinkPolicyDisable + " " + workflow.UnlinkPolicyDelete + "]"}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %v, want %v", what, c[0], c[1])
		}
	}
	// Plain HTTP to either queue is refused.
	policy := tpl.Resources["UnlinkQueuesPolicy"].Properties
	if st := at(policy, "PolicyDocument", "Statement", 0); at(st, "Effect") != "Deny" || at(st, "Condition", "Bool", "aws:SecureTransport") != "false" {
		t.Errorf("queue policy %v", policy)
	}
}

// samconfig.toml holds only settings that help: the stack's name and
// region for every sam command, the deploy settings, sam local's
// environment; parameter overrides (if any) that name template parameters
// and differ from their defaults; nothing that slows or does nothing
// (cached does nothing for makefile builds; parallel makes a first build
// on two cores about three times slower).
func TestSamconfig(t *testing.T) {
	cfg, err := preflight.ReadSamConfig(filepath.Join(root, "samconfig.toml"), "default")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StackName == "" || cfg.Global["region"] == nil {
		t.Errorf("samconfig.toml: stack_name %q, region %v: both belong in [default.global.parameters], for every sam command", cfg.StackName, cfg.Global["region"])
	}
	for _, k := range []string{"cached", "parallel"} {
		if _, ok := cfg.Build[k]; ok {
			t.Errorf("samconfig.toml sets build %s", k)
		}
	}
	if cfg.Deploy["capabilities"] != "CAPABILITY_IAM" || !bytes.Contains(raw, []byte(`env_vars = "env.json"`)) {
		t.Error("samconfig.toml lacks CAPABILITY_IAM or env.json")
	}
	tpl, err := preflight.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range cfg.ParameterOverrides {
		i := slices.IndexFunc(tpl.Parameters, func(p preflight.Parameter) bool { return p.Name == name })
		switch {
		case i < 0:
			t.Errorf("samconfig.toml overrides %s, which template.yaml does not declare", name)
		case tpl.Parameters[i].Default != nil && *tpl.Parameters[i].Default == v:
			t.Errorf("samconfig.toml overrides %s with its default %q", name, v)
		}
	}
}

// Every parameter says what it is (Description) and, when constrained,
// what a right value looks like (ConstraintDescription: CloudFormation's
// and `kakaoauth deploy`'s refusal quotes it), and sits in exactly one
// group of the CloudFormation console's parameter form.
func TestParametersAreDescribedAndGrouped(t *testing.T) {
	tpl, err := preflight.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]int{}
	for _, g := range at(transformed(t).Metadata, "AWS::CloudFormation::Interface", "ParameterGroups").([]any) {
		for _, p := range at(g, "Parameters").([]any) {
			groups[p.(string)]++
		}
	}
	for _, p := range tpl.Parameters {
		constrained := p.AllowedPattern != "" || len(p.AllowedValues) > 0 || p.MinValue != nil || p.MaxValue != nil || p.MinLength != nil || p.MaxLength != nil
		switch {
		case p.Description == "":
			t.Errorf("%s has no Description", p.Name)
		case constrained && p.ConstraintDescription == "":
			t.Errorf("%s is constrained but has no ConstraintDescription", p.Name)
		}
		if groups[p.Name] != 1 {
			t.Errorf("%s is in %d groups of Metadata AWS::CloudFormation::Interface: add it to the one it belongs to", p.Name, groups[p.Name])
		}
		delete(groups, p.Name)
	}
	for name := range groups {
		t.Errorf("a parameter group names %s, which is no parameter", name)
	}
}
