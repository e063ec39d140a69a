package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// Every command and action, as a person types them before -h.
var helpInvocations = [][]string{
	{"local"}, {"fake-kakao"}, {"login"}, {"smoke"}, {"tryit"}, {"bench"}, {"version"}, {"deploy"},
	{"admin", "show"}, {"admin", "unlink"}, {"admin", "relink"}, {"admin", "delete"}, {"admin", "peppers"}, {"admin", "ban"}, {"admin", "unban"},
	{"audit", "mapping"}, {"audit", "mappings"}, {"audit", "events"}, {"audit", "stats"},
	{"pool", "attach"}, {"pool", "detach"},
}

// Names every command shares (docs/operations.md, "The CLI"), and the old
// names they replaced, which -h no longer shows.
var (
	awsFlags     = []string{"stack", "region", "profile", "endpoint-url"}
	retiredFlags = []string{"endpoint", "api", "kakao", "moto", "user", "output", "cognito-endpoint"}
	flagLine     = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
)

// -h is a question, not a mistake: every command answers it with its usage
// and exit status 0, in the one vocabulary.
func TestHelpExitsZeroInOneVocabulary(t *testing.T) {
	for _, top := range [][]string{{"-h"}, {"--help"}, {"help"}, {"admin", "-h"}, {"audit", "-h"}, {"pool", "-h"}} {
		if _, stderr, code := runCLI(t, top...); code != 0 || !strings.Contains(stderr, "usage: kakaoauth") {
			t.Errorf("kakaoauth %v: exit %d\n%s", top, code, stderr)
		}
	}
	if _, stderr, code := runCLI(t); code != 2 || !strings.Contains(stderr, "which command") {
		t.Errorf("kakaoauth alone: exit %d, want 2 and the usage\n%s", code, stderr)
	}
	for _, inv := range helpInvocations {
		stdout, stderr, code := runCLI(t, append(slices.Clone(inv), "-h")...)
		stderr += stdout // fake-kakao prints its usage on stdout
		if code != 0 || !strings.Contains(stderr, "usage: kakaoauth") {
			t.Errorf("kakaoauth %v -h: exit %d\n%s", inv, code, stderr)
			continue
		}
		var flags []string
		for _, m := range flagLine.FindAllStringSubmatch(stderr, -1) {
			flags = append(flags, m[1])
		}
		for _, old := range retiredFlags {
			if slices.Contains(flags, old) && !(inv[0] == "fake-kakao" || inv[0] == "local") {
				t.Errorf("kakaoauth %v -h lists the retired flag -%s", inv, old)
			}
		}
		// A command that reaches AWS takes all four AWS flags, or none
		// (login's -endpoint-url only says where the pool's JWKS is).
		n := 0
		for _, a := range awsFlags {
			if slices.Contains(flags, a) {
				n++
			}
		}
		if n != 0 && n != len(awsFlags) && inv[0] != "login" {
			t.Errorf("kakaoauth %v takes only some of %v: %v", inv, awsFlags, flags)
		}
		if inv[0] == "admin" || inv[0] == "audit" || inv[0] == "bench" || inv[0] == "smoke" || inv[0] == "tryit" || inv[0] == "deploy" || inv[0] == "pool" {
			if n == 0 && inv[0] != "deploy" {
				t.Errorf("kakaoauth %v has no AWS flags: %v", inv, flags)
			}
		}
		if (inv[0] == "login" || inv[0] == "bench") && !slices.Contains(flags, flagAPIURL) {
			t.Errorf("kakaoauth %v has no -%s: %v", inv, flagAPIURL, flags)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 || !regexp.MustCompile(`^kakaoauth \S+.* \(go1\.\d+.*, \w+/\w+\)\n$`).MatchString(stdout) {
			t.Errorf("kakaoauth %v: exit %d %q %q", args, code, stdout, stderr)
		}
	}
}

// Bad arguments get one clear line naming the flag, and exit status 2,
// before anything is sent anywhere.
func TestBadArgumentsAreNamed(t *testing.T) {
	t.Setenv("KAKAOAUTH_ENDPOINT_URL", "http://127.0.0.1:1") // nothing may be reached
	for _, tc := range []struct {
		args  []string
		want  string
		usage bool // the command's usage follows the error
	}{
		{[]string{"login", "-kakao-id", "-5"}, "-kakao-id -5: a Kakao user id is a positive number", false},
		{[]string{"login", "-user", "-5"}, "-kakao-id -5: a Kakao user id is a positive number", false},
		{[]string{"login", "-api-url", "127.0.0.1:8080"}, `-api-url "127.0.0.1:8080": want a URL`, false},
		{[]string{"login", "-kakao-id", "abc"}, `invalid value "abc" for flag -kakao-id`, false},
		{[]string{"login", "extra"}, `unexpected argument "extra"`, false},
		{[]string{"login", "-nope"}, "flag provided but not defined: -nope (kakaoauth login -h lists the flags)", false},
		{[]string{"admin", "show"}, "which account? give -kakao-id", false},
		{[]string{"admin", "show", "-kakao-id", "-3"}, "a Kakao user id is a positive number", false},
		{[]string{"admin"}, "which action", true},
		{[]string{"admin", "nope"}, `unknown action "nope"`, true},
		{[]string{"audit", "events", "-since", "tomorrow"}, "want RFC 3339", false},
		{[]string{"audit", "events", "-since", "2026-01-01", "-json", "-csv", "-output", "xml"}, "want one of table, wide, json, csv", false},
		{[]string{"bench", "-n", "0"}, "need -n >= 1", false},
		{[]string{"bench", "-api-url", "x"}, `-api-url "x": want a URL`, false},
		{[]string{"smoke", "-via", "sfn", "-access-token", "t"}, "give -stack NAME -region REGION", false},
		{[]string{"audit", "mapping", "-kakao-id", "1", "-endpoint-url", "http://127.0.0.1:1", "-profile", "p"}, "-profile does not apply", false},
		{[]string{"version", "extra"}, `unexpected argument "extra"`, false},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || (!tc.usage && strings.Count(strings.TrimSpace(stderr), "\n") > 3) {
			t.Errorf("kakaoauth %v: exit %d, want 2 and a short %q:\n%s", tc.args, code, tc.want, stderr)
		}
	}
}

// The AWS commands default to the local stack: with no flag at all they
// reach its moto (KAKAOAUTH_ENDPOINT_URL stands in for the fixed
// 127.0.0.1:5000 here), and with nothing there they say how to start it.
// Old flag names still work, and say what they are now.
func TestLocalStackByDefault(t *testing.T) {
	t.Setenv("KAKAOAUTH_ENDPOINT_URL", "http://127.0.0.1:1")
	_, stderr, code := runCLI(t, "audit", "mapping", "-kakao-id", "1")
	if code != 2 || !strings.Contains(stderr, "no local stack answers at http://127.0.0.1:1: start it with `make run`") {
		t.Fatalf("audit with no stack running: exit %d\n%s", code, stderr)
	}
	_, stderr, code = runCLI(t, "admin", "show", "-kakao-id", "1")
	if code != 2 || !strings.Contains(stderr, "no local stack answers") {
		t.Fatalf("admin with no stack running: exit %d\n%s", code, stderr)
	}

	motoURL := moto.ForTest(t).URL()
	t.Setenv("KAKAOAUTH_ENDPOINT_URL", motoURL)
	id := fmt.Sprint(8_000_000 + time.Now().UnixNano()%1_000_000)
	// The local stack's tables exist once any test here provisioned it.
	ensureLocalStack(t, motoURL)
	stdout, stderr, code := runCLI(t, "audit", "events", "-kakao-id", id)
	if code != 0 || !strings.HasPrefix(stdout, "TIME ") {
		t.Fatalf("audit events with no flags against the local stack: exit %d\n%s%s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, "admin", "show", "-kakao-id", id, "-endpoint", motoURL)
	if code != 2 || !strings.Contains(stderr, "-endpoint is now -endpoint-url") || !strings.Contains(stderr, "has no mapping") {
		t.Fatalf("admin show with the old -endpoint: exit %d\n%s", code, stderr)
	}
}

// ensureLocalStack provisions the local stack's pool and tables in moto
// (what `make run` leaves there), then stops its servers.
func ensureLocalStack(t *testing.T, motoURL string) {
	t.Helper()
	stack := localstack.New(localstack.Config{MotoURL: motoURL, APIAddr: "127.0.0.1:0", KakaoAddr: "127.0.0.1:0", TemplatePath: "../../template.yaml"})
	if err := stack.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := stack.Close(); err != nil {
		t.Fatal(err)
	}
}
