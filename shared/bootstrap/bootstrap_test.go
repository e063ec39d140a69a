package bootstrap

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth/shared/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// A Lambda's SDK configuration comes from what Lambda puts in the
// environment, nothing else (no shared config files, no IMDS).
func TestLambdaAWSConfig(t *testing.T) {
	cfg, err := LambdaAWSConfig(env(map[string]string{
		"AWS_REGION": "ap-northeast-2", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
	}))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SessionToken != "TOKEN" || cfg.Region != "ap-northeast-2" || cfg.BaseEndpoint != nil {
		t.Fatalf("%+v %v", cfg, err)
	}
	if cfg.HTTPClient == nil {
		t.Fatal("no bounded HTTP client")
	}
	// sam local and aws-lambda-rie against moto.
	cfg, err = LambdaAWSConfig(env(map[string]string{
		"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
	}))
	if err != nil || cfg.Region != "us-east-1" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:5000" {
		t.Fatalf("%+v %v", cfg, err)
	}
	for _, missing := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		vars := map[string]string{"AWS_REGION": "r", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
		delete(vars, missing)
		if _, err := LambdaAWSConfig(env(vars)); err == nil {
			t.Errorf("without %s: accepted", missing)
		}
	}
}

// The options follow the configuration: no pepper, no password option; no
// admin key, no unlink authentication.
func TestOptionsFollowTheConfiguration(t *testing.T) {
	bare := New(config.Config{UnlinkPolicy: "disable"}, aws.Config{}, nil)
	pepper, proofKey := []byte(strings.Repeat("p", 32)), []byte(strings.Repeat("k", 32))
	full := New(config.Config{UnlinkPolicy: "disable", Pepper: pepper, PepperVersion: 1, Peppers: map[int][]byte{1: pepper},
		ProofKey: proofKey, ProofKeyVersion: 1, ProofKeys: map[int][]byte{1: proofKey}, KakaoAppID: 1, KakaoAdminKey: "k"}, aws.Config{}, nil)
	if got, want := len(full.Options())-len(bare.Options()), 3; got != want {
		t.Fatalf("a pepper, a proof key and an admin key add %d options, want %d", got, want)
	}
	// Issue 19: the unlink MAC key and the authorizer's usage key add
	// theirs.
	full.Config.UnlinkMACKeys, full.Config.UnlinkMACKeyVersion, full.Config.UnlinkUsageKey = map[int][]byte{1: proofKey}, 1, "usage-key"
	if got, want := len(full.Options())-len(bare.Options()), 5; got != want {
		t.Fatalf("with the MAC key and the usage key: %d options, want %d", got, want)
	}
	if bare.HTTP == nil || bare.HTTP.Timeout != KakaoHTTPTimeout {
		t.Fatal("Kakao's HTTP client is unbounded")
	}
}

// Load fails the cold start when a declared secret cannot be read, and
// reads it through the store the main wired.
func TestLoadReadsDeclaredSecrets(t *testing.T) {
	for k, v := range map[string]string{"AWS_REGION": "r", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
		"AUDIT_TABLE": "audit", config.SecretPepper: "the-pepper"} {
		t.Setenv(k, v)
	}
	needs := Needs{Secrets: []string{config.SecretPepper}, Env: []string{"AUDIT_TABLE"}}
	if _, err := Load(context.Background(), nil, needs); err == nil || !strings.Contains(err.Error(), "no secret store") {
		t.Fatalf("secrets without a store: %v", err)
	}
	pepper := strings.Repeat("p", 40)
	needs.SecretStore = func(aws.Config) config.SecretGetter {
		return secretFunc(func(id string) (string, error) {
			if id != "the-pepper" {
				t.Errorf("read secret %q", id)
			}
			return `{"current":"1","1":"` + pepper + `"}`, nil
		})
	}
	d, err := Load(context.Background(), nil, needs)
	if err != nil || string(d.Config.Pepper) != pepper || d.Config.AuditTable != "audit" {
		t.Fatalf("%v", err)
	}
	needs.Env = append(needs.Env, "MAPPING_TABLE")
	if _, err := Load(context.Background(), nil, needs); err == nil || !strings.Contains(err.Error(), "MAPPING_TABLE") {
		t.Fatalf("a missing setting: %v", err)
	}
}

type secretFunc func(id string) (string, error)

func (f secretFunc) GetSecret(_ context.Context, id string) (string, error) { return f(id) }

// A stalled endpoint costs a call one attempt at most: the bound covers
// the SDK's retries, where an HTTP timeout alone would let it try three
// times, each as long.
func TestBoundCallsEndsStalledCallsWithinTheBound(t *testing.T) {
	stall := make(chan struct{})
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stall)
	cfg, err := LambdaAWSConfig(env(map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL": srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	cfg = BoundCalls(cfg, 200*time.Millisecond)
	_, err = dynamodb.NewFromConfig(cfg).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}},
	})
	if err == nil {
		t.Fatal("a stalled call answered")
	}
	if n := attempts.Load(); n != 1 {
		t.Fatalf("%d attempts against a stalled endpoint (%v), want 1: the bound does not cover retries", n, err)
	}
}

// A call throttled until the bound cuts its backoff short still reads as
// throttled: the last attempt's error stays in the chain.
func TestBoundCallsKeepsTheLastAttemptsError(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}`))
	}))
	defer srv.Close()
	cfg, err := LambdaAWSConfig(env(map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL": srv.URL}))
	if err != nil {
		t.Fatal(err)
	}
	// Usually shorter than the SDK's backoff after a throttle (a random
	// 0–2 s), so the bound ends the call in its sleep; long enough for the
	// first attempt on a loaded machine.
	cfg = BoundCalls(cfg, 250*time.Millisecond)
	_, err = dynamodb.NewFromConfig(cfg).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}},
	})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Fatalf("after %d attempts: %v, want the throttling error in the chain", attempts.Load(), err)
	}
}
