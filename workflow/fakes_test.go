package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// In-memory stand-ins for the ports, with the same conditional semantics
// as the adapters (which are tested against moto in shared/). Calls are
// counted under the AWS operation names the adapters use, so tests can
// assert the Cognito budget of a login. before hooks let a test act in the
// middle of a step (an unlink between a sign-in and its RecordLogin).

type memKakao struct {
	ids   map[string]kakaoauth.KakaoIdentity // by access token or ID token
	err   error
	calls atomic.Int32 // Verify calls: what would reach Kakao
	// delay makes Kakao slow; a cancelled ctx ends the wait with its error,
	// as the HTTP client's would.
	delay time.Duration
}

func (k *memKakao) Verify(ctx context.Context, t kakaoauth.KakaoTokens) (kakaoauth.KakaoIdentity, error) {
	k.calls.Add(1)
	if k.delay > 0 {
		select {
		case <-time.After(k.delay):
		case <-ctx.Done():
			return kakaoauth.KakaoIdentity{}, &kakaoauth.KakaoUnavailable{Reason: "timeout"}
		}
	}
	if k.err != nil {
		return kakaoauth.KakaoIdentity{}, k.err
	}
	tok := t.AccessToken
	if tok == "" {
		tok = t.IDToken
	}
	id, ok := k.ids[tok]
	if !ok {
		return id, &kakaoauth.InvalidKakaoToken{Reason: "unknown token"}
	}
	return id, nil
}

// hooks counts calls by operation name, fails the next call of an
// operation on request, and runs a test's hook before one.
type hooks struct {
	calls    map[string]int
	failNext map[string][]error
	before   map[string]func()
}

func newHooks() hooks {
	return hooks{calls: map[string]int{}, failNext: map[string][]error{}, before: map[string]func(){}}
}

// hit is called with the owner's lock held; a before hook runs unlocked
// by the caller (see run).
func (h *hooks) hit(op string) error {
	h.calls[op]++
	if errs := h.failNext[op]; len(errs) > 0 {
		h.failNext[op] = errs[1:]
		return errs[0]
	}
	return nil
}

type memUser struct {
	kakaoauth.CognitoUser
	password    string
	forceChange bool
}

type memUsers struct {
	mu      sync.Mutex
	hooks   hooks
	users   map[string]*memUser
	refresh map[string]string // refresh token -> username; revoked tokens are removed
	// metadata is the ClientMetadata of the last sign-in.
	metadata map[string]string
	nextSub  int
	nextRT   int
	// noCreate makes the pool refuse AdminCreateUser of kakao_<id> as a
	// pool whose usernames are emails does (InvalidParameterException).
	noCreate bool
	// aliasAsUsernameExists answers a taken email alias as Cognito has
	// been seen to: UsernameExistsException.
	aliasAsUsernameExists bool
	// triggers are the pool's custom auth triggers, run as Cognito runs
	// them for CUSTOM_AUTH (clientID is the broker's client).
	triggers *Steps
	clientID string
	// legacyExistenceErrors is an app client with PreventUserExistenceErrors
	// LEGACY: a sign-in of a missing user says so. The stack's client has
	// ENABLED: it says what it says of a wrong password.
	legacyExistenceErrors bool
	// nextChallenge is a challenge Cognito answers the custom sign-in's
	// answer with instead of tokens (SMS_MFA, NEW_PASSWORD_REQUIRED, ...),
	// as the Directory reports it: *KakaoSignInUnavailable.
	nextChallenge string
}

// setStatus sets a user's Cognito status (EXTERNAL_PROVIDER, RESET_REQUIRED, ...).
func (d *memUsers) setStatus(username, status string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users[username].Status = status
}

// poolID and brokerClientID name the in-memory pool and the broker's
// client, as the triggers see them.
const (
	poolID         = "ap-northeast-2_Test"
	brokerClientID = "broker-client"
)

func newMemUsers() *memUsers {
	return &memUsers{hooks: newHooks(), users: map[string]*memUser{}, refresh: map[string]string{}}
}

// op runs op's before hook (unlocked), then locks and counts the call.
func (d *memUsers) op(name string) (unlock func(), err error) {
	d.mu.Lock()
	hook := d.hooks.before[name]
	d.mu.Unlock()
	if hook != nil {
		hook()
	}
	d.mu.Lock()
	if err := d.hooks.hit(name); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	return d.mu.Unlock, nil
}

func (d *memUsers) calls(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hooks.calls[name]
}

func (d *memUsers) failNext(name string, errs ...error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks.failNext[name] = append(d.hooks.failNext[name], errs...)
}

func (d *memUsers) before(name string, hook func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks.before[name] = hook
}

// cognitoCalls is every Cognito operation the fake saw, for budget checks.
func (d *memUsers) cognitoCalls() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.hooks.calls {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

func (d *memUsers) resetCalls() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks.calls = map[string]int{}
}

func (d *memUsers) user(name string) (memUser, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[name]
	if !ok {
		return memUser{}, false
	}
	return *u, true
}

func notFoundUser(name string) error { return &kakaoauth.NotFound{What: "user " + name} }

func (d *memUsers) GetUser(_ context.Context, username string) (kakaoauth.CognitoUser, error) {
	unlock, err := d.op("AdminGetUser")
	if err != nil {
		return kakaoauth.CognitoUser{}, err
	}
	defer unlock()
	u, ok := d.users[username]
	if !ok {
		return kakaoauth.CognitoUser{}, notFoundUser(username)
	}
	return u.CognitoUser, nil
}

func (d *memUsers) FindByEmail(_ context.Context, email string) ([]kakaoauth.CognitoUser, error) {
	unlock, err := d.op("ListUsers")
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []kakaoauth.CognitoUser
	for _, u := range d.users {
		if u.Email != "" && strings.EqualFold(u.Email, email) {
			out = append(out, u.CognitoUser)
		}
	}
	return out, nil
}

func (d *memUsers) CreateUser(_ context.Context, nu kakaoauth.NewCognitoUser) (kakaoauth.CognitoUser, error) {
	unlock, err := d.op("AdminCreateUser")
	if err != nil {
		return kakaoauth.CognitoUser{}, err
	}
	defer unlock()
	name := kakaoauth.Username(nu.KakaoID)
	if d.noCreate {
		return kakaoauth.CognitoUser{}, &kakaoauth.AccountNotLinked{KakaoID: nu.KakaoID, Reason: "Username should be either an email or a phone number."}
	}
	if _, ok := d.users[name]; ok {
		return kakaoauth.CognitoUser{}, &kakaoauth.UserExists{Username: name}
	}
	if d.aliasTaken(nu.Email, name) {
		if d.aliasAsUsernameExists {
			return kakaoauth.CognitoUser{}, &kakaoauth.UserExists{Username: name}
		}
		return kakaoauth.CognitoUser{}, &kakaoauth.AccountConflict{KakaoID: nu.KakaoID}
	}
	d.nextSub++
	u := &memUser{
		CognitoUser: kakaoauth.CognitoUser{Username: name, Sub: fmt.Sprintf("sub-%d", d.nextSub), KakaoID: nu.KakaoID,
			Email: nu.Email, EmailVerified: nu.Email != "", Nickname: nu.Nickname, Enabled: true, Status: kakaoauth.UserStatusForceChangePassword},
		password: nu.TemporaryPassword, forceChange: true,
	}
	d.users[name] = u
	return u.CognitoUser, nil
}

// aliasTaken says another user has email verified: Cognito's email alias
// keeps verified emails unique (AliasExistsException). Called locked.
func (d *memUsers) aliasTaken(email, except string) bool {
	if email == "" {
		return false
	}
	for name, u := range d.users {
		if name != except && u.EmailVerified && strings.EqualFold(u.Email, email) {
			return true
		}
	}
	return false
}

func (d *memUsers) addNative(username, email string) kakaoauth.CognitoUser {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextSub++
	u := &memUser{CognitoUser: kakaoauth.CognitoUser{Username: username, Sub: fmt.Sprintf("sub-%d", d.nextSub), Email: email,
		EmailVerified: email != "", Enabled: true, Status: "CONFIRMED"}, password: "native-password-" + username}
	d.users[username] = u
	return u.CognitoUser
}

// deleteBehindTheBrokersBack is an administrator's AdminDeleteUser, or
// the user's own DeleteUser.
func (d *memUsers) deleteBehindTheBrokersBack(username string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.users, username)
}

func (d *memUsers) UpdateProfile(_ context.Context, username, email, nickname string) error {
	unlock, err := d.op("AdminUpdateUserAttributes")
	if err != nil {
		return err
	}
	defer unlock()
	u, ok := d.users[username]
	if !ok {
		return notFoundUser(username)
	}
	if d.aliasTaken(email, username) {
		return &kakaoauth.AccountConflict{KakaoID: u.KakaoID}
	}
	u.Email, u.EmailVerified = email, email != ""
	if nickname != "" {
		u.Nickname = nickname
	}
	return nil
}

func (d *memUsers) DeleteUser(_ context.Context, username string) error {
	unlock, err := d.op("AdminDeleteUser")
	if err != nil {
		return err
	}
	defer unlock()
	delete(d.users, username)
	return nil
}

func (d *memUsers) SetPassword(_ context.Context, username, pw string) error {
	unlock, err := d.op("AdminSetUserPassword")
	if err != nil {
		return err
	}
	defer unlock()
	u, ok := d.users[username]
	if !ok {
		return notFoundUser(username)
	}
	u.password, u.forceChange, u.Status = pw, false, "CONFIRMED"
	return nil
}

func (d *memUsers) SignIn(_ context.Context, in kakaoauth.SignIn) (kakaoauth.CognitoTokens, error) {
	unlock, err := d.op("AdminInitiateAuth")
	if err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	defer unlock()
	d.metadata = in.Metadata
	if in.Metadata[ProofMetadataKey] == "" {
		return kakaoauth.CognitoTokens{}, fmt.Errorf("no proof")
	}
	u, ok := d.users[in.Username]
	switch {
	case !ok && d.legacyExistenceErrors:
		return kakaoauth.CognitoTokens{}, notFoundUser(in.Username)
	case !ok:
		return kakaoauth.CognitoTokens{}, &kakaoauth.PasswordRotated{Username: in.Username}
	case !u.Enabled:
		return kakaoauth.CognitoTokens{}, &kakaoauth.AccountDisabled{Username: in.Username}
	case u.password != in.Password:
		return kakaoauth.CognitoTokens{}, &kakaoauth.PasswordRotated{Username: in.Username}
	case u.forceChange && in.NewPassword == "":
		return kakaoauth.CognitoTokens{}, &kakaoauth.PasswordRotated{Username: in.Username}
	case u.forceChange:
		if err := d.hooks.hit("AdminRespondToAuthChallenge"); err != nil {
			return kakaoauth.CognitoTokens{}, err
		}
		u.password, u.forceChange, u.Status = in.NewPassword, false, "CONFIRMED"
	}
	d.nextRT++
	rt := fmt.Sprintf("rt-%d", d.nextRT)
	d.refresh[rt] = in.Username
	return kakaoauth.CognitoTokens{IDToken: "id." + in.Username, AccessToken: "at." + in.Username, RefreshToken: rt, ExpiresIn: 3600, TokenType: "Bearer"}, nil
}

// SignInWithChallenge runs CUSTOM_AUTH as Cognito does: the pool's
// DefineAuthChallenge, CreateAuthChallenge and VerifyAuthChallenge
// triggers (the real handlers) decide, with the broker's client.
func (d *memUsers) SignInWithChallenge(ctx context.Context, in kakaoauth.ChallengeSignIn) (kakaoauth.CognitoTokens, error) {
	unlock, err := d.op("AdminInitiateAuth")
	if err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	u, ok := d.users[in.Username]
	var attrs map[string]string
	if ok {
		attrs = map[string]string{"sub": u.Sub}
	}
	enabled := ok && u.Enabled
	var status string
	if ok {
		status = u.Status
	}
	// Cognito runs PreAuthentication for CUSTOM_AUTH too, and the stack's
	// refuses a user kakaoauth created (no password proof here).
	created := ok && kakaoauth.CreatedByKakaoauth(u.CognitoUser)
	unlock()
	if created && enabled {
		return kakaoauth.CognitoTokens{}, fmt.Errorf("cognito: custom auth: UserLambdaValidationException: PreAuthentication failed with error %s", (&PasswordSignInBlocked{}).Error())
	}
	switch {
	case !ok && d.legacyExistenceErrors:
		return kakaoauth.CognitoTokens{}, notFoundUser(in.Username)
	case !ok:
		// ENABLED: Cognito runs the challenge with userNotFound and
		// refuses the answer, as it would a wrong one.
		unlock, err := d.op("AdminRespondToAuthChallenge")
		if err != nil {
			return kakaoauth.CognitoTokens{}, err
		}
		unlock()
		return kakaoauth.CognitoTokens{}, &kakaoauth.ChallengeRefused{Username: in.Username, Reason: "Incorrect username or password."}
	case !enabled:
		return kakaoauth.CognitoTokens{}, &kakaoauth.AccountDisabled{Username: in.Username}
	case status == "UNCONFIRMED", status == "RESET_REQUIRED":
		// UserNotConfirmedException, PasswordResetRequiredException, as
		// the Directory names them.
		return kakaoauth.CognitoTokens{}, &kakaoauth.KakaoSignInUnavailable{Username: in.Username, Reason: status}
	case status == "EXTERNAL_PROVIDER":
		// The API signs in no federated user; how Cognito words it is not
		// documented: the least telling refusal, a wrong answer's.
		return kakaoauth.CognitoTokens{}, &kakaoauth.ChallengeRefused{Username: in.Username, Reason: "Incorrect username or password."}
	case d.triggers == nil:
		return kakaoauth.CognitoTokens{}, fmt.Errorf("no custom auth triggers")
	}
	header := events.CognitoEventUserPoolsHeader{UserPoolID: poolID, UserName: in.Username,
		CallerContext: events.CognitoEventUserPoolsCallerContext{ClientID: d.clientID}}
	def := events.CognitoEventUserPoolsDefineAuthChallenge{CognitoEventUserPoolsHeader: header}
	def.Request.UserAttributes = attrs
	if def, err = d.triggers.DefineAuthChallenge(ctx, def); err != nil || def.Response.FailAuthentication || def.Response.ChallengeName != CustomChallenge {
		return kakaoauth.CognitoTokens{}, &kakaoauth.ChallengeRefused{Username: in.Username, Reason: fmt.Sprintf("define: %v", err)}
	}
	create := events.CognitoEventUserPoolsCreateAuthChallenge{CognitoEventUserPoolsHeader: header}
	create.Request.ChallengeName, create.Request.UserAttributes = CustomChallenge, attrs
	if create, err = d.triggers.CreateAuthChallenge(ctx, create); err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	answer, err := in.Answer(d.clientID, create.Response.PublicChallengeParameters[kakaoauth.ChallengeParameter])
	if err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	unlock, err = d.op("AdminRespondToAuthChallenge")
	if err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	unlock()
	verify := events.CognitoEventUserPoolsVerifyAuthChallenge{CognitoEventUserPoolsHeader: header}
	verify.Request.UserAttributes, verify.Request.PrivateChallengeParameters, verify.Request.ChallengeAnswer =
		attrs, create.Response.PrivateChallengeParameters, answer
	if verify, err = d.triggers.VerifyAuthChallenge(ctx, verify); err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	def.Request.Session = []*events.CognitoEventUserPoolsChallengeResult{{ChallengeName: CustomChallenge,
		ChallengeResult: verify.Response.AnswerCorrect, ChallengeMetadata: create.Response.ChallengeMetadata}}
	if def, err = d.triggers.DefineAuthChallenge(ctx, def); err != nil || !def.Response.IssueTokens {
		return kakaoauth.CognitoTokens{}, &kakaoauth.ChallengeRefused{Username: in.Username, Reason: fmt.Sprintf("answer: %v", err)}
	}
	if d.nextChallenge != "" {
		return kakaoauth.CognitoTokens{}, &kakaoauth.KakaoSignInUnavailable{Username: in.Username, Reason: "cognito asked for " + d.nextChallenge + " after the answer"}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextRT++
	rt := fmt.Sprintf("rt-%d", d.nextRT)
	d.refresh[rt] = in.Username
	return kakaoauth.CognitoTokens{IDToken: "id." + in.Username, AccessToken: "at." + in.Username, RefreshToken: rt, ExpiresIn: 3600, TokenType: "Bearer"}, nil
}

func (d *memUsers) RevokeToken(_ context.Context, rt string) error {
	unlock, err := d.op("RevokeToken")
	if err != nil {
		return err
	}
	defer unlock()
	delete(d.refresh, rt)
	return nil
}

// password is a user's current password (a native user's own).
func (d *memUsers) password(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u, ok := d.users[name]; ok {
		return u.password
	}
	return ""
}

// refreshWorks says whether a refresh token would still get new tokens.
func (d *memUsers) refreshWorks(rt string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	name, ok := d.refresh[rt]
	if !ok {
		return false
	}
	u, ok := d.users[name]
	return ok && u.Enabled
}

func (d *memUsers) DisableUser(_ context.Context, username string) error {
	return d.setEnabled("AdminDisableUser", username, false)
}

func (d *memUsers) EnableUser(_ context.Context, username string) error {
	return d.setEnabled("AdminEnableUser", username, true)
}

func (d *memUsers) setEnabled(op, username string, enabled bool) error {
	unlock, err := d.op(op)
	if err != nil {
		return err
	}
	defer unlock()
	u, ok := d.users[username]
	if !ok {
		return notFoundUser(username)
	}
	u.Enabled = enabled
	return nil
}

func (d *memUsers) SignOut(_ context.Context, username string) error {
	unlock, err := d.op("AdminUserGlobalSignOut")
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := d.users[username]; !ok {
		return notFoundUser(username)
	}
	for rt, name := range d.refresh {
		if name == username {
			delete(d.refresh, rt)
		}
	}
	return nil
}

type memMappings struct {
	mu     sync.Mutex
	hooks  hooks
	rows   map[int64]kakaoauth.Mapping
	claims map[string]memClaim // by sub
}

type memClaim struct {
	holder int64
	at     time.Time
}

func newMemMappings() *memMappings {
	return &memMappings{hooks: newHooks(), rows: map[int64]kakaoauth.Mapping{}, claims: map[string]memClaim{}}
}

func (s *memMappings) op(name string) (func(), error) {
	s.mu.Lock()
	hook := s.hooks.before[name]
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	s.mu.Lock()
	if err := s.hooks.hit(name); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return s.mu.Unlock, nil
}

func (s *memMappings) calls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hooks.calls[name]
}

func (s *memMappings) failNext(name string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.failNext[name] = append(s.hooks.failNext[name], errs...)
}

func (s *memMappings) before(name string, hook func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.before[name] = hook
}

func (s *memMappings) resetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.calls = map[string]int{}
}

func (s *memMappings) row(id int64) kakaoauth.Mapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows[id]
}

func (s *memMappings) put(m kakaoauth.Mapping) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[m.KakaoID] = m
}

func mappingNotFound() error { return &kakaoauth.NotFound{What: "mapping"} }

func (s *memMappings) Get(_ context.Context, id int64) (kakaoauth.Mapping, error) {
	unlock, err := s.op("GetItem")
	if err != nil {
		return kakaoauth.Mapping{}, err
	}
	defer unlock()
	m, ok := s.rows[id]
	if !ok {
		return m, mappingNotFound()
	}
	return m, nil
}

func (s *memMappings) GetBySub(_ context.Context, sub string) (kakaoauth.Mapping, error) {
	unlock, err := s.op("Query")
	if err != nil {
		return kakaoauth.Mapping{}, err
	}
	defer unlock()
	for _, m := range s.rows {
		if m.Sub == sub {
			return m, nil
		}
	}
	return kakaoauth.Mapping{}, mappingNotFound()
}

func (s *memMappings) Create(_ context.Context, m kakaoauth.Mapping) error {
	unlock, err := s.op("PutItem")
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := s.rows[m.KakaoID]; ok {
		return &kakaoauth.MappingExists{KakaoID: m.KakaoID}
	}
	if m.ActiveSince.IsZero() {
		m.ActiveSince = m.CreatedAt
	}
	if m.Kind == "" {
		m.Kind = kakaoauth.KindCreated
	}
	if m.EventPending && len(m.Outbox) == 0 {
		m.Outbox = []kakaoauth.LifecycleEvent{m.LastEvent}
	}
	s.rows[m.KakaoID] = m
	return nil
}

// record makes e the row's last event and appends it to the outbox, as
// the store's recordEvent does.
func record(m *kakaoauth.Mapping, e kakaoauth.LifecycleEvent) {
	m.LastEvent, m.EventPending = e, true
	m.Outbox = append(slices.Clone(m.Outbox), e)
}

// update runs fn on the row under the lock, as one conditional
// UpdateItem.
func (s *memMappings) update(id int64, fn func(m *kakaoauth.Mapping) error) error {
	unlock, err := s.op("UpdateItem")
	if err != nil {
		return err
	}
	defer unlock()
	m, ok := s.rows[id]
	if !ok {
		return mappingNotFound()
	}
	if err := fn(&m); err != nil {
		return err
	}
	s.rows[id] = m
	return nil
}

func (s *memMappings) RecordLogin(_ context.Context, r kakaoauth.LoginRecord) error {
	return s.update(r.KakaoID, func(m *kakaoauth.Mapping) error {
		if m.Status != kakaoauth.StatusActive {
			return &kakaoauth.NotActive{KakaoID: r.KakaoID, Status: m.Status}
		}
		m.LastLoginAt = r.At
		if r.Email != nil {
			m.Email = *r.Email
		}
		if r.AppliedNonce != "" && r.AppliedNonce == m.PasswordNonce {
			m.PasswordState = kakaoauth.PasswordApplied
		}
		return nil
	})
}

func (s *memMappings) ClaimPassword(_ context.Context, id int64, prev kakaoauth.PasswordClaim, next string, pepperVersion int, at time.Time) error {
	return s.update(id, func(m *kakaoauth.Mapping) error {
		if m.Status != kakaoauth.StatusActive {
			return &kakaoauth.NotActive{KakaoID: id, Status: m.Status}
		}
		if m.PasswordNonce != prev.Nonce || m.PasswordState != prev.State {
			return &kakaoauth.NonceChanged{KakaoID: id}
		}
		m.PasswordNonce, m.PasswordState, m.PasswordSetAt, m.PepperVersion = next, kakaoauth.PasswordPending, at, pepperVersion
		return nil
	})
}

func (s *memMappings) SetPasswordState(_ context.Context, id int64, nonce, state string) error {
	return s.update(id, func(m *kakaoauth.Mapping) error {
		if m.PasswordNonce != nonce {
			return &kakaoauth.NonceChanged{KakaoID: id}
		}
		m.PasswordState = state
		return nil
	})
}

// changed turns a failed condition into (false, nil), as the store does.
func changed(err error) (bool, error) {
	if err == errConditionFailed {
		return false, nil
	}
	return err == nil, err
}

var errConditionFailed = fmt.Errorf("condition failed")

func (s *memMappings) MarkUnlinked(_ context.Context, id int64, receivedAt time.Time, e kakaoauth.LifecycleEvent) (bool, error) {
	return changed(s.update(id, func(m *kakaoauth.Mapping) error {
		if m.Status != kakaoauth.StatusActive || m.ActiveSince.After(receivedAt) {
			return errConditionFailed
		}
		m.Status, m.UnlinkedAt, m.Unlinking = kakaoauth.StatusUnlinked, receivedAt, ""
		m.EmailKeptUntil = e.Time.Add(memEmailRetention)
		record(m, e)
		return nil
	}))
}

func (s *memMappings) MarkRelinked(_ context.Context, r kakaoauth.Relink) error {
	return s.update(r.KakaoID, func(m *kakaoauth.Mapping) error {
		if m.Status != kakaoauth.StatusUnlinked || !m.UnlinkedAt.Equal(r.UnlinkedAt) {
			return &kakaoauth.StaleTransition{KakaoID: r.KakaoID}
		}
		m.Status, m.ActiveSince, m.RelinkedAt, m.Email = kakaoauth.StatusActive, r.At, r.At, r.Email
		m.EmailKeptUntil, m.Unlinking = time.Time{}, ""
		record(m, r.Event)
		return nil
	})
}

func (s *memMappings) MarkDeleted(_ context.Context, id int64, receivedAt time.Time, e kakaoauth.LifecycleEvent) (bool, error) {
	return changed(s.update(id, func(m *kakaoauth.Mapping) error {
		if m.Status == kakaoauth.StatusDeleted || m.ActiveSince.After(receivedAt) {
			return errConditionFailed
		}
		m.Status, m.UnlinkedAt, m.DeletedAt = kakaoauth.StatusDeleted, receivedAt, e.Time
		m.Email, m.PasswordNonce, m.PasswordState, m.PasswordSetAt, m.PepperVersion = "", "", "", time.Time{}, 0
		m.EmailKeptUntil, m.Unlinking, m.PIIScrubAt = time.Time{}, "", e.Time.Add(memPIIRetention)
		record(m, e)
		return nil
	}))
}

func (s *memMappings) Repoint(_ context.Context, r kakaoauth.Repoint) error {
	return s.update(r.KakaoID, func(m *kakaoauth.Mapping) error {
		if m.Sub != r.FromSub || m.Status != r.FromStatus {
			return &kakaoauth.StaleTransition{KakaoID: r.KakaoID}
		}
		m.PreviousSubs = append(slices.Clone(m.PreviousSubs), m.Sub)
		m.Sub, m.Username, m.Status, m.ActiveSince, m.Email = r.User.Sub, r.User.Username, kakaoauth.StatusActive, r.At, r.Email
		m.Kind = kakaoauth.KindCreated
		m.PasswordNonce, m.PasswordState, m.PasswordSetAt, m.PepperVersion = r.Nonce, kakaoauth.PasswordTemporary, r.At, r.PepperVersion
		if r.Kind == kakaoauth.KindLinked {
			m.Kind, m.PasswordNonce, m.PasswordState, m.PasswordSetAt, m.PepperVersion = kakaoauth.KindLinked, "", "", time.Time{}, 0
		}
		m.DeletedAt, m.PIIScrubAt, m.EmailKeptUntil, m.Unlinking = time.Time{}, time.Time{}, time.Time{}, ""
		if !r.RecreatedSince.IsZero() {
			m.RecreatedSince, m.Recreations = r.RecreatedSince, r.Recreations
		}
		record(m, r.Event)
		return nil
	})
}

func (s *memMappings) EventDone(_ context.Context, id int64, eventID string) error {
	err := s.update(id, func(m *kakaoauth.Mapping) error {
		m.Outbox = slices.DeleteFunc(slices.Clone(m.Outbox), func(e kakaoauth.LifecycleEvent) bool { return e.ID == eventID })
		m.EventPending = len(m.Outbox) > 0
		return nil
	})
	if _, nf := err.(*kakaoauth.NotFound); nf {
		return nil
	}
	return err
}

func (s *memMappings) ClaimUser(_ context.Context, sub string, kakaoID, stale int64, at time.Time) error {
	unlock, err := s.op("PutItem")
	if err != nil {
		return err
	}
	defer unlock()
	c, ok := s.claims[sub]
	if ok && c.holder != kakaoID && (stale == 0 || c.holder != stale) {
		return &kakaoauth.UserClaimed{Sub: sub, KakaoID: c.holder, At: c.at}
	}
	s.claims[sub] = memClaim{holder: kakaoID, at: at}
	return nil
}

func (s *memMappings) ReleaseUser(_ context.Context, sub string, kakaoID int64) error {
	unlock, err := s.op("DeleteItem")
	if err != nil {
		return err
	}
	defer unlock()
	if c, ok := s.claims[sub]; ok && c.holder == kakaoID {
		delete(s.claims, sub)
	}
	return nil
}

func (s *memMappings) ClaimOf(_ context.Context, sub string) (int64, error) {
	unlock, err := s.op("GetItem")
	if err != nil {
		return 0, err
	}
	defer unlock()
	c, ok := s.claims[sub]
	if !ok {
		return 0, &kakaoauth.NotFound{What: "claim"}
	}
	return c.holder, nil
}

// claim is who holds sub (0: nobody).
func (s *memMappings) claim(sub string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims[sub].holder
}

// The retention the in-memory store gives (the store's defaults).
const (
	memEmailRetention = 30 * 24 * time.Hour
	memPIIRetention   = 30 * 24 * time.Hour
)

func (s *memMappings) SetBan(_ context.Context, id int64, ban kakaoauth.Ban, e kakaoauth.LifecycleEvent) error {
	return s.update(id, func(m *kakaoauth.Mapping) error {
		b := ban
		m.Ban = &b
		record(m, e)
		return nil
	})
}

func (s *memMappings) InferBan(_ context.Context, id int64, ban kakaoauth.Ban, e kakaoauth.LifecycleEvent) (bool, error) {
	return changed(s.update(id, func(m *kakaoauth.Mapping) error {
		if m.Status != kakaoauth.StatusActive || m.Ban != nil || m.Unlinking != "" {
			return errConditionFailed
		}
		b := ban
		m.Ban = &b
		record(m, e)
		return nil
	}))
}

func (s *memMappings) LiftBan(_ context.Context, id int64, banAt time.Time, e kakaoauth.LifecycleEvent) error {
	return s.update(id, func(m *kakaoauth.Mapping) error {
		if m.Ban == nil || !m.Ban.At.Equal(banAt) {
			return &kakaoauth.StaleTransition{KakaoID: id}
		}
		m.Ban = nil
		record(m, e)
		return nil
	})
}

func (s *memMappings) BeginUnlink(_ context.Context, id int64, requestID string) error {
	return s.update(id, func(m *kakaoauth.Mapping) error {
		m.Unlinking = requestID
		return nil
	})
}

type memAudit struct {
	mu     sync.Mutex
	events []kakaoauth.AuditEvent
	fail   error
}

func (a *memAudit) Record(_ context.Context, e kakaoauth.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	if e.ID != "" {
		for _, old := range a.events {
			if old.ID == e.ID {
				return nil // idempotent, as the store's conditional put
			}
		}
	}
	a.events = append(a.events, e)
	return nil
}

func (a *memAudit) types() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		s := e.Type
		if e.Error != "" {
			s += ":" + e.Error
		}
		out = append(out, s)
	}
	return out
}

func (a *memAudit) all() []kakaoauth.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}

type memEvents struct {
	mu     sync.Mutex
	events []kakaoauth.LifecycleEvent
	fail   []error
}

func (p *memEvents) Publish(_ context.Context, e kakaoauth.LifecycleEvent) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.fail) > 0 {
		err := p.fail[0]
		p.fail = p.fail[1:]
		return err
	}
	p.events = append(p.events, e)
	return nil
}

func (p *memEvents) types() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.events {
		out = append(out, e.Type)
	}
	return out
}

func (p *memEvents) all() []kakaoauth.LifecycleEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

type memQueue struct {
	mu       sync.Mutex
	requests []kakaoauth.UnlinkRequest
	messages []kakaoauth.UnlinkMessage
	err      error
}

func (q *memQueue) Enqueue(_ context.Context, m kakaoauth.UnlinkMessage) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	r, err := DecodeUnlinkRequest(m.Body)
	if err != nil {
		return err
	}
	q.requests = append(q.requests, r)
	q.messages = append(q.messages, m)
	return nil
}

var (
	_ kakaoauth.KakaoVerifier  = (*memKakao)(nil)
	_ kakaoauth.UserDirectory  = (*memUsers)(nil)
	_ kakaoauth.MappingStore   = (*memMappings)(nil)
	_ kakaoauth.AuditLog       = (*memAudit)(nil)
	_ kakaoauth.EventPublisher = (*memEvents)(nil)
	_ kakaoauth.UnlinkQueue    = (*memQueue)(nil)
)
