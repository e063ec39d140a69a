package keyset

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func rsaKey(t *testing.T, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

// issuer publishes keys and counts downloads.
type issuer struct {
	mu        sync.Mutex
	keys      []jose.JSONWebKey
	err       error
	downloads atomic.Int32
	gate      chan struct{} // when set, downloads wait for it
}

func (i *issuer) download(ctx context.Context) (jose.JSONWebKeySet, error) {
	i.downloads.Add(1)
	if i.gate != nil {
		<-i.gate
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return jose.JSONWebKeySet{Keys: i.keys}, i.err
}

func (i *issuer) publish(keys ...jose.JSONWebKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = keys
}

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(c.t.Load(), 0) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d / time.Second)) }

func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	k1, k2 := rsaKey(t, "k1"), rsaKey(t, "k2")
	iss := &issuer{keys: []jose.JSONWebKey{k1}}
	clk := &clock{}
	s := New(iss.download, WithClock(clk.now), WithRefetchInterval(30*time.Second), WithMaxAge(time.Hour))
	ctx := context.Background()
	if k, err := s.Key(ctx, "k1"); err != nil || !k.Equal(k1.Key) {
		t.Fatalf("k1: %v %v", k, err)
	}
	// Forged kids within the interval cost nothing.
	for range 5 {
		if _, err := s.Key(ctx, "forged"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("forged kid: %v", err)
		}
	}
	if n := iss.downloads.Load(); n != 1 {
		t.Fatalf("%d downloads for one set and forged kids", n)
	}
	// A rotated-in key is found once the interval has passed.
	iss.publish(k1, k2)
	clk.advance(31 * time.Second)
	if k, err := s.Key(ctx, "k2"); err != nil || !k.Equal(k2.Key) {
		t.Fatalf("k2 after rotation: %v %v", k, err)
	}
	if n := iss.downloads.Load(); n != 2 {
		t.Fatalf("%d downloads, want 2", n)
	}
}

func TestSetPastMaxAgeIsNotUsed(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := &issuer{keys: []jose.JSONWebKey{k1}}
	clk := &clock{}
	s := New(iss.download, WithClock(clk.now), WithMaxAge(10*time.Minute))
	if _, err := s.Key(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	// The issuer withdraws k1 and then cannot be reached.
	iss.publish()
	clk.advance(11 * time.Minute)
	if _, err := s.Key(context.Background(), "k1"); !errors.Is(err, ErrNoSigningKeys) {
		t.Fatalf("withdrawn key after max age: %v", err)
	}
	down := errors.New("issuer down")
	iss.mu.Lock()
	iss.err = down
	iss.mu.Unlock()
	clk.advance(time.Minute)
	if _, err := s.Key(context.Background(), "k1"); !errors.Is(err, down) {
		t.Fatalf("stale set used when the issuer is down: %v", err)
	}
}

func TestConcurrentCallersShareOneDownload(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := &issuer{keys: []jose.JSONWebKey{k1}, gate: make(chan struct{})}
	s := New(iss.download)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := s.Key(context.Background(), "k1")
			errs <- err
		})
	}
	for iss.downloads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(iss.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.downloads.Load(); n != 1 {
		t.Fatalf("%d downloads for 20 concurrent callers", n)
	}
}

// A caller that gives up does not cancel the shared download: the next
// caller finds the set.
func TestCallerContextDoesNotCancelTheDownload(t *testing.T) {
	k1 := rsaKey(t, "k1")
	iss := &issuer{keys: []jose.JSONWebKey{k1}, gate: make(chan struct{})}
	s := New(iss.download)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Key(ctx, "k1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(iss.gate)
	if _, err := s.Key(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	if n := iss.downloads.Load(); n != 1 {
		t.Fatalf("%d downloads", n)
	}
}

// Only RS256 signing keys with an id are kept.
func TestOnlyRS256SigningKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	enc := rsaKey(t, "enc")
	enc.Use = "enc"
	ps := rsaKey(t, "ps")
	ps.Algorithm = "PS256"
	noKid := rsaKey(t, "")
	iss := &issuer{keys: []jose.JSONWebKey{{Key: &ec.PublicKey, KeyID: "ec", Algorithm: "ES256"}, enc, ps, noKid}}
	s := New(iss.download)
	if _, err := s.Key(context.Background(), "enc"); !errors.Is(err, ErrNoSigningKeys) {
		t.Fatalf("a set without RS256 signing keys: %v", err)
	}
	good := rsaKey(t, "good")
	iss.publish(append(iss.keys, good)...)
	s = New(iss.download)
	for _, kid := range []string{"ec", "enc", "ps"} {
		if _, err := s.Key(context.Background(), kid); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s: %v", kid, err)
		}
	}
	if _, err := s.Key(context.Background(), "good"); err != nil {
		t.Fatal(err)
	}
}
