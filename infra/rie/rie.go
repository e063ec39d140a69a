// Package rie runs the stack's built Lambda bootstraps under aws-lambda-rie,
// the Lambda Runtime Interface Emulator that `sam local invoke` runs inside
// its container: the real binary, the real Runtime API, the real
// aws-lambda-go event loop, without Docker. Tests use it to invoke each
// function with the events/ files (see rie_test.go).
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/lambdaapi"
	"github.com/kakaoauth/kakaoauth/infra/procgroup"
)

// Version is the aws-lambda-rie module version Find installs when the
// emulator is missing (the module proxy serves only pseudo-versions).
const Version = "v0.0.0-20261030222936-bef5c4ba774d"

// Module is the emulator's command path for go install.
const Module = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// Find returns the aws-lambda-rie executable: from PATH, else from
// $(go env GOPATH)/bin, else installed there with go install.
func Find(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	gopath, err := goEnv(ctx, "GOPATH")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "aws-lambda-rie")
	if gobin, _ := goEnv(ctx, "GOBIN"); gobin != "" {
		bin = filepath.Join(gobin, "aws-lambda-rie")
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, "go", "install", Module+"@"+Version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("rie: go install %s@%s: %w\n%s", Module, Version, err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("rie: installed, but %s is missing: %w", bin, err)
	}
	return bin, nil
}

func goEnv(ctx context.Context, name string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("rie: go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Build compiles the main packages pkgs (e.g. ./lambdas/validatetoken) of
// the module in dir into outDir, one executable per package named after its
// directory, in one go build: statically linked (CGO_ENABLED=0) with the
// lambda.norpc tag, as the Makefile builds them for Lambda, but for the
// host's OS and architecture so that they run here.
func Build(ctx context.Context, dir, outDir string, pkgs ...string) error {
	if len(pkgs) == 0 {
		return errors.New("rie: nothing to build")
	}
	args := append([]string{"build", "-tags", "lambda.norpc", "-o", outDir + string(os.PathSeparator)}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=", "GOARCH=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("rie: go build: %w\n%s", err, out)
	}
	return nil
}

// Options says what to run.
type Options struct {
	// RIE is the emulator executable (see Find).
	RIE string
	// Bootstrap is the function's executable.
	Bootstrap string
	// Env is the whole environment of the emulator, which hands it on to
	// the function, as KEY=VALUE. Nothing of this process's environment is
	// inherited, so no real AWS profile or credential leaks in.
	Env []string
	// Timeout is the function timeout (AWS_LAMBDA_FUNCTION_TIMEOUT);
	// default 10s, the state machine's task timeout.
	Timeout time.Duration
	// Log receives the emulator's and the function's output. Nil discards.
	Log io.Writer
	// LogLevel is the emulator's own (default "error"); at "info" it
	// reports each phase, INIT REPORT with the init duration included.
	LogLevel string
}

// Emulator is a running aws-lambda-rie serving one function.
type Emulator struct {
	url    string
	cmd    *exec.Cmd
	done   chan struct{}
	client *http.Client

	closeOnce sync.Once
}

// Start runs the emulator on free loopback ports (its invoke endpoint and
// the Runtime API the function polls) and waits until it accepts
// connections. The function process starts on the first invocation, as a
// cold start does.
func Start(ctx context.Context, opts Options) (*Emulator, error) {
	if opts.RIE == "" || opts.Bootstrap == "" {
		return nil, errors.New("rie: RIE and Bootstrap must be set")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "error"
	}
	var lastErr error
	// A free port can be taken between picking and binding it: retry then.
	for range 3 {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		invokeAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
		runtimeAddr := "127.0.0.1:" + strconv.Itoa(ports[1])
		cmd := exec.Command(opts.RIE,
			"--runtime-interface-emulator-address", invokeAddr,
			"--runtime-api-address", runtimeAddr,
			"--log-level", opts.LogLevel,
			opts.Bootstrap)
		cmd.Dir = filepath.Dir(opts.Bootstrap)
		cmd.Env = append(append([]string(nil), opts.Env...),
			"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int(timeout.Seconds())),
			"AWS_LAMBDA_FUNCTION_NAME="+filepath.Base(opts.Bootstrap))
		if opts.Log != nil {
			cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
		}
		procgroup.Attr(cmd, false)
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("rie: start %s: %w", opts.RIE, err)
		}
		e := &Emulator{
			url:    "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
			cmd:    cmd,
			done:   make(chan struct{}),
			client: &http.Client{Timeout: timeout + 5*time.Second},
		}
		go func() { _ = cmd.Wait(); close(e.done) }()
		if lastErr = e.waitReady(ctx, invokeAddr); lastErr == nil {
			return e, nil
		}
		_ = e.Close()
	}
	return nil, lastErr
}

func (e *Emulator) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-e.done:
			return errors.New("rie: the emulator exited before it listened")
		default:
		}
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		if conn, err := d.DialContext(ctx, "tcp", addr); err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rie: nothing listens at %s after 10s", addr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ErrFunctionExited is what Invoke returns when the function process exited
// instead of answering, e.g. a cold start that failed (the emulator answers
// 502, as Lambda reports Runtime.ExitError).
var ErrFunctionExited = errors.New("rie: the function exited without answering")

// Response is what an invocation returned: the handler's JSON result, or
// the error aws-lambda-go reported (ErrorType is the Go type name that
// Step Functions matches).
type Response struct {
	Payload      json.RawMessage
	ErrorType    string
	ErrorMessage string
}

// Failed reports whether the function returned an error.
func (r Response) Failed() bool { return r.ErrorType != "" }

// Invoke sends one event, as `sam local invoke -e` does, and waits for the
// result.
func (e *Emulator) Invoke(ctx context.Context, event []byte) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(event))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("rie: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return Response{}, fmt.Errorf("rie: invoke: %w", err)
	}
	if resp.StatusCode == http.StatusBadGateway {
		return Response{}, ErrFunctionExited
	}
	if resp.StatusCode != http.StatusOK {
		return Response{}, fmt.Errorf("rie: invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	// A function error is a 200 whose body is {"errorMessage","errorType"}
	// (the Runtime API's error shape), as Lambda's Invoke API returns it.
	var fe struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &fe) == nil && fe.ErrorType != "" {
		return Response{Payload: body, ErrorType: fe.ErrorType, ErrorMessage: fe.ErrorMessage}, nil
	}
	return Response{Payload: body}, nil
}

// ServeHTTP serves Lambda's Invoke API (POST
// /2015-03-31/functions/<name>/invocations) for the emulated function,
// whatever name the caller uses (the emulator answers to "function"
// only), so that moto's layer can invoke a built function as a Cognito
// trigger (moto.RegisterFunctions). A function error is answered as the
// Invoke API answers it: 200, X-Amz-Function-Error: Unhandled, the
// {"errorMessage","errorType"} body.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, lambdaapi.InvokePathPrefix) || !strings.HasSuffix(r.URL.Path, lambdaapi.InvokePathSuffix) {
		http.NotFound(w, r)
		return
	}
	event, err := io.ReadAll(io.LimitReader(r.Body, lambdaapi.MaxPayload))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := e.Invoke(r.Context(), event)
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", "ServiceException")
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if resp.Failed() {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	_, _ = w.Write(resp.Payload)
}

// Close stops the emulator and the function it started.
func (e *Emulator) Close() error {
	var err error
	e.closeOnce.Do(func() {
		if err = procgroup.Stop(e.cmd, e.done, 3*time.Second); err != nil {
			err = fmt.Errorf("rie: %w", err)
		}
	})
	return err
}

// freePorts picks n free loopback ports. The emulator binds its Runtime
// API port only at the first invocation, long after the pick, so the ports
// come from below the kernel's ephemeral range when it is known: there no
// outgoing connection of this or another process can take them meanwhile.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	lo, hi := belowEphemeral()
	for attempts := 0; len(ports) < n; attempts++ {
		addr := "127.0.0.1:0"
		if hi > lo && attempts < 200 {
			addr = "127.0.0.1:" + strconv.Itoa(lo+mrand.IntN(hi-lo))
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if addr != "127.0.0.1:0" {
				continue
			}
			return nil, fmt.Errorf("rie: free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// belowEphemeral is a port range just below Linux's ephemeral range, or
// (0, 0) when that range is unknown.
func belowEphemeral() (lo, hi int) {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return 0, 0
	}
	start, err := strconv.Atoi(f[0])
	if err != nil || start < 12000 {
		return 0, 0
	}
	return start - 10000, start
}
