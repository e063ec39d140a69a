package tryit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

// Accounts reads a Kakao account's mapping (the store adapter).
type Accounts interface {
	Get(ctx context.Context, kakaoID int64) (kakaoauth.Mapping, error)
}

var _ Accounts = (*store.Mappings)(nil)

type unlinkRequest struct {
	KakaoID int64 `json:"kakao_id"`
}

type unlinkAnswer struct {
	// CallbackStatus is what the stack's unlink webhook answered Kakao.
	CallbackStatus int   `json:"callback_status"`
	KakaoMS        int64 `json:"kakao_ms"`
}

// unlink plays the user unlinking the app at Kakao: the double revokes the
// user's Kakao tokens and calls the stack's unlink webhook, as Kakao does.
func (p *Page) unlink(w http.ResponseWriter, r *http.Request) {
	if p.double == "" {
		writeError(w, http.StatusNotFound, "NotAvailable", "Unlink at Kakao is available on the local stack only.")
		return
	}
	var req unlinkRequest
	if !p.decode(w, r, &req) {
		return
	}
	if req.KakaoID <= 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "kakao_id must be a positive number.")
		return
	}
	body, _ := json.Marshal(map[string]any{"user_id": req.KakaoID, "referrer_type": "UNLINK_FROM_APPS"})
	ctx, cancel, elapsed := p.upstream(r.Context())
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.double+"/_fake/unlink", bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "Internal error.")
		return
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set(PageHeader, "1")
	resp, err := p.http.Do(hreq)
	ms := elapsed()
	if err != nil {
		p.hop(ctx, "kakao unlink", "unreachable", ms)
		writeError(w, http.StatusBadGateway, "KakaoUnavailable", "The Kakao double did not answer.")
		return
	}
	defer resp.Body.Close()
	var out struct {
		CallbackStatus int    `json:"callback_status"`
		Error          string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out)
	if out.CallbackStatus == 0 {
		// The double could not deliver the callback at all.
		p.hop(ctx, "kakao unlink", "not delivered", ms)
		writeError(w, http.StatusBadGateway, "UnlinkNotDelivered", "The Kakao double could not deliver the unlink callback: "+out.Error)
		return
	}
	p.hop(ctx, "kakao unlink", "callback "+strconv.Itoa(out.CallbackStatus), ms)
	writeJSON(w, http.StatusOK, unlinkAnswer{CallbackStatus: out.CallbackStatus, KakaoMS: ms})
}

// accountAnswer is a mapping as the page shows it: its status, its user,
// its history (times, previous subs) and its last lifecycle transition,
// never its email or password fields.
type accountAnswer struct {
	KakaoID      int64        `json:"kakao_id"`
	Status       string       `json:"status"`
	Sub          string       `json:"sub"`
	Username     string       `json:"username"`
	CreatedAt    string       `json:"created_at,omitempty"`
	ActiveSince  string       `json:"active_since,omitempty"`
	LastLoginAt  string       `json:"last_login_at,omitempty"`
	UnlinkedAt   string       `json:"unlinked_at,omitempty"`
	RelinkedAt   string       `json:"relinked_at,omitempty"`
	DeletedAt    string       `json:"deleted_at,omitempty"`
	PreviousSubs []string     `json:"previous_subs,omitempty"`
	LastEvent    *eventAnswer `json:"last_event,omitempty"`
}

// eventAnswer is a mapping's last lifecycle transition (user_created,
// unlinked, relinked, deleted, recreated): with its time the page tells
// what the login it just made did to the account.
type eventAnswer struct {
	Type        string `json:"type"`
	Time        string `json:"time"`
	Sub         string `json:"sub"`
	PreviousSub string `json:"previous_sub,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

func newAccountAnswer(m kakaoauth.Mapping) accountAnswer {
	ans := accountAnswer{KakaoID: m.KakaoID, Status: m.Status, Sub: m.Sub, Username: m.Username, PreviousSubs: m.PreviousSubs,
		CreatedAt: formatTime(m.CreatedAt), ActiveSince: formatTime(m.ActiveSince), LastLoginAt: formatTime(m.LastLoginAt),
		UnlinkedAt: formatTime(m.UnlinkedAt), RelinkedAt: formatTime(m.RelinkedAt), DeletedAt: formatTime(m.DeletedAt)}
	if e := m.LastEvent; e.Type != "" {
		ans.LastEvent = &eventAnswer{Type: e.Type, Time: formatTime(e.Time), Sub: e.Sub, PreviousSub: e.PreviousSub, Reason: e.Reason}
	}
	return ans
}

// formatTime is a stored time as the store writes it; "" for none.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return store.FormatTime(t)
}

// account is the Kakao account's mapping as the stack keeps it: the page
// polls it to watch an unlink land, however the stack processes it, and
// reads it after a login to say what the login did (created, re-linked,
// recreated the user).
func (p *Page) account(w http.ResponseWriter, r *http.Request) {
	if p.accounts == nil {
		writeError(w, http.StatusNotFound, "NotAvailable", "The account's state is shown on the local stack only.")
		return
	}
	if !p.sameOrigin(w, r) {
		return
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("kakao_id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "kakao_id must be a positive number.")
		return
	}
	ctx, cancel, _ := p.upstream(r.Context())
	defer cancel()
	m, err := p.accounts.Get(ctx, id)
	var notFound *kakaoauth.NotFound
	switch {
	case errors.As(err, &notFound):
		writeError(w, http.StatusNotFound, "NotFound", "No mapping for this Kakao account.")
		return
	case err != nil:
		p.log.ErrorContext(ctx, "tryit account read failed", "kakaoId", id, "error", err.Error())
		writeError(w, http.StatusBadGateway, "StoreUnavailable", "The mapping table did not answer.")
		return
	}
	writeJSON(w, http.StatusOK, newAccountAnswer(m))
}
