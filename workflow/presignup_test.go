package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// The hosted-UI flow's triggers, as Go handlers with the events Cognito
// sends (testdata/presignup/, decoded by aws-lambda-go's own types), over
// the in-memory ports: moto fires no triggers and has no
// AdminLinkProviderForUser.

const (
	testPool     = "ap-northeast-2_AbCdEfGhI" // the fixtures' userPoolId
	hostedClient = "5hq3c0ntrol1edhosteduic1ent"
)

type hostedRig struct {
	*rig
	accounts *memAccounts
	links    *memLinks
	clients  *memClients
}

// newHostedRig is the login rig with the hosted UI on: Kakao knows
// accounts 1 (verified email one@example.com, as its broker login says),
// 2 (no email) and 4242 (verified email), all linked to the app.
func newHostedRig(t *testing.T) *hostedRig {
	t.Helper()
	r := newRig(t)
	h := &hostedRig{
		rig: r,
		accounts: &memAccounts{ids: map[int64]kakaoauth.KakaoIdentity{
			1:    {KakaoID: 1, Email: "one@example.com", Nickname: "one"},
			2:    {KakaoID: 2, Nickname: "two"},
			4242: {KakaoID: 4242, Email: "user4242@example.com", Nickname: "n4242"},
		}},
		links:   newMemLinks(r.users),
		clients: &memClients{federatedOnly: map[string]bool{hostedClient: true}},
	}
	WithHostedUI(HostedUI{UserPoolID: testPool, Accounts: h.accounts, Links: h.links, Clients: h.clients})(r.steps)
	return h
}

func loadPreSignUpEvent(t *testing.T, name string) events.CognitoEventUserPoolsPreSignup {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "presignup", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CognitoEventUserPoolsPreSignup
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields() // exactly the library's shape
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}

// hostedSignUp runs the trigger on the fixture "external" for Kakao
// account kakaoID, as Cognito does on a hosted-UI sign-in of an identity
// it has no link for.
func (h *hostedRig) hostedSignUp(t *testing.T, kakaoID int64) (events.CognitoEventUserPoolsPreSignup, error) {
	t.Helper()
	ev := loadPreSignUpEvent(t, "external")
	ev.UserName = kakaoauth.HostedUIProvider + "_" + itoa(kakaoID)
	out, err := h.steps.PreSignUp(context.Background(), ev)
	if !reflect.DeepEqual(out, ev) {
		t.Fatalf("the trigger changed the event: %+v", out)
	}
	return out, err
}

// linked runs a hosted-UI sign-up that must end in the link.
func (h *hostedRig) linked(t *testing.T, kakaoID int64) linkRecord {
	t.Helper()
	before := len(h.links.linked())
	if _, err := h.hostedSignUp(t, kakaoID); err != nil {
		t.Fatalf("hosted-ui sign-up of %d: %T %v, want the link and the sign-in going on", kakaoID, err, err)
	}
	links := h.links.linked()
	if len(links) != before+1 {
		t.Fatalf("links %+v", links)
	}
	return links[len(links)-1]
}

// refused runs a hosted-UI sign-up that must be refused with code.
func (h *hostedRig) refused(t *testing.T, kakaoID int64, code string) *FederatedSignInRefused {
	t.Helper()
	before := len(h.links.linked())
	_, err := h.hostedSignUp(t, kakaoID)
	var refused *FederatedSignInRefused
	if !errors.As(err, &refused) || refused.Code != code {
		t.Fatalf("hosted-ui sign-up of %d: %T %v, want refused %s", kakaoID, err, err, code)
	}
	if got := h.links.linked(); len(got) != before {
		t.Fatalf("a refused sign-up linked: %+v", got)
	}
	want := kakaoauth.OutcomeOf(code)
	if code == kakaoauth.CodeInternal {
		want = kakaoauth.OutcomeOf("no such error")
	}
	if err.Error() != code+": "+want.Message {
		t.Fatalf("message %q, want the public %q", err.Error(), code+": "+want.Message)
	}
	last := h.audit.all()[len(h.audit.all())-1]
	if last.Type != kakaoauth.EventFederatedRefused || last.Outcome != "failure" || last.KakaoID != kakaoID || last.Error == "" {
		t.Fatalf("audit %+v", last)
	}
	return refused
}

// A person who never used the broker signs in through the hosted UI: the
// trigger creates kakao_<id> and its mapping as a first broker login
// would (user_created), gives it a permanent password, links the identity
// to it and lets the sign-in go on (Cognito signs in as the linked user);
// the broker's next login is the same user.
func TestPreSignUpCreatesAndLinksANewAccount(t *testing.T) {
	h := newHostedRig(t)
	if _, err := h.hostedSignUp(t, 4242); err != nil {
		t.Fatalf("got %T %v", err, err)
	}
	u, ok := h.users.user("kakao_4242")
	m := h.mappings.row(4242)
	if !ok || !u.Enabled || u.KakaoID != 4242 || u.Email != "user4242@example.com" || !u.EmailVerified || u.Nickname != "n4242" {
		t.Fatalf("user %+v", u)
	}
	if m.Status != kakaoauth.StatusActive || m.Sub != u.Sub || m.PasswordState != kakaoauth.PasswordApplied || m.Email != "user4242@example.com" {
		t.Fatalf("mapping %+v", m)
	}
	links := h.links.linked()
	if len(links) != 1 || links[0] != (linkRecord{kakaoID: 4242, username: "kakao_4242", sub: u.Sub, enabled: true, confirmed: true}) {
		t.Fatalf("links %+v", links)
	}
	// A new user: created with the temporary password, then one set.
	assertCalls(t, "first hosted-ui sign-up", h.cognito(), map[string]int{
		"AdminCreateUser": 1, "AdminGetUser": 1, "AdminSetUserPassword": 1,
	})
	if got := h.audit.types(); !slices.Equal(got, []string{"user_created", "federated_linked"}) {
		t.Fatalf("audit %v", got)
	}
	if got := h.events.types(); !slices.Equal(got, []string{"user_created"}) {
		t.Fatalf("events %v", got)
	}
	linked := h.audit.all()[1]
	if linked.Sub != u.Sub || linked.KakaoID != 4242 || !strings.Contains(linked.Detail, "clientId="+hostedClient) || !strings.HasPrefix(linked.ExecutionID, "presignup:") {
		t.Fatalf("federated_linked %+v", linked)
	}

	// The native app's broker login afterwards: the same user and sub.
	h.kakao.ids["tok-4242"] = kakaoauth.KakaoIdentity{KakaoID: 4242, AppID: 1001, Email: "user4242@example.com", EmailChecked: true, Nickname: "n4242"}
	resp := h.login(t, `{"access_token":"tok-4242"}`)
	if resp.Sub != u.Sub || resp.NewUser {
		t.Fatalf("broker login after the hosted UI: %+v", resp)
	}
}

// A person who used the broker first: the trigger links the identity to
// the user the broker made, with no Cognito write but the link.
func TestPreSignUpLinksTheBrokersUser(t *testing.T) {
	h := newHostedRig(t)
	first := h.login(t, `{"access_token":"tok-1"}`)
	h.resetCalls()
	rec := h.linked(t, 1)
	if rec.username != "kakao_1" || rec.sub != first.Sub || !rec.confirmed || h.links.linkedTo(1) != "kakao_1" {
		t.Fatalf("link %+v, broker sub %s", rec, first.Sub)
	}
	assertCalls(t, "hosted-ui sign-up of a broker user", h.cognito(), map[string]int{"AdminGetUser": 1})
	if got := h.events.types(); !slices.Equal(got, []string{"user_created"}) {
		t.Fatalf("events %v: linking is no lifecycle transition", got)
	}
	// The broker's login still works, as the same user.
	if again := h.login(t, `{"access_token":"tok-1"}`); again.Sub != first.Sub {
		t.Fatalf("broker login after the link: %s, want %s", again.Sub, first.Sub)
	}
}

// A user the broker created whose first sign-in never happened still
// holds its temporary password (FORCE_CHANGE_PASSWORD): the trigger
// gives it a permanent one before linking, as a rotation claims it, and
// the broker signs in with that afterwards.
func TestPreSignUpConfirmsATemporaryPassword(t *testing.T) {
	h := newHostedRig(t)
	h.users.failNext("AdminInitiateAuth", errors.New("connection reset"))
	h.fails(t, `{"access_token":"tok-1"}`, "errorString")
	if m := h.mappings.row(1); m.PasswordState != kakaoauth.PasswordTemporary {
		t.Fatalf("mapping %+v", m)
	}
	rec := h.linked(t, 1)
	if !rec.confirmed {
		t.Fatal("linked a user still in FORCE_CHANGE_PASSWORD")
	}
	if m := h.mappings.row(1); m.PasswordState != kakaoauth.PasswordApplied {
		t.Fatalf("mapping after the link %+v", m)
	}
	if resp := h.login(t, `{"access_token":"tok-1"}`); resp.Sub != rec.sub {
		t.Fatalf("broker login after: %+v", resp)
	}
}

// Only Kakao's own answer about the account, under the broker's rule
// (valid and verified), ever reaches the user's verified email: claims in
// the event (an extended attribute mapping) count for nothing, and an
// account without a verified email gets none.
func TestPreSignUpEmailOnlyFromKakaoVerified(t *testing.T) {
	h := newHostedRig(t)
	ev := loadPreSignUpEvent(t, "external-with-email")
	if _, err := h.steps.PreSignUp(context.Background(), ev); err != nil {
		t.Fatalf("got %v", err)
	}
	if u, _ := h.users.user("kakao_4242"); u.Email != "user4242@example.com" {
		t.Fatalf("email %q: the event's claims reached the user", u.Email)
	}
	if owners, _ := h.users.FindByEmail(context.Background(), "victim@example.com"); len(owners) != 0 {
		t.Fatalf("the event's email was stored: %+v", owners)
	}

	h.linked(t, 2)
	if u, _ := h.users.user("kakao_2"); u.Email != "" || u.EmailVerified {
		t.Fatalf("an account without a verified email got one: %+v", u)
	}
	// Kakao's verified email changed since the broker's last login: it
	// follows, as on a broker login.
	h.accounts.set(kakaoauth.KakaoIdentity{KakaoID: 2, Email: "two@example.com", Nickname: "two"})
	h.linked(t, 2)
	if u, _ := h.users.user("kakao_2"); u.Email != "two@example.com" || !u.EmailVerified {
		t.Fatalf("email after the change at Kakao: %+v", u)
	}
}

// The verified email belongs to another user: refused, nothing created,
// as a broker login would be.
func TestPreSignUpEmailConflictIsRefused(t *testing.T) {
	h := newHostedRig(t)
	h.users.addNative("native", "user4242@example.com")
	h.refused(t, 4242, "AccountConflict")
	if _, ok := h.users.user("kakao_4242"); ok {
		t.Fatal("a user was created")
	}
	if got := h.audit.types(); !slices.Equal(got, []string{"federated_refused:AccountConflict"}) {
		t.Fatalf("audit %v", got)
	}
}

// Unlink, then return through the hosted UI. The unlink disables the user
// and removes the link; a hosted-UI sign-in is then a sign-up, which
// re-links the same user (same sub, relinked) only because Kakao vouched
// for the account after the unlink was reported. While the account is not
// linked at Kakao (its admin lookup says so), nothing comes back.
func TestPreSignUpAfterUnlink(t *testing.T) {
	h := newHostedRig(t)
	first := h.login(t, `{"access_token":"tok-1"}`)
	h.linked(t, 1)
	h.advance(time.Minute)
	if resp := h.worker(t, h.unlinkRequest(1, 1, "UNLINK_FROM_APPS")); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("unlink failed: %v", resp.BatchItemFailures)
	}
	u, _ := h.users.user("kakao_1")
	if u.Enabled || h.links.linkedTo(1) != "" || !slices.Equal(h.links.unlinks, []int64{1}) {
		t.Fatalf("after the unlink: user %+v, link %q", u, h.links.linkedTo(1))
	}

	// Kakao has the account unlinked from the app: refused, still unlinked.
	h.accounts.remove(1)
	h.advance(time.Minute)
	h.refused(t, 1, "AccountUnlinked")
	if m := h.mappings.row(1); m.Status != kakaoauth.StatusUnlinked {
		t.Fatalf("mapping %+v", m)
	}

	// The person logs in with Kakao again (on the hosted UI, Kakao's
	// consent): the same user, enabled, relinked, the email back.
	h.accounts.set(kakaoauth.KakaoIdentity{KakaoID: 1, Email: "one@example.com", Nickname: "one"})
	h.advance(time.Minute)
	rec := h.linked(t, 1)
	u, _ = h.users.user("kakao_1")
	m := h.mappings.row(1)
	if rec.sub != first.Sub || !rec.enabled || !u.Enabled || u.Email != "one@example.com" || m.Status != kakaoauth.StatusActive {
		t.Fatalf("return through the hosted UI: link %+v user %+v mapping %+v", rec, u, m)
	}
	if got := h.events.types(); !slices.Equal(got, []string{"user_created", "unlinked", "relinked"}) {
		t.Fatalf("events %v", got)
	}
	if ev := h.events.all()[2]; ev.Sub != first.Sub || ev.Reason != "login" {
		t.Fatalf("relinked %+v", ev)
	}
	// The broker agrees.
	if resp := h.login(t, `{"access_token":"tok-1"}`); resp.Sub != first.Sub {
		t.Fatalf("broker login after the return: %+v", resp)
	}
}

// The freshness rule: an unlink reported while the trigger was asking
// Kakao (after the moment it vouched from) wins; the account stays
// unlinked and nothing is linked.
func TestPreSignUpLosesToAnUnlinkReportedMeanwhile(t *testing.T) {
	h := newHostedRig(t)
	h.login(t, `{"access_token":"tok-1"}`)
	h.accounts.before = func() {
		h.advance(time.Second)
		h.accounts.before = nil
		if resp := h.worker(t, h.unlinkRequest(7, 1, "UNLINK_FROM_APPS")); len(resp.BatchItemFailures) != 0 {
			t.Errorf("unlink failed: %v", resp.BatchItemFailures)
		}
	}
	h.refused(t, 1, "AccountUnlinked")
	if u, _ := h.users.user("kakao_1"); u.Enabled || h.links.linkedTo(1) != "" {
		t.Fatalf("user %+v, link %q", u, h.links.linkedTo(1))
	}
}

// A deleted account (ACCOUNT_DELETE) signing in through the hosted UI
// gets a new user and sub (recreated), as through the broker; the deletion
// removed the link before it deleted the user.
func TestPreSignUpAfterDeletion(t *testing.T) {
	h := newHostedRig(t)
	first := h.login(t, `{"access_token":"tok-1"}`)
	h.linked(t, 1)
	h.users.before("AdminDeleteUser", func() {
		if h.links.linkedTo(1) != "" {
			t.Error("the user was deleted while still linked")
		}
	})
	h.advance(time.Minute)
	if resp := h.worker(t, h.unlinkRequest(1, 1, "ACCOUNT_DELETE")); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("deletion failed: %v", resp.BatchItemFailures)
	}
	if _, ok := h.users.user("kakao_1"); ok {
		t.Fatal("user not deleted")
	}
	h.advance(time.Minute)
	rec := h.linked(t, 1)
	m := h.mappings.row(1)
	if rec.sub == first.Sub || rec.sub != m.Sub || m.Status != kakaoauth.StatusActive || !slices.Equal(m.PreviousSubs, []string{first.Sub}) || !rec.confirmed {
		t.Fatalf("recreated: link %+v mapping %+v", rec, m)
	}
	if got := h.events.types(); !slices.Equal(got, []string{"user_created", "deleted", "recreated"}) {
		t.Fatalf("events %v", got)
	}
}

// The Cognito user was deleted behind the broker's back (the mapping is
// active): recreated, as RecreateUser does after a broker login's
// UserMissing.
func TestPreSignUpRecreatesAUserDeletedBehindTheBrokersBack(t *testing.T) {
	h := newHostedRig(t)
	first := h.login(t, `{"access_token":"tok-1"}`)
	h.users.deleteBehindTheBrokersBack("kakao_1")
	rec := h.linked(t, 1)
	if rec.sub == first.Sub || rec.sub != h.mappings.row(1).Sub {
		t.Fatalf("link %+v, old sub %s", rec, first.Sub)
	}
	if got := h.events.types(); !slices.Equal(got, []string{"user_created", "recreated"}) {
		t.Fatalf("events %v", got)
	}
}

// An administrator disabled the user (the mapping is active): a hosted-UI
// sign-in must not undo that.
func TestPreSignUpRefusesADisabledUser(t *testing.T) {
	h := newHostedRig(t)
	h.login(t, `{"access_token":"tok-1"}`)
	if err := h.users.DisableUser(context.Background(), "kakao_1"); err != nil {
		t.Fatal(err)
	}
	h.refused(t, 1, "AccountDisabled")
	if u, _ := h.users.user("kakao_1"); u.Enabled {
		t.Fatal("re-enabled")
	}
}

// Failures along the way: Kakao down, Cognito's link refused, the event
// of another pool, a malformed Kakao identity, a function without the
// hosted UI's wiring. Each is refused with its public code only, and no
// second user is ever made: the trigger never lets a Kakao sign-up
// through.
func TestPreSignUpFailuresAreRefused(t *testing.T) {
	t.Run("kakao unavailable", func(t *testing.T) {
		h := newHostedRig(t)
		h.accounts.err = &kakaoauth.KakaoUnavailable{Reason: "user/me: HTTP 503"}
		h.refused(t, 4242, "KakaoUnavailable")
	})
	t.Run("link refused by cognito", func(t *testing.T) {
		h := newHostedRig(t)
		h.links.linkErr = errors.New("cognito: link provider: InvalidParameterException: immutable attribute")
		r := h.refused(t, 4242, kakaoauth.CodeInternal)
		if strings.Contains(r.Error(), "immutable") || strings.Contains(r.Error(), "4242") {
			t.Fatalf("the cause reached the browser: %q", r.Error())
		}
	})
	t.Run("throttled", func(t *testing.T) {
		h := newHostedRig(t)
		h.users.failNext("AdminCreateUser", &kakaoauth.Throttled{Reason: "cognito create user"})
		h.refused(t, 4242, "Throttled")
	})
	for _, fixture := range []string{"external-other-pool", "external-bad-id"} {
		t.Run(fixture, func(t *testing.T) {
			h := newHostedRig(t)
			_, err := h.steps.PreSignUp(context.Background(), loadPreSignUpEvent(t, fixture))
			var refused *FederatedSignInRefused
			if !errors.As(err, &refused) || refused.Code != kakaoauth.CodeInternal {
				t.Fatalf("got %T %v", err, err)
			}
			if h.accounts.calls != 0 || len(h.users.cognitoCalls()) != 0 || len(h.links.linked()) != 0 {
				t.Fatalf("acted on it: kakao %d cognito %v links %v", h.accounts.calls, h.users.cognitoCalls(), h.links.linked())
			}
		})
	}
	t.Run("not wired", func(t *testing.T) {
		r := newRig(t)
		_, err := r.steps.PreSignUp(context.Background(), loadPreSignUpEvent(t, "external"))
		var refused *FederatedSignInRefused
		if !errors.As(err, &refused) || refused.Code != kakaoauth.CodeInternal {
			t.Fatalf("a trigger without the hosted UI's parts let a Kakao sign-up through: %v", err)
		}
	})
}

// Cognito has been seen to send the provider's name lower-cased: the same
// identity, linked the same way.
func TestPreSignUpLowerCasedProvider(t *testing.T) {
	h := newHostedRig(t)
	if _, err := h.steps.PreSignUp(context.Background(), loadPreSignUpEvent(t, "external-lowercase")); err != nil {
		t.Fatalf("got %v", err)
	}
	if h.links.linkedTo(4242) != "kakao_4242" {
		t.Fatal("not linked")
	}
}

// With the trigger configured, Cognito also calls it for the broker's own
// AdminCreateUser and for other identity providers' sign-ups: those pass
// unchanged, without a call anywhere.
func TestPreSignUpPassesOtherSignUps(t *testing.T) {
	for _, fixture := range []string{"admin-create-user", "other-provider"} {
		t.Run(fixture, func(t *testing.T) {
			h := newHostedRig(t)
			ev := loadPreSignUpEvent(t, fixture)
			out, err := h.steps.PreSignUp(context.Background(), ev)
			if err != nil || !reflect.DeepEqual(out, ev) {
				t.Fatalf("got %v, %+v", err, out)
			}
			if h.accounts.calls != 0 || len(h.users.cognitoCalls()) != 0 || len(h.audit.all()) != 0 {
				t.Fatal("acted on a sign-up that is not a Kakao identity's")
			}
		})
	}
	// The broker's own first login passes through the trigger unchanged
	// too (the fixture is what its AdminCreateUser makes Cognito send).
	r := newRig(t)
	if _, err := r.steps.PreSignUp(context.Background(), loadPreSignUpEvent(t, "admin-create-user")); err != nil {
		t.Fatalf("without the hosted UI's parts: %v", err)
	}
}

// Two hosted-UI sign-ins of one new account at once (two tabs): one user,
// one mapping, both linked to it.
func TestPreSignUpConcurrentFirstSignIns(t *testing.T) {
	h := newHostedRig(t)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			ev := loadPreSignUpEvent(t, "external")
			_, err := h.steps.PreSignUp(context.Background(), ev)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("got %v", err)
		}
	}
	links := h.links.linked()
	if len(links) != 2 || links[0].sub != links[1].sub || links[0].sub != h.mappings.row(4242).Sub {
		t.Fatalf("links %+v", links)
	}
	if n := h.users.calls("AdminCreateUser"); n < 1 || n > 2 {
		t.Fatalf("AdminCreateUser x%d", n)
	}
}

// PreAuthentication with the hosted UI on: a sign-in through the app
// client that signs in only through external identity providers passes
// without the broker's proof and without an audit event; a sign-in of a
// Kakao user through any other client still needs the proof, and any doubt
// about the client refuses.
func TestPreAuthenticationLetsFederatedSignInsThrough(t *testing.T) {
	ev := loadPreAuthEvent(t, "hosted-ui")
	t.Run("hosted-ui client", func(t *testing.T) {
		h := newHostedRig(t)
		out, err := h.steps.PreAuthentication(context.Background(), ev)
		if err != nil || !reflect.DeepEqual(out, ev) || len(h.audit.all()) != 0 {
			t.Fatalf("a federated sign-in was refused: %v, audit %v", err, h.audit.types())
		}
		if !slices.Equal(h.clients.asked, []string{testPool + "/" + hostedClient}) {
			t.Fatalf("asked about %v", h.clients.asked)
		}
	})
	t.Run("a client with a password flow", func(t *testing.T) {
		h := newHostedRig(t)
		h.clients.federatedOnly[hostedClient] = false
		if _, err := h.steps.PreAuthentication(context.Background(), ev); !errors.As(err, new(*PasswordSignInBlocked)) {
			t.Fatalf("got %v", err)
		}
		if got := h.audit.types(); !slices.Equal(got, []string{"password_login_blocked:PasswordSignInBlocked"}) {
			t.Fatalf("audit %v", got)
		}
	})
	t.Run("cognito cannot say", func(t *testing.T) {
		h := newHostedRig(t)
		h.clients.err = errors.New("throttled")
		if _, err := h.steps.PreAuthentication(context.Background(), ev); err == nil {
			t.Fatal("an unknown client passed")
		}
	})
	t.Run("without the hosted UI", func(t *testing.T) {
		r := newRig(t)
		if _, err := r.steps.PreAuthentication(context.Background(), ev); err == nil {
			t.Fatal("passed without the hosted UI")
		}
	})
	t.Run("the broker's own proof is checked first", func(t *testing.T) {
		h := newHostedRig(t)
		if _, err := h.steps.PreAuthentication(context.Background(), loadPreAuthEvent(t, "valid")); err != nil || len(h.clients.asked) != 0 {
			t.Fatalf("got %v, asked %v", err, h.clients.asked)
		}
	})
}

// A failure to remove the link fails the unlink, which SQS retries: the
// user is disabled already (it cannot sign in meanwhile), and the retry
// finishes the job.
func TestUnlinkRetriesWhenTheLinkCannotBeRemoved(t *testing.T) {
	h := newHostedRig(t)
	h.login(t, `{"access_token":"tok-1"}`)
	h.linked(t, 1)
	h.links.unErr = &kakaoauth.Throttled{Reason: "cognito disable provider"}
	req := h.unlinkRequest(1, 1, "UNLINK_FROM_APPS")
	if resp := h.worker(t, req); len(resp.BatchItemFailures) != 1 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	if u, _ := h.users.user("kakao_1"); u.Enabled || h.mappings.row(1).Status != kakaoauth.StatusActive {
		t.Fatalf("half-way: user %+v, mapping %s", u, h.mappings.row(1).Status)
	}
	h.links.unErr = nil
	if resp := h.worker(t, req); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry failures %v", resp.BatchItemFailures)
	}
	if h.links.linkedTo(1) != "" || h.mappings.row(1).Status != kakaoauth.StatusUnlinked {
		t.Fatal("the retry did not finish the unlink")
	}
}

// The trigger's Steps are built once, for the pool of the first event; an
// event of another pool is refused without touching them.
func TestPreSignUpOfPoolServesTheFirstPoolOnly(t *testing.T) {
	built := 0
	handler := PreSignUpOfPool(func(pool string) *Steps {
		built++
		if pool != "ap-northeast-2_Ours" {
			t.Errorf("built for %q", pool)
		}
		return New()
	})
	ev := events.CognitoEventUserPoolsPreSignup{}
	ev.TriggerSource, ev.UserPoolID, ev.UserName = "PreSignUp_AdminCreateUser", "ap-northeast-2_Ours", "kakao_1"
	for range 2 {
		if _, err := handler(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	ev.UserPoolID = "ap-northeast-2_Theirs"
	if _, err := handler(context.Background(), ev); err == nil || !strings.Contains(err.Error(), "this trigger serves") {
		t.Fatalf("another pool's event: %v", err)
	}
	if built != 1 {
		t.Fatalf("built %d times", built)
	}
}
