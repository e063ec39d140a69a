package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/kakaoauth/kakaoauth"
)

// UpsertUser finds or creates the Cognito user of the Kakao account and
// its mapping. The Kakao id is the identity; the email is only an
// attribute. Concurrent first logins converge: the username is
// deterministic, so one AdminCreateUser wins and the others adopt its user,
// and the mapping's first write is conditional.
func (s *Steps) UpsertUser(ctx context.Context, in LoginState) (Subject, error) {
	subj := in.Subject
	m, err := s.mappings.Get(ctx, subj.KakaoID)
	var notFound *kakaoauth.NotFound
	switch {
	case err == nil:
		return s.returningUser(ctx, in, m)
	case errors.As(err, &notFound):
		return s.firstLogin(ctx, in)
	default:
		return subj, err
	}
}

func (s *Steps) returningUser(ctx context.Context, in LoginState, m kakaoauth.Mapping) (Subject, error) {
	subj := in.Subject
	if m.Status == kakaoauth.StatusUnlinked {
		return subj, &kakaoauth.AccountUnlinked{KakaoID: subj.KakaoID}
	}
	if in.Profile.EmailChecked && in.Profile.Email != m.Email {
		// Kakao's verified email changed (or was withdrawn): follow it,
		// unless the new one belongs to someone else.
		if in.Profile.Email != "" {
			if err := s.checkEmailFree(ctx, in.Profile.Email, subj.KakaoID); err != nil {
				return subj, err
			}
		}
		if err := s.users.UpdateProfile(ctx, m.Username, in.Profile.Email, in.Profile.Nickname); err != nil {
			return subj, err
		}
		s.log.InfoContext(ctx, "email attribute updated", "step", "UpsertUser", "kakaoId", subj.KakaoID, "sub", m.Sub, "hasVerifiedEmail", in.Profile.Email != "")
	}
	subj.Sub, subj.Username, subj.NewUser = m.Sub, m.Username, false
	return subj, nil
}

func (s *Steps) firstLogin(ctx context.Context, in LoginState) (Subject, error) {
	subj := in.Subject
	email := in.Profile.Email
	if email != "" {
		if err := s.checkEmailFree(ctx, email, subj.KakaoID); err != nil {
			return subj, err
		}
	}
	user, err := s.users.CreateUser(ctx, kakaoauth.NewCognitoUser{KakaoID: subj.KakaoID, Email: email, Nickname: in.Profile.Nickname})
	created := err == nil
	var exists *kakaoauth.UserExists
	if errors.As(err, &exists) {
		// Another login created it a moment ago, or an earlier login
		// crashed before writing the mapping: adopt the user (repair).
		user, err = s.users.GetUser(ctx, kakaoauth.Username(subj.KakaoID))
	}
	if err != nil {
		return subj, err
	}
	if user.KakaoID != subj.KakaoID {
		return subj, fmt.Errorf("user %s does not carry kakao id %d", user.Username, subj.KakaoID)
	}
	now := millis(s.now())
	err = s.mappings.Create(ctx, kakaoauth.Mapping{
		KakaoID: subj.KakaoID, Sub: user.Sub, Username: user.Username, Email: email,
		Status: kakaoauth.StatusActive, CreatedAt: now, LastLoginAt: now,
	})
	var mappingExists *kakaoauth.MappingExists
	switch {
	case err == nil:
	case errors.As(err, &mappingExists):
		// A concurrent login wrote it; it must point at the same user.
		m, gerr := s.mappings.Get(ctx, subj.KakaoID)
		if gerr != nil {
			return subj, gerr
		}
		if m.Sub != user.Sub {
			return subj, fmt.Errorf("mapping of kakao id %d points at another sub", subj.KakaoID)
		}
	default:
		if created {
			s.compensateCreate(ctx, subj.KakaoID, user.Username)
		}
		return subj, err
	}
	subj.Sub, subj.Username, subj.NewUser = user.Sub, user.Username, created
	if created {
		s.log.InfoContext(ctx, "cognito user created", "step", "UpsertUser", "kakaoId", subj.KakaoID, "sub", user.Sub, "hasVerifiedEmail", email != "")
		if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
			Time: now, Type: kakaoauth.EventUserCreated, Outcome: "success",
			KakaoID: subj.KakaoID, Sub: user.Sub, AppID: subj.AppID,
			ExecutionID: in.Context.ExecutionID, SourceIP: in.Context.SourceIP, UserAgent: in.Context.UserAgent,
		}); err != nil {
			return subj, err
		}
	}
	return subj, nil
}

// compensateCreate removes a Cognito user this login created when its
// mapping could not be written, so a failed login leaves no orphan. It
// keeps the user if a concurrent login has mapped it meanwhile.
func (s *Steps) compensateCreate(ctx context.Context, kakaoID int64, username string) {
	ctx = context.WithoutCancel(ctx)
	var notFound *kakaoauth.NotFound
	if _, err := s.mappings.Get(ctx, kakaoID); !errors.As(err, &notFound) {
		return
	}
	if err := s.users.DeleteUser(ctx, username); err != nil {
		// The next login adopts the user (UserExists path), so this is
		// logged, not fatal.
		s.log.WarnContext(ctx, "could not remove unmapped user", "step", "UpsertUser", "kakaoId", kakaoID, "error", err.Error())
		return
	}
	s.log.InfoContext(ctx, "removed unmapped user after failed mapping write", "step", "UpsertUser", "kakaoId", kakaoID)
}

// checkEmailFree refuses a verified email that a user not linked to this
// Kakao account already has: never link silently (a native user's
// password must not open a Kakao account, nor the reverse).
func (s *Steps) checkEmailFree(ctx context.Context, email string, kakaoID int64) error {
	owners, err := s.users.FindByEmail(ctx, email)
	if err != nil {
		return err
	}
	for _, u := range owners {
		if u.KakaoID != kakaoID {
			return &kakaoauth.AccountConflict{KakaoID: kakaoID}
		}
	}
	return nil
}
