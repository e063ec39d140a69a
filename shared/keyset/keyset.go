// Package keyset keeps a published JSON Web Key Set for verifying RS256
// tokens: Kakao's (shared/kakao, ID tokens) and a Cognito user pool's
// (shared/cognitojwt). One Set per process and issuer: the set is
// fetched on first use, trusted for a bounded age, and fetched again
// sooner only for a key id it does not know, at most once per re-fetch
// interval, so that forged key ids cannot turn every request into a call
// to the issuer. Concurrent callers share one fetch.
package keyset

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kakaoauth/kakaoauth"
)

// Defaults of a Set.
const (
	// DefaultRefetchInterval bounds fetches triggered by unknown key ids.
	DefaultRefetchInterval = 30 * time.Second
	// DefaultMaxAge bounds how long a fetched set is trusted: a key the
	// issuer withdraws stops verifying tokens after it.
	DefaultMaxAge = 15 * time.Minute
)

var (
	// ErrMalformed: not a JWS compact serialization signed with RS256.
	ErrMalformed = errors.New("keyset: malformed or not RS256")
	// ErrNoKeyID: the token's header names no key.
	ErrNoKeyID = errors.New("keyset: no key id")
	// ErrUnknownKey: the set, fresh, has no RS256 signing key of that id.
	ErrUnknownKey = errors.New("keyset: unknown key id")
	// ErrNoSigningKeys: the issuer published no RS256 signing key.
	ErrNoSigningKeys = errors.New("keyset: no RS256 signing keys")
)

// Download fetches the published set once, with whatever timeouts and
// retries its caller wants; its errors reach Key's callers unchanged.
type Download func(ctx context.Context) (jose.JSONWebKeySet, error)

// Option configures a Set.
type Option func(*Set)

// WithClock injects the clock that ages the set.
func WithClock(now func() time.Time) Option { return func(s *Set) { s.now = now } }

// WithRefetchInterval sets the minimum time between fetches triggered by
// an unknown key id (default DefaultRefetchInterval).
func WithRefetchInterval(d time.Duration) Option { return func(s *Set) { s.refetchInterval = d } }

// WithMaxAge sets how long a fetched set is used before it is fetched
// again (default DefaultMaxAge; never below the re-fetch interval).
func WithMaxAge(d time.Duration) Option { return func(s *Set) { s.maxAge = d } }

// Set is a cached key set.
type Set struct {
	download        Download
	now             func() time.Time
	refetchInterval time.Duration
	maxAge          time.Duration

	keys atomic.Pointer[fetched] // nil until the first fetch

	mu        sync.Mutex
	inflight  *fetch
	lastFetch time.Time // start of the last fetch, successful or not
}

// fetched is a downloaded set's signing keys and when it was fetched.
type fetched struct {
	keys map[string]*rsa.PublicKey
	at   time.Time
}

// fetch is one in-flight download that concurrent callers share.
type fetch struct {
	done chan struct{}
	err  error
}

// New returns a Set that download fills.
func New(download Download, opts ...Option) *Set {
	s := &Set{download: download, now: time.Now, refetchInterval: DefaultRefetchInterval, maxAge: DefaultMaxAge}
	for _, o := range opts {
		o(s)
	}
	s.maxAge = max(s.maxAge, s.refetchInterval)
	return s
}

// Parse parses raw as an RS256 JWT and finds the key its header names, the
// one way both verifiers read tokens. Only RS256 parses: "none", HS256
// (keyed with the public key) and every other algorithm are refused before
// any key is looked at. And only the compact serialization's own
// characters: Go's base64 skips CR and LF, so one signed token would
// otherwise verify in endless spellings (a fuzzing finding). Errors:
// ErrMalformed, ErrNoKeyID, and Key's.
func (s *Set) Parse(ctx context.Context, raw string) (*jwt.JSONWebToken, *rsa.PublicKey, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || !kakaoauth.CompactJWS(raw) {
		return nil, nil, ErrMalformed
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return nil, nil, ErrNoKeyID
	}
	key, err := s.Key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return nil, nil, err
	}
	return tok, key, nil
}

// Key returns the RSA key for kid, fetching the set on first use and when
// it is past its max age, and again (rate-limited, de-duplicated) when
// kid is unknown. A set past its max age is not used: if it cannot be
// fetched again, no token verifies. Errors: ErrUnknownKey, the download's
// error, or the context's (wrapped).
func (s *Set) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if k := s.cached(kid); k != nil {
		return k, nil
	}
	s.mu.Lock()
	// Another caller may have refreshed the set while this one waited.
	if k := s.cached(kid); k != nil {
		s.mu.Unlock()
		return k, nil
	}
	f := s.inflight
	if f == nil {
		if s.fresh(s.keys.Load()) && s.now().Sub(s.lastFetch) < s.refetchInterval {
			s.mu.Unlock()
			return nil, ErrUnknownKey
		}
		f = &fetch{done: make(chan struct{})}
		s.inflight = f
		s.lastFetch = s.now()
		// The fetch is shared, so it must not die with this caller's
		// context; the download bounds itself.
		go s.run(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("keyset: %w", ctx.Err())
	}
	if f.err != nil {
		return nil, f.err
	}
	if k := s.cached(kid); k != nil {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// cached is kid's key in a set that is not past its max age.
func (s *Set) cached(kid string) *rsa.PublicKey {
	if set := s.keys.Load(); s.fresh(set) {
		return set.keys[kid]
	}
	return nil
}

func (s *Set) fresh(set *fetched) bool {
	return set != nil && s.now().Sub(set.at) < s.maxAge
}

func (s *Set) run(ctx context.Context, f *fetch) {
	keys, err := s.signingKeys(ctx)
	s.mu.Lock()
	if err == nil {
		// The new set replaces the old one whole: a withdrawn kid is gone.
		s.keys.Store(&fetched{keys: keys, at: s.now()})
	}
	f.err = err
	s.inflight = nil
	s.mu.Unlock()
	close(f.done)
}

// signingKeys downloads the set and keeps its RS256 signing keys.
func (s *Set) signingKeys(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	set, err := s.download(ctx)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || k.KeyID == "" || (k.Use != "" && k.Use != "sig") ||
			(k.Algorithm != "" && k.Algorithm != string(jose.RS256)) {
			continue
		}
		keys[k.KeyID] = pub
	}
	if len(keys) == 0 {
		return nil, ErrNoSigningKeys
	}
	return keys, nil
}
