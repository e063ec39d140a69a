// Command validatetoken is the ValidateToken state of the login workflow.
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Env: []string{"KAKAO_APP_ID", "KAKAO_APP_KEYS"},
	}, func(d *bootstrap.Deps) any {
		c := d.Config
		verifier := kakao.ForApp(d.HTTP, c.KakaoAPIBaseURL, c.KakaoAuthBaseURL, c.KakaoAppID, c.KakaoAppKeys,
			kakao.WithNonceRequired(!c.AllowIDTokenWithoutNonce), kakao.WithPlainNonce(c.AllowPlainIDTokenNonce))
		return d.Steps(workflow.WithKakao(verifier)).ValidateToken
	})
}
