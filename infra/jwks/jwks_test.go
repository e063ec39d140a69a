package jwks

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestVerify(t *testing.T) {
	good, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &good.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	}))
	defer srv.Close()
	ctx := context.Background()

	claims, err := Verify(ctx, srv.Client(), srv.URL, sign(t, good, "k1", map[string]any{"sub": "s"}))
	if err != nil || claims["sub"] != "s" {
		t.Fatalf("good token: %v %v", claims, err)
	}
	if _, err := Verify(ctx, srv.Client(), srv.URL, sign(t, other, "k1", map[string]any{"sub": "s"})); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("token signed by another key: %v", err)
	}
	if _, err := Verify(ctx, srv.Client(), srv.URL, sign(t, good, "k2", map[string]any{"sub": "s"})); err == nil || !strings.Contains(err.Error(), "not in") {
		t.Fatalf("unknown kid: %v", err)
	}
	if _, err := Verify(ctx, srv.Client(), srv.URL, "not.a.token"); err == nil {
		t.Fatal("garbage accepted")
	}
}
