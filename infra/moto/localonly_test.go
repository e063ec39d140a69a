package moto

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Any web page the developer opens can send requests to the local moto,
// which answers unsigned requests and allows any origin: a page's fetch,
// or a DNS-rebinding page (its own name resolved to 127.0.0.1), must not
// read the local secrets. The layer answers requests addressed to this
// machine from pages of this machine only; the SDK, the local pages and
// sam local invoke's containers (host.docker.internal) still get through.
func TestOnlyThisMachineReadsTheLocalSecrets(t *testing.T) {
	ctx := context.Background()
	srv := ForTest(t)
	client := secretsmanager.NewFromConfig(AWSConfig(ctx, srv.URL()))
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: ptr("localonly/pepper"), SecretString: ptr("the-pepper")}); err != nil {
		t.Fatal(err)
	}
	get := func(host, origin string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL()+"/", strings.NewReader(`{"SecretId":"localonly/pepper"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
		// moto reads the service from the signature's scope; it checks no signature.
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/20261206/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	local := strings.TrimPrefix(srv.URL(), "http://")
	for _, c := range []struct {
		name, host, origin string
		allowed            bool
	}{
		{"the SDK", local, "", true},
		{"the try-it page", local, "http://127.0.0.1:8080", true},
		{"a page on localhost", "localhost:5000", "http://localhost:8080", true},
		{"sam local invoke", "host.docker.internal:5000", "", true},
		{"another site's fetch", local, "https://attacker.example", false},
		{"a public address's page", local, "http://203.0.113.7", false},
		{"a sandboxed page", local, "null", false},
		{"a rebinding page", "attacker.example:5000", "http://attacker.example:5000", false},
		{"a rebinding page's navigation", "attacker.example:5000", "", false},
	} {
		status, body := get(c.host, c.origin)
		switch {
		case c.allowed && (status != http.StatusOK || !strings.Contains(body, "the-pepper")):
			t.Errorf("%s (Host %s, Origin %q): %d %s, want the secret", c.name, c.host, c.origin, status, body)
		case !c.allowed && (status != http.StatusForbidden || strings.Contains(body, "the-pepper")):
			t.Errorf("%s (Host %s, Origin %q): %d %s, want 403 without the secret", c.name, c.host, c.origin, status, body)
		}
	}
}
