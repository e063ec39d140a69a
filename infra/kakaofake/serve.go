package kakaofake

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kakaoauth/kakaoauth/infra/localonly"
)

// DefaultAddr is where the local stack expects the double.
const DefaultAddr = "127.0.0.1:8081"

// Serve listens on addr and serves until ctx is done, then shuts down
// gracefully. Without a base URL set, the listener's address becomes it.
func (f *Fake) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return f.ServeListener(ctx, ln)
}

// BaseURL is the URL set by SetBaseURL or Serve ("" before either).
func (f *Fake) BaseURL() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.baseURL
}

// ServeListener serves on ln until ctx is done, like Serve; for callers
// that listen on port 0 and need the address first.
func (f *Fake) ServeListener(ctx context.Context, ln net.Listener) error {
	f.mu.Lock()
	if f.baseURL == "" {
		f.baseURL = "http://" + ln.Addr().String()
	}
	f.mu.Unlock()
	srv := &http.Server{Handler: f.handler, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// DemoUser is seeded by Main so /oauth/authorize works out of the box.
var DemoUser = User{ID: 4242, Email: "demo@example.com", IsEmailValid: true, IsEmailVerified: true, Nickname: "demo"}

// Main runs the double as `kakaoauth fake-kakao`: flags, with KAKAOFAKE_*
// environment variables as their defaults, then serve until ctx is done.
func Main(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fake-kakao", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kakaoauth fake-kakao [flags]\n\nRuns only the Kakao double (Kakao's API, login and consent page, and /_fake/ control API).\n\nflags:")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", envOr("KAKAOFAKE_ADDR", DefaultAddr), "listen address (env KAKAOFAKE_ADDR)")
	appID := fs.Int64("app-id", envInt("KAKAOFAKE_APP_ID", DefaultAppID), "Kakao app id (env KAKAOFAKE_APP_ID)")
	appKeys := fs.String("app-keys", envOr("KAKAOFAKE_APP_KEYS", DefaultAppKey), "comma-separated app keys, first is the default aud (env KAKAOFAKE_APP_KEYS)")
	adminKey := fs.String("admin-key", envOr("KAKAOFAKE_ADMIN_KEY", DefaultAdminKey), "admin key sent to the unlink callback (env KAKAOFAKE_ADMIN_KEY)")
	callback := fs.String("unlink-callback", os.Getenv("KAKAOFAKE_UNLINK_CALLBACK"), "unlink callback URL (env KAKAOFAKE_UNLINK_CALLBACK)")
	issuer := fs.String("issuer", os.Getenv("KAKAOFAKE_ISSUER"), "ID-token iss; default: the double's own URL (env KAKAOFAKE_ISSUER)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var keys []string
	for _, k := range strings.Split(*appKeys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	f, err := New(Config{AppID: *appID, AppKeys: keys, AdminKey: *adminKey, UnlinkCallbackURL: *callback, Issuer: *issuer})
	if err != nil {
		return err
	}
	if err := f.AddUser(DemoUser); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	localonly.Warn(stdout, "the Kakao double", ln.Addr().String(), "create Kakao users, mint their tokens and send unlink callbacks")
	url := "http://" + ln.Addr().String()
	// The admin key is not printed: logs carry no secrets, even fake ones.
	fmt.Fprintf(stdout, "fake Kakao listening on %s (app_id %d, app keys %s, demo user %d)\n",
		url, f.cfg.AppID, strings.Join(f.cfg.AppKeys, ","), DemoUser.ID)
	return f.ServeListener(ctx, ln)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}
