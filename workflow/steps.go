// Package workflow holds the login workflow's steps, each a Lambda handler
// with a typed input and output, and (in workflow/asl) the executor that
// runs statemachine.asl.json in-process. The steps depend only on the
// kakaoauth ports, so they are tested without AWS; shared/ adapts the ports
// to Kakao, Cognito and DynamoDB.
package workflow

import (
	"io"
	"log/slog"
	"time"

	"github.com/kakaoauth/kakaoauth"
)

// DefaultProofTTL bounds how long a sign-in proof is accepted by the
// PreAuthentication trigger: IssueTokens uses it within one call.
const DefaultProofTTL = 2 * time.Minute

// MaxPasswordAttempts bounds SetPassword runs per execution; the state
// machine's PasswordRaceLost choice enforces it.
const MaxPasswordAttempts = 3

// ProofMetadataKey is the ClientMetadata key carrying the sign-in proof.
const ProofMetadataKey = "kakaoauth_proof"

// Steps are the workflow's handlers and what they depend on. Each Lambda
// builds one with only the dependencies its step uses.
type Steps struct {
	kakao            kakaoauth.KakaoVerifier
	users            kakaoauth.UserDirectory
	mappings         kakaoauth.MappingStore
	audit            kakaoauth.AuditLog
	pepper           []byte
	passwordRotation time.Duration
	proofTTL         time.Duration
	unlinkAuth       *unlinkAuth // see WithUnlinkAuth
	now              func() time.Time
	log              *slog.Logger
}

// Option configures Steps.
type Option func(*Steps)

// New returns Steps configured by opts.
func New(opts ...Option) *Steps {
	s := &Steps{
		passwordRotation: 24 * time.Hour,
		proofTTL:         DefaultProofTTL,
		now:              time.Now,
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
func WithPepper(p []byte) Option                   { return func(s *Steps) { s.pepper = p } }
func WithPasswordRotation(d time.Duration) Option  { return func(s *Steps) { s.passwordRotation = d } }
func WithProofTTL(d time.Duration) Option          { return func(s *Steps) { s.proofTTL = d } }
func WithClock(now func() time.Time) Option        { return func(s *Steps) { s.now = now } }
func WithLogger(l *slog.Logger) Option             { return func(s *Steps) { s.log = l } }
