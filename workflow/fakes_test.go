package workflow

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kakaoauth/kakaoauth"
)

// In-memory stand-ins for the ports, with the same conditional semantics
// as the adapters (which are tested against moto in shared/).

type memKakao struct {
	ids map[string]kakaoauth.KakaoIdentity // by access token
	err error
}

func (k *memKakao) Verify(_ context.Context, t kakaoauth.KakaoTokens) (kakaoauth.KakaoIdentity, error) {
	if k.err != nil {
		return kakaoauth.KakaoIdentity{}, k.err
	}
	id, ok := k.ids[t.AccessToken]
	if !ok {
		return id, &kakaoauth.InvalidKakaoToken{Reason: "unknown token"}
	}
	return id, nil
}

type memUsers struct {
	mu        sync.Mutex
	users     map[string]*kakaoauth.CognitoUser
	passwords map[string]string
	nextSub   int
	calls     map[string]int
	failNext  map[string]error
}

func newMemUsers() *memUsers {
	return &memUsers{users: map[string]*kakaoauth.CognitoUser{}, passwords: map[string]string{}, calls: map[string]int{}, failNext: map[string]error{}}
}

func (d *memUsers) hit(op string) error {
	d.calls[op]++
	if err := d.failNext[op]; err != nil {
		delete(d.failNext, op)
		return err
	}
	return nil
}

func (d *memUsers) GetUser(_ context.Context, username string) (kakaoauth.CognitoUser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.hit("GetUser"); err != nil {
		return kakaoauth.CognitoUser{}, err
	}
	u, ok := d.users[username]
	if !ok {
		return kakaoauth.CognitoUser{}, &kakaoauth.NotFound{What: "user"}
	}
	return *u, nil
}

func (d *memUsers) FindByEmail(_ context.Context, email string) ([]kakaoauth.CognitoUser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []kakaoauth.CognitoUser
	for _, u := range d.users {
		if strings.EqualFold(u.Email, email) {
			out = append(out, *u)
		}
	}
	return out, d.hit("FindByEmail")
}

func (d *memUsers) CreateUser(_ context.Context, nu kakaoauth.NewCognitoUser) (kakaoauth.CognitoUser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.hit("CreateUser"); err != nil {
		return kakaoauth.CognitoUser{}, err
	}
	name := kakaoauth.Username(nu.KakaoID)
	if _, ok := d.users[name]; ok {
		return kakaoauth.CognitoUser{}, &kakaoauth.UserExists{Username: name}
	}
	d.nextSub++
	u := &kakaoauth.CognitoUser{Username: name, Sub: fmt.Sprintf("sub-%d", d.nextSub), KakaoID: nu.KakaoID,
		Email: nu.Email, EmailVerified: nu.Email != "", Nickname: nu.Nickname, Enabled: true}
	d.users[name] = u
	return *u, nil
}

func (d *memUsers) addNative(username, email string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextSub++
	d.users[username] = &kakaoauth.CognitoUser{Username: username, Sub: fmt.Sprintf("sub-%d", d.nextSub), Email: email, EmailVerified: true, Enabled: true}
}

func (d *memUsers) UpdateProfile(_ context.Context, username, email, nickname string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.hit("UpdateProfile"); err != nil {
		return err
	}
	u, ok := d.users[username]
	if !ok {
		return &kakaoauth.NotFound{What: "user"}
	}
	u.Email, u.EmailVerified, u.Nickname = email, email != "", nickname
	return nil
}

func (d *memUsers) DeleteUser(_ context.Context, username string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.hit("DeleteUser"); err != nil {
		return err
	}
	delete(d.users, username)
	return nil
}

func (d *memUsers) SetPassword(_ context.Context, username, pw string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.hit("SetPassword"); err != nil {
		return err
	}
	if _, ok := d.users[username]; !ok {
		return &kakaoauth.NotFound{What: "user"}
	}
	d.passwords[username] = pw
	return nil
}

func (d *memUsers) SignIn(_ context.Context, username, pw string, md map[string]string) (kakaoauth.CognitoTokens, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.hit("SignIn"); err != nil {
		return kakaoauth.CognitoTokens{}, err
	}
	if md[ProofMetadataKey] == "" {
		return kakaoauth.CognitoTokens{}, fmt.Errorf("no proof")
	}
	if cur, ok := d.passwords[username]; !ok || cur != pw {
		return kakaoauth.CognitoTokens{}, &kakaoauth.PasswordRotated{Username: username}
	}
	return kakaoauth.CognitoTokens{IDToken: "id." + username, AccessToken: "at." + username, RefreshToken: "rt." + username, ExpiresIn: 3600, TokenType: "Bearer"}, nil
}

func (d *memUsers) DisableAndSignOut(_ context.Context, username string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u, ok := d.users[username]; ok {
		u.Enabled = false
	}
	return d.hit("DisableAndSignOut")
}

type memMappings struct {
	mu       sync.Mutex
	rows     map[int64]kakaoauth.Mapping
	failNext map[string]error
}

func newMemMappings() *memMappings {
	return &memMappings{rows: map[int64]kakaoauth.Mapping{}, failNext: map[string]error{}}
}

func (s *memMappings) fail(op string) error {
	if err := s.failNext[op]; err != nil {
		delete(s.failNext, op)
		return err
	}
	return nil
}

func (s *memMappings) Get(_ context.Context, id int64) (kakaoauth.Mapping, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.rows[id]
	if !ok {
		return m, &kakaoauth.NotFound{What: "mapping"}
	}
	return m, nil
}

func (s *memMappings) GetBySub(_ context.Context, sub string) (kakaoauth.Mapping, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.rows {
		if m.Sub == sub {
			return m, nil
		}
	}
	return kakaoauth.Mapping{}, &kakaoauth.NotFound{What: "mapping"}
}

func (s *memMappings) Create(_ context.Context, m kakaoauth.Mapping) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail("Create"); err != nil {
		return err
	}
	if _, ok := s.rows[m.KakaoID]; ok {
		return &kakaoauth.MappingExists{KakaoID: m.KakaoID}
	}
	s.rows[m.KakaoID] = m
	return nil
}

func (s *memMappings) RecordLogin(_ context.Context, id int64, at time.Time, email *string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.rows[id]
	m.LastLoginAt = at
	if email != nil {
		m.Email = *email
	}
	s.rows[id] = m
	return nil
}

func (s *memMappings) SwapPasswordNonce(_ context.Context, id int64, prev, next string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.rows[id]
	if !ok {
		return &kakaoauth.NotFound{What: "mapping"}
	}
	if m.PasswordNonce != prev {
		return &kakaoauth.NonceChanged{KakaoID: id}
	}
	m.PasswordNonce, m.PasswordSetAt = next, at
	s.rows[id] = m
	return nil
}

func (s *memMappings) MarkUnlinked(_ context.Context, id int64, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.rows[id]
	if !ok {
		return false, &kakaoauth.NotFound{What: "mapping"}
	}
	if m.Status == kakaoauth.StatusUnlinked {
		return false, nil
	}
	m.Status = kakaoauth.StatusUnlinked
	s.rows[id] = m
	return true, nil
}

type memAudit struct {
	mu     sync.Mutex
	events []kakaoauth.AuditEvent
}

func (a *memAudit) Record(_ context.Context, e kakaoauth.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
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

var (
	_ kakaoauth.KakaoVerifier = (*memKakao)(nil)
	_ kakaoauth.UserDirectory = (*memUsers)(nil)
	_ kakaoauth.MappingStore  = (*memMappings)(nil)
	_ kakaoauth.AuditLog      = (*memAudit)(nil)
)
