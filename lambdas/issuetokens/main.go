// Command issuetokens is the IssueTokens state of the login workflow.
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Params: []string{config.ParamPepper}, Env: []string{"USER_POOL_ID", "USER_POOL_CLIENT_ID", "MAPPING_TABLE", "AUDIT_TABLE"}},
		func(d *bootstrap.Deps) any { return d.Steps().IssueTokens })
}
