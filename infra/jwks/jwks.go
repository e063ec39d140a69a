// Package jwks verifies a JWT's RS256 signature against a published JSON
// Web Key Set, as a resource server would: how the login client, the
// tests and operators check that tokens from the local pool or the Kakao
// double are real. (The Lambdas' own ID-token check, with its cache and
// claim rules, is shared/kakao.)
package jwks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verify fetches the key set at url and returns the token's claims if a
// key with the token's kid verifies its RS256 signature.
func Verify(ctx context.Context, client *http.Client, url, raw string) (map[string]any, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("jwks: token: %w", err)
	}
	set, err := Fetch(ctx, client, url)
	if err != nil {
		return nil, err
	}
	kid := tok.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) == 0 {
		return nil, fmt.Errorf("jwks: kid %q is not in %s (%d keys)", kid, url, len(set.Keys))
	}
	var claims map[string]any
	for _, k := range keys {
		if err = tok.Claims(k.Key, &claims); err == nil {
			return claims, nil
		}
	}
	return nil, fmt.Errorf("jwks: signature does not verify: %w", err)
}

// Fetch reads a key set.
func Fetch(ctx context.Context, client *http.Client, url string) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return set, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return set, fmt.Errorf("jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return set, fmt.Errorf("jwks: %s answered %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return set, fmt.Errorf("jwks: %s: %w", url, err)
	}
	return set, nil
}
