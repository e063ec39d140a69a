package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

// testStack is a whole local stack for one test: its own pool, tables,
// queues and secrets on the package's shared moto, its own Kakao double and login
// endpoint on free ports, and every log line it writes. The steps reach
// moto through a faultproxy, which counts their AWS calls on the wire and
// can inject faults.
type testStack struct {
	*Main
	logs  *lockedBuffer
	http  *http.Client
	proxy *faultproxy.Proxy
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
	proxy, err := faultproxy.Start(moto.ForTest(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	setup := func(c *Config) {
		c.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.AWSEndpoint = proxy.URL()
	}
	m := ForTest(t, "../../template.yaml", append([]func(*Config){setup}, change...)...)
	return &testStack{Main: m, logs: logs, http: &http.Client{Timeout: 60 * time.Second}, proxy: proxy}
}

// withProxy documents that a test relies on the proxy's counts or faults
// (every test stack has one).
func withProxy(*Config) {}

// direct is an AWS config straight to moto, past the proxy: what tests
// use to look at the stack without being counted.
func (s *testStack) direct() aws.Config { return moto.AWSConfig(context.Background(), s.cfg.MotoURL) }

// waitStatus waits for the worker to bring the mapping to status.
func (s *testStack) waitStatus(t testing.TB, kakaoID int64, status string) kakaoauth.Mapping {
	t.Helper()
	mappings := store.NewMappings(dynamodb.NewFromConfig(s.direct()), s.Stack().MappingTable)
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := mappings.Get(context.Background(), kakaoID)
		if err == nil && m.Status == status && !m.EventPending {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("mapping of %d: %+v %v; want %s with its events out", kakaoID, m, err, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// drainUnlinks waits until the unlink queue is empty and nothing is in
// flight: every callback has been handled (or moved to the dead-letter
// queue).
func (s *testStack) drainUnlinks(t testing.TB) {
	t.Helper()
	q := sqs.NewFromConfig(s.direct())
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(s.Stack().UnlinkQueueURL),
			AttributeNames: []sqstypes.QueueAttributeName{
				sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible},
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the unlink queue did not drain")
}

// subscribe is an app's backend listening to the lifecycle bus.
func (s *testStack) subscribe(t testing.TB) *BusSubscription {
	t.Helper()
	sub, err := SubscribeToBus(context.Background(), s.direct(), s.Stack().EventBusName, s.cfg.Prefix+"-app")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// refreshWorks says whether a refresh token still gets new tokens, as an
// app refreshing with the public client would.
func (s *testStack) refreshWorks(t testing.TB, refreshToken string) bool {
	t.Helper()
	_, err := cip.NewFromConfig(s.direct()).AdminInitiateAuth(context.Background(), &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(s.Stack().UserPoolID), ClientId: aws.String(s.Stack().UserPoolClientID),
		AuthFlow:       ciptypes.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken},
	})
	return err == nil
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

// idToken mints the ID token of a login an app started with rawNonce:
// the app passed Kakao its hashed form, which the token carries.
func (s *testStack) idToken(t testing.TB, userID int64, rawNonce string) string {
	t.Helper()
	return s.tokens(t, map[string]any{"user_id": userID, "openid": true, "nonce": kakao.HashNonce(rawNonce)})["id_token"].(string)
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
