package templatecheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// everyOption is the stack with every web ACL and WAF's logging on (the
// API's web ACL is on by default), and the hosted UI's app client.
func everyOption(t *testing.T) *resolvedStack {
	t.Helper()
	return mustResolve(t, append(slices.Clone(requiredParams), append([]string{"EnableUserPoolWaf=true", "WafLogging=true"}, hostedUiParams...)...)...)
}

// protects says whether a web ACL's data protection replaces (not hashes)
// a field of this type and key everywhere WAF keeps request data: sampled
// requests, logs, and the rule match and rate-based details of both.
func protects(acl map[string]any, fieldType, key string) bool {
	list, _ := at(acl, "DataProtectionConfig", "DataProtections").([]any)
	for _, dp := range list {
		if at(dp, "Field", "FieldType") != fieldType || at(dp, "Action") != "SUBSTITUTION" ||
			at(dp, "ExcludeRuleMatchDetails") == true || at(dp, "ExcludeRateBasedDetails") == true {
			continue
		}
		keys, _ := at(dp, "Field", "FieldKeys").([]any)
		if len(keys) == 0 { // every key of the type
			return true
		}
		for _, k := range keys {
			if strings.EqualFold(fmt.Sprint(k), key) {
				return true
			}
		}
	}
	return false
}

// No secret in WAF's keeping. Kakao's unlink callback carries
// Authorization: KakaoAK <admin key>, other routes bearer tokens, the
// hosted UI a client secret and session cookies: every web ACL of the
// stack, whichever options make it, replaces the Authorization header and
// every cookie wherever WAF keeps request data (its data protection
// reaches sampled requests, which a logging configuration's redaction does
// not), and every logging configuration redacts them as well.
func TestWafKeepsNoSecret(t *testing.T) {
	for what, r := range map[string]*resolvedStack{"defaults": mustResolve(t, requiredParams...), "every option": everyOption(t)} {
		acls, logs := 0, 0
		for id, res := range r.tpl.Resources {
			switch res.Type {
			case "AWS::WAFv2::WebACL":
				acls++
				for _, field := range [][2]string{{"SINGLE_HEADER", "authorization"}, {"SINGLE_COOKIE", "any"}} {
					if !protects(res.Properties, field[0], field[1]) {
						t.Errorf("%s: web ACL %s keeps %s %s in its samples and logs", what, id, field[0], field[1])
					}
				}
			case "AWS::WAFv2::LoggingConfiguration":
				logs++
				var redacted []string
				for _, f := range asList(res.Properties["RedactedFields"]) {
					redacted = append(redacted, strings.ToLower(fmt.Sprint(at(f, "SingleHeader", "Name"))))
				}
				if !slices.Contains(redacted, "authorization") || !slices.Contains(redacted, "cookie") {
					t.Errorf("%s: logging configuration %s redacts %v, want authorization and cookie", what, id, redacted)
				}
				if arn := name(at(res.Properties, "LogDestinationConfigs", 0)); !strings.HasPrefix(arn, "sub:") || strings.HasSuffix(arn, ":*") {
					t.Errorf("%s: %s logs to %s, want the group's ARN without :*", what, id, arn)
				}
			}
		}
		wantACLs, wantLogs := 1, 0
		if what == "every option" {
			wantACLs, wantLogs = 2, 2
		}
		if acls != wantACLs || logs != wantLogs {
			t.Errorf("%s: %d web ACLs and %d logging configurations, want %d and %d", what, acls, logs, wantACLs, wantLogs)
		}
	}
	if group := everyOption(t).tpl.Resources["WafLogGroup"]; !strings.HasPrefix(fmt.Sprint(at(group.Properties, "LogGroupName", "Fn::Sub")), "aws-waf-logs-") ||
		name(group.Properties["RetentionInDays"]) != "LogRetentionDays" {
		t.Errorf("WAF log group %+v: WAF requires the aws-waf-logs- prefix; keep it LogRetentionDays", group)
	}
	if def, _ := param(t, transformed(t), "WafLogging"); def != "false" {
		t.Errorf("WafLogging defaults to %s, want false", def)
	}
}

// The optional web ACL on the user pool (EnableUserPoolWaf, off by
// default): a per-IP rate on Cognito's public endpoints, so that anonymous
// floods cannot spend the UserAuthentication quota the broker's sign-ins
// need; the pool's own ARN is what it protects.
func TestUserPoolWebACL(t *testing.T) {
	tpl := transformed(t)
	if def, allowed := param(t, tpl, "EnableUserPoolWaf"); def != "false" || !slices.Equal(allowed, []string{"true", "false"}) {
		t.Errorf("EnableUserPoolWaf default %s, allowed %v", def, allowed)
	}
	if def, _ := param(t, tpl, "UserPoolWafRateLimit"); def != "1000" || fmt.Sprint(tpl.Parameters["UserPoolWafRateLimit"]["MinValue"]) != "100" {
		t.Errorf("UserPoolWafRateLimit %v", tpl.Parameters["UserPoolWafRateLimit"])
	}
	off := mustResolve(t, requiredParams...).tpl.Resources
	for _, id := range []string{"UserPoolWebAcl", "UserPoolWebAclAssociation", "WafLogGroup", "WebAclLogging", "UserPoolWebAclLogging"} {
		if _, ok := off[id]; ok {
			t.Errorf("%s exists with the defaults", id)
		}
	}
	on := mustResolve(t, append(slices.Clone(requiredParams), "EnableUserPoolWaf=true")...).tpl.Resources
	acl := on["UserPoolWebAcl"].Properties
	if acl == nil || acl["Scope"] != "REGIONAL" || fmt.Sprint(acl["DefaultAction"]) != "map[Allow:map[]]" {
		t.Fatalf("user pool web ACL %v", acl)
	}
	rules := asList(acl["Rules"])
	if len(rules) != 2 {
		t.Fatalf("%d rules, want the unused operations' and the rate rule", len(rules))
	}
	// The anonymous operations a pool of the stack never serves, whose
	// answers could tell an existing user from a missing one (ForgotPassword
	// with admin-only recovery): refused for everyone, before any counting.
	unused := rules[0]
	re := at(unused, "Statement", "RegexMatchStatement")
	pattern, _ := at(re, "RegexString").(string)
	header, _ := at(re, "FieldToMatch", "SingleHeader", "Name").(string)
	if !strings.EqualFold(header, "x-amzn-cognito-operation-name") || at(unused, "Action", "Block") == nil || at(unused, "Priority") != 0.0 {
		t.Errorf("unused operations rule %v", unused)
	}
	for op, blocked := range map[string]bool{"SignUp": true, "ConfirmSignUp": true, "ResendConfirmationCode": true, "ForgotPassword": true,
		"ConfirmForgotPassword": true, "InitiateAuth": false, "RespondToAuthChallenge": false, "GetUser": false, "RevokeToken": false, "XSignUp": false, "SignUpX": false} {
		if got := regexp.MustCompile(pattern).MatchString(op); got != blocked {
			t.Errorf("operation %s blocked: %v, want %v (pattern %s)", op, got, blocked, pattern)
		}
	}
	rs := at(rules[1], "Statement", "RateBasedStatement")
	if name(at(rs, "Limit")) != "UserPoolWafRateLimit" || at(rs, "AggregateKeyType") != "IP" || at(rs, "EvaluationWindowSec") != 300.0 ||
		at(rs, "ScopeDownStatement") != nil || at(rules[1], "Action", "Block") == nil {
		t.Errorf("rate rule %v: want every request of an IP counted, blocked past UserPoolWafRateLimit in 5 minutes", rules[1])
	}
	if !protects(acl, "SINGLE_QUERY_ARGUMENT", "code") {
		t.Error("the user pool's web ACL keeps Kakao's authorization code (/oauth2/idpresponse?code=) in its samples")
	}
	assoc := on["UserPoolWebAclAssociation"].Properties
	if name(assoc["ResourceArn"]) != "UserPool" || name(assoc["WebACLArn"]) != "UserPoolWebAcl" {
		t.Errorf("association %v: want the user pool's ARN and this web ACL", assoc)
	}
	if _, ok := on["WebAcl"]; !ok {
		t.Error("the API's web ACL went with the pool's")
	}
}

// No user enumeration: every app client a person can reach (the public
// app client apps refresh with, the hosted UI's) answers a missing user as
// it answers a wrong password, in every stack the options make.
func TestPreventUserExistenceErrors(t *testing.T) {
	for what, r := range map[string]*resolvedStack{"defaults": mustResolve(t, requiredParams...), "hosted UI": hostedOn(t)} {
		clients := 0
		for id, res := range r.tpl.Resources {
			if res.Type != "AWS::Cognito::UserPoolClient" {
				continue
			}
			clients++
			if got := res.Properties["PreventUserExistenceErrors"]; got != "ENABLED" {
				t.Errorf("%s: app client %s has PreventUserExistenceErrors %v, want ENABLED", what, id, got)
			}
		}
		if clients == 0 {
			t.Errorf("%s: no app client", what)
		}
	}
}
