// Package password derives the Cognito password of a Kakao user kakaoauth
// created, and the short-lived proofs its triggers check: the
// PreAuthentication trigger's (a password sign-in the broker started) and
// the VerifyAuthChallenge trigger's (the CUSTOM_AUTH answer that signs in
// a user kakaoauth linked).
//
// Nobody knows a Kakao user's password: it is derived from a secret pepper,
// the user's sub and a random nonce kept on the mapping row. Only the nonce
// travels between workflow steps; without the pepper it is useless.
//
// Scheme v1:
//
//	prk      = HMAC-SHA-256(pepper, "kakaoauth-password-v1" 0x00 sub 0x00 nonce)
//	body     = base64url(HKDF-Expand-SHA-256(prk, "kakaoauth-password-v1 shape", 45 bytes))  // 60 chars
//	password = "Kk1!" + body                                                                   // 64 chars
//
// The fixed "Kk1!" puts an upper-case letter, a lower-case letter, a digit
// and a symbol in every password (base64url's '-' and '_' are in Cognito's
// symbol set too), so any policy with a minimum length up to 64 is met;
// template.yaml's is 12, and a test keeps it at most Length. 64, not 99+:
// moto refuses passwords of 99 characters or more, and 360 derived bits
// (256 bits of entropy from prk) are far beyond guessing.
// Changing any of this locks every user out until their nonce rotates:
// testdata/derive_vectors.json pins it.
package password

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

const (
	passwordDomain = "kakaoauth-password-v1"
	shapeInfo      = "kakaoauth-password-v1 shape"
	shapePrefix    = "Kk1!"
	shapeBytes     = 45 // 60 base64url characters

	temporaryDomain = "kakaoauth-temporary-v1"

	proofDomain     = "kakaoauth-proof-v1"
	challengeDomain = "kakaoauth-challenge-v1"
	proofVersion    = "v1"
	maxProofLen     = 128
)

// Length is the length of every derived password.
const Length = len(shapePrefix) + shapeBytes*4/3

// MinPepperLen is the shortest pepper accepted, in bytes. An empty or short
// pepper would let anyone compute passwords and proofs.
const MinPepperLen = 32

// MaxProofLifetime bounds how far in the future a proof may expire: it only
// has to outlive one AdminInitiateAuth call.
const MaxProofLifetime = 5 * time.Minute

// Proof verification errors. Forged, other-user and other-pepper proofs are
// all ErrProofInvalid: telling them apart would help a forger.
var (
	ErrWeakPepper     = errors.New("password: pepper shorter than 32 bytes")
	ErrProofMalformed = errors.New("password: malformed proof")
	ErrProofExpired   = errors.New("password: proof expired")
	ErrProofInvalid   = errors.New("password: invalid proof")
)

// CheckPepper reports whether pepper is usable; call it where the pepper is
// loaded (cold start), since Derive and Proof panic on a weak one.
func CheckPepper(pepper []byte) error {
	if len(pepper) < MinPepperLen {
		return ErrWeakPepper
	}
	return nil
}

// NewNonce returns 128 random bits, base64url without padding (22 chars).
func NewNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Derive returns the password of the user sub for nonce (scheme above).
// sub (a UUID) and nonce (base64url) never contain NUL, so the message is
// unambiguous. It panics if pepper fails CheckPepper.
func Derive(pepper []byte, sub, nonce string) string {
	mustPepper(pepper)
	return shape(mac(pepper, passwordDomain+"\x00"+sub+"\x00"+nonce))
}

// shape expands a key into a password that meets any pool policy up to
// Length characters (see the package comment).
func shape(prk []byte) string {
	body, err := hkdf.Expand(sha256.New, prk, shapeInfo, shapeBytes)
	if err != nil { // only for lengths beyond 255*32 bytes
		panic("password: hkdf: " + err.Error())
	}
	return shapePrefix + base64.RawURLEncoding.EncodeToString(body)
}

// Temporary returns the temporary password a Kakao user is created with.
// It derives from the pepper and the username alone, so every concurrent
// first login, and a login adopting a user whose creator died before
// writing the mapping, computes the same one without coordinating. It only
// lives until the first sign-in answers NEW_PASSWORD_REQUIRED with Derive's
// password, and like every password of a Kakao user it opens nothing
// without the PreAuthentication proof. It panics if pepper fails
// CheckPepper.
func Temporary(pepper []byte, username string) string {
	mustPepper(pepper)
	return shape(mac(pepper, temporaryDomain+"\x00"+username))
}

// Proof returns a proof that the broker itself is signing username in,
// valid until expires (whole seconds): "v1.<unix seconds>.<base64url MAC>".
// It panics if pepper fails CheckPepper.
func Proof(pepper []byte, username string, expires time.Time) string {
	return sign(pepper, proofDomain, []string{username}, expires)
}

// VerifyProof checks a proof for username at time now: nil, or one of the
// Err* values above.
func VerifyProof(pepper []byte, username, proof string, now time.Time) error {
	return verify(pepper, proofDomain, []string{username}, proof, now)
}

// ChallengeProof answers the CUSTOM_AUTH challenge of one sign-in: a MAC
// with the proof key over the user's sub, the app client the sign-in runs
// on and the challenge the CreateAuthChallenge trigger issued for it,
// valid until expires. The challenge is random per sign-in and Cognito
// takes one answer per session, so a proof answers exactly one sign-in:
// replayed in another session, its challenge does not match. Same shape
// as Proof, another domain (one is never the other). It panics if key
// fails CheckPepper.
func ChallengeProof(key []byte, sub, clientID, challenge string, expires time.Time) string {
	return sign(key, challengeDomain, []string{sub, clientID, challenge}, expires)
}

// VerifyChallengeProof checks a challenge answer at time now: nil, or one
// of the Err* values above.
func VerifyChallengeProof(key []byte, sub, clientID, challenge, proof string, now time.Time) error {
	return verify(key, challengeDomain, []string{sub, clientID, challenge}, proof, now)
}

// sign makes "v1.<unix seconds>.<base64url MAC>" over domain, fields and
// the expiry.
func sign(key []byte, domain string, fields []string, expires time.Time) string {
	mustPepper(key)
	exp := strconv.FormatInt(expires.Unix(), 10)
	return proofVersion + "." + exp + "." + base64.RawURLEncoding.EncodeToString(signedMAC(key, domain, fields, exp))
}

// verify checks what sign made.
func verify(key []byte, domain string, fields []string, proof string, now time.Time) error {
	if err := CheckPepper(key); err != nil {
		return err
	}
	if len(proof) > maxProofLen {
		return ErrProofMalformed
	}
	version, rest, ok := strings.Cut(proof, ".")
	if !ok || version != proofVersion {
		return ErrProofMalformed
	}
	exp, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return ErrProofMalformed
	}
	expires, err := strconv.ParseInt(exp, 10, 64)
	// Only the canonical form, so one expiry has exactly one encoding.
	if err != nil || strconv.FormatInt(expires, 10) != exp {
		return ErrProofMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return ErrProofMalformed
	}
	// The MAC first: only a genuine proof may learn that it expired.
	if !hmac.Equal(got, signedMAC(key, domain, fields, exp)) {
		return ErrProofInvalid
	}
	if now.Unix() >= expires {
		return ErrProofExpired
	}
	if time.Unix(expires, 0).Sub(now) > MaxProofLifetime {
		return ErrProofInvalid
	}
	return nil
}

// signedMAC is the MAC of domain, fields and exp, NUL-separated: none of
// them contains a NUL (usernames, subs, client ids and challenges are
// Cognito's or base64url), so the message is unambiguous.
func signedMAC(key []byte, domain string, fields []string, exp string) []byte {
	return mac(key, domain+"\x00"+strings.Join(fields, "\x00")+"\x00"+exp)
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func mustPepper(pepper []byte) {
	if err := CheckPepper(pepper); err != nil {
		panic(err)
	}
}
