// Command unlinkauthorizer is the API's request authorizer in front of
// Kakao's unlink callback: it checks Kakao's admin key before API Gateway
// calls the webhook (see workflow.Steps.UnlinkAuthorizer).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Secrets:     []string{config.SecretKakaoAdminKey},
		Env:         []string{"KAKAO_APP_ID"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		return d.Steps().UnlinkAuthorizer
	})
}
