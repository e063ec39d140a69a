package cognito

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
)

// moto has neither AdminLinkProviderForUser nor
// AdminDisableProviderForUser, so Federation runs on the real SDK client
// over a transport that records each request as it goes on the wire
// (operation and JSON body) and answers from a script in the service's
// own shapes: Cognito's documented request syntax is what is checked.

type wireCall struct {
	Op   string
	Body map[string]any
}

type answer struct {
	status int
	body   string
	errorT string // X-Amzn-ErrorType of an error answer
}

type wire struct {
	mu      sync.Mutex
	calls   []wireCall
	answers map[string][]answer // by operation, consumed in order; none: 200 {}
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.calls = append(w.calls, wireCall{Op: op, Body: body})
	a := answer{status: 200, body: "{}"}
	if q := w.answers[op]; len(q) > 0 {
		a, w.answers[op] = q[0], q[1:]
	}
	w.mu.Unlock()
	h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}}
	if a.errorT != "" {
		h.Set("X-Amzn-ErrorType", a.errorT)
		a.body = `{"__type":"` + a.errorT + `","message":"` + a.body + `"}`
	}
	return &http.Response{StatusCode: a.status, Header: h, Body: io.NopCloser(bytes.NewReader([]byte(a.body))), Request: req}, nil
}

func (w *wire) ops() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.calls {
		out = append(out, c.Op)
	}
	return out
}

func newWire(answers map[string][]answer) (*wire, *cip.Client) {
	w := &wire{answers: answers}
	c := cip.New(cip.Options{
		Region: "ap-northeast-2",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient:       &http.Client{Transport: w},
		RetryMaxAttempts: 1,
	})
	return w, c
}

func userWithIdentities(identities string) answer {
	attrs := `[{"Name":"sub","Value":"5f3c2a1e"},{"Name":"custom:kakao_id","Value":"4242"}`
	if identities != "" {
		b, _ := json.Marshal(identities)
		attrs += `,{"Name":"identities","Value":` + string(b) + `}`
	}
	return answer{status: 200, body: `{"Username":"kakao_4242","Enabled":true,"UserStatus":"CONFIRMED","UserAttributes":` + attrs + `]}`}
}

const linkedIdentity = `[{"userId":"4242","providerName":"Kakao","providerType":"OIDC","issuer":null,"primary":false,"dateCreated":1795600000000}]`

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The link request is the documented one: the pool's user as
// DestinationUser (provider "Cognito", the username), the Kakao identity
// as SourceUser (the provider's name, Cognito_Subject, the Kakao user id).
func TestLinkRequest(t *testing.T) {
	w, c := newWire(nil)
	if err := NewFederation(c, "ap-northeast-2_Pool").Link(context.Background(), 4242, "kakao_4242"); err != nil {
		t.Fatal(err)
	}
	want := `{"DestinationUser":{"ProviderAttributeValue":"kakao_4242","ProviderName":"Cognito"},` +
		`"SourceUser":{"ProviderAttributeName":"Cognito_Subject","ProviderAttributeValue":"4242","ProviderName":"Kakao"},"UserPoolId":"ap-northeast-2_Pool"}`
	if len(w.calls) != 1 || w.calls[0].Op != "AdminLinkProviderForUser" || jsonOf(t, w.calls[0].Body) != want {
		t.Fatalf("calls %+v\nwant AdminLinkProviderForUser %s", w.calls, want)
	}
}

// A second link of an identity already linked to the same user (a retried
// trigger, two tabs) is done; one Cognito refuses for another reason is
// an error that names the setting an immutable attribute needs.
func TestLinkRefused(t *testing.T) {
	refusal := answer{status: 400, errorT: "InvalidParameterException", body: "Merging is not currently supported"}
	w, c := newWire(map[string][]answer{"AdminLinkProviderForUser": {refusal}, "AdminGetUser": {userWithIdentities(linkedIdentity)}})
	if err := NewFederation(c, "p").Link(context.Background(), 4242, "kakao_4242"); err != nil {
		t.Fatalf("already linked: %v", err)
	}
	if got := w.ops(); strings.Join(got, ",") != "AdminLinkProviderForUser,AdminGetUser" {
		t.Fatalf("calls %v", got)
	}

	_, c = newWire(map[string][]answer{"AdminLinkProviderForUser": {refusal}, "AdminGetUser": {userWithIdentities("")}})
	err := NewFederation(c, "p").Link(context.Background(), 4242, "kakao_4242")
	if err == nil || !strings.Contains(err.Error(), "KakaoIdAttribute") || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("got %v", err)
	}

	_, c = newWire(map[string][]answer{"AdminLinkProviderForUser": {{status: 400, errorT: "UserNotFoundException", body: "User does not exist."}}})
	var nf *kakaoauth.NotFound
	if err := NewFederation(c, "p").Link(context.Background(), 4242, "kakao_4242"); !errors.As(err, &nf) {
		t.Fatalf("missing user: %v", err)
	}

	_, c = newWire(map[string][]answer{"AdminLinkProviderForUser": {{status: 400, errorT: "TooManyRequestsException", body: "Too many requests"}}})
	var th *kakaoauth.Throttled
	if err := NewFederation(c, "p").Link(context.Background(), 4242, "kakao_4242"); !errors.As(err, &th) {
		t.Fatalf("throttled: %v", err)
	}
}

// Unlink removes a link that the user's identities show, with the
// documented request (the source identity: provider, Cognito_Subject, the
// Kakao id), and calls nothing more when there is none or no user.
func TestUnlinkRequest(t *testing.T) {
	w, c := newWire(map[string][]answer{"AdminGetUser": {userWithIdentities(linkedIdentity)}})
	if err := NewFederation(c, "ap-northeast-2_Pool").Unlink(context.Background(), 4242, "kakao_4242"); err != nil {
		t.Fatal(err)
	}
	want := `{"User":{"ProviderAttributeName":"Cognito_Subject","ProviderAttributeValue":"4242","ProviderName":"Kakao"},"UserPoolId":"ap-northeast-2_Pool"}`
	if got := w.ops(); strings.Join(got, ",") != "AdminGetUser,AdminDisableProviderForUser" || jsonOf(t, w.calls[1].Body) != want {
		t.Fatalf("calls %+v\nwant AdminDisableProviderForUser %s", w.calls, want)
	}

	other := `[{"userId":"99","providerName":"Kakao"},{"userId":"4242","providerName":"Google"}]`
	for name, a := range map[string]answer{
		"no identities":      userWithIdentities(""),
		"other identities":   userWithIdentities(other),
		"no user":            {status: 400, errorT: "UserNotFoundException", body: "User does not exist."},
		"empty identity set": userWithIdentities("[]"),
	} {
		w, c := newWire(map[string][]answer{"AdminGetUser": {a}})
		if err := NewFederation(c, "p").Unlink(context.Background(), 4242, "kakao_4242"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := w.ops(); strings.Join(got, ",") != "AdminGetUser" {
			t.Fatalf("%s: calls %v", name, got)
		}
	}

	_, c = newWire(map[string][]answer{"AdminGetUser": {userWithIdentities(linkedIdentity)},
		"AdminDisableProviderForUser": {{status: 500, errorT: "InternalErrorException", body: "boom"}}})
	if err := NewFederation(c, "p").Unlink(context.Background(), 4242, "kakao_4242"); err == nil {
		t.Fatal("a failed removal was reported done")
	}
}

// The federated-only rule, an allow-list over what DescribeUserPoolClient
// answers, against moto with clients made the way the template makes
// them: the hosted-UI client passes; the broker's own client, a client
// that also offers Cognito's password page, one with SRP, or with no
// explicit flows (Cognito's defaults include SRP), does not.
func TestFederatedOnlyAgainstMoto(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	mk := func(name string, idps []string, flows ...types.ExplicitAuthFlowsType) string {
		in := &cip.CreateUserPoolClientInput{UserPoolId: &f.stack.UserPoolID, ClientName: aws.String(name), ExplicitAuthFlows: flows, SupportedIdentityProviders: idps}
		if len(idps) > 0 {
			in.AllowedOAuthFlows = []types.OAuthFlowType{types.OAuthFlowTypeCode}
			in.AllowedOAuthFlowsUserPoolClient = true
			in.AllowedOAuthScopes = []string{"openid", "email", "profile"}
			in.CallbackURLs = []string{"https://app.example.com/callback"}
		}
		out, err := f.client.CreateUserPoolClient(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.UserPoolClient.ClientId)
	}
	refresh := types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth
	cases := map[string]struct {
		id   string
		want bool
	}{
		"hosted ui":                {mk("hosted", []string{"Kakao"}, refresh), true},
		"broker's client":          {f.stack.UserPoolClientID, false},
		"with cognito's page":      {mk("both", []string{"Kakao", "COGNITO"}, refresh), false},
		"with srp":                 {mk("srp", []string{"Kakao"}, refresh, types.ExplicitAuthFlowsTypeAllowUserSrpAuth), false},
		"with choice-based auth":   {mk("userauth", []string{"Kakao"}, refresh, types.ExplicitAuthFlowsTypeAllowUserAuth), false},
		"no explicit flows":        {mk("defaults", []string{"Kakao"}), false},
		"no identity providers":    {mk("none", nil, refresh), false},
		"admin password, provider": {mk("admin", []string{"Kakao"}, refresh, types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth), false},
	}
	clients := NewAppClients(f.client, 0, nil)
	for name, c := range cases {
		got, err := clients.FederatedOnly(ctx, f.stack.UserPoolID, c.id)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", name, got, err, c.want)
		}
	}
	if _, err := clients.FederatedOnly(ctx, f.stack.UserPoolID, "no-such-client"); err == nil {
		t.Error("an unknown client was answered")
	}
}

// Answers are cached for the TTL (DescribeUserPoolClient's quota is
// small); errors are not.
func TestAppClientsCache(t *testing.T) {
	hosted := `{"UserPoolClient":{"ClientId":"c1","SupportedIdentityProviders":["Kakao"],"ExplicitAuthFlows":["ALLOW_REFRESH_TOKEN_AUTH"]}}`
	w, c := newWire(map[string][]answer{"DescribeUserPoolClient": {
		{status: 400, errorT: "TooManyRequestsException", body: "slow down"},
		{status: 200, body: hosted},
		{status: 200, body: `{"UserPoolClient":{"ClientId":"c1","SupportedIdentityProviders":["Kakao","COGNITO"],"ExplicitAuthFlows":["ALLOW_REFRESH_TOKEN_AUTH"]}}`},
	}})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clients := NewAppClients(c, time.Minute, func() time.Time { return now })
	if _, err := clients.FederatedOnly(context.Background(), "p", "c1"); err == nil {
		t.Fatal("throttled answer passed")
	}
	for range 3 {
		if ok, err := clients.FederatedOnly(context.Background(), "p", "c1"); !ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
	}
	if n := len(w.ops()); n != 2 {
		t.Fatalf("%d calls, want 2 (one refused, one cached)", n)
	}
	now = now.Add(time.Minute)
	if ok, _ := clients.FederatedOnly(context.Background(), "p", "c1"); ok {
		t.Fatal("a client changed after the TTL was still trusted")
	}
	if want := `{"ClientId":"c1","UserPoolId":"p"}`; jsonOf(t, w.calls[1].Body) != want {
		t.Fatalf("request %v", w.calls[1].Body)
	}
}

// AdminCreateUser's refusals as Cognito answers them: a taken email alias
// is AccountConflict whether or not the SDK types AliasExistsException
// (its model of AdminCreateUser does not list it); a taken username is
// UserExists (whatever exists, the workflow reads the user to tell which);
// a pool that takes no such username (usernames are emails) is
// AccountNotLinked.
func TestCreateUserRefusals(t *testing.T) {
	for _, c := range []struct {
		errorT, message string
		want            string
	}{
		{"AliasExistsException", "An account with the given email already exists.", "AccountConflict"},
		{"UsernameExistsException", "User account already exists", "UserExists"},
		{"InvalidParameterException", "Username should be either an email or a phone number.", "AccountNotLinked"},
	} {
		_, api := newWire(map[string][]answer{"AdminCreateUser": {{status: 400, errorT: c.errorT, body: c.message}}})
		_, err := New(api, "ap-northeast-2_Pool", "client").CreateUser(context.Background(), kakaoauth.NewCognitoUser{KakaoID: 4242, Email: "a@example.com"})
		var exists *kakaoauth.UserExists
		got := kakaoauth.ErrorName(err)
		if errors.As(err, &exists) {
			got = "UserExists"
		}
		if got != c.want {
			t.Errorf("%s: %v (%s), want %s", c.errorT, err, got, c.want)
		}
	}
}
