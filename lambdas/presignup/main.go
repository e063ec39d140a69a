// Command presignup is the user pool's PreSignUp trigger, deployed only
// with the hosted UI (stack parameter HostedUi): it links a Kakao identity
// signing in through Cognito's hosted UI to the broker's kakao_<id> user,
// creating or re-linking that account first (see
// workflow.Steps.PreSignUp).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Params: []string{config.ParamUserPoolID, config.ParamKakaoAdminKey, config.ParamPepper},
		Env:    []string{"MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME", "HOSTED_UI"},
	}, func(d *bootstrap.Deps) any { return d.Steps().PreSignUp })
}
