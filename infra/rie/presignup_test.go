package rie_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// gapFiller stands between a function and moto: it answers the two
// Cognito operations moto does not implement (AdminLinkProviderForUser,
// AdminDisableProviderForUser) with Cognito's empty success and records
// what the function sent; everything else goes to moto as it is.
type gapFiller struct {
	mu    sync.Mutex
	calls map[string][]map[string]any
}

var gaps = map[string]bool{"AdminLinkProviderForUser": true, "AdminDisableProviderForUser": true}

func newGapFiller(t *testing.T, motoURL string) (*gapFiller, string) {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	g := &gapFiller{calls: map[string][]map[string]any{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
		if !gaps[op] {
			proxy.ServeHTTP(w, r)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		g.mu.Lock()
		g.calls[op] = append(g.calls[op], body)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return g, srv.URL
}

func (g *gapFiller) sent(op string) []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]any(nil), g.calls[op]...)
}

// The PreSignUp trigger's bootstrap, run under aws-lambda-rie with
// env.json's variables and the committed event: a first hosted-UI sign-in
// of the demo account, which never used the broker. Against the Kakao
// double (the admin lookup) and moto (the user, the mapping, the
// password), and the gap filler for the link: it creates kakao_4242 with a
// permanent password (CONFIRMED), its mapping and user_created, sends
// Cognito the documented link request, and lets the sign-up go on (the
// event comes back: Cognito then signs in as the linked user). The
// broker's own AdminCreateUser event passes unchanged.
func TestPreSignUpUnderRIE(t *testing.T) {
	s := newStack(t)
	fns := build(t)
	ctx := t.Context()
	gap, gapURL := newGapFiller(t, s.motoURL)
	env := append(s.environment(t, "PreSignUpFunction"), "AWS_ENDPOINT_URL="+gapURL)
	e, _ := fns.start(t, "PreSignUpFunction", env)

	vars := map[string]string{"USER_POOL_ID": s.res.UserPoolID, "HOSTED_UI_CLIENT_ID": "hostedui0client"}
	resp := invoke(t, e, event(t, "presignup", vars))
	var back events.CognitoEventUserPoolsPreSignup
	decodeStrict(t, "presignup", resp, &back)
	if back.UserName != "Kakao_4242" || back.TriggerSource != workflow.TriggerPreSignUpExternal {
		t.Fatalf("presignup did not return the event: %+v", back)
	}

	username := kakaoauth.Username(demo.ID)
	user, err := cip.NewFromConfig(s.aws).AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &s.res.UserPoolID, Username: &username})
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{}
	for _, a := range user.UserAttributes {
		attrs[*a.Name] = *a.Value
	}
	if !user.Enabled || user.UserStatus != "CONFIRMED" || attrs["custom:kakao_id"] != strconv.FormatInt(demo.ID, 10) || attrs["email"] != demo.Email {
		t.Fatalf("user %s: enabled %v status %s attributes %v", username, user.Enabled, user.UserStatus, attrs)
	}
	reader := store.NewReader(dynamodb.NewFromConfig(s.aws), s.res.MappingTable, s.res.AuditTable)
	m, err := reader.Mapping(ctx, demo.ID)
	if err != nil || m.Status != kakaoauth.StatusActive || m.Sub != attrs["sub"] {
		t.Fatalf("mapping %+v %v", m, err)
	}
	var types []string
	for ev, err := range reader.UserEvents(ctx, demo.ID, store.TimeRange{}, store.EventFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, ev.Type)
	}
	if strings.Join(types, ",") != "user_created,federated_linked" {
		t.Fatalf("audit %v", types)
	}
	links := gap.sent("AdminLinkProviderForUser")
	want := `[{"DestinationUser":{"ProviderAttributeValue":"kakao_4242","ProviderName":"Cognito"},` +
		`"SourceUser":{"ProviderAttributeName":"Cognito_Subject","ProviderAttributeValue":"4242","ProviderName":"Kakao"},"UserPoolId":"` + s.res.UserPoolID + `"}]`
	if got, _ := json.Marshal(links); string(got) != want {
		t.Fatalf("link requests %s\nwant %s", got, want)
	}

	// What Cognito sends the trigger for the broker's own AdminCreateUser.
	var created events.CognitoEventUserPoolsPreSignup
	created.TriggerSource, created.UserPoolID, created.UserName = "PreSignUp_AdminCreateUser", s.res.UserPoolID, "kakao_77"
	raw, _ := json.Marshal(created)
	var out events.CognitoEventUserPoolsPreSignup
	decodeStrict(t, "presignup of an AdminCreateUser", invoke(t, e, raw), &out)
	if !bytes.Equal(mustJSON(t, out), raw) {
		t.Fatalf("changed the event: %+v", out)
	}
	// It serves the pool of its first event, and no other.
	created.UserPoolID = "us-east-1_AnotherPool"
	raw, _ = json.Marshal(created)
	if resp := invoke(t, e, raw); !resp.Failed() || !strings.Contains(resp.ErrorMessage, "this trigger serves") {
		t.Fatalf("an event of another pool: %s %s", resp.ErrorType, resp.Payload)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
