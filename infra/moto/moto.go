// Package moto runs moto_server, the local stand-in for the AWS APIs the
// stack uses (Cognito user pools, DynamoDB, SQS, EventBridge, Secrets
// Manager), for tests and for the local stack, with the layer (ext/) that
// adds around moto what Cognito does and moto does not: Lambda triggers,
// the custom authentication flow, RevokeToken and the rest listed in
// docs/local-stack.md ("What differs from AWS").
//
// Tests share one server per test binary:
//
//	func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }
//
//	func TestX(t *testing.T) {
//		srv := moto.ForTest(t)
//		cfg := moto.AWSConfig(ctx, srv.URL())
//		...
//	}
//
// The server is started lazily by the first ForTest and stopped when m.Run
// returns. On Linux it is also killed if the test binary dies first. Set
// MOTO_LOG=1 to see its request log on stderr.
package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/kakaoauth/kakaoauth/infra/procgroup"
	pytools "github.com/kakaoauth/kakaoauth/infra/python"
)

// Region is the region the local stack and the tests use. moto puts it in
// resource ids (us-east-1_xxx pool ids), so it must be the same everywhere.
const Region = "us-east-1"

// DefaultAddr is where the local stack expects moto.
const DefaultAddr = "127.0.0.1:5000"

// Options says how to start moto_server.
type Options struct {
	// Host to bind; default 127.0.0.1.
	Host string
	// Port to bind; 0 picks a free port.
	Port int
	// Command overrides the executable (tests); "-H host -p port" are
	// appended. Default: the layer's runner (ext/runner.py) under the
	// interpreter infra/python finds, with moto installed by
	// infra/install-tools.sh when missing.
	Command []string
	// LogWriter receives moto's output (and install-tools.sh's, when it
	// installs moto).
	// Nil discards it.
	LogWriter io.Writer
	// StartTimeout bounds the wait for moto to answer; default 30s.
	StartTimeout time.Duration
	// Detached lets moto outlive this process if it exits without Close
	// (e.g. a local stack whose data should survive a restart); LogWriter
	// must then be an *os.File or nil. By default moto dies with its parent
	// on Linux.
	Detached bool
}

// Server is a moto_server: one this package started, or one that was
// already running (see Ensure).
type Server struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	tail *tailBuffer

	closeOnce sync.Once
	closeErr  error
}

// URL is the endpoint to give the AWS SDK, e.g. http://127.0.0.1:5000.
func (s *Server) URL() string { return s.url }

// Reused reports whether the server was already running (Ensure) and so is
// not stopped by Close.
func (s *Server) Reused() bool { return s.cmd == nil }

// Close stops a server this package started (its whole process group) and
// waits for it to exit. It does nothing for a reused server.
func (s *Server) Close() error {
	if s.cmd == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		if err := procgroup.Stop(s.cmd, s.done, 5*time.Second); err != nil {
			s.closeErr = fmt.Errorf("moto: %w", err)
		}
	})
	return s.closeErr
}

// Reset drops every resource in the server (POST /moto-api/reset).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return fmt.Errorf("moto: reset: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("moto: reset: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Start starts moto_server and waits until it answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	command, err := resolveCommand(opts)
	if err != nil {
		return nil, err
	}
	// A free port can be taken between picking and binding it: retry then.
	attempts := 1
	if opts.Port == 0 {
		attempts = 3
	}
	installed := false
	for i := 0; ; i++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(opts.Host); err != nil {
				return nil, err
			}
		} else if err := portFree(opts.Host, port); err != nil {
			// Otherwise the readiness probe could mistake whatever holds
			// the port for the moto just started (which would then exit).
			return nil, err
		}
		srv, err := start(ctx, opts, command, port)
		var exited *exitError
		if errors.As(err, &exited) && exited.code == exitNoMoto && !installed && len(opts.Command) == 0 {
			// moto is missing: install the release the layer needs, once.
			if err := installMoto(ctx, command[0], opts.LogWriter); err != nil {
				return nil, err
			}
			installed = true
			// The install may have made the virtual environment: ask again.
			if command, err = resolveCommand(opts); err != nil {
				return nil, err
			}
			i--
			continue
		}
		if err == nil || i+1 >= attempts || !errors.Is(err, errExited) {
			return srv, err
		}
	}
}

// Ensure returns the moto already listening at addr (host:port), or starts
// one there. opts.Host and opts.Port are taken from addr. It fails if
// something other than moto holds the address.
func Ensure(ctx context.Context, addr string, opts Options) (*Server, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("moto: address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 {
		return nil, fmt.Errorf("moto: address %q: bad port", addr)
	}
	url := "http://" + net.JoinHostPort(host, portStr)
	switch isMoto, err := probe(ctx, url); {
	case err == nil && isMoto:
		if len(opts.Command) == 0 {
			if err := checkLayer(ctx, url); err != nil {
				return nil, fmt.Errorf("moto: the moto_server at %s cannot be reused: %w; stop it and start again", addr, err)
			}
		}
		return &Server{url: url}, nil
	case err == nil:
		return nil, fmt.Errorf("moto: something other than moto_server is listening at %s", addr)
	}
	opts.Host, opts.Port = host, port
	return Start(ctx, opts)
}

// AWSConfig points the AWS SDK at endpoint with dummy static credentials,
// so no real account or profile can be reached by mistake.
func AWSConfig(_ context.Context, endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

var errExited = errors.New("moto_server exited before it answered")

// exitError is a server that exited before it answered, with its status.
type exitError struct {
	code int
	port int
	out  string
}

func (e *exitError) Error() string {
	return fmt.Sprintf("moto: %v (port %d, exit status %d): %s", errExited, e.port, e.code, e.out)
}

func (e *exitError) Unwrap() error { return errExited }

func start(ctx context.Context, opts Options, command []string, port int) (*Server, error) {
	args := append(append([]string(nil), command[1:]...), "-H", opts.Host, "-p", strconv.Itoa(port))
	// Not CommandContext: ctx bounds the start, not the server's life.
	cmd := exec.Command(command[0], args...)
	if _, hash, err := layerDir(); err == nil {
		cmd.Env = append(os.Environ(), LayerEnv+"="+hash)
	}
	procgroup.Attr(cmd, opts.Detached)
	tail := &tailBuffer{max: 4096}
	if opts.Detached {
		// A pipe to this process would break when it exits and take moto
		// down with it (SIGPIPE): give moto a file or nothing (/dev/null).
		switch f, ok := opts.LogWriter.(*os.File); {
		case ok:
			cmd.Stdout, cmd.Stderr = f, f
		case opts.LogWriter != nil:
			return nil, errors.New("moto: a detached server needs LogWriter to be an *os.File or nil")
		}
	} else {
		var out io.Writer = tail
		if opts.LogWriter != nil {
			out = io.MultiWriter(tail, opts.LogWriter)
		}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 2 * time.Second
	}

	srv := &Server{
		url:  "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(port)),
		cmd:  cmd,
		done: make(chan struct{}),
		tail: tail,
	}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal is tied to the thread that started the
		// child: keep that thread alive, locked, until the child exits.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(srv.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("moto: start %s: %w", command[0], err)
	}

	deadline, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		isMoto, err := probe(deadline, srv.url)
		if err == nil {
			select {
			case <-srv.done: // someone else answered
				return nil, srv.exited(port)
			default:
			}
			if isMoto {
				return srv, nil
			}
			_ = srv.Close()
			return nil, fmt.Errorf("moto: %s answers but is not moto_server", srv.url)
		}
		select {
		case <-srv.done:
			return nil, srv.exited(port)
		case <-deadline.Done():
			_ = srv.Close()
			return nil, fmt.Errorf("moto: no answer from %s within %s: %s", srv.url, opts.StartTimeout, tail.String())
		case <-tick.C:
		}
	}
}

// exited describes a server process that has exited.
func (s *Server) exited(port int) error {
	code := -1
	if st := s.cmd.ProcessState; st != nil {
		code = st.ExitCode()
	}
	out := ""
	if s.tail != nil {
		out = s.tail.String()
	}
	if code == exitWrongMoto {
		// The runner's own message says which release and how to get it.
		return errors.New(out)
	}
	return &exitError{code: code, port: port, out: out}
}

// python is the interpreter the layer runs under, as infra/python finds
// it: the repository's virtual environment's, $PYTHON, or python3 from PATH.
func python() (string, error) {
	p, err := pytools.Interpreter()
	if err != nil {
		return "", fmt.Errorf("moto: %w, then run: make tools-run", err)
	}
	return p, nil
}

// resolveCommand is the layer's runner under python.
func resolveCommand(opts Options) ([]string, error) {
	if len(opts.Command) > 0 {
		return opts.Command, nil
	}
	py, err := python()
	if err != nil {
		return nil, err
	}
	dir, _, err := layerDir()
	if err != nil {
		return nil, err
	}
	return []string{py, filepath.Join(dir, "runner.py")}, nil
}

// installMoto installs the moto release the layer needs for py the one
// way the project installs it: infra/install-tools.sh (pinned in
// infra/requirements-run.txt; into .cache/python when py lacks it or
// refuses pip installs). Outside the repository it says what to run.
func installMoto(ctx context.Context, py string, log io.Writer) error {
	spec := "moto[server]==" + RequiredMoto
	script, ok := pytools.InstallScript()
	if !ok {
		return fmt.Errorf(`moto: moto is not installed for %s: install it with: %s -m pip install "%s" (in a kakaoauth checkout: make tools-run)`, py, py, spec)
	}
	install := exec.CommandContext(ctx, "bash", script, "run")
	install.Env = append(os.Environ(), "PYTHON="+py)
	if log != nil {
		install.Stdout, install.Stderr = log, log
	}
	if err := install.Run(); err != nil {
		return fmt.Errorf("moto: moto is not installed for %s, and make tools-run (infra/install-tools.sh run) failed: %w", py, err)
	}
	return nil
}

// checkLayer asks a running server which layer it runs (GET /_ext/status)
// and refuses a bare moto_server or another checkout's layer.
func checkLayer(ctx context.Context, base string) error {
	_, want, err := layerDir()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ext/status", nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var st struct {
		Layer string `json:"layer"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&st) != nil {
		return errors.New("it runs without kakaoauth's layer (infra/moto/ext): Lambda triggers and the other Cognito behaviours would be missing")
	}
	if st.Layer != want {
		return fmt.Errorf("it runs another version of kakaoauth's layer (%s, this checkout's is %s)", st.Layer, want)
	}
	return nil
}

// probeClient has a short timeout: a port that accepts but never answers
// must not stall Ensure or the start loop.
var probeClient = &http.Client{Timeout: 2 * time.Second}

// probe asks base for moto's config API. err != nil means nothing usable
// answered; isMoto says whether what answered is moto.
func probe(ctx context.Context, base string) (isMoto bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/moto-api/config", nil)
	if err != nil {
		return false, err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return false, err
	}
	if resp.StatusCode/100 != 2 {
		return false, nil
	}
	// moto answers its config as a JSON object of service settings.
	var cfg map[string]json.RawMessage
	return json.Unmarshal(body, &cfg) == nil && len(cfg) > 0, nil
}

func portFree(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("moto: cannot bind %s:%d: %w", host, port, err)
	}
	return l.Close()
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("moto: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(bytes.ToValidUTF8(t.buf, nil)))
}

// shared is the one server of a test binary.
var shared struct {
	mu      sync.Mutex
	started bool
	srv     *Server
	err     error
}

// ForTest returns the test binary's moto, starting it on a free port the
// first time. Pair it with RunTests in TestMain so it is stopped.
func ForTest(tb testing.TB) *Server {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		shared.started = true
		var logw io.Writer
		if os.Getenv("MOTO_LOG") != "" {
			logw = os.Stderr
		}
		shared.srv, shared.err = Start(context.Background(), Options{LogWriter: logw})
	}
	if shared.err != nil {
		tb.Fatalf("moto: %v", shared.err)
	}
	return shared.srv
}

// Shutdown stops the server ForTest started, if any.
func Shutdown() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	srv := shared.srv
	shared.started, shared.srv, shared.err = false, nil, nil
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// RunTests runs m and then stops the shared server. Use it as
// os.Exit(moto.RunTests(m)) in TestMain.
func RunTests(m *testing.M) int {
	code := m.Run()
	if err := Shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
