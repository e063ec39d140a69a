// Command preauth is the user pool's PreAuthentication trigger: it refuses
// any password or SRP sign-in of a Kakao-linked user that IssueTokens did
// not start (see workflow.Steps.PreAuthentication).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Params: []string{config.ParamPepper}, Env: []string{"AUDIT_TABLE"}},
		func(d *bootstrap.Deps) any { return d.Steps().PreAuthentication })
}
