// Package kakaoauth holds the domain of the Kakao-to-Cognito broker: the
// identities it deals in, the ports its adapters implement (Kakao, the
// Cognito user directory, the mapping store, the audit log) and the error
// kinds that name every way a login can end.
//
// Adapters live in shared/<dependency>; the workflow steps in workflow/
// depend only on this package's interfaces, so they are testable without AWS.
package kakaoauth

import (
	"context"
	"strconv"
	"time"
)

// KakaoTokens is what an app hands in: at least one of AccessToken and
// IDToken. Nonce is the raw nonce the app sent to Kakao for an ID token.
// These values are secrets: they must never be logged, stored or carried
// in workflow state past the ValidateToken step.
type KakaoTokens struct {
	AccessToken string
	IDToken     string
	Nonce       string
}

// KakaoIdentity is what Kakao vouches for once a token has been verified.
type KakaoIdentity struct {
	KakaoID int64 `json:"kakaoId"`
	// AppID is the Kakao app the access token was issued to (0 when only an
	// ID token was presented; its aud was checked instead).
	AppID int64 `json:"appId,omitempty"`
	// Email is set only when Kakao reports it valid and verified.
	Email string `json:"email,omitempty"`
	// EmailChecked says Kakao's profile was read, so an empty Email means
	// the account has no verified email. An ID token alone does not tell:
	// then the stored email is left as it is.
	EmailChecked bool   `json:"emailChecked,omitempty"`
	Nickname     string `json:"nickname,omitempty"`
}

// KakaoVerifier checks tokens with Kakao and returns the identity behind
// them. Errors are *InvalidKakaoToken, *WrongKakaoApp or *KakaoUnavailable.
type KakaoVerifier interface {
	Verify(ctx context.Context, tokens KakaoTokens) (KakaoIdentity, error)
}

// Username is the Cognito username of a Kakao account: deterministic, so
// concurrent first logins converge on one Cognito user.
func Username(kakaoID int64) string { return "kakao_" + strconv.FormatInt(kakaoID, 10) }

// CognitoUser is a user of the pool as the broker sees it.
type CognitoUser struct {
	Username string
	Sub      string
	// KakaoID is the custom:kakao_id attribute; 0 for a native user.
	KakaoID       int64
	Email         string
	EmailVerified bool
	Nickname      string
	Enabled       bool
}

// NewCognitoUser is what UpsertUser asks the directory to create.
type NewCognitoUser struct {
	KakaoID  int64
	Email    string // verified email or ""
	Nickname string
}

// CognitoTokens are the pool's tokens for a successful sign-in.
type CognitoTokens struct {
	IDToken      string
	AccessToken  string
	RefreshToken string
	ExpiresIn    int32
	TokenType    string
}

// UserDirectory is the Cognito user pool, through its Admin* APIs only.
type UserDirectory interface {
	// GetUser returns *NotFound when no such user exists.
	GetUser(ctx context.Context, username string) (CognitoUser, error)
	// FindByEmail lists the users whose email attribute equals email.
	FindByEmail(ctx context.Context, email string) ([]CognitoUser, error)
	// CreateUser creates kakao_<id> with no message sent; *UserExists when
	// the username is taken (another login won the race).
	CreateUser(ctx context.Context, u NewCognitoUser) (CognitoUser, error)
	// UpdateProfile sets email (verified) and nickname; empty email removes it.
	UpdateProfile(ctx context.Context, username, email, nickname string) error
	DeleteUser(ctx context.Context, username string) error
	SetPassword(ctx context.Context, username, password string) error
	// SignIn runs ADMIN_USER_PASSWORD_AUTH; a wrong password is *PasswordRotated.
	SignIn(ctx context.Context, username, password string, metadata map[string]string) (CognitoTokens, error)
	// DisableAndSignOut disables the user and revokes its refresh tokens.
	DisableAndSignOut(ctx context.Context, username string) error
}

// Mapping statuses.
const (
	StatusActive   = "active"
	StatusUnlinked = "unlinked"
)

// Mapping is the row that links a Kakao account to its Cognito user.
type Mapping struct {
	KakaoID     int64
	Sub         string
	Username    string
	Email       string // verified email, if any
	Status      string
	CreatedAt   time.Time
	LastLoginAt time.Time
	// PasswordNonce is the random input to the password derivation; useless
	// without the pepper. Empty until SetPassword first runs.
	PasswordNonce string
	PasswordSetAt time.Time
}

// MappingStore keeps mappings in DynamoDB.
type MappingStore interface {
	// Get returns *NotFound when the Kakao id has no mapping.
	Get(ctx context.Context, kakaoID int64) (Mapping, error)
	// GetBySub answers "which Kakao account is sub X"; *NotFound when none.
	GetBySub(ctx context.Context, sub string) (Mapping, error)
	// Create writes a new mapping only if none exists for the Kakao id;
	// *MappingExists otherwise.
	Create(ctx context.Context, m Mapping) error
	// RecordLogin sets lastLoginAt and, unless email is nil, the verified
	// email ("" removes it).
	RecordLogin(ctx context.Context, kakaoID int64, at time.Time, email *string) error
	// SwapPasswordNonce installs next only if the current nonce is still
	// prev ("" for none); *NonceChanged when another login got there first.
	SwapPasswordNonce(ctx context.Context, kakaoID int64, prev, next string, at time.Time) error
	// MarkUnlinked sets status unlinked; reports whether it changed anything.
	MarkUnlinked(ctx context.Context, kakaoID int64, at time.Time) (bool, error)
}

// Audit event types.
const (
	EventLoginSucceeded       = "login_succeeded"
	EventLoginFailed          = "login_failed"
	EventUserCreated          = "user_created"
	EventPasswordLoginBlocked = "password_login_blocked"
	EventUnlinked             = "unlinked"
)

// AuditEvent is one line of the audit trail. It never holds a secret.
type AuditEvent struct {
	Time        time.Time
	Type        string
	Outcome     string // "success" | "failure"
	Error       string // error name for failures
	KakaoID     int64
	Sub         string
	ExecutionID string
	SourceIP    string
	UserAgent   string
	AppID       int64
	Detail      string // e.g. referrer_type of an unlink
}

// AuditLog appends events to the audit trail.
type AuditLog interface {
	Record(ctx context.Context, e AuditEvent) error
}
