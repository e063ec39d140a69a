package templatecheck

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/shared/cloudwatch"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// Issue 19's template: Kakao's callbacks keep a budget nobody else can
// spend, only the stack talks to its queue and bus, the account tables
// forget on schedule, and the upkeep runs on its own.

// Kakao's unlink callbacks cannot be starved (the finding: one shared
// 10/s bucket, no authorizer, ~11 unauthenticated requests a second from
// one host made Kakao's callbacks 429). Now both unlink methods are behind
// a request authorizer (the admin key, and the source address in its
// cache key) that hands out the API key of a usage plan of Kakao's own:
// only calls it allowed spend that plan's throttle; the method's own
// bucket sits far above it; with KakaoCallbackSourceCidrs and WAF, other
// sources are refused before API Gateway.
func TestUnlinkCallbackBudget(t *testing.T) {
	tpl := transformed(t)
	body := at(tpl.Resources["LoginApi"].Properties, "Body")
	if at(body, "x-amazon-apigateway-api-key-source") != "AUTHORIZER" {
		t.Errorf("API key source %v: a client's x-api-key header must count for nothing", at(body, "x-amazon-apigateway-api-key-source"))
	}
	for _, method := range []string{"get", "post"} {
		sec, _ := json.Marshal(at(body, "paths", workflow.UnlinkPath, method, "security"))
		if string(sec) != `[{"KakaoAdminKey":[],"api_key":[]}]` {
			t.Errorf("%s %s security %s: want the unlink authorizer and the usage plan's key", strings.ToUpper(method), workflow.UnlinkPath, sec)
		}
	}
	auth := at(body, "components", "securitySchemes", "KakaoAdminKey")
	a := at(auth, "x-amazon-apigateway-authorizer")
	uri, _ := at(a, "authorizerUri", "Fn::Sub").(string)
	checks := map[string][2]any{
		"auth type":       {at(auth, "x-amazon-apigateway-authtype"), "custom"},
		"authorizer type": {at(a, "type"), "request"},
		"identity":        {at(a, "identitySource"), "method.request.header.Authorization, context.identity.sourceIp"},
		"function":        {strings.Contains(uri, "${UnlinkAuthorizerFunction.Arn}"), true},
		"cache":           {at(a, "authorizerResultTtlInSeconds"), 300.0},
		"api key scheme":  {fmt.Sprint(at(body, "components", "securitySchemes", "api_key")), "map[in:header name:x-api-key type:apiKey]"},
	}
	plan := tpl.Resources["UnlinkUsagePlan"]
	key := tpl.Resources["UnlinkApiKey"]
	planKey := tpl.Resources["UnlinkUsagePlanKey"].Properties
	checks["plan rate"] = [2]any{name(at(plan.Properties, "Throttle", "RateLimit")), "UnlinkThrottleRateLimit"}
	checks["plan burst"] = [2]any{name(at(plan.Properties, "Throttle", "BurstLimit")), "UnlinkThrottleBurstLimit"}
	checks["plan stage"] = [2]any{name(at(plan.Properties, "ApiStages", 0, "ApiId")) + "/" + fmt.Sprint(at(plan.Properties, "ApiStages", 0, "Stage")), "LoginApi/" + apiStage(t)}
	checks["plan key"] = [2]any{name(planKey["KeyId"]) + " " + fmt.Sprint(planKey["KeyType"]) + " " + name(planKey["UsagePlanId"]), "UnlinkApiKey API_KEY UnlinkUsagePlan"}
	checks["key enabled"] = [2]any{key.Properties["Enabled"], true}
	// The authorizer hands out exactly the key the plan holds.
	env := at(tpl.Resources["UnlinkAuthorizerFunction"].Properties, "Environment", "Variables")
	checks["key value"] = [2]any{name(key.Properties["Value"]), name(at(env, "UNLINK_USAGE_KEY"))}
	checks["allow-list"] = [2]any{name(at(env, "KAKAO_CALLBACK_CIDRS")), "KakaoCallbackSourceCidrs"}
	perm := tpl.Resources["UnlinkAuthorizerInvokePermission"].Properties
	checks["authorizer permission"] = [2]any{name(perm["FunctionName"]) + " " + fmt.Sprint(perm["Principal"]) + " " + name(perm["SourceArn"]),
		"UnlinkAuthorizerFunction apigateway.amazonaws.com sub:arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${LoginApi}/authorizers/*"}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %v, want %v", what, c[0], c[1])
		}
	}
	if key.Properties["Value"] == nil || key.Properties["Value"] == "" {
		t.Error("the usage plan's key has no value the authorizer can name")
	}

	// The unlink route's own method bucket is far above Kakao's budget,
	// which is below the logins'.
	rate, _ := param(t, tpl, "UnlinkThrottleRateLimit")
	burst, _ := param(t, tpl, "UnlinkThrottleBurstLimit")
	stageRate, _ := param(t, tpl, "ThrottleRateLimit")
	if atoi(rate) <= 0 || atoi(rate) >= atoi(stageRate) || atoi(burst) < atoi(rate) {
		t.Errorf("Kakao's budget %s/s (burst %s), logins %s/s", rate, burst, stageRate)
	}
	var stage resource
	for _, r := range tpl.Resources {
		if r.Type == "AWS::ApiGateway::Stage" {
			stage = r
		}
	}
	found := false
	for _, s := range asList(stage.Properties["MethodSettings"]) {
		if at(s, "ResourcePath") != "/"+strings.ReplaceAll(workflow.UnlinkPath, "/", "~1") {
			continue
		}
		found = true
		r, _ := at(s, "ThrottlingRateLimit").(float64)
		b, _ := at(s, "ThrottlingBurstLimit").(float64)
		if at(s, "HttpMethod") != "*" || r < 50*float64(atoi(rate)) || b < r || at(s, "MetricsEnabled") != true {
			t.Errorf("unlink method settings %v: its bucket must be far above Kakao's %s/s", s, rate)
		}
	}
	if !found {
		t.Error("no method settings for the unlink route")
	}
	// The webhook is invoked by API Gateway for that route only (not
	// through SAM Api events, which would add paths and permissions of
	// their own).
	if ev := tpl.Resources["UnlinkFunction"].Properties["Events"]; ev != nil {
		t.Errorf("UnlinkFunction has SAM events %v", ev)
	}

	// The allow-list in WAF: other sources never reach API Gateway.
	rules := asList(tpl.Resources["WebAcl"].Properties["Rules"])
	var rule any
	for _, r := range rules {
		if f, ok := at(r, "Fn::If").([]any); ok && f[0] == "UseWafCallbackCidrs" {
			rule = f[1]
		}
	}
	stmts := at(rule, "Statement", "AndStatement", "Statements")
	if at(rule, "Name") != "UnlinkFromKakaoOnly" || at(rule, "Action", "Block") == nil ||
		at(stmts, 0, "ByteMatchStatement", "SearchString") != workflow.UnlinkPath ||
		name(at(stmts, 1, "NotStatement", "Statement", "IPSetReferenceStatement", "Arn")) != "KakaoCallbackIpSet" ||
		at(rule, "VisibilityConfig", "SampledRequestsEnabled") != false {
		t.Errorf("WAF allow-list rule %v", rule)
	}
	set := tpl.Resources["KakaoCallbackIpSet"]
	if set.Condition != "UseWafCallbackCidrs" || fmt.Sprint(at(set.Properties, "Addresses")) != "map[Fn::Split:[, map[Ref:KakaoCallbackSourceCidrs]]]" {
		t.Errorf("KakaoCallbackIpSet %+v", set)
	}
	if got := fmt.Sprint(tpl.Conditions["UseWafCallbackCidrs"]); got != "map[Fn::And:[map[Condition:UseWaf] map[Condition:HasKakaoCallbackCidrs]]]" {
		t.Errorf("UseWafCallbackCidrs %s", got)
	}
	// What the parameter accepts, shared/config reads.
	for _, ok := range []string{"203.0.113.0/24", "203.0.113.0/24,198.51.100.7/32"} {
		if _, err := config.ParseSourceNetworks(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// Only the stack sends to its unlink queue and puts events on its bus (the
// finding: anyone who could send to the queue could delete an account and
// lock it out until a receivedAt of their choosing; the bus had no
// policy). The principals the policies let through are exactly the roles
// the template grants the call: a function that starts publishing or
// sending without being added to the policy fails here.
func TestOnlyTheStackSendsToItsQueueAndBus(t *testing.T) {
	tpl := transformed(t)
	grantedTo := func(call string) []string {
		var roles []string
		for id, r := range tpl.Resources {
			if r.Type == "AWS::IAM::Role" && slices.Contains(grants(t, tpl, id), call) {
				roles = append(roles, id)
			}
		}
		slices.Sort(roles)
		return roles
	}
	principals := func(v any) []string {
		var out []string
		for _, p := range asList(v) {
			for _, n := range strings.Split(name(p), "|") {
				if n != "AWS::NoValue" && !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	policy := tpl.Resources["UnlinkQueuesPolicy"].Properties
	sids := map[string]any{}
	for _, st := range asList(at(policy, "PolicyDocument", "Statement")) {
		sids[fmt.Sprint(at(st, "Sid"))] = st
	}
	send := sids["OnlyTheStackSends"]
	if at(send, "Effect") != "Deny" || at(send, "Principal") != "*" || at(send, "Action") != "sqs:SendMessage" || name(at(send, "Resource")) != "UnlinkQueue" {
		t.Errorf("queue send statement %v", send)
	}
	if got, want := principals(at(send, "Condition", "ArnNotEquals", "aws:PrincipalArn")), grantedTo("sqs:SendMessage@UnlinkQueue"); !slices.Equal(got, want) {
		t.Errorf("the unlink queue takes messages from %v; the roles granted sqs:SendMessage are %v", got, want)
	}
	dead := sids["OnlyTheRedriveDeadLetters"]
	if at(dead, "Effect") != "Deny" || at(dead, "Action") != "sqs:SendMessage" || name(at(dead, "Resource")) != "UnlinkDeadLetterQueue" ||
		name(at(dead, "Condition", "ArnNotEquals", "aws:SourceArn")) != "UnlinkQueue" {
		t.Errorf("dead-letter statement %v", dead)
	}
	if sids["TLSOnly"] == nil {
		t.Error("the TLS statement is gone")
	}

	bus := tpl.Resources["EventBusPutPolicy"]
	st := at(bus.Properties, "Statement")
	if bus.Type != "AWS::Events::EventBusPolicy" || bus.Condition != "CreateEventBus" || name(bus.Properties["EventBusName"]) != "EventBus" ||
		at(st, "Effect") != "Deny" || at(st, "Principal") != "*" || at(st, "Action") != "events:PutEvents" || name(at(st, "Resource")) != "EventBus" {
		t.Errorf("bus policy %+v", bus)
	}
	if got, want := principals(at(st, "Condition", "ArnNotEquals", "aws:PrincipalArn")), grantedTo("events:PutEvents@"+eventBus); !slices.Equal(got, want) {
		t.Errorf("the bus takes events from %v; the roles granted events:PutEvents are %v", got, want)
	}
	// The worker and the webhook hold the MAC key; nobody else does.
	if got, want := grantedTo("secretsmanager:GetSecretValue@UnlinkMacKeySecret"), []string{"UnlinkRole", "UnlinkWorkerRole"}; !slices.Equal(got, want) {
		t.Errorf("the unlink MAC key is readable by %v, want %v", got, want)
	}
}

// The account tables forget on schedule (the finding: a deleted account's
// row never expired, its audit events kept IP addresses and user agents
// for the audit retention, an unlinked account's email was kept forever):
// deleted rows expire by TTL, the sweeper finds the rows with due work by
// the byDue index, and the retention parameters reach the functions that
// unlink and delete, with shared/config's defaults.
func TestAccountTablesForget(t *testing.T) {
	tpl := transformed(t)
	m := tpl.Resources["MappingTable"].Properties
	if at(m, "TimeToLiveSpecification", "AttributeName") != store.AttrMappingExpiresAt || at(m, "TimeToLiveSpecification", "Enabled") != true {
		t.Errorf("mapping table TTL %v", m["TimeToLiveSpecification"])
	}
	var due any
	for _, g := range asList(m["GlobalSecondaryIndexes"]) {
		if at(g, "IndexName") == store.IndexByDue {
			due = g
		}
	}
	if at(due, "KeySchema", 0, "AttributeName") != store.AttrDue || at(due, "KeySchema", 1, "AttributeName") != store.AttrDueAt ||
		at(due, "Projection", "ProjectionType") != "KEYS_ONLY" {
		t.Errorf("byDue index %v", due)
	}
	ops := tpl.Resources["OperationsTable"].Properties
	if at(ops, "KeySchema", 0, "AttributeName") != store.AttrOpsPK || at(ops, "KeySchema", 1, "AttributeName") != store.AttrOpsSK ||
		at(ops, "TimeToLiveSpecification", "AttributeName") != store.AttrOpsExpires || at(ops, "SSESpecification", "SSEEnabled") != true {
		t.Errorf("operations table %v", ops)
	}
	days := func(d time.Duration) string { return strconv.Itoa(int(d / (24 * time.Hour))) }
	for p, want := range map[string]string{
		"UnlinkedEmailRetentionDays":  days(config.DefaultUnlinkedEmailRetention),
		"DeletedAccountPiiDays":       days(config.DefaultDeletedAccountPII),
		"DeletedMappingRetentionDays": days(config.DefaultDeletedMappingRetention),
		"RecreationLimit":             strconv.Itoa(config.DefaultRecreationLimit),
		"RecreationPeriod":            config.DefaultRecreationPeriod.String(),
		"ReconcileMaxUnlinksPerRun":   strconv.Itoa(config.DefaultReconcileMaxUnlinks),
		"ReconcileRequestsPerSecond":  strconv.FormatFloat(config.DefaultReconcileRate, 'f', -1, 64),
	} {
		if got, _ := param(t, tpl, p); got != want && got+"0m0s" != want {
			t.Errorf("%s default %s, shared/config's %s", p, got, want)
		}
	}
	// The functions that mark accounts unlinked or deleted know the
	// retention their writes schedule.
	for _, fn := range []string{"UnlinkWorkerFunction", "ReconcilerFunction"} {
		vars := at(tpl.Resources[fn].Properties, "Environment", "Variables")
		for v, p := range map[string]string{"UNLINKED_EMAIL_RETENTION_DAYS": "UnlinkedEmailRetentionDays",
			"DELETED_ACCOUNT_PII_DAYS": "DeletedAccountPiiDays", "DELETED_MAPPING_RETENTION_DAYS": "DeletedMappingRetentionDays"} {
			if name(at(vars, v)) != p {
				t.Errorf("%s: %s = %v, want the parameter %s", fn, v, at(vars, v), p)
			}
		}
	}
	// The recreation limit reaches the login step that recreates.
	for _, fn := range []string{"UpsertUserFunction", "PreSignUpFunction"} {
		vars := at(tpl.Resources[fn].Properties, "Environment", "Variables")
		if name(at(vars, "RECREATION_LIMIT")) != "RecreationLimit" || name(at(vars, "RECREATION_PERIOD")) != "RecreationPeriod" {
			t.Errorf("%s: recreation limit %v", fn, vars)
		}
	}
}

// The upkeep runs without anyone: the sweeper every minute, the
// reconciler on its interval, both started by EventBridge Scheduler with
// a role that may start them only; a reconciled unlink raises an alarm on
// the metric the reconciler writes (in the embedded metric format, with
// the namespace and dimension shared/cloudwatch uses: no permission).
func TestUpkeepSchedules(t *testing.T) {
	tpl := transformed(t)
	sweep := tpl.Resources["SweeperSchedule"].Properties
	rec := tpl.Resources["ReconcilerSchedule"].Properties
	alarm := tpl.Resources["ReconciledUnlinksAlarm"].Properties
	checks := map[string][2]any{
		"sweeper rate":       {sweep["ScheduleExpression"], "rate(1 minute)"},
		"sweeper target":     {name(at(sweep, "Target", "Arn")), "SweeperFunction"},
		"sweeper role":       {name(at(sweep, "Target", "RoleArn")), "SchedulerRole"},
		"reconciler rate":    {name(rec["ScheduleExpression"]), "sub:rate(${ReconcileIntervalMinutes} minutes)"},
		"reconciler target":  {name(at(rec, "Target", "Arn")), "ReconcilerFunction"},
		"reconciler role":    {name(at(rec, "Target", "RoleArn")), "SchedulerRole"},
		"alarm namespace":    {alarm["Namespace"], cloudwatch.Namespace},
		"alarm metric":       {alarm["MetricName"], workflow.MetricReconciledUnlinks},
		"alarm dimension":    {at(alarm, "Dimensions", 0, "Name"), cloudwatch.DimensionStack},
		"alarm stack":        {name(at(alarm, "Dimensions", 0, "Value")), "AWS::StackName"},
		"alarm threshold":    {fmt.Sprint(alarm["ComparisonOperator"], " ", alarm["Threshold"], " ", alarm["Statistic"]), "GreaterThanThreshold 0 Sum"},
		"alarm topic":        {name(alarm["AlarmActions"]), `[{"Ref":"AlarmTopicArn"}]|AWS::NoValue`},
		"metric stack name":  {name(at(tpl.Resources["ReconcilerFunction"].Properties, "Environment", "Variables", "STACK_NAME")), "AWS::StackName"},
		"scheduler trust":    {fmt.Sprint(at(tpl.Resources["SchedulerRole"].Properties, "AssumeRolePolicyDocument", "Statement", 0, "Principal", "Service")), "scheduler.amazonaws.com"},
		"minimum interval":   {fmt.Sprint(tpl.Parameters["ReconcileIntervalMinutes"]["MinValue"]), "5"},
		"sweeper no retries": {at(sweep, "Target", "RetryPolicy", "MaximumRetryAttempts"), 0.0},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: %v, want %v", what, c[0], c[1])
		}
	}
}
