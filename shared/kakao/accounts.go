package kakao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kakaoauth/kakaoauth"
)

var _ kakaoauth.KakaoAccounts = (*Accounts)(nil)

// Accounts is kakaoauth.KakaoAccounts: /v2/user/me about a Kakao user id,
// asked with the app's admin key (Authorization: KakaoAK, target_id_type
// user_id), as Kakao documents for server-side lookups. The hosted-UI
// flow's PreSignUp trigger uses it: Cognito has verified Kakao's ID token
// by then, but the trigger sees neither Kakao's tokens nor whether the
// email is valid and verified; this asks Kakao, and Kakao answers only for
// an account linked to the app now, which is what makes a hosted-UI
// sign-in after an unlink a fresh one.
type Accounts struct {
	client   *Client
	adminKey string
}

// NewAccounts asks Kakao through client with adminKey (a secret: it never
// appears in an error).
func NewAccounts(client *Client, adminKey string) *Accounts {
	return &Accounts{client: client, adminKey: adminKey}
}

const pathUserMe = "/v2/user/me"

// Lookup returns the account's identity: the email only when Kakao says
// it is valid and verified (the broker's one rule), EmailChecked always.
// An account Kakao does not know as this app's user (-101) is
// *AccountUnlinked; a refused admin key is an internal error (the stack's
// configuration), never the user's; outages are *KakaoUnavailable, retried
// as the Client retries.
func (a *Accounts) Lookup(ctx context.Context, kakaoID int64) (kakaoauth.KakaoIdentity, error) {
	if a.adminKey == "" {
		return kakaoauth.KakaoIdentity{}, errors.New("kakao: no admin key to look accounts up with")
	}
	if kakaoID <= 0 {
		return kakaoauth.KakaoIdentity{}, fmt.Errorf("kakao: invalid kakao id %d", kakaoID)
	}
	q := url.Values{}
	for k, v := range meKeys {
		q[k] = v
	}
	q.Set("target_id_type", "user_id")
	q.Set("target_id", strconv.FormatInt(kakaoID, 10))
	u := a.client.apiBase + pathUserMe + "?" + q.Encode()
	header := http.Header{"Authorization": {"KakaoAK " + a.adminKey}}
	var b meBody
	err := retry(ctx, a.client.retries, a.client.backoff, func() (bool, error) {
		return a.once(ctx, kakaoID, u, header, &b)
	})
	if err != nil {
		return kakaoauth.KakaoIdentity{}, err
	}
	if b.ID != kakaoID {
		return kakaoauth.KakaoIdentity{}, &kakaoauth.KakaoUnavailable{Reason: "user/me: answered for another user"}
	}
	acc := b.KakaoAccount
	id := kakaoauth.KakaoIdentity{KakaoID: b.ID, Nickname: acc.Profile.Nickname, EmailChecked: true}
	if acc.Email != "" && acc.IsEmailValid && acc.IsEmailVerified {
		id.Email = acc.Email
	}
	return id, nil
}

// once is one attempt; the admin key is what sanitize keeps out of errors.
func (a *Accounts) once(ctx context.Context, kakaoID int64, u string, header http.Header, out *meBody) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, a.client.timeout)
	defer cancel()
	body, status, err := fetch(ctx, a.client.http, http.MethodGet, u, header, "")
	if err != nil {
		return true, &kakaoauth.KakaoUnavailable{Reason: pathUserMe + ": " + transportReason(ctx, err)}
	}
	if status == http.StatusOK {
		if err := json.Unmarshal(body, out); err != nil {
			return false, &kakaoauth.KakaoUnavailable{Reason: pathUserMe + ": malformed answer"}
		}
		return false, nil
	}
	var ae apiError
	if json.Unmarshal(body, &ae) == nil && ae.Code != nil && *ae.Code == codeNotRegistered {
		return false, &kakaoauth.AccountUnlinked{KakaoID: kakaoID}
	}
	retryable, err := classify(pathUserMe, status, body, a.adminKey)
	var invalid *kakaoauth.InvalidKakaoToken
	if errors.As(err, &invalid) {
		// With an admin key, "invalid token" is the key or this request:
		// the stack's configuration, not the person signing in.
		return false, fmt.Errorf("kakao admin lookup refused: %s (check the parameter kakao-admin-key)", invalid.Reason)
	}
	return retryable, err
}

const pathUnlink = "/v1/user/unlink"

// Unlink is Kakao's unlink API for a user id, with the admin key
// (POST /v1/user/unlink, target_id_type=user_id): Kakao revokes the
// user's tokens for the app and forgets its consent, as it asks services
// to do when their user leaves. Retried like a lookup (unlinking twice is
// harmless); an account Kakao no longer has linked (-101) is done.
func (a *Accounts) Unlink(ctx context.Context, kakaoID int64) error {
	if a.adminKey == "" {
		return errors.New("kakao: no admin key to unlink accounts with")
	}
	if kakaoID <= 0 {
		return fmt.Errorf("kakao: invalid kakao id %d", kakaoID)
	}
	form := url.Values{"target_id_type": {"user_id"}, "target_id": {strconv.FormatInt(kakaoID, 10)}}.Encode()
	header := http.Header{"Authorization": {"KakaoAK " + a.adminKey}}
	return retry(ctx, a.client.retries, a.client.backoff, func() (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, a.client.timeout)
		defer cancel()
		body, status, err := fetch(ctx, a.client.http, http.MethodPost, a.client.apiBase+pathUnlink, header, form)
		if err != nil {
			return true, &kakaoauth.KakaoUnavailable{Reason: pathUnlink + ": " + transportReason(ctx, err)}
		}
		if status == http.StatusOK {
			var b struct {
				ID int64 `json:"id"`
			}
			if json.Unmarshal(body, &b) != nil || b.ID != kakaoID {
				return false, &kakaoauth.KakaoUnavailable{Reason: pathUnlink + ": answered for another user"}
			}
			return false, nil
		}
		var ae apiError
		if json.Unmarshal(body, &ae) == nil && ae.Code != nil && *ae.Code == codeNotRegistered {
			return false, nil // not linked at Kakao (any more): done
		}
		retryable, err := classify(pathUnlink, status, body, a.adminKey)
		var invalid *kakaoauth.InvalidKakaoToken
		if errors.As(err, &invalid) {
			return false, fmt.Errorf("kakao unlink refused: %s (check the Kakao admin key secret)", invalid.Reason)
		}
		return retryable, err
	})
}

var _ kakaoauth.KakaoLinks = (*Accounts)(nil)

const pathAppUsers = "/v2/app/users"

// MaxLinkedBatch is how many user ids one /v2/app/users request may name
// (Kakao: at most 100 without property_keys).
const MaxLinkedBatch = 100

// Linked asks Kakao which of ids are linked to the app now: GET
// /v2/app/users with the admin key (target_id_type user_id, target_ids a
// JSON array of at most MaxLinkedBatch), which answers with the users of
// the app among them; an id it leaves out is not linked (never logged in
// here, or unlinked since). One attempt, never retried: the reconciler
// runs again, and a quota answer (-10) spent twice is spent for nothing.
// Errors are *KakaoUnavailable (outages), *KakaoQuotaExceeded (Kakao's
// quota answers) or internal (a refused admin key: the stack's
// configuration).
func (a *Accounts) Linked(ctx context.Context, ids []int64) (map[int64]bool, error) {
	switch {
	case a.adminKey == "":
		return nil, errors.New("kakao: no admin key to ask with")
	case len(ids) == 0:
		return map[int64]bool{}, nil
	case len(ids) > MaxLinkedBatch:
		return nil, fmt.Errorf("kakao: %d ids in one request, at most %d", len(ids), MaxLinkedBatch)
	}
	target, _ := json.Marshal(ids)
	q := url.Values{"target_id_type": {"user_id"}, "target_ids": {string(target)}}
	u := a.client.apiBase + pathAppUsers + "?" + q.Encode()
	ctx, cancel := context.WithTimeout(ctx, a.client.timeout)
	defer cancel()
	body, status, err := fetch(ctx, a.client.http, http.MethodGet, u, http.Header{"Authorization": {"KakaoAK " + a.adminKey}}, "")
	if err != nil {
		return nil, &kakaoauth.KakaoUnavailable{Reason: pathAppUsers + ": " + transportReason(ctx, err)}
	}
	if status != http.StatusOK {
		_, err := classify(pathAppUsers, status, body, a.adminKey)
		var invalid *kakaoauth.InvalidKakaoToken
		if errors.As(err, &invalid) {
			return nil, fmt.Errorf("kakao admin request refused: %s (check the parameter kakao-admin-key)", invalid.Reason)
		}
		return nil, err
	}
	users, err := decodeAppUsers(body)
	if err != nil {
		return nil, &kakaoauth.KakaoUnavailable{Reason: pathAppUsers + ": malformed answer"}
	}
	asked := make(map[int64]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	linked := make(map[int64]bool, len(users))
	for _, u := range users {
		if !asked[u.ID] {
			// An answer about someone not asked about is not an answer.
			return nil, &kakaoauth.KakaoUnavailable{Reason: pathAppUsers + ": answered for a user not asked about"}
		}
		linked[u.ID] = true
	}
	return linked, nil
}

type appUser struct {
	ID int64 `json:"id"`
}

// decodeAppUsers reads /v2/app/users: Kakao's reference documents the
// answer as {"elements": [...]} and its example as a bare array; both are
// read.
func decodeAppUsers(body []byte) ([]appUser, error) {
	var list []appUser
	if err := json.Unmarshal(body, &list); err == nil {
		return list, nil
	}
	var wrapped struct {
		Elements *[]appUser `json:"elements"`
	}
	if err := json.Unmarshal(body, &wrapped); err != nil {
		return nil, err
	}
	if wrapped.Elements == nil {
		return nil, errors.New("no elements")
	}
	return *wrapped.Elements, nil
}
