// Command unlinkauthorizer is the API Gateway request authorizer of the
// unlink route (GET and POST /kakao/unlink): a call with one of the Kakao
// app's admin keys, from an allowed network, is let through and tied to
// the usage plan of Kakao's callbacks, so nobody else spends their budget
// (see workflow.Steps.UnlinkAuthorizer).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Secrets:     []string{config.SecretKakaoAdminKey},
		Env:         []string{"KAKAO_APP_ID", "UNLINK_USAGE_KEY"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		return d.Steps().UnlinkAuthorizer
	})
}
