package workflow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
)

// The hosted-UI flow (stack parameter HostedUi): Kakao is also the pool's
// OpenID Connect identity provider, and its sign-ins are tied to the
// broker's users here. One Kakao account is one Cognito user, whichever
// flow it signs in through:
//
//   - PreSignUp (a hosted-UI sign-in of a Kakao identity the pool has not
//     seen, or whose link an unlink removed): Kakao is asked about the
//     account with the app's admin key, the account is brought into the
//     state a broker login would bring it (created, re-linked, recreated,
//     or linked to the team's user by the verified-email rule: the same
//     lifecycle code, UpsertUser), a user kakaoauth created gets a
//     permanent password (Cognito status CONFIRMED), the identity is
//     linked to the account's user (kakao_<id>, or the team's user a
//     linked account points at), and the sign-up goes on: Cognito signs
//     the sign-in in as that user (docs/hosted-ui.md cites why this is
//     safe since 2023), and never creates a second user.
//   - PreAuthentication (preauth.go): a sign-in through an app client
//     that signs in only through external identity providers is a
//     federated one, and passes without the broker's proof.
//   - The unlink and the deletion (lifecycle.go) remove the link too.

// HostedUI is what the hosted-UI flow needs; each Lambda gets the parts
// its code uses (nil: not used).
type HostedUI struct {
	// UserPoolID is the pool whose PreSignUp trigger this is: an event of
	// any other pool is refused.
	UserPoolID string
	Accounts   kakaoauth.KakaoAccounts
	Links      kakaoauth.FederatedLinks
	Clients    kakaoauth.AppClients
}

// WithHostedUI enables the hosted-UI flow's parts in h.
func WithHostedUI(h HostedUI) Option { return func(s *Steps) { s.hosted = h } }

// Cognito's trigger sources the hosted-UI flow acts on.
const (
	TriggerPreSignUpExternal = "PreSignUp_ExternalProvider"
)

// LinkedErrorCode marked the end of a first hosted-UI sign-in when this
// trigger failed it on purpose after linking (before 2023 Cognito failed
// such a sign-in anyway, "Already found an entry for username"). The
// trigger now lets the sign-in go on; apps and the try-it page still
// restart once on this code or on Cognito's old message, so a stack
// mid-update, or a Cognito that behaves as before, costs one redirect.
const LinkedErrorCode = "KakaoAccountLinked"

// FederatedSignInRefused is the PreSignUp trigger's refusal of a hosted-UI
// sign-in. Cognito shows Error() to the browser, so it is the error's
// public code and message (errors.go), nothing else; the cause is logged.
type FederatedSignInRefused struct{ Code, Message string }

func (e *FederatedSignInRefused) Error() string { return e.Code + ": " + e.Message }

// kakaoLookupTimeout bounds the Kakao lookup inside the trigger: Cognito
// gives a trigger 5 s in all.
const kakaoLookupTimeout = 2 * time.Second

// federatedKakaoID reads a federated username: ours says whether it is
// the Kakao provider's ("Kakao_4242": the provider's name as configured,
// though Cognito has been seen to lower-case it in events), and id is the
// Kakao user id after it, 0 when that is not one.
func federatedKakaoID(username string) (id int64, ours bool) {
	prefix := kakaoauth.HostedUIProvider + "_"
	if len(username) < len(prefix) || !strings.EqualFold(username[:len(prefix)], prefix) {
		return 0, false
	}
	rest := username[len(prefix):]
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != rest {
		return 0, true
	}
	return id, true
}

// PreSignUp is the user pool's PreSignUp trigger, with the hosted UI on.
// Only a sign-up of a Kakao identity through the hosted UI
// (PreSignUp_ExternalProvider) is acted on; the broker's own
// AdminCreateUser (PreSignUp_AdminCreateUser) and any other identity
// provider of the pool pass unchanged.
//
// It links the identity and lets the sign-in go on (Cognito then signs in
// as the linked user; no second user is created either way), or refuses
// with *FederatedSignInRefused.
func (s *Steps) PreSignUp(ctx context.Context, ev events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
	if ev.TriggerSource != TriggerPreSignUpExternal {
		return ev, nil
	}
	kakaoID, ours := federatedKakaoID(ev.UserName)
	if !ours {
		// Another identity provider of the pool: its users are not ours.
		s.log.InfoContext(ctx, "external sign-up of another provider passed", "trigger", "PreSignUp", "clientId", ev.CallerContext.ClientID)
		return ev, nil
	}
	requestID := uuid.NewString()
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		requestID = lc.AwsRequestID
	}
	rc := RequestContext{UserAgent: "cognito-hosted-ui", RequestID: requestID, ExecutionID: "presignup:" + requestID}
	sub, err := s.linkFederated(ctx, ev, kakaoID, rc)
	if err != nil {
		return ev, s.refuseFederated(ctx, ev, kakaoID, rc, err)
	}
	if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
		Time: millis(s.now()), Type: kakaoauth.EventFederatedLinked, Outcome: "success", KakaoID: kakaoID, Sub: sub,
		ExecutionID: rc.ExecutionID, UserAgent: rc.UserAgent,
		Detail: "provider=" + kakaoauth.HostedUIProvider + " clientId=" + ev.CallerContext.ClientID,
	}); err != nil {
		// The link is made; the sign-in goes on. The log keeps the fact.
		s.log.ErrorContext(ctx, "could not audit a federated link", "trigger", "PreSignUp", "kakaoId", kakaoID, "error", err.Error())
	}
	s.log.InfoContext(ctx, "hosted-ui identity linked; the sign-in goes on as the linked user", "trigger", "PreSignUp", "kakaoId", kakaoID, "sub", sub,
		"clientId", ev.CallerContext.ClientID, "requestId", requestID)
	return ev, nil
}

// linkFederated brings the Kakao account's user into the state a broker
// login would (UpsertUser: created, re-linked, recreated, email followed),
// makes sure Cognito can sign it in, and links the identity to it. It
// returns the user's sub.
func (s *Steps) linkFederated(ctx context.Context, ev events.CognitoEventUserPoolsPreSignup, kakaoID int64, rc RequestContext) (string, error) {
	h := s.hosted
	switch {
	case kakaoID <= 0:
		// Kakao's sub is its user id; anything else must not become a
		// user of its own.
		return "", fmt.Errorf("federated username %q carries no kakao user id", ev.UserName)
	case h.Accounts == nil || h.Links == nil || s.users == nil || s.mappings == nil || s.audit == nil || len(s.pepper) == 0:
		return "", errors.New("the hosted-ui flow is not configured in this function")
	case ev.UserPoolID != h.UserPoolID:
		return "", fmt.Errorf("event of user pool %q, this trigger serves %q", ev.UserPoolID, h.UserPoolID)
	}
	// Kakao answers after this moment, so it vouched for the account no
	// earlier: the same lower bound a broker login compares with an unlink.
	checked := millis(s.now())
	lctx, cancel := context.WithTimeout(ctx, kakaoLookupTimeout)
	id, err := h.Accounts.Lookup(lctx, kakaoID)
	cancel()
	if err != nil {
		return "", err
	}
	if id.KakaoID != kakaoID {
		return "", fmt.Errorf("kakao answered for account %d, not %d", id.KakaoID, kakaoID)
	}
	in := LoginState{
		Subject: Subject{KakaoID: kakaoID, VouchedAt: checked},
		Profile: Profile{Email: id.Email, EmailChecked: true, Nickname: id.Nickname},
		Context: rc,
	}
	out, err := s.UpsertUser(ctx, in)
	if err != nil {
		return "", err
	}
	user, err := s.users.GetUser(ctx, out.Subject.Username)
	var notFound *kakaoauth.NotFound
	if errors.As(err, &notFound) {
		// Deleted behind the broker's back: what RecreateUser does after a
		// broker login's UserMissing.
		in.Recreate = true
		if out, err = s.UpsertUser(ctx, in); err != nil {
			return "", err
		}
		user, err = s.users.GetUser(ctx, out.Subject.Username)
	}
	if err != nil {
		return "", err
	}
	if !user.Enabled {
		// The mapping is active (UpsertUser saw to that): an administrator
		// disabled this user, and a hosted-UI sign-in must not undo it.
		return "", &kakaoauth.AccountDisabled{Username: user.Username}
	}
	if !out.Subject.Linked {
		// A linked user is the team's: its password is never touched.
		if err := s.confirmForLink(ctx, out); err != nil {
			return "", err
		}
	}
	if err := h.Links.Link(ctx, kakaoID, out.Subject.Username); err != nil {
		return "", err
	}
	return out.Subject.Sub, nil
}

// confirmForLink makes sure the user has a permanent password, so that
// Cognito holds it CONFIRMED rather than FORCE_CHANGE_PASSWORD before a
// federated identity signs in as it: a new user (whose temporary password
// only a broker sign-in would replace) or one whose last set failed gets a
// fresh nonce and its derived password, with the same conditional claim
// as a rotation, so that concurrent broker logins stay correct. This is
// one AdminSetUserPassword, on a hosted-UI first sign-in only.
func (s *Steps) confirmForLink(ctx context.Context, st LoginState) error {
	p := st.Password
	switch {
	case p.Nonce != "" && applied(p.State):
		return nil
	case p.State == kakaoauth.PasswordPending && s.now().Sub(p.SetAt) < s.applyGrace:
		// A broker login is setting a permanent password right now.
		return nil
	}
	_, err := s.claimAndSet(ctx, st.Subject, p)
	var changed *kakaoauth.NonceChanged
	if errors.As(err, &changed) {
		// A concurrent broker login moved the password on first: it set
		// one, or its first sign-in replaced the temporary one.
		return nil
	}
	return err
}

// refuseFederated logs and audits why a hosted-UI sign-up was refused and
// returns what Cognito shows the browser: the error's public code and
// message only.
func (s *Steps) refuseFederated(ctx context.Context, ev events.CognitoEventUserPoolsPreSignup, kakaoID int64, rc RequestContext, err error) error {
	name := kakaoauth.ErrorName(err)
	out := kakaoauth.OutcomeOf(name)
	level := s.log.WarnContext
	if out.Code == kakaoauth.CodeInternal {
		level = s.log.ErrorContext
	}
	level(ctx, "hosted-ui sign-up refused", "trigger", "PreSignUp", "kakaoId", kakaoID, "error", name, "cause", err.Error(),
		"clientId", ev.CallerContext.ClientID, "requestId", rc.RequestID)
	if s.audit != nil {
		if aerr := s.audit.Record(ctx, kakaoauth.AuditEvent{
			Time: millis(s.now()), Type: kakaoauth.EventFederatedRefused, Outcome: "failure", Error: name, KakaoID: kakaoID,
			ExecutionID: rc.ExecutionID, UserAgent: rc.UserAgent,
			Detail: "provider=" + kakaoauth.HostedUIProvider + " clientId=" + ev.CallerContext.ClientID,
		}); aerr != nil {
			s.log.ErrorContext(ctx, "could not audit a refused federated sign-up", "trigger", "PreSignUp", "kakaoId", kakaoID, "error", aerr.Error())
		}
	}
	return &FederatedSignInRefused{Code: out.Code, Message: out.Message}
}

// federatedSignIn says whether a PreAuthentication event is a sign-in
// through an app client that signs users in only through external
// identity providers (the hosted-UI client): a federated sign-in, which
// the identity provider vouched for and which carries no password to
// guard. Whether Cognito runs PreAuthentication for federated sign-ins at
// all is not relied on either way. The client is asked about, not
// trusted by id, so that a client someone later gives a password flow
// loses the pass at once; any doubt (no hosted UI, an error) fails closed.
func (s *Steps) federatedSignIn(ctx context.Context, ev events.CognitoEventUserPoolsPreAuthentication) bool {
	if s.hosted.Clients == nil || ev.CallerContext.ClientID == "" || ev.UserPoolID == "" {
		return false
	}
	ok, err := s.hosted.Clients.FederatedOnly(ctx, ev.UserPoolID, ev.CallerContext.ClientID)
	if err != nil {
		s.log.WarnContext(ctx, "could not describe the sign-in's app client; treated as a password sign-in", "trigger", "PreAuthentication",
			"clientId", ev.CallerContext.ClientID, "error", err.Error())
		return false
	}
	if ok {
		s.log.InfoContext(ctx, "federated sign-in let through", "trigger", "PreAuthentication", "clientId", ev.CallerContext.ClientID,
			"sub", ev.Request.UserAttributes["sub"])
	}
	return ok
}

// PreSignUpOfPool serves the PreSignUp trigger with Steps that build makes
// for the user pool the first event names. The template cannot give the
// trigger its pool in the environment (the pool names the trigger: a
// cycle) and Lambda's permission lets only that pool invoke it; an event
// of any other pool after the first is refused.
func PreSignUpOfPool(build func(userPoolID string) *Steps) func(context.Context, events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
	var (
		mu    sync.Mutex
		pool  string
		steps *Steps
	)
	return func(ctx context.Context, ev events.CognitoEventUserPoolsPreSignup) (events.CognitoEventUserPoolsPreSignup, error) {
		mu.Lock()
		if steps == nil && ev.UserPoolID != "" {
			pool, steps = ev.UserPoolID, build(ev.UserPoolID)
		}
		s, served := steps, pool
		mu.Unlock()
		if s == nil || ev.UserPoolID != served {
			return ev, fmt.Errorf("event of user pool %q, this trigger serves %q", ev.UserPoolID, served)
		}
		return s.PreSignUp(ctx, ev)
	}
}
