package workflow

import (
	"context"
	"sync"

	"github.com/kakaoauth/kakaoauth"
)

// In-memory stand-ins for the hosted-UI ports (shared/kakao's Accounts
// and shared/cognito's Federation and AppClients are tested against the
// Kakao double, moto and recorded SDK requests).

// memAccounts answers Kakao's admin lookup from a table: an account that
// is not in it is not linked to the app.
type memAccounts struct {
	mu       sync.Mutex
	ids      map[int64]kakaoauth.KakaoIdentity
	err      error
	before   func()
	calls    int
	unlinked []int64 // Unlink calls (Kakao's unlink API)
	unErr    error
}

func (a *memAccounts) Unlink(_ context.Context, kakaoID int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unErr != nil {
		return a.unErr
	}
	a.unlinked = append(a.unlinked, kakaoID)
	delete(a.ids, kakaoID)
	return nil
}

func (a *memAccounts) Lookup(_ context.Context, kakaoID int64) (kakaoauth.KakaoIdentity, error) {
	a.mu.Lock()
	hook := a.before
	a.mu.Unlock()
	if hook != nil {
		hook()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.err != nil {
		return kakaoauth.KakaoIdentity{}, a.err
	}
	id, ok := a.ids[kakaoID]
	if !ok {
		return kakaoauth.KakaoIdentity{}, &kakaoauth.AccountUnlinked{KakaoID: kakaoID}
	}
	id.EmailChecked = true
	return id, nil
}

func (a *memAccounts) set(id kakaoauth.KakaoIdentity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids[id.KakaoID] = id
}

func (a *memAccounts) remove(kakaoID int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.ids, kakaoID)
}

// linkRecord is one AdminLinkProviderForUser: the destination user as it
// was when linked.
type linkRecord struct {
	kakaoID  int64
	username string
	sub      string
	enabled  bool
	// confirmed: the user had a permanent password (not
	// FORCE_CHANGE_PASSWORD) when it was linked.
	confirmed bool
}

// memLinks keeps the pool's links of Kakao identities to users. Like
// Cognito, it refuses a link to a user that does not exist.
type memLinks struct {
	mu      sync.Mutex
	users   *memUsers
	links   map[int64]string // Kakao id -> username
	history []linkRecord
	unlinks []int64
	linkErr error
	unErr   error
}

func newMemLinks(users *memUsers) *memLinks {
	return &memLinks{users: users, links: map[int64]string{}}
}

func (l *memLinks) Link(_ context.Context, kakaoID int64, username string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.linkErr != nil {
		return l.linkErr
	}
	u, ok := l.users.user(username)
	if !ok {
		return notFoundUser(username)
	}
	l.links[kakaoID] = username
	l.history = append(l.history, linkRecord{kakaoID: kakaoID, username: username, sub: u.Sub, enabled: u.Enabled, confirmed: !u.forceChange})
	return nil
}

func (l *memLinks) Unlink(_ context.Context, kakaoID int64, _ string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unErr != nil {
		return l.unErr
	}
	l.unlinks = append(l.unlinks, kakaoID)
	delete(l.links, kakaoID)
	return nil
}

// linkedTo is the username the Kakao identity signs in as ("" for none).
func (l *memLinks) linkedTo(kakaoID int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.links[kakaoID]
}

func (l *memLinks) linked() []linkRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]linkRecord(nil), l.history...)
}

// memClients describes app clients: federated-only or not, and names.
type memClients struct {
	federatedOnly map[string]bool   // by client id
	names         map[string]string // by client id
	err           error
	asked         []string // pool/client
}

func (c *memClients) Name(_ context.Context, poolID, clientID string) (string, error) {
	c.asked = append(c.asked, poolID+"/"+clientID)
	if c.err != nil {
		return "", c.err
	}
	return c.names[clientID], nil
}

func (c *memClients) FederatedOnly(_ context.Context, poolID, clientID string) (bool, error) {
	c.asked = append(c.asked, poolID+"/"+clientID)
	if c.err != nil {
		return false, c.err
	}
	return c.federatedOnly[clientID], nil
}
