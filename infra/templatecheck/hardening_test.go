package templatecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// param is a parameter's default and allowed values, as text.
func param(t *testing.T, tpl cfn, name string) (def string, allowed []string) {
	t.Helper()
	p, ok := tpl.Parameters[name]
	if !ok {
		t.Fatalf("no parameter %s", name)
	}
	if list, ok := p["AllowedValues"].([]any); ok {
		for _, v := range list {
			allowed = append(allowed, fmt.Sprint(v))
		}
	}
	return fmt.Sprint(p["Default"]), allowed
}

// outcomeJSON is errors.go's answer for an error name, as the API's body.
func outcomeJSON(name string) string {
	o := kakaoauth.OutcomeOf(name)
	b, _ := json.Marshal(map[string]string{"error": o.Code, "message": o.Message})
	return string(b)
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// The optional web ACL (EnableWaf, on by default) sits on the API's stage:
// per source IP at most WafRateLimit requests in 5 minutes, Kakao's unlink
// callbacks exempt, answered 429 Throttled; no body over the contract's
// 16 KiB (workflow.MaxBodyBytes), a longer one than WAF inspects counting
// as over, answered 400 InvalidRequest. Both answers are errors.go's, in
// the contract's shape, with the gateway responses' CORS headers.
func TestWebACL(t *testing.T) {
	tpl := transformed(t)
	if def, allowed := param(t, tpl, "EnableWaf"); def != "true" || !slices.Equal(allowed, []string{"true", "false"}) {
		t.Errorf("EnableWaf default %s, allowed %v", def, allowed)
	}
	if def, _ := param(t, tpl, "WafRateLimit"); def != "1000" || fmt.Sprint(tpl.Parameters["WafRateLimit"]["MinValue"]) != "100" {
		t.Errorf("WafRateLimit %v", tpl.Parameters["WafRateLimit"])
	}
	if got := fmt.Sprint(tpl.Conditions["UseWaf"]); got != "map[Fn::Equals:[map[Ref:EnableWaf] true]]" {
		t.Errorf("UseWaf %s", got)
	}
	acl := tpl.Resources["WebAcl"]
	p := acl.Properties
	checks := map[string][2]any{
		"type":            {acl.Type, "AWS::WAFv2::WebACL"},
		"condition":       {acl.Condition, "UseWaf"},
		"scope":           {p["Scope"], "REGIONAL"},
		"default action":  {fmt.Sprint(p["DefaultAction"]), "map[Allow:map[]]"},
		"inspection":      {at(p, "AssociationConfig", "RequestBody", "API_GATEWAY", "DefaultSizeInspectionLimit"), "KB_16"},
		"invalid body ct": {at(p, "CustomResponseBodies", "InvalidRequest", "ContentType"), "APPLICATION_JSON"},
		"throttled ct":    {at(p, "CustomResponseBodies", "Throttled", "ContentType"), "APPLICATION_JSON"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("web ACL %s: %v, want %v", what, c[0], c[1])
		}
	}
	for key, name := range map[string]string{"InvalidRequest": "InvalidRequest", "Throttled": "Throttled"} {
		if body, _ := at(p, "CustomResponseBodies", key, "Content").(string); !sameJSON(body, outcomeJSON(name)) {
			t.Errorf("WAF answer %s: %s, errors.go says %s", key, body, outcomeJSON(name))
		}
	}
	rules, _ := p["Rules"].([]any)
	// The third, with KakaoCallbackSourceCidrs only: TestUnlinkCallbackBudget.
	if len(rules) != 3 {
		t.Fatalf("%d WAF rules, want 3", len(rules))
	}
	corsHeaders := `{"Fn::If":["HasCorsOrigins",[{"Name":"Access-Control-Allow-Origin","Value":{"Fn::Select":[0,{"Fn::Split":[",",{"Ref":"CorsAllowedOrigins"}]}]}},{"Name":"Vary","Value":"Origin"}],{"Ref":"AWS::NoValue"}]}`
	block := func(rule any, status float64, body string) {
		t.Helper()
		resp := at(rule, "Action", "Block", "CustomResponse")
		headers, _ := json.Marshal(at(resp, "ResponseHeaders"))
		if at(resp, "ResponseCode") != status || at(resp, "CustomResponseBodyKey") != body || string(headers) != corsHeaders {
			t.Errorf("rule %v answers %v", at(rule, "Name"), resp)
		}
		if at(rule, "VisibilityConfig", "CloudWatchMetricsEnabled") != true {
			t.Errorf("rule %v has no metrics", at(rule, "Name"))
		}
	}

	size := rules[0]
	st := at(size, "Statement", "SizeConstraintStatement")
	// WAF counts bytes, as the workflow does.
	if at(st, "ComparisonOperator") != "GT" || at(st, "Size") != float64(workflow.MaxBodyBytes) || at(st, "FieldToMatch", "Body", "OversizeHandling") != "MATCH" {
		t.Errorf("body rule %v: want bodies over %d bytes, and longer than inspected, to match", st, workflow.MaxBodyBytes)
	}
	block(size, 400, "InvalidRequest")

	rate := rules[1]
	rs := at(rate, "Statement", "RateBasedStatement")
	if name(at(rs, "Limit")) != "WafRateLimit" || at(rs, "AggregateKeyType") != "IP" || at(rs, "EvaluationWindowSec") != 300.0 {
		t.Errorf("rate rule %v", rs)
	}
	exempt := at(rs, "ScopeDownStatement", "NotStatement", "Statement", "ByteMatchStatement")
	if at(exempt, "SearchString") != workflow.UnlinkPath || at(exempt, "PositionalConstraint") != "CONTAINS" || at(exempt, "FieldToMatch", "UriPath") == nil {
		t.Errorf("rate rule scope %v: want every path but the unlink callback's (%s)", at(rs, "ScopeDownStatement"), workflow.UnlinkPath)
	}
	block(rate, 429, "Throttled")

	assoc := tpl.Resources["WebAclAssociation"]
	arn, _ := at(assoc.Properties, "ResourceArn", "Fn::Sub").(string)
	stage := apiStage(t)
	if assoc.Type != "AWS::WAFv2::WebACLAssociation" || assoc.Condition != "UseWaf" || name(assoc.Properties["WebACLArn"]) != "WebAcl" ||
		arn != "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${LoginApi}/stages/"+stage || assoc.DependsOn != "LoginApi"+stage+"Stage" {
		t.Errorf("web ACL association %+v", assoc)
	}
}

// A production stack cannot be pointed at anything but Kakao: the Rules
// refuse the deploy unless AllowNonKakaoHosts is true, with exactly the
// hosts shared/config accepts at cold start.
func TestKakaoHostsRule(t *testing.T) {
	tpl := transformed(t)
	if def, allowed := param(t, tpl, "AllowNonKakaoHosts"); def != "false" || !slices.Equal(allowed, []string{"true", "false"}) {
		t.Errorf("AllowNonKakaoHosts default %s, allowed %v", def, allowed)
	}
	for p, want := range map[string]string{"KakaoApiBaseUrl": config.DefaultKakaoAPIBaseURL, "KakaoAuthBaseUrl": config.DefaultKakaoAuthBaseURL} {
		if def, _ := param(t, tpl, p); def != want {
			t.Errorf("%s default %s, want %s", p, def, want)
		}
	}
	rule := at(tpl.Rules, "KakaoHostsInProduction")
	if got, _ := json.Marshal(at(rule, "RuleCondition")); string(got) != `{"Fn::Equals":[{"Ref":"AllowNonKakaoHosts"},"false"]}` {
		t.Errorf("rule condition %s", got)
	}
	var asserted []string
	for _, a := range at(rule, "Assertions").([]any) {
		got, _ := json.Marshal(at(a, "Assert"))
		asserted = append(asserted, string(got))
		if desc, _ := at(a, "AssertDescription").(string); !strings.Contains(desc, "AllowNonKakaoHosts") {
			t.Errorf("assertion %s does not say how to allow other hosts", got)
		}
	}
	want := []string{
		`{"Fn::Equals":[{"Ref":"KakaoApiBaseUrl"},"` + config.DefaultKakaoAPIBaseURL + `"]}`,
		`{"Fn::Equals":[{"Ref":"KakaoAuthBaseUrl"},"` + config.DefaultKakaoAuthBaseURL + `"]}`,
	}
	if !slices.Equal(asserted, want) {
		t.Errorf("assertions %v, want %v", asserted, want)
	}
}

// Every log group keeps or drops its logs on stack deletion as the
// operator chose (LogGroupDeletionPolicy, Retain by default), and on
// replacement alike.
func TestLogGroupsDeletionPolicy(t *testing.T) {
	tpl := transformed(t)
	if def, allowed := param(t, tpl, "LogGroupDeletionPolicy"); def != "Retain" || !slices.Equal(allowed, []string{"Retain", "Delete"}) {
		t.Errorf("LogGroupDeletionPolicy default %s, allowed %v", def, allowed)
	}
	n := 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Logs::LogGroup" {
			continue
		}
		n++
		if name(r.DeletionPolicy) != "LogGroupDeletionPolicy" || name(r.UpdateReplacePolicy) != "LogGroupDeletionPolicy" {
			t.Errorf("%s: deletion policy %v, replace policy %v", id, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
	}
	// The functions', the state machine's, the API's access log and WAF's
	// (WafLogging).
	if want := len(makefileFunctions(t)) + 3; n != want {
		t.Errorf("%d log groups, want %d", n, want)
	}
}

// The account's API Gateway CloudWatch role is replaced only when the
// operator says so (it is every API's of the account), and only API
// Gateway acting for this account may assume the one the stack creates.
func TestApiGatewayLoggingRoleIsOptIn(t *testing.T) {
	tpl := transformed(t)
	if def, _ := param(t, tpl, "CreateApiGatewayLoggingRole"); def != "false" {
		t.Errorf("CreateApiGatewayLoggingRole defaults to %s", def)
	}
	role, account := tpl.Resources["ApiGatewayLoggingRole"], tpl.Resources["ApiGatewayAccount"]
	if role.Condition != "CreateLoggingRole" || account.Condition != "CreateLoggingRole" {
		t.Errorf("role condition %q, account setting condition %q", role.Condition, account.Condition)
	}
	st := at(role.Properties, "AssumeRolePolicyDocument", "Statement", 0)
	if at(st, "Principal", "Service") != "apigateway.amazonaws.com" || name(at(st, "Condition", "StringEquals", "aws:SourceAccount")) != "AWS::AccountId" {
		t.Errorf("logging role trust %v: want API Gateway for this account only", st)
	}
}

// Logins whose Kakao account is unknown (anyone can make them) are kept
// for their own, shorter time, which the audit table's tag shows too.
func TestAnonymousAuditRetention(t *testing.T) {
	tpl := transformed(t)
	anon, _ := param(t, tpl, "AnonymousAuditRetentionDays")
	all, _ := param(t, tpl, "AuditRetentionDays")
	if atoi(anon) <= 0 || atoi(anon) >= atoi(all) {
		t.Errorf("anonymous retention %s days, events %s", anon, all)
	}
	tags, _ := json.Marshal(tpl.Resources["AuditTable"].Properties["Tags"])
	if !strings.Contains(string(tags), `{"Key":"kakaoauth:anonymous-audit-retention-days","Value":{"Ref":"AnonymousAuditRetentionDays"}}`) {
		t.Errorf("audit table tags %s", tags)
	}
	// The writers of anonymous events get it (TestEnvironment checks the
	// value of every variable).
	for _, fn := range []string{"RecordFailureFunction", "PreAuthFunction"} {
		if at(tpl.Resources[fn].Properties, "Environment", "Variables", "ANON_AUDIT_RETENTION_DAYS") == nil {
			t.Errorf("%s writes anonymous events without their retention", fn)
		}
	}
}

// The PreAuthentication trigger, which Cognito invokes for any sign-in
// attempt, reads the proof key and never the pepper; IssueTokens, which
// signs the proofs and derives the passwords, reads both. The proof key is
// generated in the pepper's versioned format, which shared/config reads.
func TestPreAuthCannotReadThePepper(t *testing.T) {
	tpl := transformed(t)
	pre := grants(t, tpl, "PreAuthRole")
	issue := grants(t, tpl, "IssueTokensRole")
	if slices.Contains(pre, "secretsmanager:GetSecretValue@PepperSecret") || !slices.Contains(pre, "secretsmanager:GetSecretValue@ProofKeySecret") {
		t.Errorf("PreAuthRole grants %v: want the proof key and not the pepper", pre)
	}
	for _, want := range []string{"secretsmanager:GetSecretValue@PepperSecret", "secretsmanager:GetSecretValue@ProofKeySecret"} {
		if !slices.Contains(issue, want) {
			t.Errorf("IssueTokensRole lacks %s", want)
		}
	}
	vars, _ := at(tpl.Resources["PreAuthFunction"].Properties, "Environment", "Variables").(map[string]any)
	if _, ok := vars[config.SecretPepper]; ok {
		t.Error("PreAuthFunction is told where the pepper is")
	}
	r := tpl.Resources["ProofKeySecret"]
	gen, _ := r.Properties["GenerateSecretString"].(map[string]any)
	var doc map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(gen["SecretStringTemplate"])), &doc); err != nil || r.Type != "AWS::SecretsManager::Secret" {
		t.Fatalf("ProofKeySecret %v: %v", r, err)
	}
	doc[fmt.Sprint(gen["GenerateStringKey"])] = strings.Repeat("a", int(gen["PasswordLength"].(float64)))
	value, _ := json.Marshal(doc)
	c := config.Config{ProofKeySecretID: "proof"}
	if err := c.LoadSecrets(t.Context(), secretValue(string(value)), config.SecretProofKey); err != nil || len(c.ProofKey) < 64 {
		t.Errorf("the generated proof key would not load: %v", err)
	}
	if kms := name(r.Properties["KmsKeyId"]); kms != "SecretsKmsKeyArn|AWS::NoValue" {
		t.Errorf("ProofKeySecret KmsKeyId %s", kms)
	}
}

// secretValue is a config.SecretGetter with one value for every id.
type secretValue string

func (v secretValue) GetSecret(context.Context, string) (string, error) { return string(v), nil }
