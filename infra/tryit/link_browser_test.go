package tryit_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/chromium"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// The linking story, clicked through as a person of a team's own app does
// on the local stack: sign in with an email and a password, link Kakao
// (the double's consent page, then POST /auth/kakao/link), log out, log in
// with Kakao as the same person, unlink; then the password still signs
// in, a Kakao login no longer reaches the person, and linking that Kakao
// account, now someone else's, is refused in the page's words. What the
// page shows is checked against Cognito (moto) and the mapping table.

// person is a user of the team's app: the demo user (desktop), or one the
// test puts in the pool, whose email and password are typed over the
// demo's (phone).
type person struct{ email, password, username, sub string }

func teamPerson(t *testing.T, s *localstack.Main, v view) person {
	t.Helper()
	d := s.Demo()
	if v == desktopEn {
		return person{d.Email, d.Password, d.Username, d.Sub}
	}
	ctx := context.Background()
	idp := poolAdmin(s)
	p := person{email: fmt.Sprintf("native%d@example.com", newKakaoID()), password: "Native-pass-5678"}
	p.username = strings.TrimSuffix(p.email, "@example.com")
	out, err := idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(s.Stack().UserPoolID), Username: &p.username,
		MessageAction: types.MessageActionTypeSuppress, UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: &p.email}, {Name: aws.String("email_verified"), Value: aws.String("true")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out.User.Attributes {
		if aws.ToString(a.Name) == "sub" {
			p.sub = aws.ToString(a.Value)
		}
	}
	if _, err := idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(s.Stack().UserPoolID),
		Username: &p.username, Password: &p.password, Permanent: true}); err != nil {
		t.Fatal(err)
	}
	return p
}

func poolAdmin(s *localstack.Main) *cip.Client {
	return cip.NewFromConfig(moto.AWSConfig(context.Background(), s.MotoURL()))
}

// passwordWorks signs p in as the team's app does, at Cognito itself,
// and checks that the user is still enabled.
func passwordWorks(t *testing.T, s *localstack.Main, p person, when string) {
	t.Helper()
	ctx := context.Background()
	idp := poolAdmin(s)
	out, err := idp.InitiateAuth(ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(s.Demo().ClientID),
		AuthParameters: map[string]string{"USERNAME": p.email, "PASSWORD": p.password}})
	if err != nil || out.AuthenticationResult == nil {
		t.Errorf("%s: the password no longer signs in: %v", when, err)
	}
	u, err := idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(s.Stack().UserPoolID), Username: &p.username})
	if err != nil || !u.Enabled {
		t.Errorf("%s: the user is not enabled (%v)", when, err)
	}
}

func TestLinkKakaoToYourAccount(t *testing.T) {
	forViews(t, func(t *testing.T, s *localstack.Main, v view, tab *chromium.Tab) {
		requests := tab.RecordRequests()
		d := s.Demo()
		p := teamPerson(t, s, v)
		kakaoID := newKakaoID()

		// The section, offered with the demo person filled in.
		if hidden, _ := tab.Eval(`String(document.querySelector("#team-card").hidden)`); hidden != "false" {
			t.Fatal("no team app section on the local stack")
		}
		for sel, want := range map[string]string{"#team-email": d.Email, "#team-password": d.Password} {
			if got, _ := tab.Eval(fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != want {
				t.Errorf("%s prefilled with %q", sel, got)
			}
		}
		if got := tab.Text("#team-title"); got != v.say("Your app's own account", "내 앱의 기존 계정") {
			t.Errorf("section title %q", got)
		}
		if !disabled(t, tab, "#team-link") || !disabled(t, tab, "#team-signout") || !disabled(t, tab, "#team-unlink") {
			t.Error("link, log out or unlink offered before a sign-in")
		}

		// A wrong password: Cognito refuses, in the page's words.
		tab.Type("#team-email", p.email)
		tab.Type("#team-password", "not-"+p.password)
		tab.Click("#team-signin")
		idle(t, s, tab)
		tab.WaitText("#team-signin-outcome .outcome-code", equals("NotAuthorizedException"))
		expect(t, tab, map[string]string{"#team-signin-outcome .outcome-text": v.say("Wrong email or password.", "이메일이나 비밀번호가 틀렸습니다.")})

		// Signed in with the password (Enter in the field, as a form).
		tab.Type("#team-password", p.password)
		tab.Press(chromium.KeyEnter)
		idle(t, s, tab)
		tab.WaitText("#team-sub", equals(p.sub))
		expect(t, tab, map[string]string{
			"#team-who":                          p.email,
			"#team-state":                        v.say("yes, with the email and password", "예, 이메일과 비밀번호로"),
			"#team-kakao":                        v.say("not linked", "연결 안 됨"),
			"#team-signin-outcome .outcome-text": v.say("Signed in with your email and password (USER_PASSWORD_AUTH, your app's client).", "이메일과 비밀번호로 로그인했습니다 (USER_PASSWORD_AUTH, 앱 자체 클라이언트)."),
		})
		tab.WaitText("#announce", contains(v.say("Sign in: Signed in with your email", "로그인: 이메일과 비밀번호로 로그인했습니다")))
		inEveryView(t, tab, v, "password-signed-in")

		// Link Kakao: Kakao's consent page, then POST /auth/kakao/link.
		login(t, s, tab, "#team-link", kakaoID)
		tab.WaitText("#team-link-outcome .outcome-text", equals(v.say(
			fmt.Sprintf("Kakao account %d is linked to this account. Log out, then log in with Kakao: you will be this same person.", kakaoID),
			fmt.Sprintf("카카오 계정 %d: 이 계정에 연결했습니다. 로그아웃한 뒤 카카오로 로그인하면 같은 사람으로 로그인됩니다.", kakaoID))))
		expect(t, tab, map[string]string{
			"#team-kakao": v.say(fmt.Sprintf("linked: Kakao account %d", kakaoID), fmt.Sprintf("연결됨: 카카오 계정 %d", kakaoID)),
			"#team-sub":   p.sub, "#team-who": p.email,
		})
		if hidden, _ := tab.Eval(`String(document.querySelector("#result").hidden && document.querySelector("#user").hidden)`); hidden != "true" {
			t.Error("the link showed itself as a Kakao login")
		}
		links := sent(requests(), to(http.MethodPost, s.APIURL()+"/auth/kakao/link"))
		if len(links) != 1 || !strings.HasPrefix(links[0].Headers["Authorization"], "Bearer ") || jsonBody(t, links[0])["access_token"] == nil {
			t.Fatalf("POST /auth/kakao/link sent %d times, %v", len(links), links)
		}
		if m, ok := mapping(t, s, kakaoID); !ok || m.Kind != kakaoauth.KindLinked || m.Sub != p.sub || m.Status != kakaoauth.StatusActive {
			t.Fatalf("mapping after the link: %+v", m)
		}
		passwordWorks(t, s, p, "after the link")
		inEveryView(t, tab, v, "linked")

		// Log out of the team's app: RevokeToken with its own client.
		tab.Click("#team-signout")
		idle(t, s, tab)
		expect(t, tab, map[string]string{
			"#team-signout-outcome .outcome-text": v.say("Logged out of your app: Cognito revoked the refresh token (RevokeToken).", "앱에서 로그아웃했습니다: Cognito가 리프레시 토큰을 폐기했습니다 (RevokeToken)."),
			"#team-state":                         v.say("no: logged out", "아니오: 로그아웃함"),
		})
		revokes := cognitoCalls(s, requests(), userPoolTarget+"RevokeToken")
		if len(revokes) != 1 || jsonBody(t, revokes[0])["ClientId"] != d.ClientID {
			t.Errorf("the log-out's RevokeToken calls: %d", len(revokes))
		}

		// Log in with Kakao as that Kakao account: the same person.
		login(t, s, tab, "#kakao-login", kakaoID)
		tab.WaitText("#sub", equals(p.sub))
		expect(t, tab, map[string]string{
			"#status": "200", "#error": "", "#claim-sub": p.sub,
			"#same-person": v.say("the same person as your email account: the same Cognito user, the same sub", "같은 사람: 이메일 계정과 같은 Cognito 사용자, 같은 sub"),
			"#user-kind":   v.say("your own account, linked to Kakao: signed in with Kakao, the password untouched", "카카오를 연결한 기존 계정: 카카오로 로그인함, 비밀번호는 그대로"),
			"#team-state":  v.say("yes, with Kakao (the same person)", "예, 카카오로 (같은 사람)"),
		})
		if got := attr(t, tab, "#same-person", "data-value"); got != "same" {
			t.Errorf("same person: %q", got)
		}
		if got := tab.Text("#claim-email"); got != p.email {
			t.Errorf("the Kakao login's ID token has email %q, the person's is %s", got, p.email)
		}
		passwordWorks(t, s, p, "after the Kakao login")
		inEveryView(t, tab, v, "kakao-as-the-person")

		// Unlink Kakao, from the Kakao login's session.
		tab.Click("#team-unlink")
		idle(t, s, tab)
		tab.WaitText("#team-unlink-outcome .outcome-text", equals(v.say(
			fmt.Sprintf("Kakao account %d is unlinked: a Kakao login no longer reaches this account, and the password still signs you in.", kakaoID),
			fmt.Sprintf("카카오 계정 %d: 연결을 해제했습니다. 이제 카카오 로그인으로는 이 계정에 들어올 수 없고, 비밀번호로는 계속 로그인할 수 있습니다.", kakaoID))))
		expect(t, tab, map[string]string{"#team-kakao": v.say("not linked", "연결 안 됨")})
		unlinks := sent(requests(), to(http.MethodDelete, s.APIURL()+"/auth/kakao/link"))
		if len(unlinks) != 1 || !strings.HasPrefix(unlinks[0].Headers["Authorization"], "Bearer ") {
			t.Fatalf("DELETE /auth/kakao/link sent %d times", len(unlinks))
		}
		if m, ok := mapping(t, s, kakaoID); ok && m.Status != kakaoauth.StatusDeleted {
			t.Fatalf("mapping after the unlink: %+v", m)
		}
		passwordWorks(t, s, p, "after the unlink")
		inEveryView(t, tab, v, "unlinked")

		// The password still signs in, on the page too: the person's email
		// is still in its field (the demo's password is offered).
		if got, _ := tab.Eval(`document.querySelector("#team-email").value`); got != p.email {
			t.Errorf("the email field holds %q after the trip to Kakao", got)
		}
		tab.Type("#team-password", p.password)
		tab.Click("#team-signin")
		idle(t, s, tab)
		tab.WaitText("#team-state", equals(v.say("yes, with the email and password", "예, 이메일과 비밀번호로")))
		expect(t, tab, map[string]string{"#team-sub": p.sub})

		// A Kakao login of that account no longer reaches the person.
		login(t, s, tab, "#kakao-login", kakaoID)
		tab.WaitText("#sub", func(sub string) bool { return sub != "" })
		if sub := tab.Text("#sub"); sub == p.sub {
			t.Fatalf("a Kakao login after the unlink signed in the person (%s)", sub)
		}
		if got := attr(t, tab, "#same-person", "data-value"); got != "other" {
			t.Errorf("same person after the unlink: %q", got)
		}
		expect(t, tab, map[string]string{"#same-person": v.say("a different person: not the Cognito user of your email account", "다른 사람: 이메일 계정의 Cognito 사용자가 아님")})

		// That Kakao account is now a user of its own: linking it to the
		// person is refused, in the client's words for KakaoAccountInUse.
		login(t, s, tab, "#team-link", kakaoID)
		tab.WaitText("#team-link-outcome .outcome-code", equals("KakaoAccountInUse"))
		expect(t, tab, map[string]string{
			"#team-link-outcome .outcome-text": v.say("This Kakao account is already connected to another account.", "이 카카오 계정은 이미 다른 계정에 연결되어 있습니다."),
			"#team-kakao":                      v.say("not linked", "연결 안 됨"),
		})
		if got := attr(t, tab, "#team-link-outcome", "data-state"); got != "error" {
			t.Errorf("the refused link's outcome is %q", got)
		}
		tab.WaitText("#announce", contains("KakaoAccountInUse"))
		if m, _ := mapping(t, s, kakaoID); m.Kind == kakaoauth.KindLinked || m.Sub == p.sub {
			t.Errorf("the refused link changed the mapping: %+v", m)
		}
		passwordWorks(t, s, p, "after the refused link")
		inEveryView(t, tab, v, "link-refused")
	})
}
