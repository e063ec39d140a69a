package kakaoauth

import "testing"

// kakaoauth claims exactly the usernames it makes: a team's own user whose
// name merely starts with kakao_ stays the team's (its password works,
// it may link Kakao).
func TestCreatedByKakaoauth(t *testing.T) {
	for _, c := range []struct {
		u    CognitoUser
		want bool
	}{
		{CognitoUser{Username: Username(4242)}, true},
		{CognitoUser{Username: Username(9223372036854775807)}, true},
		{CognitoUser{Username: "alice", KakaoID: 4242}, true}, // the attribute decides
		{CognitoUser{Username: "kakao_fan"}, false},
		{CognitoUser{Username: "Kakao_4242"}, false}, // kakaoauth's are lower-case
		{CognitoUser{Username: "kakao_0042"}, false},
		{CognitoUser{Username: "kakao_-5"}, false},
		{CognitoUser{Username: "kakao_0"}, false},
		{CognitoUser{Username: "kakao_"}, false},
		{CognitoUser{Username: "kakao_9223372036854775808"}, false}, // past int64
		{CognitoUser{Username: "alice"}, false},
	} {
		if got := CreatedByKakaoauth(c.u); got != c.want {
			t.Errorf("CreatedByKakaoauth(%+v) = %v, want %v", c.u, got, c.want)
		}
	}
}
