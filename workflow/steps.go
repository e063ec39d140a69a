// Package workflow holds the login workflow's steps, each a Lambda handler
// with a typed input and output, and (in workflow/asl) the executor that
// runs statemachine.asl.json in-process. The steps depend only on the
// kakaoauth ports, so they are tested without AWS; shared/ adapts the ports
// to Kakao, Cognito and DynamoDB.
package workflow

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/kakaoauth/kakaoauth"
)

// DefaultProofTTL bounds how long a sign-in proof is accepted by the
// PreAuthentication trigger: IssueTokens uses it within one call.
const DefaultProofTTL = 2 * time.Minute

// MaxSignIns bounds the sign-ins (AdminInitiateAuth calls) of one login;
// the state machine's AfterPasswordRotated and AfterUserMissing choices
// enforce it with the CountSignIn state's counter. With at most one
// AdminSetUserPassword (PasswordState.Set) it is the per-login budget of
// the scarce Cognito quotas, whatever fails.
const MaxSignIns = 2

// DefaultPasswordApplyGrace is how long a nonce another login is applying
// (state pending) is waited for before it counts as abandoned and may be
// claimed: longer than one AdminSetUserPassword call may take (it is sent
// once, bounded by the 5 s AWS call timeout), so a slow claimant is never
// overtaken, and shorter than a task's 10 s.
const DefaultPasswordApplyGrace = 8 * time.Second

// Unlink policies: what an unlink from Kakao does to the account.
const (
	// UnlinkPolicyDisable keeps the Cognito user, disabled, so that the
	// person can come back to the same account (same sub).
	UnlinkPolicyDisable = "disable"
	// UnlinkPolicyDelete deletes the Cognito user and scrubs the mapping,
	// as Kakao account deletions always do.
	UnlinkPolicyDelete = "delete"
)

// ProofMetadataKey is the ClientMetadata key carrying the sign-in proof.
const ProofMetadataKey = "kakaoauth_proof"

// Steps are the workflow's handlers and what they depend on. Each Lambda
// builds one with only the dependencies its step uses.
type Steps struct {
	kakao            kakaoauth.KakaoVerifier
	users            kakaoauth.UserDirectory
	mappings         kakaoauth.MappingStore
	audit            kakaoauth.AuditLog
	pepper           []byte         // the current pepper: new nonces derive with it
	pepperVersion    int            // its version, recorded with each nonce
	peppers          map[int][]byte // every version the secret holds
	proofKey         []byte         // signs IssueTokens' proofs
	proofKeys        [][]byte       // the PreAuthentication trigger accepts a proof of any
	passwordRotation time.Duration
	proofTTL         time.Duration
	events           kakaoauth.EventPublisher
	unlinks          kakaoauth.UnlinkQueue
	unlinkPolicy     string
	unlinkAuth       *unlinkAuth             // see WithUnlinkAuth
	hosted           HostedUI                // see WithHostedUI (federation.go)
	accessTokens     kakaoauth.AccessTokens  // the linking endpoints' Cognito tokens (link.go)
	accounts         kakaoauth.KakaoAccounts // Kakao's unlink API, for a user who unlinks (link.go)
	linkByEmail      bool                    // see WithLinkByVerifiedEmail
	brokerClient     string                  // the broker's app client's name (challenge.go)
	clients          kakaoauth.AppClients    // describes the sign-in's app client (challenge.go)
	corsOrigins      []string                // pages that may call the linking endpoints
	applyGrace       time.Duration
	// Issue 19: the unlink queue's MAC and inbox, the unlink route's
	// authorizer, bans and the recreation limit, the sweeper and the
	// reconciler (lifecycle.go, unlinkauth.go, sweep.go, reconcile.go).
	unlinkMAC  *unlinkMACKeys
	unlinkGate *unlinkGate
	inbox      kakaoauth.UnlinkInbox
	recreation RecreationLimit
	sweeper    sweeperDeps
	reconciler reconcilerDeps
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	log        *slog.Logger
}

// Option configures Steps.
type Option func(*Steps)

// New returns Steps configured by opts.
func New(opts ...Option) *Steps {
	s := &Steps{
		passwordRotation: 24 * time.Hour,
		proofTTL:         DefaultProofTTL,
		unlinkPolicy:     UnlinkPolicyDisable,
		applyGrace:       DefaultPasswordApplyGrace,
		recreation:       DefaultRecreationLimit,
		now:              time.Now,
		sleep:            sleepContext,
		log:              slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func WithKakao(v kakaoauth.KakaoVerifier) Option   { return func(s *Steps) { s.kakao = v } }
func WithUsers(d kakaoauth.UserDirectory) Option   { return func(s *Steps) { s.users = d } }
func WithMappings(m kakaoauth.MappingStore) Option { return func(s *Steps) { s.mappings = m } }
func WithAudit(a kakaoauth.AuditLog) Option        { return func(s *Steps) { s.audit = a } }
func WithPasswordRotation(d time.Duration) Option  { return func(s *Steps) { s.passwordRotation = d } }
func WithProofTTL(d time.Duration) Option          { return func(s *Steps) { s.proofTTL = d } }
func WithClock(now func() time.Time) Option        { return func(s *Steps) { s.now = now } }
func WithLogger(l *slog.Logger) Option             { return func(s *Steps) { s.log = l } }

// WithPeppers gives the pepper secret's versions: passwords derive with
// the version their nonce was made with, new nonces with current's.
func WithPeppers(current int, peppers map[int][]byte) Option {
	return func(s *Steps) { s.pepperVersion, s.peppers, s.pepper = current, peppers, peppers[current] }
}

// WithPepper is WithPeppers with one pepper, version 1.
func WithPepper(p []byte) Option { return WithPeppers(1, map[int][]byte{1: p}) }

// WithProofKeys gives the proof key secret's versions: IssueTokens signs
// with current's, the PreAuthentication trigger accepts any. Not the
// pepper: the trigger must not be able to derive passwords.
func WithProofKeys(current int, keys map[int][]byte) Option {
	return func(s *Steps) {
		s.proofKey, s.proofKeys = keys[current], nil
		for _, v := range slices.Sorted(maps.Keys(keys)) {
			s.proofKeys = append(s.proofKeys, keys[v])
		}
	}
}

// WithEvents publishes lifecycle events (user_created, relinked, ...).
func WithEvents(p kakaoauth.EventPublisher) Option { return func(s *Steps) { s.events = p } }

// WithUnlinkQueue is where the unlink webhook hands requests to the worker.
func WithUnlinkQueue(q kakaoauth.UnlinkQueue) Option { return func(s *Steps) { s.unlinks = q } }

// WithUnlinkPolicy chooses what an unlink from Kakao does:
// UnlinkPolicyDisable (default) or UnlinkPolicyDelete.
func WithUnlinkPolicy(p string) Option { return func(s *Steps) { s.unlinkPolicy = p } }

// WithAccessTokens checks the Cognito access tokens of the linking
// endpoints (POST and DELETE /auth/kakao/link).
func WithAccessTokens(t kakaoauth.AccessTokens) Option { return func(s *Steps) { s.accessTokens = t } }

// WithKakaoAccounts is Kakao's admin API: the unlink a user's own DELETE
// /auth/kakao/link asks of Kakao.
func WithKakaoAccounts(a kakaoauth.KakaoAccounts) Option { return func(s *Steps) { s.accounts = a } }

// WithLinkByVerifiedEmail turns on the verified-email rule (stack
// parameter LinkByVerifiedEmail, off by default): a Kakao login whose
// valid and verified email is the verified email of exactly one user of
// the pool that kakaoauth did not create links to that user instead of
// answering AccountConflict. docs/linking.md weighs it.
func WithLinkByVerifiedEmail(on bool) Option { return func(s *Steps) { s.linkByEmail = on } }

// WithBrokerClient names the broker's app client (its ClientName), the
// only client the DefineAuthChallenge trigger lets start CUSTOM_AUTH, and
// the port that describes a sign-in's client.
func WithBrokerClient(name string, clients kakaoauth.AppClients) Option {
	return func(s *Steps) { s.brokerClient, s.clients = name, clients }
}

// WithCORSOrigins lets browser pages of these origins call the linking
// endpoints (stack parameter CorsAllowedOrigins).
func WithCORSOrigins(origins ...string) Option {
	return func(s *Steps) { s.corsOrigins = slices.Clone(origins) }
}

// WithPasswordApplyGrace overrides DefaultPasswordApplyGrace.
func WithPasswordApplyGrace(d time.Duration) Option { return func(s *Steps) { s.applyGrace = d } }

// WithSleep replaces the wait between polls of the mapping (tests move a
// fake clock instead of sleeping).
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(s *Steps) { s.sleep = sleep }
}

// pepperOf is the pepper of version v (0: a nonce stored before versions
// were recorded, which version 1, the template's first, derived), and
// whether this function holds it.
func (s *Steps) pepperOf(v int) ([]byte, bool) {
	p, ok := s.peppers[pepperVersion(v)]
	return p, ok
}

// pepperVersion reads a stored version: 0 is a nonce from before versions
// were recorded, derived with version 1.
func pepperVersion(v int) int { return max(v, 1) }

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
