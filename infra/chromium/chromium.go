// Package chromium runs Debian's headless Chromium for the browser tests,
// driven from Go with chromedp, so that a page is tested as a person uses
// it: clicks, navigations, what the screen shows.
//
// One browser per test binary, started by the first ForTest and stopped
// by Shutdown; each test gets its own tab in a fresh browser context (its
// own cookies and storage):
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		chromium.Shutdown()
//		os.Exit(code)
//	}
//
//	func TestPage(t *testing.T) {
//		tab := chromium.ForTest(t)
//		tab.Navigate(url)
//		tab.Click("#kakao-login")
//		tab.WaitText("#sub", func(s string) bool { return s != "" })
//	}
//
// A missing Chromium fails the tests; it never skips them. `make tools`
// (infra/install-tools.sh) installs Debian's chromium package; on macOS it
// uses Chromium's or Google Chrome's app.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// macApps are where macOS keeps Chromium and Google Chrome.
var macApps = []string{
	"/Applications/Chromium.app/Contents/MacOS/Chromium",
	"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
}

// Path is the browser: $CHROMIUM if set, else chromium on PATH, else (on
// macOS) Chromium's or Google Chrome's app, else DefaultPath.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if runtime.GOOS == "darwin" {
		for _, p := range macApps {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return DefaultPath
}

// flags keep Chromium off the network (there is none but loopback here)
// and make runs reproducible: headless, no sandbox (tests run as root),
// no GPU, no QUIC, no first-run, background, component or sync traffic,
// an English UI and a fixed window.
func flags(userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path()),
		chromedp.UserDataDir(userDataDir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("window-size", "1100,900"),
	}
}

var shared struct {
	mu      sync.Mutex
	started bool
	ctx     context.Context
	cancel  context.CancelFunc
	dir     string
	err     error
}

func start() {
	if _, err := exec.LookPath(Path()); err != nil {
		shared.err = fmt.Errorf("chromium: no browser at %s (%v): run `make tools`, which installs Debian's chromium package (on macOS: brew install --cask google-chrome), or set CHROMIUM", Path(), err)
		return
	}
	dir, err := os.MkdirTemp("", "kakaoauth-chromium-")
	if err != nil {
		shared.err = err
		return
	}
	shared.dir = dir
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags(dir)...)
	ctx, cancel := chromedp.NewContext(alloc)
	// The first action starts the browser; its context must not time out.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		err = errors.New("the browser did not start within 60s")
	}
	if err != nil {
		cancel()
		cancelAlloc()
		shared.err = fmt.Errorf("chromium: starting %s: %w", Path(), err)
		return
	}
	shared.ctx = ctx
	shared.cancel = func() { cancel(); cancelAlloc() }
}

// Shutdown stops the browser, if one was started, and removes its profile.
func Shutdown() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cancel != nil {
		shared.cancel()
		shared.cancel = nil
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
		shared.dir = ""
	}
}

// Tab is one test's browser tab.
type Tab struct {
	tb  testing.TB
	ctx context.Context
}

// ForTest opens a tab in a fresh browser context of the test binary's
// browser, closed when the test ends. Every action on it fails the test on
// error, with what the page shows.
func ForTest(tb testing.TB) *Tab {
	tb.Helper()
	shared.mu.Lock()
	if !shared.started {
		shared.started = true
		start()
	}
	parent, err := shared.ctx, shared.err
	shared.mu.Unlock()
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("chromium: new tab: %v", err)
	}
	return &Tab{tb: tb, ctx: ctx}
}

// Context is the tab's chromedp context, for actions Tab does not wrap.
func (t *Tab) Context() context.Context { return t.ctx }

// actionTimeout bounds one action; waits have their own timeout.
const actionTimeout = 30 * time.Second

func (t *Tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	t.tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.tb.Fatalf("chromium: %s: %v\n%s", what, err, t.describe())
	}
}

// Navigate loads u and waits for it.
func (t *Tab) Navigate(u string) {
	t.tb.Helper()
	t.do("navigate to "+u, chromedp.Navigate(u))
}

// Click clicks the element sel (a CSS selector) once it is visible and
// enabled, as a person waits for a greyed-out button.
func (t *Tab) Click(sel string) {
	t.tb.Helper()
	t.WaitTrue(sel+" enabled", fmt.Sprintf(`document.querySelector(%q) && !document.querySelector(%q).disabled`, sel, sel))
	t.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// SetValue sets the value of the input sel.
func (t *Tab) SetValue(sel, value string) {
	t.tb.Helper()
	t.do("set "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

// WaitVisible waits until sel is shown.
func (t *Tab) WaitVisible(sel string) {
	t.tb.Helper()
	t.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Eval evaluates a JavaScript expression whose value is a string.
func (t *Tab) Eval(expr string) (string, error) {
	ctx, cancel := context.WithTimeout(t.ctx, actionTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[string](expr))
}

// Text is the text content of sel ("" when there is no such element).
func (t *Tab) Text(sel string) string {
	t.tb.Helper()
	s, err := t.Eval(fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel))
	if err != nil {
		t.tb.Fatalf("chromium: text of %s: %v\n%s", sel, err, t.describe())
	}
	return strings.TrimSpace(s)
}

// Location is the tab's URL.
func (t *Tab) Location() string {
	s, _ := t.Eval(`location.href`)
	return s
}

// waitTimeout bounds WaitText: a login runs the whole stack.
const waitTimeout = 60 * time.Second

// WaitText waits until the text of sel satisfies ok and returns it. It
// polls from Go, so it survives the navigations a login makes.
func (t *Tab) WaitText(sel string, ok func(string) bool) string {
	t.tb.Helper()
	return t.poll(sel, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel), ok)
}

// WaitTrue waits until the JavaScript expression is true; what names it in
// a failure.
func (t *Tab) WaitTrue(what, expr string) {
	t.tb.Helper()
	t.poll(what, fmt.Sprintf(`String(!!(%s))`, expr), func(s string) bool { return s == "true" })
}

func (t *Tab) poll(what, expr string, ok func(string) bool) string {
	t.tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last string
	for {
		s, err := t.Eval(expr)
		if err == nil {
			last = strings.TrimSpace(s)
			if ok(last) {
				return last
			}
		}
		if time.Now().After(deadline) {
			t.tb.Fatalf("chromium: %s is still %q after %s\n%s", what, last, waitTimeout, t.describe())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Screenshot is a PNG of the whole page.
func (t *Tab) Screenshot() []byte {
	t.tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.tb.Fatalf("chromium: screenshot: %v", err)
	}
	return png
}

// describe is what a failing test prints: where the tab is and what the
// page says, so a failure explains itself.
func (t *Tab) describe() string {
	s, err := t.Eval(`location.href + "\n" + (document.body ? document.body.innerText : "")`)
	if err != nil {
		return "(the page could not be read: " + err.Error() + ")"
	}
	if len(s) > 4000 {
		s = s[:4000] + "…"
	}
	return "page: " + s
}
