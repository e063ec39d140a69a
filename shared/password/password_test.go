package password

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// cognitoSymbols is Cognito's set of special characters for password
// policies (space counts too, but not first or last).
const cognitoSymbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"

func testPepper(t testing.TB) []byte {
	t.Helper()
	p := make([]byte, MinPepperLen)
	if _, err := rand.Read(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(n)
		if err != nil || len(raw) != 16 {
			t.Fatalf("nonce %q is not 128 bits of base64url: %v", n, err)
		}
		if seen[n] {
			t.Fatalf("nonce repeated: %q", n)
		}
		seen[n] = true
	}
}

type vectors struct {
	Derive []struct {
		PepperHex, Sub, Nonce, Password string
	}
	Proof []struct {
		PepperHex, Username string
		ExpiresUnix         int64
		Proof               string
	}
	Temporary []struct {
		PepperHex, Username, Password string
	}
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/derive_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Derive) == 0 || len(v.Proof) == 0 || len(v.Temporary) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The vectors were computed outside Go; a change to the scheme would make
// every stored nonce derive a password Cognito does not have.
func TestDeriveMatchesVectors(t *testing.T) {
	for _, v := range loadVectors(t).Derive {
		if got := Derive(unhex(t, v.PepperHex), v.Sub, v.Nonce); got != v.Password {
			t.Errorf("Derive(%s, %s) = %s, want %s", v.Sub, v.Nonce, got, v.Password)
		}
	}
}

// The temporary password of a user created before a change would no longer
// be the one its first sign-in sends.
func TestTemporaryMatchesVectors(t *testing.T) {
	for _, v := range loadVectors(t).Temporary {
		pepper := unhex(t, v.PepperHex)
		if got := Temporary(pepper, v.Username); got != v.Password {
			t.Errorf("Temporary(%s) = %s, want %s", v.Username, got, v.Password)
		}
		// Never the password any nonce derives for that name: the first
		// sign-in must change it.
		if Temporary(pepper, v.Username) == Derive(pepper, v.Username, "") {
			t.Errorf("Temporary equals Derive for %s", v.Username)
		}
	}
}

func TestProofMatchesVectors(t *testing.T) {
	for _, v := range loadVectors(t).Proof {
		pepper := unhex(t, v.PepperHex)
		exp := time.Unix(v.ExpiresUnix, 0)
		if got := Proof(pepper, v.Username, exp); got != v.Proof {
			t.Errorf("Proof(%s) = %s, want %s", v.Username, got, v.Proof)
		}
		if err := VerifyProof(pepper, v.Username, v.Proof, exp.Add(-time.Minute)); err != nil {
			t.Errorf("vector proof rejected: %v", err)
		}
	}
}

func TestDeriveSatisfiesAnyCognitoPolicy(t *testing.T) {
	for i := range 3000 {
		pepper := testPepper(t)
		nonce, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		sub := randomText(t, i%64)
		pw := Derive(pepper, sub, nonce)
		if len(pw) != Length || len(pw) >= 99 {
			t.Fatalf("length %d, want %d (and under moto's 99)", len(pw), Length)
		}
		var upper, lower, digit, symbol bool
		for _, r := range pw {
			switch {
			case r > unicode.MaxASCII:
				t.Fatalf("non-ASCII %q in %q", r, pw)
			case unicode.IsUpper(r):
				upper = true
			case unicode.IsLower(r):
				lower = true
			case unicode.IsDigit(r):
				digit = true
			case strings.ContainsRune(cognitoSymbols, r):
				symbol = true
			default:
				t.Fatalf("character %q is not allowed in Cognito passwords", r)
			}
		}
		if !upper || !lower || !digit || !symbol {
			t.Fatalf("%q misses a class: upper=%v lower=%v digit=%v symbol=%v", pw, upper, lower, digit, symbol)
		}
		if Derive(pepper, sub, nonce) != pw {
			t.Fatal("Derive is not deterministic")
		}
	}
}

func TestDeriveDependsOnEveryInput(t *testing.T) {
	p1, p2 := testPepper(t), testPepper(t)
	base := Derive(p1, "sub-a", "nonce-a")
	for name, other := range map[string]string{
		"pepper": Derive(p2, "sub-a", "nonce-a"),
		"sub":    Derive(p1, "sub-b", "nonce-a"),
		"nonce":  Derive(p1, "sub-a", "nonce-b"),
		// The separator keeps ("ab","c") and ("a","bc") apart.
		"split": Derive(p1, "sub-an", "once-a"),
	} {
		if other == base {
			t.Errorf("changing %s did not change the password", name)
		}
	}
	// The secret part must vary, not just exist: two passwords share only
	// the fixed prefix (a shared 4+ char run elsewhere is ~impossible).
	if strings.TrimPrefix(base, shapePrefix)[:8] == strings.TrimPrefix(Derive(p1, "sub-a", "nonce-c"), shapePrefix)[:8] {
		t.Error("derived bodies share a prefix")
	}
}

func TestWeakPepperIsRefused(t *testing.T) {
	for _, p := range [][]byte{nil, {}, bytes.Repeat([]byte{1}, MinPepperLen-1)} {
		if err := CheckPepper(p); !errors.Is(err, ErrWeakPepper) {
			t.Errorf("CheckPepper(%d bytes) = %v", len(p), err)
		}
		if err := VerifyProof(p, "u", "v1.1.x", time.Now()); !errors.Is(err, ErrWeakPepper) {
			t.Errorf("VerifyProof with %d-byte pepper = %v", len(p), err)
		}
		assertPanics(t, func() { Derive(p, "s", "n") })
		assertPanics(t, func() { Proof(p, "u", time.Now()) })
	}
	if err := CheckPepper(testPepper(t)); err != nil {
		t.Fatal(err)
	}
}

func assertPanics(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	f()
}

func TestVerifyProof(t *testing.T) {
	pepper := testPepper(t)
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(time.Minute)
	good := Proof(pepper, "kakao_1", exp)

	if err := VerifyProof(pepper, "kakao_1", good, now); err != nil {
		t.Fatalf("valid proof: %v", err)
	}
	_, sig, _ := strings.Cut(strings.TrimPrefix(good, "v1."), ".")
	cases := map[string]struct {
		pepper   []byte
		username string
		proof    string
		now      time.Time
		want     error
	}{
		"at expiry":       {pepper, "kakao_1", good, exp, ErrProofExpired},
		"after expiry":    {pepper, "kakao_1", good, exp.Add(time.Hour), ErrProofExpired},
		"other user":      {pepper, "kakao_2", good, now, ErrProofInvalid},
		"other pepper":    {testPepper(t), "kakao_1", good, now, ErrProofInvalid},
		"extended expiry": {pepper, "kakao_1", "v1." + strconv.FormatInt(exp.Unix()+3600, 10) + "." + sig, now, ErrProofInvalid},
		"too long lived":  {pepper, "kakao_1", Proof(pepper, "kakao_1", now.Add(MaxProofLifetime+time.Second)), now, ErrProofInvalid},
		"empty":           {pepper, "kakao_1", "", now, ErrProofMalformed},
		"two parts":       {pepper, "kakao_1", "v1." + sig, now, ErrProofMalformed},
		"other version":   {pepper, "kakao_1", "v2" + strings.TrimPrefix(good, "v1"), now, ErrProofMalformed},
		"signed expiry":   {pepper, "kakao_1", "v1.+" + strconv.FormatInt(exp.Unix(), 10) + "." + sig, now, ErrProofMalformed},
		"bad base64":      {pepper, "kakao_1", good[:len(good)-1] + "*", now, ErrProofMalformed},
		"short mac":       {pepper, "kakao_1", good[:len(good)-4], now, ErrProofMalformed},
		"oversized":       {pepper, "kakao_1", good + strings.Repeat("A", maxProofLen), now, ErrProofMalformed},
		"a password":      {pepper, "kakao_1", Derive(pepper, "kakao_1", strconv.FormatInt(exp.Unix(), 10)), now, ErrProofMalformed},
	}
	for name, c := range cases {
		if err := VerifyProof(c.pepper, c.username, c.proof, c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

// The password and the proof MAC the same kind of message under the same
// pepper: the domain prefixes must keep one from ever being the other.
func TestDomainSeparation(t *testing.T) {
	pepper := testPepper(t)
	for i := range 200 {
		user := "kakao_" + strconv.Itoa(i)
		exp := time.Unix(int64(1_800_000_000+i), 0)
		proof := Proof(pepper, user, exp)
		_, sig, _ := strings.Cut(strings.TrimPrefix(proof, "v1."), ".")
		pw := Derive(pepper, user, strconv.FormatInt(exp.Unix(), 10))
		if strings.Contains(pw, sig[:16]) {
			t.Fatalf("proof MAC appears in the password for %s", user)
		}
		passwordMAC := base64.RawURLEncoding.EncodeToString(mac(pepper, passwordDomain+"\x00"+user+"\x00"+strconv.FormatInt(exp.Unix(), 10)))
		if passwordMAC == sig {
			t.Fatalf("password PRK equals proof MAC for %s", user)
		}
		forged := "v1." + strconv.FormatInt(exp.Unix(), 10) + "." + passwordMAC
		if err := VerifyProof(pepper, user, forged, exp.Add(-time.Second)); !errors.Is(err, ErrProofInvalid) {
			t.Fatalf("a password-domain MAC verified as a proof: %v", err)
		}
	}
}

func randomText(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawStdEncoding.EncodeToString(b)
}

func BenchmarkDerive(b *testing.B) {
	pepper := testPepper(b)
	nonce, err := NewNonce()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = Derive(pepper, "8c50e195-eab7-4840-ba7f-5324b63fd1bc", nonce)
	}
}

// A challenge answer is bound to everything its sign-in is: the user, the
// app client, the one challenge Cognito issued and the expiry; and a
// PreAuthentication proof is never an answer, nor the reverse.
func TestVerifyChallengeProof(t *testing.T) {
	key := testPepper(t)
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(time.Minute)
	const sub, client, challenge = "3f0c1e2d-0000-4000-8000-000000000001", "broker-client", "c-0123456789abcdef"
	good := ChallengeProof(key, sub, client, challenge, exp)
	if err := VerifyChallengeProof(key, sub, client, challenge, good, now); err != nil {
		t.Fatalf("valid answer: %v", err)
	}
	cases := map[string]struct {
		key                    []byte
		sub, client, challenge string
		proof                  string
		now                    time.Time
		want                   error
	}{
		"other user":             {key, "other-sub", client, challenge, good, now, ErrProofInvalid},
		"other client":           {key, sub, "public-client", challenge, good, now, ErrProofInvalid},
		"other sign-in":          {key, sub, client, "c-another-challenge", good, now, ErrProofInvalid},
		"other key":              {testPepper(t), sub, client, challenge, good, now, ErrProofInvalid},
		"expired":                {key, sub, client, challenge, good, exp, ErrProofExpired},
		"a password-login proof": {key, sub, client, challenge, Proof(key, sub, exp), now, ErrProofInvalid},
		"fields shifted":         {key, sub + "\x00" + client, challenge, "", ChallengeProof(key, sub, client, challenge, exp), now, ErrProofInvalid},
	}
	for name, c := range cases {
		if err := VerifyChallengeProof(c.key, c.sub, c.client, c.challenge, c.proof, c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	if err := VerifyProof(key, sub, good, now); !errors.Is(err, ErrProofInvalid) {
		t.Errorf("a challenge answer verified as a PreAuthentication proof: %v", err)
	}
}
