package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/doccheck"
)

// docBlocks are the code blocks of a doc marked <!-- doc-test: test -->.
func docBlocks(t *testing.T, file, test string) []doccheck.Block {
	t.Helper()
	d, err := doccheck.Load(filepath.Join("..", "..", file))
	if err != nil {
		t.Fatal(err)
	}
	var out []doccheck.Block
	for _, b := range d.Blocks {
		if b.Test == test {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no block marked doc-test: %s", file, test)
	}
	return out
}

// The quickstart's commands work as written: `make install` installs the
// CLI (here into a scratch GOBIN), and each marked block, run by bash with
// that kakaoauth on PATH, succeeds against a local stack. Tests may not
// bind the fixed ports the page names, so the stack listens on free ones:
// the page's URLs are rewritten to them, and the CLI's defaults move with
// KAKAOAUTH_API_URL, KAKAOAUTH_KAKAO_URL and KAKAOAUTH_ENDPOINT_URL.
func TestQuickstartCommandsAsWritten(t *testing.T) {
	stack, motoURL := startLocalStack(t)

	gobin := t.TempDir()
	install := exec.Command("make", "--no-print-directory", "-C", "../..", "install")
	install.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	if out, err := exec.Command(filepath.Join(gobin, "kakaoauth"), "version").Output(); err != nil || !strings.HasPrefix(string(out), "kakaoauth ") {
		t.Fatalf("the installed kakaoauth: %v %s", err, out)
	}

	rewrite := strings.NewReplacer("http://127.0.0.1:8080", stack.APIURL(), "http://127.0.0.1:8081", stack.KakaoURL(), "http://127.0.0.1:5000", motoURL)
	env := append(os.Environ(), "PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KAKAOAUTH_API_URL="+stack.APIURL(), "KAKAOAUTH_KAKAO_URL="+stack.KakaoURL(), "KAKAOAUTH_ENDPOINT_URL="+motoURL, "AWS_EC2_METADATA_DISABLED=true")
	var outputs []string
	for _, b := range docBlocks(t, "docs/quickstart.md", "local") {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", rewrite.Replace(b.Text))
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("docs/quickstart.md:%d: %v\n%s\n--- stdout\n%s--- stderr\n%s", b.Line, err, b.Text, stdout.String(), stderr.String())
		}
		outputs = append(outputs, stdout.String())
	}
	sub := regexp.MustCompile(`sub=([0-9a-f-]{36})`)
	first, last := sub.FindStringSubmatch(outputs[0]), sub.FindStringSubmatch(outputs[len(outputs)-1])
	for i, want := range []string{"HTTP 200  sub=", `"username":"kakao_123"`, `"callback_status":200`} {
		if !strings.Contains(outputs[i], want) {
			t.Errorf("block %d's output lacks %q:\n%s", i+1, want, outputs[i])
		}
	}
	// Unlinked and back: the same Cognito user.
	if first == nil || last == nil || first[1] != last[1] {
		t.Errorf("the login after the unlink is not the same sub: %v, %v", first, last)
	}
}

// The deploy guide's `kakaoauth deploy` commands pass the preflight as
// written (with -dry-run -offline and no saved configuration: up to where
// AWS is needed), through the real binary; where the SAM CLI is installed,
// SAM's own validation and build of the template run too.
func TestDeployGuideCommandsPassThePreflight(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "samconfig.toml")
	if err := os.WriteFile(empty, []byte("version = 0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, file := range []string{"README.md", "docs/deploy.md", "docs/hosted-ui.md"} {
		for _, b := range docBlocks(t, file, "deploy") {
			for _, c := range b.Commands() {
				if !strings.HasPrefix(c, "kakaoauth deploy ") {
					continue
				}
				args := append([]string{"deploy", "-dry-run", "-offline", "-config-file", empty, "-template", "../../template.yaml"}, strings.Fields(c)[2:]...)
				stdout, stderr, code := runCLI(t, args...)
				if code != 0 || !strings.Contains(stdout, "sam deploy --region ap-northeast-2 --stack-name kakaoauth") {
					t.Errorf("%s:%d: %q: exit %d\n%s%s", file, b.Line, c, code, stdout, stderr)
				}
				ran++
			}
		}
	}
	if ran < 4 {
		t.Fatalf("only %d kakaoauth deploy commands found in the guides", ran)
	}
	sam, err := exec.LookPath("sam")
	if err != nil {
		t.Log("the SAM CLI is not installed here: sam validate and sam build not run (the preflight ran for every command)")
		return
	}
	for _, args := range [][]string{{"validate", "--lint", "--region", "ap-northeast-2"}, {"build", "--build-dir", t.TempDir()}} {
		cmd := exec.Command(sam, args...)
		cmd.Dir = "../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sam %v: %v\n%s", args, err, out)
		}
	}
}
