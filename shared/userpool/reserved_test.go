package userpool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/shared/userpool/userpooltest"
)

func TestCapitalisations(t *testing.T) {
	caps := capitalisations("kakao_")
	if len(caps) != 32 || caps[0] != "kakao_" || !slices.Contains(caps, "Kakao_") || !slices.Contains(caps, "KAKAO_") {
		t.Fatalf("capitalisations: %v", caps)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(caps)))) != 32 {
		t.Fatalf("capitalisations repeat: %v", caps)
	}
}

// The refusal names ten users, counts them all, and says when it stopped
// counting.
func TestReservedUsersErrorMessage(t *testing.T) {
	var users []ReservedUser
	for i := range 12 {
		users = append(users, ReservedUser{Username: fmt.Sprintf("kakao_%d", 100+i), Status: "EXTERNAL_PROVIDER"})
	}
	msg := (&ReservedUsersError{PoolID: "ap-northeast-2_P", Users: users}).Error()
	for _, want := range []string{"user pool ap-northeast-2_P has 12 users named", "\n  kakao_100 (EXTERNAL_PROVIDER)", "\n  kakao_109 (EXTERNAL_PROVIDER)\n  ... and 2 more\n",
		"Nothing was changed", `"A Kakao OIDC provider already in your pool"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "kakao_110") {
		t.Errorf("names more than ten:\n%s", msg)
	}
	if msg := (&ReservedUsersError{PoolID: "p", Users: users[:1]}).Error(); !strings.Contains(msg, "has 1 user named") || strings.Contains(msg, "more") {
		t.Errorf("one user:\n%s", msg)
	}
	if msg := (&ReservedUsersError{PoolID: "p", Users: users, More: true}).Error(); !strings.Contains(msg, "has more than 12 users named") {
		t.Errorf("stopped counting:\n%s", msg)
	}
}

// addKakaoID gives the pool custom:kakao_id, as an earlier attach did.
func addKakaoID(t *testing.T, idp *cip.Client, poolID string) {
	t.Helper()
	if _, err := idp.AddCustomAttributes(context.Background(), &cip.AddCustomAttributesInput{UserPoolId: &poolID, CustomAttributes: []types.SchemaAttributeType{kakaoIDSchema()}}); err != nil {
		t.Fatal(err)
	}
}

const teamPassword = "Team-Passw0rd-Team-Passw0rd!"

// The team's (case-insensitive) pool has a native kakao_1234 who signs in
// with a password and an identity provider's kakao_987654321, among users
// kakaoauth made (custom:kakao_id) and names that are not kakaoauth's
// shape. Attach finds the two (and the capitalised Kakao_55, the same
// username as kakao_55 in this pool), reading past the first page, and
// refuses before writing anything.
func TestFindReservedUsersInTheTeamsPool(t *testing.T) {
	ctx := context.Background()
	mp := newMotoPool(t, "team-reserved")
	mp.proxy.Record("ListUsers")
	addKakaoID(t, mp.idp, mp.id)
	// A full page of kakaoauth's own users first: the team's come after.
	for i := range listUsersPageSize {
		id := fmt.Sprint(5000 + i)
		userpooltest.CreateUser(t, mp.idp, mp.id, "kakao_"+id, "", cognito.AttrKakaoID, id)
	}
	userpooltest.CreateUser(t, mp.idp, mp.id, "kakao_1234", teamPassword, "email", "kim@team.example")
	userpooltest.CreateUser(t, mp.idp, mp.id, "kakao_987654321", "")
	userpooltest.CreateUser(t, mp.idp, mp.id, "Kakao_55", teamPassword)
	for _, other := range []string{"kakao_0123", "kakao_jiwoo", "kakaotalk_1", "google_1234", "jiwoo"} {
		userpooltest.CreateUser(t, mp.idp, mp.id, other, teamPassword)
	}
	read, err := Read(ctx, mp.idp, mp.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanAttach(read, kakaoauthFunctions()); err != nil {
		t.Fatal(err)
	}
	mp.proxy.Reset()
	found, more, err := FindReservedUsers(ctx, mp.idp, read)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range found {
		names = append(names, u.Username+" "+u.Status)
	}
	if want := []string{"Kakao_55 CONFIRMED", "kakao_1234 CONFIRMED", "kakao_987654321 FORCE_CHANGE_PASSWORD"}; !slices.Equal(names, want) || more {
		t.Fatalf("found %v (more %v), want %v", names, more, want)
	}
	// Every capitalisation of kakao_ asked for, by prefix, the lowercase
	// one over two pages; nothing written.
	filters := map[string]int{}
	for _, ex := range mp.proxy.Exchanges("ListUsers") {
		var in struct {
			Filter          string
			Limit           int
			PaginationToken string
		}
		if err := json.Unmarshal(ex.Request, &in); err != nil || in.Limit != listUsersPageSize {
			t.Fatalf("ListUsers request %s: %v", ex.Request, err)
		}
		filters[in.Filter]++
	}
	if len(filters) != 32 || filters[`username ^= "kakao_"`] != 2 || filters[`username ^= "KAKAO_"`] != 1 {
		t.Fatalf("ListUsers filters %v", filters)
	}
	if n := mp.Writes(); n != 0 {
		t.Fatalf("%d writes", n)
	}
	err = CheckReservedUsers(ctx, mp.idp, read)
	var refused *ReservedUsersError
	if !errors.As(err, &refused) || len(refused.Users) != 3 || !strings.Contains(err.Error(), "\n  kakao_1234 (CONFIRMED)\n") {
		t.Fatalf("check: %v", err)
	}
}

// In a case-sensitive pool Kakao_55 is another username than kakao_55,
// which kakaoauth would create: only the lowercase prefix is asked for.
func TestFindReservedUsersInACaseSensitivePool(t *testing.T) {
	ctx := context.Background()
	mp := newCaseSensitivePool(t)
	userpooltest.CreateUser(t, mp.idp, mp.id, "Kakao_55", teamPassword)
	userpooltest.CreateUser(t, mp.idp, mp.id, "kakao_7", teamPassword)
	read, err := Read(ctx, mp.idp, mp.id)
	if err != nil {
		t.Fatal(err)
	}
	mp.proxy.Reset()
	found, _, err := FindReservedUsers(ctx, mp.idp, read)
	if err != nil || len(found) != 1 || found[0].Username != "kakao_7" {
		t.Fatalf("found %v, %v", found, err)
	}
	if n := mp.proxy.Count("ListUsers"); n != 1 {
		t.Fatalf("%d ListUsers calls", n)
	}
}

// A pool whose kakao_ users are all kakaoauth's (custom:kakao_id set)
// attaches.
func TestAttachWithOnlyKakaoauthsUsers(t *testing.T) {
	ctx := context.Background()
	mp := newMotoPool(t, "team-own-users")
	addKakaoID(t, mp.idp, mp.id)
	userpooltest.CreateUser(t, mp.idp, mp.id, "kakao_1234", "", cognito.AttrKakaoID, "1234")
	userpooltest.CreateUser(t, mp.idp, mp.id, "kakao_987654321", "", cognito.AttrKakaoID, "987654321")
	userpooltest.CreateUser(t, mp.idp, mp.id, "jiwoo", teamPassword)
	read, plan := mp.planAttach(t)
	if err := CheckReservedUsers(ctx, mp.idp, read); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, mp.idp, plan); err != nil {
		t.Fatal(err)
	}
}

// newCaseSensitivePool is a bare pool with case-sensitive usernames (the
// API's default, and every pool's before 2020).
func newCaseSensitivePool(t *testing.T) *motoPool {
	t.Helper()
	proxy, err := faultproxy.Start(moto.ForTest(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	idp := cip.NewFromConfig(moto.AWSConfig(context.Background(), proxy.URL()))
	out, err := idp.CreateUserPool(context.Background(), &cip.CreateUserPoolInput{PoolName: aws.String("team-case-sensitive"),
		UsernameConfiguration: &types.UsernameConfigurationType{CaseSensitive: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	return &motoPool{id: aws.ToString(out.UserPool.Id), idp: idp, proxy: proxy}
}
