package workflow

import (
	"context"
	"errors"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/password"
)

// SetPassword makes sure the Cognito user has the password derived from
// the mapping's current nonce, and outputs that nonce (never the password).
// A fresh nonce is installed, by a conditional write that exactly one of
// several concurrent logins wins, only when there is none yet or the
// current one is older than the rotation interval; only the winner calls
// AdminSetUserPassword, whose quota is small and fixed. Other logins reuse
// the nonce without calling Cognito.
//
// On a re-run after PasswordRotated (Attempt ≥ 1) it re-reads the nonce;
// from the second re-run on it also re-sets the password for the current
// nonce, which repairs a winner that crashed between its write and its
// Cognito call. Re-setting the same password breaks no concurrent login.
func (s *Steps) SetPassword(ctx context.Context, in LoginState) (PasswordState, error) {
	attempt := 0
	if in.Password != nil {
		attempt = in.Password.Attempt
	}
	kakaoID, sub, username := in.Subject.KakaoID, in.Subject.Sub, in.Subject.Username
	m, err := s.mappings.Get(ctx, kakaoID)
	if err != nil {
		return PasswordState{}, err
	}
	now := millis(s.now())
	nonce := m.PasswordNonce
	set := attempt >= 2
	if nonce == "" || now.Sub(m.PasswordSetAt) >= s.passwordRotation {
		next, err := password.NewNonce()
		if err != nil {
			return PasswordState{}, err
		}
		err = s.mappings.SwapPasswordNonce(ctx, kakaoID, m.PasswordNonce, next, now)
		var changed *kakaoauth.NonceChanged
		switch {
		case err == nil:
			nonce, set = next, true
		case errors.As(err, &changed):
			if m, err = s.mappings.Get(ctx, kakaoID); err != nil {
				return PasswordState{}, err
			}
			nonce = m.PasswordNonce
		default:
			return PasswordState{}, err
		}
	}
	if set {
		if err := s.users.SetPassword(ctx, username, password.Derive(s.pepper, sub, nonce)); err != nil {
			return PasswordState{}, err
		}
	}
	s.log.InfoContext(ctx, "password ready", "step", "SetPassword", "kakaoId", kakaoID, "sub", sub, "cognitoPasswordSet", set, "attempt", attempt+1)
	return PasswordState{Nonce: nonce, Attempt: attempt + 1}, nil
}
