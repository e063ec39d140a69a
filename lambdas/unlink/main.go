// Command unlink is Kakao's unlink callback behind the API (GET and POST
// /kakao/unlink): it disables the linked Cognito user and marks the mapping
// unlinked (see workflow.Steps.UnlinkWebhook).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Params: []string{config.ParamKakaoAppID, config.ParamKakaoAdminKey},
		Env:    []string{"USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE"},
	}, func(d *bootstrap.Deps) any { return d.Steps().UnlinkWebhook })
}
