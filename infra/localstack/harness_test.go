package localstack

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testStack is a whole local stack for one test: its own pool, tables and
// SSM prefix on the package's shared moto, its own Kakao double and login
// endpoint on free ports, and every log line it writes.
type testStack struct {
	*Main
	logs *lockedBuffer
	http *http.Client
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startStack runs a stack that logs into its own buffer; change adjusts
// its Config first.
func startStack(t testing.TB, change ...func(*Config)) *testStack {
	t.Helper()
	logs := &lockedBuffer{}
	log := func(c *Config) {
		c.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m := ForTest(t, "../../template.yaml", append([]func(*Config){log}, change...)...)
	return &testStack{Main: m, logs: logs, http: &http.Client{Timeout: 60 * time.Second}}
}

// postJSON posts body (a string, or a value to marshal) and decodes the
// JSON answer into a map.
func (s *testStack) postJSON(t testing.TB, url string, body any) (int, map[string]any) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := s.http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("POST %s: %d with a body that is not JSON: %q", url, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, out
}

// kakaoUser creates a user at the double.
func (s *testStack) kakaoUser(t testing.TB, u map[string]any) {
	t.Helper()
	if status, body := s.postJSON(t, s.KakaoURL()+"/_fake/users", u); status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("create kakao user: %d %v", status, body)
	}
}

// verifiedUser creates a Kakao user with a verified email.
func (s *testStack) verifiedUser(t testing.TB, id int64) {
	t.Helper()
	s.kakaoUser(t, map[string]any{"id": id, "email": emailOf(id), "is_email_verified": true, "is_email_valid": true, "nickname": "n" + itoa(id)})
}

func emailOf(id int64) string { return "user" + itoa(id) + "@example.com" }

func itoa(id int64) string { b, _ := json.Marshal(id); return string(b) }

// tokens mints tokens at the double.
func (s *testStack) tokens(t testing.TB, req map[string]any) map[string]any {
	t.Helper()
	status, body := s.postJSON(t, s.KakaoURL()+"/_fake/tokens", req)
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("mint tokens: %d %v", status, body)
	}
	return body
}

func (s *testStack) accessToken(t testing.TB, userID int64) string {
	t.Helper()
	return s.tokens(t, map[string]any{"user_id": userID})["access_token"].(string)
}

// login calls the endpoint with a body.
func (s *testStack) login(t testing.TB, body any) (int, map[string]any) {
	t.Helper()
	return s.postJSON(t, s.APIURL()+"/auth/kakao", body)
}

// fault makes the double fail the next calls to path.
func (s *testStack) fault(t testing.TB, f map[string]any) {
	t.Helper()
	if status, body := s.postJSON(t, s.KakaoURL()+"/_fake/faults", f); status/100 != 2 {
		t.Fatalf("fault: %d %v", status, body)
	}
}

func wantError(t testing.TB, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantCode {
		t.Fatalf("got %d %v, want %d %s", status, body, wantStatus, wantCode)
	}
	if msg, _ := body["message"].(string); msg == "" || strings.Contains(msg, "arn:") || strings.Contains(msg, "operation error") {
		t.Fatalf("message %q: want human text without internals", msg)
	}
}

func timeNow() time.Time { return time.Now() }
