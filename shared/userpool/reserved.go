package userpool

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
)

// reservedPrefix starts every username kakaoauth gives a user it creates
// (kakaoauth.Username: kakao_<Kakao id>).
const reservedPrefix = "kakao_"

// ReservedUser is a user of the pool whose username kakaoauth reserves
// for the users it creates, and that kakaoauth did not create.
type ReservedUser struct {
	Username string
	// Status is Cognito's UserStatus: EXTERNAL_PROVIDER for a user an
	// identity provider signed up.
	Status string
}

// MaxReservedUsers is how many such users the check counts before it
// stops reading the pool: enough to say how large the move is.
const MaxReservedUsers = 1000

// listUsersPageSize is ListUsers' largest page.
const listUsersPageSize = 60

// FindReservedUsers lists the users of the pool s was read from whose
// username has kakaoauth's shape (kakao_<Kakao id>) but who have no
// custom:kakao_id: users kakaoauth did not create (it sets the attribute
// on every user it creates), yet would treat as its own once its triggers
// are attached. They are typically the users of a Kakao OpenID Connect
// provider the team named "kakao" (Cognito names them <provider>_<sub>,
// and Kakao's sub is the Kakao id).
//
// ListUsers' username filter is a case-sensitive prefix match (the
// Cognito API reference, ListUsers Filter). In a case-sensitive pool only
// the lowercase prefix is kakaoauth's shape; in a case-insensitive one
// "Kakao_1" is the same username as "kakao_1", so every capitalisation of
// the prefix is asked for. It stops after MaxReservedUsers (more says so).
func FindReservedUsers(ctx context.Context, c Cognito, s *Snapshot) (found []ReservedUser, more bool, err error) {
	id := aws.ToString(s.Pool.Id)
	insensitive := s.Pool.UsernameConfiguration != nil && !aws.ToBool(s.Pool.UsernameConfiguration.CaseSensitive)
	prefixes := []string{reservedPrefix}
	if insensitive {
		prefixes = capitalisations(reservedPrefix)
	}
	seen := map[string]bool{}
	for _, prefix := range prefixes {
		pages := cip.NewListUsersPaginator(c, &cip.ListUsersInput{
			UserPoolId: &id,
			Filter:     aws.String(fmt.Sprintf("username ^= %q", prefix)),
			Limit:      aws.Int32(listUsersPageSize),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, false, fmt.Errorf("listing user pool %s's users named %s...: %w", id, prefix, err)
			}
			for _, u := range page.Users {
				name := aws.ToString(u.Username)
				key := name
				if insensitive {
					key = strings.ToLower(name)
				}
				if seen[key] || kakaoauth.UsernameKakaoID(key) == 0 || kakaoauthMade(u.Attributes) {
					continue
				}
				seen[key] = true
				if len(found) == MaxReservedUsers {
					return found, true, nil
				}
				found = append(found, ReservedUser{Username: name, Status: string(u.UserStatus)})
			}
		}
	}
	slices.SortFunc(found, func(a, b ReservedUser) int { return strings.Compare(a.Username, b.Username) })
	return found, false, nil
}

// kakaoauthMade says whether a user has custom:kakao_id, which kakaoauth
// sets on every user it creates.
func kakaoauthMade(attrs []types.AttributeType) bool {
	for _, a := range attrs {
		if aws.ToString(a.Name) == cognito.AttrKakaoID && aws.ToString(a.Value) != "" {
			return true
		}
	}
	return false
}

// capitalisations are every upper/lower-case spelling of an ASCII prefix.
func capitalisations(prefix string) []string {
	out := []string{""}
	for _, r := range prefix {
		lower, upper := strings.ToLower(string(r)), strings.ToUpper(string(r))
		var next []string
		for _, p := range out {
			next = append(next, p+lower)
			if upper != lower {
				next = append(next, p+upper)
			}
		}
		out = next
	}
	return out
}

// CheckReservedUsers refuses attaching to a pool with users
// FindReservedUsers finds.
func CheckReservedUsers(ctx context.Context, c Cognito, s *Snapshot) error {
	found, more, err := FindReservedUsers(ctx, c, s)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return nil
	}
	return &ReservedUsersError{PoolID: aws.ToString(s.Pool.Id), Users: found, More: more}
}

// reservedUsersShown is how many of the users the refusal names.
const reservedUsersShown = 10

// ReservedUsersError is a pool with users named as kakaoauth names its own
// that kakaoauth did not create.
type ReservedUsersError struct {
	PoolID string
	Users  []ReservedUser
	// More: the check stopped counting at MaxReservedUsers.
	More bool
}

func (e *ReservedUsersError) Error() string {
	var b strings.Builder
	count := fmt.Sprintf("%d users", len(e.Users))
	switch {
	case e.More:
		count = "more than " + count
	case len(e.Users) == 1:
		count = "1 user"
	}
	fmt.Fprintf(&b, "user pool %s has %s named as kakaoauth names the users it creates\n"+
		"(kakao_<Kakao id>) that kakaoauth did not create (they have no %s):", e.PoolID, count, cognito.AttrKakaoID)
	for i, u := range e.Users {
		if i == reservedUsersShown {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Users)-reservedUsersShown)
			break
		}
		fmt.Fprintf(&b, "\n  %s (%s)", u.Username, u.Status)
	}
	b.WriteString("\nWith kakaoauth's triggers attached, its pre authentication trigger would refuse their password\n" +
		"sign-ins, and a Kakao login of the same Kakao id would meet that user: it would fail, or could take\n" +
		"over a user who never signed in by setting its password. Nothing was changed. Move these users first:\n" +
		"users of status EXTERNAL_PROVIDER come from an identity provider named \"kakao\" (docs/existing-pool.md,\n" +
		"\"A Kakao OIDC provider already in your pool\"); others need another username (\"Users named as\n" +
		"kakaoauth's users\").")
	return b.String()
}
