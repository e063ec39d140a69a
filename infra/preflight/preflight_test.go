package preflight

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const root = "../.."

func load(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// A minimal good deployment: the two required parameters.
func good() map[string]string {
	return map[string]string{"KakaoAppId": "1234567", "KakaoAppKeys": "0123456789abcdef0123456789abcdef"}
}

func with(extra ...string) map[string]string {
	v := good()
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "<unset>" {
			delete(v, extra[i])
			continue
		}
		v[extra[i]] = extra[i+1]
	}
	return v
}

func TestTemplateParameters(t *testing.T) {
	tpl := load(t)
	if len(tpl.Parameters) < 30 || tpl.Parameters[0].Name != "KakaoAppId" || tpl.Parameters[1].Name != "KakaoAppKeys" {
		t.Fatalf("parameters %d, first %s", len(tpl.Parameters), tpl.Parameters[0].Name)
	}
	var required []string
	for _, p := range tpl.Parameters {
		if p.Default == nil {
			required = append(required, p.Name)
		}
	}
	// The two a reader must answer; everything else has a default.
	if !slices.Equal(required, []string{"KakaoAppId", "KakaoAppKeys"}) {
		t.Fatalf("required parameters %v", required)
	}
	if got := tpl.Check(good()); len(got) != 0 {
		t.Fatalf("a good deployment: %v", got)
	}
}

// A bad parameter set is refused with every problem, in words that say
// what to give; nothing here needs AWS.
func TestCheckRefusesBadParameters(t *testing.T) {
	tpl := load(t)
	for _, c := range []struct {
		name   string
		values map[string]string
		want   []string
	}{
		{"nothing given", map[string]string{}, []string{
			"KakaoAppId: is required and has no default: the numeric Kakao app id",
			"KakaoAppKeys: is required and has no default: one or more Kakao app keys"}},
		{"empty app id", with("KakaoAppId", ""), []string{"KakaoAppId: is empty: the numeric Kakao app id"}},
		{"app id not a number", with("KakaoAppId", "myapp"), []string{`KakaoAppId: "myapp" is not the numeric Kakao app id`}},
		{"keys with a space", with("KakaoAppKeys", "abcdefgh, ijklmnop"), []string{`KakaoAppKeys: "abcdefgh, ijklmnop" is not one or more Kakao app keys, comma-separated, no spaces`}},
		{"typo in a name", with("KakaoAppID", "1"), []string{"KakaoAppID: is not a parameter of the template; did you mean KakaoAppId?"}},
		{"optional key", with("KakaoRestApiKey", "abc"), []string{`KakaoRestApiKey: "abc" is not the REST API key: 8 to 64 letters and digits (or leave it empty)`}},
		{"bool", with("EnableWaf", "yes"), []string{`EnableWaf: "yes" is not one of true, false`}},
		{"below a minimum", with("WafRateLimit", "10"), []string{`WafRateLimit: "10" is below the minimum 100`}},
		{"not a number", with("ThrottleRateLimit", "fast"), []string{`ThrottleRateLimit: "fast" is not a number`}},
		{"retention not offered", with("LogRetentionDays", "100"), []string{`LogRetentionDays: "100" is not one of 1, 3`}},
		{"url with a path", with("KakaoApiBaseUrl", "https://kapi.kakao.com/v2"), []string{"KakaoApiBaseUrl", "an https:// base URL with no path"}},
		// The template's Rules, evaluated as CloudFormation would.
		{"a double in production", with("KakaoApiBaseUrl", "https://kakao.staging.example"), []string{
			"KakaoApiBaseUrl must be https://kapi.kakao.com unless AllowNonKakaoHosts is true (a non-production stack). (rule KakaoHostsInProduction)"}},
		{"hosted UI half set", with("HostedUi", "enabled"), []string{
			"HostedUi=enabled needs KakaoIdAttribute=mutable", "HostedUi=enabled needs HostedUiDomainPrefix.",
			"HostedUi=enabled needs HostedUiCallbackUrls.", "HostedUi=enabled needs KakaoRestApiKey.", "HostedUi=enabled needs KakaoClientSecretName."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, p := range tpl.Check(c.values) {
				got = append(got, p.String())
			}
			text := strings.Join(got, "\n")
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("problems lack %q:\n%s", w, text)
				}
			}
			if len(got) == 0 {
				t.Error("accepted")
			}
		})
	}
	// The rules pass when the set is whole.
	hosted := with("HostedUi", "enabled", "KakaoIdAttribute", "mutable", "HostedUiDomainPrefix", "myapp-login",
		"HostedUiCallbackUrls", "https://app.example.com/callback", "KakaoRestApiKey", "0123456789abcdef", "KakaoClientSecretName", "kakaoauth/kakao-client-secret")
	if got := tpl.Check(hosted); len(got) != 0 {
		t.Errorf("a whole hosted UI set: %v", got)
	}
	if got := tpl.Check(with("KakaoApiBaseUrl", "https://kakao.staging.example", "AllowNonKakaoHosts", "true")); len(got) != 0 {
		t.Errorf("a staging double, allowed: %v", got)
	}
	// Go's regexp caps repeats at 1000; a 2048 upper bound stays usable.
	if got := tpl.Check(with("KakaoClientSecretName", strings.Repeat("a", 1500))); len(got) != 0 {
		t.Errorf("a long secret name: %v", got)
	}
}

// Rules this package cannot evaluate make Parse fail, so no rule is ever
// skipped in silence.
func TestUnknownRuleFunctionsAreRefused(t *testing.T) {
	_, err := Parse([]byte("Parameters:\n  A: {Type: String}\nRules:\n  R:\n    Assertions:\n      - Assert: !EachMemberEquals [!Ref A, x]\n"))
	if err == nil || !strings.Contains(err.Error(), "Fn::EachMemberEquals is not a condition this check evaluates") {
		t.Fatalf("%v", err)
	}
	tpl, err := Parse([]byte(`{"Parameters": {"A": {"Type": "String"}}, "Rules": {"R": {"Assertions": [{"Assert": {"Fn::Or": [{"Fn::Equals": [{"Ref": "A"}, "x"]}, {"Fn::Contains": [["y", "z"], {"Ref": "A"}]}]}, "AssertDescription": "A is x, y or z"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for v, ok := range map[string]bool{"x": true, "z": true, "w": false} {
		if got := tpl.Check(map[string]string{"A": v}); (len(got) == 0) != ok {
			t.Errorf("A=%s: %v", v, got)
		}
	}
}

func TestCheckRegion(t *testing.T) {
	for region, want := range map[string]string{
		"ap-northeast-2": "",
		"us-east-1":      "",
		"":               "no region",
		"seoul":          `"seoul" is not an AWS region code`,
		"ap-northeast-9": "is not a region where this stack can run",
		"cn-north-1":     "outside AWS's commercial partition",
		"us-gov-west-1":  "outside AWS's commercial partition",
	} {
		got := CheckRegion(region)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%q: %q, want %q", region, got, want)
		}
	}
}

// Regions is the intersection of the regions the SDK's Cognito user pools
// and Step Functions clients (the versions go.mod requires) know in AWS's
// commercial partition, so it moves with the SDK.
func TestRegionsMatchTheSDK(t *testing.T) {
	known := func(module string) []string {
		out, err := exec.Command("go", "list", "-m", "-json", module).Output()
		if err != nil {
			t.Fatalf("go list -m %s: %v", module, err)
		}
		var m struct{ Dir string }
		if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
			t.Fatalf("go list -m %s: %s", module, out)
		}
		src, err := os.ReadFile(filepath.Join(m.Dir, "internal", "endpoints", "endpoints.go"))
		if err != nil {
			t.Fatal(err)
		}
		text := string(src)
		start := strings.Index(text, `ID: "aws",`)
		end := strings.Index(text[start+1:], `ID: "aws-`)
		if start < 0 || end < 0 {
			t.Fatalf("%s: no aws partition", module)
		}
		var regions []string
		for _, m := range regexp.MustCompile(`Region: "([a-z0-9-]+)"`).FindAllStringSubmatch(text[start:start+1+end], -1) {
			if !strings.HasPrefix(m[1], "fips-") && !slices.Contains(regions, m[1]) {
				regions = append(regions, m[1])
			}
		}
		return regions
	}
	sfn := known("github.com/aws/aws-sdk-go-v2/service/sfn")
	var both []string
	for _, r := range known("github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider") {
		if slices.Contains(sfn, r) {
			both = append(both, r)
		}
	}
	slices.Sort(both)
	if !slices.Equal(both, Regions) {
		t.Fatalf("Regions %v\nthe SDK's       %v", Regions, both)
	}
}

func TestReadSamConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "samconfig.toml")
	if err := os.WriteFile(path, []byte(`version = 0.1
[default.global.parameters]
stack_name = "kakaoauth"
region = "ap-northeast-2"
[default.deploy.parameters]
region = "ap-northeast-1"
parameter_overrides = "KakaoAppId=\"1234567\" KakaoAppKeys=\"abcdefgh,ijklmnop\" HostedUiKakaoScopes=\"profile_nickname account_email\" Empty=\"\" Bare=x"
[prod.deploy.parameters]
parameter_overrides = ["KakaoAppId=7654321", "LogLevel=DEBUG"]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadSamConfig(path, "default")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"KakaoAppId": "1234567", "KakaoAppKeys": "abcdefgh,ijklmnop", "HostedUiKakaoScopes": "profile_nickname account_email", "Empty": "", "Bare": "x"}
	if cfg.StackName != "kakaoauth" || cfg.Region != "ap-northeast-1" || !equal(cfg.ParameterOverrides, want) {
		t.Fatalf("%+v", cfg)
	}
	prod, err := ReadSamConfig(path, "prod")
	if err != nil || !equal(prod.ParameterOverrides, map[string]string{"KakaoAppId": "7654321", "LogLevel": "DEBUG"}) {
		t.Fatalf("prod: %+v %v", prod, err)
	}
	if none, err := ReadSamConfig(filepath.Join(dir, "missing.toml"), "default"); err != nil || len(none.ParameterOverrides) != 0 {
		t.Fatalf("a missing file: %+v %v", none, err)
	}
	if _, err := ParseOverrides(`KakaoAppId="1234567" "oops"`); err == nil {
		t.Fatal("a token that is not Name=Value was accepted")
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
