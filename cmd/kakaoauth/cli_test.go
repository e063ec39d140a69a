package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// The CLI as a person runs it: built once per test binary, then executed.
var cli struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func cliBinary(t *testing.T) string {
	t.Helper()
	cli.once.Do(func() {
		if cli.dir, cli.err = os.MkdirTemp("", "kakaoauth-cli-"); cli.err != nil {
			return
		}
		cli.path = filepath.Join(cli.dir, "kakaoauth")
		out, err := exec.Command("go", "build", "-o", cli.path, ".").CombinedOutput()
		if err != nil {
			cli.err = err
			t.Logf("go build: %s", out)
		}
	})
	if cli.err != nil {
		t.Fatalf("building the CLI: %v", cli.err)
	}
	return cli.path
}

func removeCLI() {
	if cli.dir != "" {
		_ = os.RemoveAll(cli.dir)
	}
}

// startLocalStack runs a local stack (its own API, Kakao double and
// provisioning) on the package's moto, closed when the test ends; configure
// changes its Config first. It returns the stack and moto's URL.
func startLocalStack(t *testing.T, configure ...func(*localstack.Config)) (*localstack.Main, string) {
	t.Helper()
	motoURL := moto.ForTest(t).URL()
	cfg := localstack.Config{MotoURL: motoURL, APIAddr: "127.0.0.1:0", KakaoAddr: "127.0.0.1:0", TemplatePath: "../../template.yaml"}
	for _, c := range configure {
		c(&cfg)
	}
	stack := localstack.New(cfg)
	if err := stack.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	return stack, motoURL
}

// runCLI runs the built binary and returns its stdout, stderr and exit
// code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCLIWith(t, "", nil, args...)
}

// runCLIInput is runCLI with stdin (a person's answers).
func runCLIInput(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runCLIWith(t, stdin, nil, args...)
}

// runCLIEnv is runCLI with extra environment variables (NAME=value), which
// replace the test process's.
func runCLIEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runCLIWith(t, "", env, args...)
}

func runCLIWith(t *testing.T, stdin string, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cliBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true"), env...)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running kakaoauth %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}
