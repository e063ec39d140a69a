package kakaofake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxControlBody bounds control-API request bodies.
const maxControlBody = 64 << 10

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decode reads a strict JSON body: unknown fields are typos in a test.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		controlError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return false
	}
	return true
}

func (f *Fake) controlUsers(w http.ResponseWriter, r *http.Request) {
	var u User
	if !decode(w, r, &u) {
		return
	}
	if err := f.AddUser(u); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (f *Fake) controlTokens(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if !decode(w, r, &req) {
		return
	}
	t, err := f.mintTokens(req, requestBase(r))
	if err != nil {
		controlError(w, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (f *Fake) controlFaults(w http.ResponseWriter, r *http.Request) {
	var ft Fault
	if !decode(w, r, &ft) {
		return
	}
	if err := f.SetFault(ft); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) controlRotate(w http.ResponseWriter, _ *http.Request) {
	kid, err := f.RotateKey()
	if err != nil {
		controlError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"kid": kid})
}

type unlinkRequest struct {
	UserID       int64  `json:"user_id"`
	ReferrerType string `json:"referrer_type"`
	// DropCallback unlinks without calling back: the callback Kakao sent
	// was lost (only the reconciler can find out).
	DropCallback bool `json:"drop_callback"`
}

// controlUnlink answers with the callback's own status, so a test sees
// exactly what Kakao would have seen.
func (f *Fake) controlUnlink(w http.ResponseWriter, r *http.Request) {
	var req unlinkRequest
	if !decode(w, r, &req) {
		return
	}
	if req.DropCallback {
		if err := f.UnlinkDroppingCallback(req.UserID); err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"callback_status": 0, "dropped": true})
		return
	}
	status, err := f.Unlink(r.Context(), req.UserID, req.ReferrerType)
	switch {
	case errors.Is(err, errNoCallback):
		controlError(w, http.StatusConflict, err.Error())
	case errors.Is(err, errBadUnlink):
		controlError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		controlError(w, http.StatusBadGateway, err.Error())
	default:
		writeJSON(w, status, map[string]int{"callback_status": status})
	}
}

var (
	errNoCallback = errors.New("no unlink callback URL configured")
	errBadUnlink  = errors.New("invalid unlink request")
)

// Unlink plays a user unlinking the app on Kakao's side: the user's tokens
// for the app stop working and the configured callback is called as Kakao
// calls it (POST, form-encoded app_id, user_id, referrer_type, header
// Authorization: KakaoAK <admin key>). Unknown user ids are sent as well,
// since Kakao may call back for users the app never saw. It returns the
// callback's HTTP status. referrerType "" means UNLINK_FROM_APPS.
func (f *Fake) Unlink(ctx context.Context, userID int64, referrerType string) (int, error) {
	if referrerType == "" {
		referrerType = "UNLINK_FROM_APPS"
	}
	if userID <= 0 || !referrerTypes[referrerType] {
		return 0, fmt.Errorf("%w: user_id must be positive and referrer_type one of Kakao's", errBadUnlink)
	}
	if f.cfg.UnlinkCallbackURL == "" {
		return 0, errNoCallback
	}
	f.mu.Lock()
	f.revokeLocked(userID, f.cfg.AppID)
	f.mu.Unlock()

	form := url.Values{
		"app_id":        {strconv.FormatInt(f.cfg.AppID, 10)},
		"user_id":       {strconv.FormatInt(userID, 10)},
		"referrer_type": {referrerType},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.UnlinkCallbackURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, fmt.Errorf("unlink callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "KakaoAK "+f.cfg.AdminKey)
	resp, err := f.callbacks.Do(req)
	if err != nil {
		// The error names the callback URL, never the admin key.
		return 0, fmt.Errorf("unlink callback: %w", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// UnlinkDroppingCallback plays an unlink whose callback never arrives:
// the user's tokens for the app stop working and the admin API no longer
// lists the user, but nobody is called.
func (f *Fake) UnlinkDroppingCallback(userID int64) error {
	if userID <= 0 {
		return fmt.Errorf("%w: user_id must be positive", errBadUnlink)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revokeLocked(userID, f.cfg.AppID)
	return nil
}
