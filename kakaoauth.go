// Package kakaoauth holds the domain of the Kakao-to-Cognito broker: the
// identities it deals in, the ports its adapters implement (Kakao, the
// Cognito user directory, the mapping store, the audit log, the lifecycle
// event bus, the unlink queue) and the error kinds that name every way a
// login can end.
//
// Adapters live in shared/<dependency>; the workflow steps in workflow/
// depend only on this package's interfaces, so they are testable without AWS.
package kakaoauth

import (
	"context"
	"strconv"
	"strings"
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
	// IDTokenIssuedAt is the ID token's iat when the login rests on an ID
	// token alone, and zero when Kakao checked an access token. Kakao
	// revokes access tokens on unlink, so one that passes access_token_info
	// is fresh; an ID token cannot be revoked, so only its iat tells whether
	// it was issued after an unlink.
	IDTokenIssuedAt time.Time `json:"idTokenIssuedAt,omitzero"`
}

// KakaoVerifier checks tokens with Kakao and returns the identity behind
// them. Errors are *InvalidKakaoToken, *WrongKakaoApp or *KakaoUnavailable.
type KakaoVerifier interface {
	Verify(ctx context.Context, tokens KakaoTokens) (KakaoIdentity, error)
}

// Username is the Cognito username of a Kakao account: deterministic, so
// concurrent first logins converge on one Cognito user.
func Username(kakaoID int64) string { return "kakao_" + strconv.FormatInt(kakaoID, 10) }

// UsernameKakaoID is the Kakao id of a username exactly as Username makes
// it ("kakao_4242"), and 0 for any other: "kakao_fan", "Kakao_4242" and
// "kakao_0042" are names a team's own users may have.
func UsernameKakaoID(username string) int64 {
	rest, ok := strings.CutPrefix(username, "kakao_")
	if !ok {
		return 0
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != rest {
		return 0
	}
	return id
}

// CreatedByKakaoauth says whether a pool user is one kakaoauth created
// for a Kakao account (custom:kakao_id set, or exactly the username it
// gives every such user, UsernameKakaoID): its only way in is Kakao, its
// password is the broker's. Every other user of the pool is the team's
// own, which kakaoauth may link to a Kakao account but never changes.
// (pool attach refuses a pool whose own users have kakaoauth's username
// shape.)
func CreatedByKakaoauth(u CognitoUser) bool {
	return u.KakaoID != 0 || UsernameKakaoID(u.Username) != 0
}

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
	// Status is Cognito's UserStatus (FORCE_CHANGE_PASSWORD, CONFIRMED,
	// ...); "" when the answer did not say.
	Status string
}

// UserStatusForceChangePassword is the status of a user created by
// AdminCreateUser with a temporary password that never signed in: what a
// broker login that died before writing its mapping leaves behind.
const UserStatusForceChangePassword = "FORCE_CHANGE_PASSWORD"

// NewCognitoUser is what the broker asks the directory to create.
type NewCognitoUser struct {
	KakaoID  int64
	Email    string // verified email or ""
	Nickname string
	// TemporaryPassword is the user's first password: the first sign-in
	// answers Cognito's NEW_PASSWORD_REQUIRED with the derived one, so a new
	// user costs no AdminSetUserPassword (see shared/password).
	TemporaryPassword string
}

// CognitoTokens are the pool's tokens for a successful sign-in.
type CognitoTokens struct {
	IDToken      string
	AccessToken  string
	RefreshToken string
	ExpiresIn    int32
	TokenType    string
}

// SignIn is one ADMIN_USER_PASSWORD_AUTH sign-in.
type SignIn struct {
	Username string
	Password string
	// NewPassword, when set, answers NEW_PASSWORD_REQUIRED: Password is then
	// the temporary password the user was created with.
	NewPassword string
	// Metadata reaches the PreAuthentication trigger (the broker's proof).
	Metadata map[string]string
}

// ChallengeSignIn is one CUSTOM_AUTH sign-in of a user kakaoauth linked
// (and did not create): AdminInitiateAuth, then AdminRespondToAuthChallenge
// with the answer Answer makes from the app client signing in and the
// challenge the pool's CreateAuthChallenge trigger issued (the broker's proof;
// see workflow/challenge.go). The user's own password is never involved.
type ChallengeSignIn struct {
	Username string
	Answer   func(clientID, challenge string) (string, error)
}

// ChallengeParameter names the challenge in the CUSTOM_CHALLENGE's
// parameters: a random value per sign-in that the CreateAuthChallenge
// trigger issues and the answer must be bound to (single use).
const ChallengeParameter = "kakaoauth_challenge"

// UserDirectory is the Cognito user pool, through its Admin* APIs only.
// Operations on a user that does not exist return *NotFound.
type UserDirectory interface {
	GetUser(ctx context.Context, username string) (CognitoUser, error)
	// FindByEmail lists the users whose email attribute equals email.
	FindByEmail(ctx context.Context, email string) ([]CognitoUser, error)
	// CreateUser creates kakao_<id> with no message sent; *UserExists when
	// the username is taken (another login won the race).
	CreateUser(ctx context.Context, u NewCognitoUser) (CognitoUser, error)
	// UpdateProfile sets email (verified) and nickname; empty email removes
	// it, empty nickname keeps the current one.
	UpdateProfile(ctx context.Context, username, email, nickname string) error
	// DeleteUser deletes the user; a missing user is not an error.
	DeleteUser(ctx context.Context, username string) error
	// SetPassword sets a permanent password (one AdminSetUserPassword).
	SetPassword(ctx context.Context, username, password string) error
	// SignIn signs the user in. A wrong password is *PasswordRotated, a
	// disabled user *AccountDisabled, Cognito's lockout
	// *PasswordAttemptsExceeded. A missing user is *PasswordRotated too
	// when the app client hides user existence (PreventUserExistenceErrors
	// ENABLED, as the stack's does), *NotFound when it does not.
	SignIn(ctx context.Context, in SignIn) (CognitoTokens, error)
	// SignInWithChallenge signs a linked user in through CUSTOM_AUTH: a
	// disabled user is *AccountDisabled, a missing user *NotFound, a
	// refused answer an internal error (never a password matter).
	SignInWithChallenge(ctx context.Context, in ChallengeSignIn) (CognitoTokens, error)
	// DisableUser and EnableUser flip whether the user may sign in.
	DisableUser(ctx context.Context, username string) error
	EnableUser(ctx context.Context, username string) error
	// SignOut revokes every refresh token the user holds (global sign-out).
	SignOut(ctx context.Context, username string) error
	// RevokeToken revokes one refresh token and the access tokens issued
	// with it (RevokeToken), leaving the user's other sessions alone.
	RevokeToken(ctx context.Context, refreshToken string) error
}

// AccessTokens checks a Cognito access token an app presents for a
// signed-in user (the linking endpoints): issued by this pool to an
// allowed app client, an access token, not expired, not revoked. It
// returns the token's user; every refusal is *InvalidCognitoToken.
type AccessTokens interface {
	User(ctx context.Context, accessToken string) (CognitoUser, error)
}

// Account kinds (Mapping.Kind): how the mapping's Cognito user came to be.
const (
	// KindCreated: kakaoauth created the user (kakao_<id>) for the Kakao
	// account; it owns the user's password and may disable or delete it.
	KindCreated = "created"
	// KindLinked: the user was the team's own (email and password, Apple,
	// Google, ...) and was linked to the Kakao account by the signed-in
	// user, an operator or the verified-email rule. kakaoauth never sets
	// its password, never disables or deletes it; its Kakao login is
	// CUSTOM_AUTH.
	KindLinked = "linked"
)

// Mapping statuses: the account lifecycle (workflow/lifecycle.go).
const (
	StatusActive   = "active"
	StatusUnlinked = "unlinked"
	StatusDeleted  = "deleted"
)

// Password states of a mapping: what Cognito holds for the current nonce.
const (
	// PasswordTemporary: the user still has the temporary password it was
	// created with; the next sign-in answers NEW_PASSWORD_REQUIRED with the
	// password derived from the nonce.
	PasswordTemporary = "temporary"
	// PasswordPending: a login swapped in this nonce and is calling
	// AdminSetUserPassword now.
	PasswordPending = "pending"
	// PasswordApplied: Cognito's password is the one derived from the nonce.
	PasswordApplied = "applied"
	// PasswordFailed: the AdminSetUserPassword for this nonce failed; the
	// next login claims a fresh nonce at once.
	PasswordFailed = "failed"
)

// Mapping is the row that links a Kakao account to its Cognito user.
type Mapping struct {
	KakaoID  int64
	Sub      string
	Username string
	// Kind is KindCreated or KindLinked; rows written before kinds existed
	// read as KindCreated (kakaoauth created every user then).
	Kind   string
	Email  string // last verified email, if any; scrubbed on deletion
	Status string
	// CreatedAt is the first login. ActiveSince is when the mapping last
	// became active (created, re-linked, recreated): an unlink request
	// received before it is stale and changes nothing.
	CreatedAt   time.Time
	ActiveSince time.Time
	LastLoginAt time.Time
	UnlinkedAt  time.Time // when Kakao reported the last unlink
	RelinkedAt  time.Time
	DeletedAt   time.Time
	// PreviousSubs are the subs of Cognito users this account had before
	// (recreated after a deletion), oldest first: auditors can follow them.
	PreviousSubs []string
	// PasswordNonce is the random input to the password derivation; useless
	// without the pepper. PasswordState says whether Cognito holds it.
	PasswordNonce string
	PasswordState string
	PasswordSetAt time.Time
	// PepperVersion is the version of the pepper the nonce derives with
	// (0: a nonce stored before versions were recorded, version 1's); a new
	// nonce takes the current version, so a rotated pepper takes over as
	// nonces rotate.
	PepperVersion int
	// LastEvent is the last lifecycle transition (see workflow/lifecycle.go).
	LastEvent LifecycleEvent
	// Outbox holds the transitions whose audit and bus events are not out
	// yet, oldest first: each is written with its transition, in the same
	// conditional write, and leaves once both events are out. A later
	// transition appends; it never replaces one still waiting.
	Outbox []LifecycleEvent
	// EventPending is true while the outbox holds anything: from a
	// transition's mapping write until its events are out. The inline
	// finish, the sweeper, or any later reader sends them.
	EventPending bool
	// Ban is an operator's ban (nil: none): durable account state that
	// unlinks, re-links, recreation and the hosted UI keep.
	Ban *Ban
	// Unlinking is the id of an unlink request under way: set before the
	// unlink changes Cognito, cleared with its transition. It tells the
	// unlink's own earlier, half-done try apart from an operator's disable.
	Unlinking string
	// RecreatedSince and Recreations count the recreations of the current
	// window (see the recreation limit).
	RecreatedSince time.Time
	Recreations    int
	// EmailKeptUntil is when an unlinked account's kept email is dropped;
	// PIIScrubAt is when a deleted account's audit events lose their IP
	// addresses and user agents; DueAt is the earliest of the row's pending
	// work (outbox, email, scrub), which the sweeper finds by index.
	EmailKeptUntil time.Time
	PIIScrubAt     time.Time
	DueAt          time.Time
}

// Ban is an operator's ban of an account. While it holds, the account's
// Kakao login answers AccountBanned before any Cognito call, nothing
// re-enables its Cognito user, and a deletion keeps the ban on the row.
type Ban struct {
	At time.Time `json:"at"`
	// Until is when the ban ends by itself; zero: until lifted.
	Until time.Time `json:"until,omitzero"`
	// Reason is the operator's note, or what kakaoauth inferred
	// (BanReasonDisabledInCognito).
	Reason string `json:"reason,omitempty"`
	// By names who banned: the operator's AWS identity, or "cognito".
	By string `json:"by,omitempty"`
}

// BanReasonDisabledInCognito is the reason of a ban kakaoauth records
// when an unlink finds the Cognito user already disabled by someone else:
// an administrator's disable that the person's return must not undo.
const BanReasonDisabledInCognito = "disabled in Cognito before an unlink"

// ActiveAt reports whether the ban holds at t.
func (b *Ban) ActiveAt(t time.Time) bool {
	return b != nil && (b.Until.IsZero() || t.Before(b.Until))
}

// Linked says whether the mapping's user is one kakaoauth linked rather
// than created.
func (m Mapping) Linked() bool { return m.Kind == KindLinked }

// PasswordClaim names the nonce state a conditional password write expects.
type PasswordClaim struct {
	Nonce string // "" for a mapping with no nonce yet
	State string // "" for a mapping written before states existed
}

// LoginRecord is what a successful sign-in writes on the mapping.
type LoginRecord struct {
	KakaoID int64
	At      time.Time
	// Email, unless nil, is the verified email now ("" removes it).
	Email *string
	// AppliedNonce, when set, is a nonce whose password the sign-in just
	// proved Cognito holds: the mapping marks it applied if it is still
	// current.
	AppliedNonce string
}

// Relink re-activates an unlinked mapping.
type Relink struct {
	KakaoID int64
	// UnlinkedAt is the unlink the caller saw: a concurrent re-link loses.
	UnlinkedAt time.Time
	At         time.Time
	Email      string // verified email to keep, or "" for none
	Event      LifecycleEvent
}

// Repoint moves a mapping to another Cognito user: a freshly created one
// (Kind KindCreated, with its temporary password's nonce), or a user of
// the pool being linked (Kind KindLinked, no nonce).
type Repoint struct {
	KakaoID int64
	// FromSub and FromStatus are what the caller saw: a concurrent
	// recreation, or an unlink or deletion that lands first, wins.
	FromSub    string
	FromStatus string
	User       CognitoUser
	Kind       string // KindCreated ("" too) or KindLinked
	Email      string
	Nonce      string // a created user's password nonce (temporary password)
	// PepperVersion is the pepper the temporary password derives with.
	PepperVersion int
	At            time.Time
	Event         LifecycleEvent
	// RecreatedSince and Recreations are the recreation window after this
	// one (see the recreation limit).
	RecreatedSince time.Time
	Recreations    int
}

// MappingStore keeps mappings in DynamoDB. Every lifecycle write is
// conditional on the state the caller read, so concurrent transitions
// serialise and a redelivered request changes nothing.
type MappingStore interface {
	// Get returns *NotFound when the Kakao id has no mapping.
	Get(ctx context.Context, kakaoID int64) (Mapping, error)
	// GetBySub answers "which Kakao account is sub X"; *NotFound when none.
	GetBySub(ctx context.Context, sub string) (Mapping, error)
	// Create writes a new mapping only if none exists for the Kakao id;
	// *MappingExists otherwise.
	Create(ctx context.Context, m Mapping) error
	// RecordLogin updates an active mapping after a sign-in; *NotActive
	// when it is no longer active, *NotFound when it is gone.
	RecordLogin(ctx context.Context, r LoginRecord) error
	// ClaimPassword installs nonce next (state pending), deriving with
	// pepper version pepperVersion, only if the mapping is active and its
	// nonce and state are still prev; *NonceChanged when another login got
	// there first.
	ClaimPassword(ctx context.Context, kakaoID int64, prev PasswordClaim, next string, pepperVersion int, at time.Time) error
	// SetPasswordState records what Cognito holds for nonce, only if nonce
	// is still current; *NonceChanged otherwise.
	SetPasswordState(ctx context.Context, kakaoID int64, nonce, state string) error
	// MarkUnlinked sets an active mapping unlinked, if it became active no
	// later than the request (receivedAt); false when that did not hold.
	MarkUnlinked(ctx context.Context, kakaoID int64, receivedAt time.Time, event LifecycleEvent) (bool, error)
	// MarkRelinked re-activates an unlinked mapping; *StaleTransition when
	// it is no longer the unlink the caller saw.
	MarkRelinked(ctx context.Context, r Relink) error
	// MarkDeleted sets the mapping deleted and scrubs its personal data
	// (email) and password nonce, keeping ids and times, if it became active
	// no later than receivedAt; false when that did not hold.
	MarkDeleted(ctx context.Context, kakaoID int64, receivedAt time.Time, event LifecycleEvent) (bool, error)
	// Repoint moves the mapping to a new Cognito user, keeping the previous
	// sub; *StaleTransition when its sub is no longer FromSub.
	Repoint(ctx context.Context, r Repoint) error
	// EventDone takes event id out of the outbox once its audit and bus
	// events are out; a no-op when it is not there (any more).
	EventDone(ctx context.Context, kakaoID int64, eventID string) error

	// ClaimUser reserves the pool user sub for Kakao account kakaoID: one
	// Kakao account per user, whatever races. It succeeds when the user is
	// free or already kakaoID's, or when its holder is stale (nonzero: the
	// holder the caller found and judged stale, see workflow/link.go);
	// otherwise it returns *UserClaimed with the holder. at is when.
	ClaimUser(ctx context.Context, sub string, kakaoID, stale int64, at time.Time) error
	// ReleaseUser frees sub if kakaoID holds it; nothing to free is no
	// error.
	ReleaseUser(ctx context.Context, sub string, kakaoID int64) error
	// ClaimOf is the Kakao account holding sub (a strongly consistent
	// read); *NotFound when none does.
	ClaimOf(ctx context.Context, sub string) (int64, error)
	// SetBan records ban (replacing any), with its transition's event;
	// *NotFound without a mapping. A deleted row banned loses its expiry.
	SetBan(ctx context.Context, kakaoID int64, ban Ban, event LifecycleEvent) error
	// InferBan records ban only while the account is active, carries no
	// ban and has no unlink under way: false when that did not hold.
	InferBan(ctx context.Context, kakaoID int64, ban Ban, event LifecycleEvent) (bool, error)
	// LiftBan removes the ban set at banAt; *StaleTransition when the row
	// holds another ban or none.
	LiftBan(ctx context.Context, kakaoID int64, banAt time.Time, event LifecycleEvent) error
	// BeginUnlink marks unlink request id under way, before it changes
	// Cognito.
	BeginUnlink(ctx context.Context, kakaoID int64, requestID string) error
}

// Audit event types. The lifecycle ones (LifecycleEvents) also go to the
// event bus.
const (
	EventLoginSucceeded       = "login_succeeded"
	EventLoginFailed          = "login_failed"
	EventUserCreated          = "user_created"
	EventPasswordLoginBlocked = "password_login_blocked"
	EventUnlinked             = "unlinked"
	EventRelinked             = "relinked"
	EventDeleted              = "deleted"
	EventRecreated            = "recreated"
	EventBanned               = "banned"
	EventUnbanned             = "unbanned"
	// EventReconciled: the reconciler found an account Kakao no longer
	// links to the app and applied the unlink whose callback was lost
	// (audit only; the transition itself is an unlinked or deleted event).
	EventReconciled = "reconciled"
	// EventUnlinkRefused: the unlink worker received a message it could not
	// authenticate (audit only).
	EventUnlinkRefused = "unlink_refused"
	// EventLinked: a Kakao account was linked to a user of the pool that
	// kakaoauth did not create (the user, an operator, the email rule).
	EventLinked = "linked"
	// EventLinkFailed is a refused linking request (error name), as
	// login_failed is a refused login.
	EventLinkFailed = "link_failed"
	// EventChallengeRefused is a CUSTOM_AUTH answer the
	// VerifyAuthChallenge trigger refused: not the broker's proof.
	EventChallengeRefused = "challenge_refused"
)

// LifecycleEvents are the account transitions apps can subscribe to.
var LifecycleEvents = []string{EventUserCreated, EventRelinked, EventUnlinked, EventDeleted, EventRecreated, EventBanned, EventUnbanned, EventLinked}

// AuditEvent is one line of the audit trail. It never holds a secret.
type AuditEvent struct {
	// ID, when set, makes the write idempotent: an event with this ID is
	// written at most once (lifecycle events, which may be retried).
	ID          string
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

// LifecycleEvent is an account transition as published on the event bus
// (source "kakaoauth", detail-type Type). It carries ids and times only,
// never a token or personal data.
type LifecycleEvent struct {
	ID          string    `json:"eventId"`
	Type        string    `json:"type"`
	KakaoID     int64     `json:"kakaoId"`
	Sub         string    `json:"sub"`
	PreviousSub string    `json:"previousSub,omitempty"`
	Time        time.Time `json:"time"`
	// Reason is why it happened: Kakao's referrer_type for an unlink or a
	// deletion, "login" for a login, "admin" for an operator,
	// "reconciled" for an unlink the reconciler applied.
	Reason string `json:"reason,omitempty"`
	// Until is a ban's end (banned events of a ban with an end).
	Until time.Time `json:"until,omitzero"`
	// Cause is the request that made the transition, kept with the event
	// in the outbox so that its audit event names that request whoever
	// sends it. Never on the bus.
	Cause EventCause `json:"-"`
}

// EventCause is who and what caused a transition: the audit event's
// request fields. It holds no secret.
type EventCause struct {
	ExecutionID string
	SourceIP    string
	UserAgent   string
	AppID       int64
	Actor       string // an operator's identity
}

// EventPublisher puts lifecycle events on the bus. Delivery is at least
// once: consumers deduplicate by ID.
type EventPublisher interface {
	Publish(ctx context.Context, e LifecycleEvent) error
}

// UnlinkRequest is one unlink to carry out: Kakao's callback (through the
// queue) or an operator's command.
type UnlinkRequest struct {
	// ID identifies the request (the API request id of Kakao's callback);
	// it makes the lifecycle events of a retried request idempotent.
	ID           string    `json:"id"`
	KakaoID      int64     `json:"kakaoId"`
	AppID        int64     `json:"appId,omitempty"`
	ReferrerType string    `json:"referrerType"`
	ReceivedAt   time.Time `json:"receivedAt"`
	SourceIP     string    `json:"sourceIp,omitempty"`
	UserAgent    string    `json:"userAgent,omitempty"`
	// Actor is who asked when it was not Kakao (an operator's identity).
	Actor string `json:"actor,omitempty"`
	// Action is "" for Kakao's callback (the referrer type and the stack's
	// unlink policy decide), or an operator's explicit "unlink" or "delete".
	Action string `json:"action,omitempty"`
}

// UnlinkMessage is an unlink request as queued: its JSON body and the
// webhook's MAC of exactly those bytes, which the worker checks before it
// believes anything the body says.
type UnlinkMessage struct {
	Body string
	MAC  string
}

// UnlinkQueue hands unlink requests from the webhook to the worker.
type UnlinkQueue interface {
	Enqueue(ctx context.Context, m UnlinkMessage) error
}

// InboxEntry is an unlink request the webhook kept because the queue
// refused it.
type InboxEntry struct {
	ID         string
	ReceivedAt time.Time
	Message    UnlinkMessage
}

// UnlinkInbox keeps unlink requests the queue could not take, durably,
// until the sweeper has queued them: Kakao sends a callback once.
type UnlinkInbox interface {
	Keep(ctx context.Context, e InboxEntry) error
	// Pending lists up to limit entries, oldest first.
	Pending(ctx context.Context, limit int) ([]InboxEntry, error)
	// Done removes an entry once it is queued.
	Done(ctx context.Context, e InboxEntry) error
}
