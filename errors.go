package kakaoauth

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"time"
)

// Error kinds. Each is its own Go type because Step Functions matches a
// Lambda error by the name aws-lambda-go reports, which is the top-level
// Go type name: steps return these unwrapped, and statemachine.asl.json's
// Retry/Catch name them. Error() texts go to logs and to the execution's
// cause; they never contain tokens or passwords. Clients see only the
// fixed public message of the kind (see Outcome).

// InvalidRequest: the body is malformed, has no token, is too big or has
// unknown fields.
type InvalidRequest struct{ Reason string }

func (e *InvalidRequest) Error() string { return "invalid request: " + e.Reason }

// InvalidKakaoToken: Kakao rejected the token (-401) or the ID token failed
// verification (signature, iss, aud, exp, nonce).
type InvalidKakaoToken struct{ Reason string }

func (e *InvalidKakaoToken) Error() string { return "invalid kakao token: " + e.Reason }

// WrongKakaoApp: the access token was issued to another Kakao app.
type WrongKakaoApp struct{ AppID int64 }

func (e *WrongKakaoApp) Error() string {
	return fmt.Sprintf("kakao token belongs to app %d, not this stack's app", e.AppID)
}

// AccountUnlinked: the Kakao account was unlinked (or deleted) and this
// login cannot bring it back: its ID token was issued before the unlink, or
// an unlink won a race with it (the tokens it got are revoked).
type AccountUnlinked struct{ KakaoID int64 }

func (e *AccountUnlinked) Error() string {
	return fmt.Sprintf("kakao account %d is unlinked", e.KakaoID)
}

// AccountDisabled: the Cognito user is disabled (by an administrator, or
// by an unlink whose mapping update did not land) and may not sign in.
type AccountDisabled struct{ Username string }

func (e *AccountDisabled) Error() string { return "user " + e.Username + " is disabled" }

// AccountBanned: an operator banned the account (kakaoauth admin ban, or
// an administrator's disable in Cognito that an unlink found). Answered
// from the mapping before any Cognito call; it survives unlinks,
// re-links, recreation and the hosted UI.
type AccountBanned struct{ KakaoID int64 }

func (e *AccountBanned) Error() string { return fmt.Sprintf("kakao account %d is banned", e.KakaoID) }

// RecreateLimitReached: the account's Cognito user was recreated as many
// times as the stack allows in the current period (RecreationLimit per
// RecreationPeriod): a deleted-and-back-again churn is refused until it
// ends, without a Cognito call.
type RecreateLimitReached struct{ KakaoID int64 }

func (e *RecreateLimitReached) Error() string {
	return fmt.Sprintf("kakao account %d was recreated too often in the current period", e.KakaoID)
}

// LoginTimeout: the login's steps used up their budget (LoginBudget from
// the execution's start) before they were done; answered like Step
// Functions' own timeout (504), but audited, since RecordFailure keeps its
// time.
type LoginTimeout struct{ Step string }

func (e *LoginTimeout) Error() string { return "the login's time ran out in " + e.Step }

// AccountConflict: the verified email belongs to a user not linked to this
// Kakao account (Cognito refused a second user with it: the pool's email
// alias). The app offers linking: the person signs in to that user and
// links Kakao (POST /auth/kakao/link).
type AccountConflict struct{ KakaoID int64 }

func (e *AccountConflict) Error() string {
	return fmt.Sprintf("verified email of kakao account %d belongs to another user", e.KakaoID)
}

// AccountNotLinked: no user of the pool is linked to this Kakao account,
// and the pool refused to create one: its usernames are email addresses
// or phone numbers (UsernameAttributes), or it requires an attribute Kakao
// does not give. The app offers linking instead.
type AccountNotLinked struct {
	KakaoID int64
	Reason  string // Cognito's refusal, for the log
}

func (e *AccountNotLinked) Error() string {
	return fmt.Sprintf("kakao account %d is linked to no user and the pool creates none: %s", e.KakaoID, e.Reason)
}

// InvalidCognitoToken: the Cognito access token a linking request
// presents is malformed, not this pool's, not an access token, of an app
// client that may not link, expired, or revoked (Cognito's GetUser refused
// it).
type InvalidCognitoToken struct{ Reason string }

func (e *InvalidCognitoToken) Error() string { return "invalid cognito access token: " + e.Reason }

// KakaoAccountInUse: the Kakao account is linked to another user of the
// pool (one kakaoauth created for it, or another linked one).
type KakaoAccountInUse struct{ KakaoID int64 }

func (e *KakaoAccountInUse) Error() string {
	return fmt.Sprintf("kakao account %d is linked to another user", e.KakaoID)
}

// UserAlreadyLinked: the signed-in user already has another Kakao account.
type UserAlreadyLinked struct{ Sub string }

func (e *UserAlreadyLinked) Error() string {
	return "user " + e.Sub + " is linked to another kakao account"
}

// KakaoOnlyAccount: the user is one kakaoauth created for its Kakao
// account, which is its only way in: its Kakao link cannot be removed.
type KakaoOnlyAccount struct{ Username string }

func (e *KakaoOnlyAccount) Error() string {
	return "user " + e.Username + " signs in with kakao only"
}

// ChallengeRefused: Cognito refused the broker's answer to a linked
// user's CUSTOM_AUTH challenge. The app client answers a missing user so
// too (PreventUserExistenceErrors ENABLED): IssueTokens asks AdminGetUser
// which it was. Otherwise the triggers' keys or clocks disagree: internal.
type ChallengeRefused struct{ Username, Reason string }

func (e *ChallengeRefused) Error() string {
	return "cognito refused the custom sign-in of " + e.Username + ": " + e.Reason
}

// KakaoSignInUnavailable: Cognito will not let a linked user (one
// kakaoauth did not create) sign in through the broker's custom flow: it
// asked for a step kakaoauth cannot take (SMS_MFA, SOFTWARE_TOKEN_MFA,
// NEW_PASSWORD_REQUIRED, MFA_SETUP, ...), or the user cannot sign in
// through the user pool's API at all: it signs in through another
// provider (EXTERNAL_PROVIDER), is not confirmed (UNCONFIRMED) or must
// reset its password (RESET_REQUIRED). A link to such a user is refused
// up front; a user who became so after the link is refused at the login.
// The person signs in the way they usually do.
type KakaoSignInUnavailable struct{ Username, Reason string }

func (e *KakaoSignInUnavailable) Error() string {
	return "user " + e.Username + " cannot sign in with kakao: " + e.Reason
}

// NotLinked: the signed-in user has no Kakao account to unlink.
type NotLinked struct{ Sub string }

func (e *NotLinked) Error() string { return "user " + e.Sub + " has no linked kakao account" }

// KakaoUnavailable: Kakao failed (-1, -603, -9798, 5xx, timeout) after retries.
type KakaoUnavailable struct{ Reason string }

func (e *KakaoUnavailable) Error() string { return "kakao unavailable: " + e.Reason }

// KakaoQuotaExceeded: Kakao refused for a quota (-10, -11, HTTP 429). Never
// retried, by the client or the state machine: a retry would spend the
// app's quota again and cannot succeed before it resets. Clients get
// KakaoUnavailable's answer; the audit trail keeps the name.
type KakaoQuotaExceeded struct{ Reason string }

func (e *KakaoQuotaExceeded) Error() string { return "kakao quota exceeded: " + e.Reason }

// Throttled: Cognito or DynamoDB throttled after the SDK's retries.
type Throttled struct{ Reason string }

func (e *Throttled) Error() string { return "throttled: " + e.Reason }

// PasswordRotated: sign-in lost a race with another login's password
// change; the workflow re-runs SetPassword once, then gives up (429: the
// client may try again shortly).
type PasswordRotated struct{ Username string }

func (e *PasswordRotated) Error() string {
	return "password of " + e.Username + " changed or not set yet"
}

// PasswordAttemptsExceeded: Cognito's temporary lockout after failed
// sign-ins. Never retried: every retry would extend it.
type PasswordAttemptsExceeded struct{ Username string }

func (e *PasswordAttemptsExceeded) Error() string {
	return "cognito locked sign-in of " + e.Username + " after failed attempts"
}

// UserMissing: the mapping points at a Cognito user that no longer exists
// (deleted by an administrator or by the user). The workflow recreates the
// user once (RecreateUser); it is never retried in the password loop.
type UserMissing struct{ Username string }

func (e *UserMissing) Error() string { return "cognito user " + e.Username + " does not exist" }

// NotFound: a lookup found nothing. Internal to adapters and steps.
type NotFound struct{ What string }

func (e *NotFound) Error() string { return e.What + " not found" }

// UserExists: CreateUser lost to a concurrent login. Internal.
type UserExists struct{ Username string }

func (e *UserExists) Error() string { return "user " + e.Username + " exists" }

// MappingExists: the conditional first write of a mapping lost. Internal.
type MappingExists struct{ KakaoID int64 }

func (e *MappingExists) Error() string { return fmt.Sprintf("mapping for %d exists", e.KakaoID) }

// NonceChanged: a conditional write of the password nonce lost to another
// login. Internal.
type NonceChanged struct{ KakaoID int64 }

func (e *NonceChanged) Error() string {
	return fmt.Sprintf("password nonce of %d changed concurrently", e.KakaoID)
}

// NotActive: a write conditional on the mapping being active found it
// unlinked or deleted (an unlink won a race with a login). Internal.
type NotActive struct {
	KakaoID int64
	Status  string
}

func (e *NotActive) Error() string {
	return fmt.Sprintf("mapping of %d is %s, not active", e.KakaoID, e.Status)
}

// UserClaimed: the pool user is reserved for another Kakao account
// (MappingStore.ClaimUser). Internal: the caller decides whether that
// holder is stale.
type UserClaimed struct {
	Sub     string
	KakaoID int64     // the holder
	At      time.Time // when it took the claim
}

func (e *UserClaimed) Error() string {
	return fmt.Sprintf("user %s is claimed by kakao account %d", e.Sub, e.KakaoID)
}

// StaleTransition: a lifecycle write lost to a concurrent one (two
// re-links, two recreations). Internal: the caller re-reads.
type StaleTransition struct{ KakaoID int64 }

func (e *StaleTransition) Error() string {
	return fmt.Sprintf("mapping of %d changed concurrently", e.KakaoID)
}

// ErrorName is the name Step Functions sees for err: exactly what
// aws-lambda-go reports as errorType (the top-level type name, pointer
// stripped). Wrapped errors therefore do not match a kind, on purpose.
func ErrorName(err error) string {
	t := reflect.TypeOf(err)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// Outcome is how an error name is answered over HTTP.
type Outcome struct {
	Status  int
	Code    string // the "error" field
	Message string // the "message" field: human text, no internals
	// MessageKo is the same message in Korean, for apps and pages to show
	// (docs/api.md's table prints both; the API answers Message).
	MessageKo string
}

// Error names that are not Go types: Step Functions' own.
const (
	ErrorTimeout = "States.Timeout"
	CodeInternal = "internal"
)

// outcomes is the one place error names map to HTTP. template.yaml's
// response template mirrors it; a test keeps the two in step.
var outcomes = map[string]Outcome{
	"InvalidRequest": {http.StatusBadRequest, "InvalidRequest", "The request is not valid: send JSON with access_token or id_token.",
		"요청이 올바르지 않습니다. access_token 또는 id_token을 담은 JSON을 보내 주세요."},
	"InvalidKakaoToken": {http.StatusUnauthorized, "InvalidKakaoToken", "The Kakao token is invalid or expired.",
		"카카오 토큰이 유효하지 않거나 만료되었습니다."},
	"WrongKakaoApp": {http.StatusUnauthorized, "WrongKakaoApp", "The Kakao token was issued to another app.",
		"다른 앱에 발급된 카카오 토큰입니다."},
	"AccountUnlinked": {http.StatusForbidden, "AccountUnlinked", "This Kakao account is unlinked from the app.",
		"이 카카오 계정은 앱과 연결이 끊겼습니다."},
	"AccountDisabled": {http.StatusForbidden, "AccountDisabled", "This account is disabled.",
		"사용이 중지된 계정입니다."},
	"AccountConflict": {http.StatusConflict, "AccountConflict", "The email of this Kakao account belongs to another user: sign in to that account and link Kakao.",
		"이 카카오 계정의 이메일은 이미 다른 사용자가 쓰고 있습니다. 그 계정으로 로그인한 뒤 카카오를 연결해 주세요."},
	"AccountNotLinked": {http.StatusForbidden, "AccountNotLinked", "No account is linked to this Kakao account: sign in another way and link Kakao.",
		"이 카카오 계정과 연결된 계정이 없습니다. 다른 방법으로 로그인한 뒤 카카오를 연결해 주세요."},
	"InvalidCognitoToken": {http.StatusUnauthorized, "InvalidCognitoToken", "The Cognito access token is invalid, expired or revoked.",
		"Cognito 액세스 토큰이 유효하지 않거나 만료되었거나 취소되었습니다."},
	"KakaoAccountInUse": {http.StatusConflict, "KakaoAccountInUse", "This Kakao account is linked to another user.",
		"이 카카오 계정은 이미 다른 사용자와 연결되어 있습니다."},
	"UserAlreadyLinked": {http.StatusConflict, "UserAlreadyLinked", "This user is already linked to another Kakao account.",
		"이 사용자는 이미 다른 카카오 계정과 연결되어 있습니다."},
	"KakaoOnlyAccount": {http.StatusConflict, "KakaoOnlyAccount", "This account signs in with Kakao only: its Kakao link cannot be removed.",
		"이 계정은 카카오로만 로그인하므로 카카오 연결을 해제할 수 없습니다."},
	"KakaoSignInUnavailable": {http.StatusForbidden, "KakaoSignInUnavailable", "This account cannot sign in with Kakao: sign in the way you usually do (password, Google, Apple).",
		"이 계정은 카카오로 로그인할 수 없습니다. 평소에 쓰는 방법(비밀번호, Google, Apple)으로 로그인해 주세요."},
	"NotLinked": {http.StatusNotFound, "NotLinked", "This user has no linked Kakao account.",
		"이 사용자와 연결된 카카오 계정이 없습니다."},
	"Throttled": {http.StatusTooManyRequests, "Throttled", "Too many requests; try again shortly.",
		"요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."},
	// Both mean "not now": concurrent logins of one account kept changing
	// its password, or Cognito locked sign-in after failed attempts.
	"PasswordRotated": {http.StatusTooManyRequests, "Throttled", "Too many requests; try again shortly.",
		"요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."},
	"PasswordAttemptsExceeded": {http.StatusTooManyRequests, "Throttled", "Too many requests; try again shortly.",
		"요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."},
	"KakaoUnavailable": {http.StatusBadGateway, "KakaoUnavailable", "Kakao is unavailable; try again shortly.",
		"카카오에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요."},
	ErrorTimeout: {http.StatusGatewayTimeout, "Timeout", "The login took too long; try again.",
		"로그인이 너무 오래 걸렸습니다. 다시 시도해 주세요."},

	// Issue 19: bans, the recreation limit, the login's budget.
	"AccountBanned": {http.StatusForbidden, "AccountBanned", "This account is suspended.",
		"이용이 정지된 계정입니다."},
	"RecreateLimitReached": {http.StatusTooManyRequests, "RecreateLimitReached", "This account was re-created too often; try again later.",
		"계정이 너무 자주 다시 만들어졌습니다. 나중에 다시 시도해 주세요."},
	"LoginTimeout": {http.StatusGatewayTimeout, "Timeout", "The login took too long; try again.",
		"로그인이 너무 오래 걸렸습니다. 다시 시도해 주세요."},
}

var internalOutcome = Outcome{http.StatusInternalServerError, CodeInternal, "Internal error.", "내부 오류가 발생했습니다."}

// RouteNotFound is the API's answer to a route or method it does not have
// (API Gateway's MISSING_AUTHENTICATION_TOKEN; the local endpoint alike).
// Not an error name: a step's internal NotFound stays a 500.
var RouteNotFound = Outcome{http.StatusNotFound, "NotFound", "No such route.", "없는 경로입니다."}

// UnauthorizedOutcome is an authorizer's refusal, an answer outside the
// login workflow like RouteNotFound: the unlink callback's (the admin key)
// and the optional GET /me's Cognito authorizer (no token, or not a valid,
// current ID token of the stack's pool and app client). template.yaml's
// gateway response UNAUTHORIZED and the local endpoint give it alike.
var UnauthorizedOutcome = Outcome{http.StatusUnauthorized, "Unauthorized", "Not authorized: sign in again (the token is missing, invalid or expired).",
	"인증되지 않았습니다. 다시 로그인해 주세요(토큰이 없거나 유효하지 않거나 만료되었습니다)."}

// ForbiddenOutcome is the unlink callback's authorizer's Deny: a caller
// outside KakaoCallbackSourceCidrs (template.yaml's gateway response
// ACCESS_DENIED; the local endpoint alike). Only Kakao's callers see it:
// not one of the answers an app can get (PublicOutcomes).
var ForbiddenOutcome = Outcome{http.StatusForbidden, "Forbidden", "Not allowed from this network.",
	"이 네트워크에서는 허용되지 않습니다."}

// answeredAs lists error names the state machine must tell apart (to
// retry one and not the other) that a client need not: each is answered
// exactly as the name it maps to.
var answeredAs = map[string]string{
	"KakaoQuotaExceeded": "KakaoUnavailable",
}

// OutcomeOf maps an error name to its HTTP answer; unknown names are 500.
func OutcomeOf(errorName string) Outcome {
	if as, ok := answeredAs[errorName]; ok {
		errorName = as
	}
	if o, ok := outcomes[errorName]; ok {
		return o
	}
	return internalOutcome
}

// PublicOutcomes are the answers an app can get, one per code, by status
// then code: docs/api.md's error table is checked against them.
func PublicOutcomes() []Outcome {
	seen := map[string]Outcome{internalOutcome.Code: internalOutcome, RouteNotFound.Code: RouteNotFound, UnauthorizedOutcome.Code: UnauthorizedOutcome}
	for _, o := range outcomes {
		seen[o.Code] = o
	}
	out := make([]Outcome, 0, len(seen))
	for _, o := range seen {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Status != out[j].Status {
			return out[i].Status < out[j].Status
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// PublicErrorNames lists the error names that have their own HTTP answer.
func PublicErrorNames() []string {
	names := make([]string, 0, len(outcomes)+len(answeredAs))
	for n := range outcomes {
		names = append(names, n)
	}
	for n := range answeredAs {
		names = append(names, n)
	}
	return names
}
