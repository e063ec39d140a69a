package workflow

import (
	"encoding/json"
	"time"
)

// The typed input and output of each state. Field names are the JSON the
// state machine carries between steps; statemachine.asl.json's paths refer
// to them. None of them holds a token, a password or the pepper: the Kakao
// token lives only in the execution input, which ValidateToken consumes and
// drops (its ResultPath is "$"), and the Cognito tokens exist only in the
// final output that the API returns.

// RequestContext says where a login came from; it feeds the audit trail.
type RequestContext struct {
	SourceIP    string `json:"sourceIp,omitempty"`
	UserAgent   string `json:"userAgent,omitempty"`
	RequestID   string `json:"requestId,omitempty"`
	ExecutionID string `json:"executionId,omitempty"`
	// StartedAt is when the execution started ($$.Execution.StartTime):
	// every step ends by StartedAt + LoginBudget (budget.go).
	StartedAt time.Time `json:"startedAt,omitzero"`
}

// ValidateTokenInput is the execution input (as API Gateway's request
// template builds it) plus the execution id from the context object.
type ValidateTokenInput struct {
	// Body is the raw request body, decoded strictly by ValidateToken.
	Body string `json:"body"`
	// Oversized says the body was longer than MaxBodyBytes characters and
	// is not carried (the request template's choice: escaped twice, it
	// could pass StartSyncExecution's input limit). Always present in an
	// execution input: statemachine.asl.json passes it on by path.
	Oversized   bool           `json:"oversized"`
	Context     RequestContext `json:"context"`
	ExecutionID string         `json:"executionId,omitempty"`
	// StartedAt is $$.Execution.StartTime (statemachine.asl.json).
	StartedAt time.Time `json:"startedAt,omitzero"`
}

// LoginRequest is the body of POST /auth/kakao.
type LoginRequest struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	Nonce       string `json:"nonce"`
}

// Subject is who is logging in: the Kakao account and, from UpsertUser on,
// its Cognito user.
type Subject struct {
	KakaoID  int64  `json:"kakaoId"`
	AppID    int64  `json:"appId,omitempty"`
	Sub      string `json:"sub,omitempty"`
	Username string `json:"username,omitempty"`
	NewUser  bool   `json:"newUser,omitempty"`
	// Recreated says RecreateUser already replaced a missing Cognito user
	// in this execution; the UserMissing choice reads it, so it is always
	// present.
	Recreated bool `json:"recreated"`
	// VouchedAt is the latest moment Kakao is known to have vouched for
	// the login's token: when ValidateToken checked the access token with
	// Kakao, or an ID token's iat. Only a token vouched for after an
	// unlink may re-link the account.
	VouchedAt time.Time `json:"vouchedAt,omitzero"`
	// Linked says the user is one kakaoauth linked (not created):
	// IssueTokens signs it in through CUSTOM_AUTH, never with a password.
	Linked bool `json:"linked,omitempty"`
}

// Profile is what Kakao told about the account; Email only when verified,
// and authoritative only when EmailChecked (see kakaoauth.KakaoIdentity).
type Profile struct {
	Email        string `json:"email,omitempty"`
	EmailChecked bool   `json:"emailChecked,omitempty"`
	Nickname     string `json:"nickname,omitempty"`
}

// PasswordState is how this login will sign in: the nonce the password
// derives from (useless without the pepper; never the password), what the
// mapping said Cognito holds for it, and whether IssueTokens may go ahead.
type PasswordState struct {
	Nonce string `json:"nonce"`
	// PepperVersion is the version of the pepper Nonce derives with (a
	// version number, not the pepper; 0 is version 1, see pepperVersion).
	PepperVersion int `json:"pepperVersion,omitempty"`
	// State and SetAt are the mapping's pwState and pwSetAt as last read.
	State string    `json:"state,omitempty"`
	SetAt time.Time `json:"setAt,omitzero"`
	// Ready lets IssueTokens sign in without SetPassword first; the
	// PasswordReady choice reads it, so it is always present.
	Ready bool `json:"ready"`
	// Temporary: sign in with the temporary password and answer
	// NEW_PASSWORD_REQUIRED with the derived one (a user's first sign-in).
	Temporary bool `json:"temporary,omitempty"`
	// Set: this login has called AdminSetUserPassword, which it may do at
	// most once.
	Set bool `json:"set,omitempty"`
}

// SignIns counts IssueTokens runs; the CountSignIn state increments it
// before each, and the choices after a failed sign-in stop at
// MaxSignIns.
type SignIns struct {
	Count int `json:"count"`
}

// LoginState is the state between ValidateToken and IssueTokens. Every
// step from UpsertUser on takes and returns it whole.
type LoginState struct {
	Subject  Subject        `json:"subject"`
	Profile  Profile        `json:"profile"`
	Context  RequestContext `json:"context"`
	Password PasswordState  `json:"password"`
	SignIns  SignIns        `json:"signIns"`
	// Error is what a Catch put at $.error: SetPassword runs in repair
	// mode after a sign-in that lost a race.
	Error *CaughtError `json:"error,omitempty"`
	// Recreate asks UpsertUser (run as the RecreateUser state) to replace
	// a Cognito user that no longer exists.
	Recreate bool `json:"recreate,omitempty"`
}

// LoginResponse is IssueTokens' output and the 200 body of the API.
type LoginResponse struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int32  `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Sub          string `json:"sub"`
	Username     string `json:"username"`
	NewUser      bool   `json:"new_user"`
}

// CaughtError is what a Catch puts at ResultPath: Step Functions' shape.
type CaughtError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// FailureInput is RecordFailure's input, chosen by its Parameters.
type FailureInput struct {
	Context     RequestContext `json:"context"`
	Subject     *Subject       `json:"subject,omitempty"`
	Error       CaughtError    `json:"error"`
	ExecutionID string         `json:"executionId,omitempty"`
}

// LambdaCause is the Cause a Lambda task failure carries.
type LambdaCause struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// causeOf extracts a task error's message for logs; other causes as is.
func causeOf(c CaughtError) string {
	var lc LambdaCause
	if json.Unmarshal([]byte(c.Cause), &lc) == nil && lc.ErrorMessage != "" {
		return lc.ErrorMessage
	}
	return c.Cause
}

// millis is the audit trail's time precision.
func millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
