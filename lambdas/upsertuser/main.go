// Command upsertuser is the UpsertUser state of the login workflow (and its
// RecreateUser state).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Params: []string{config.ParamPepper}, Env: []string{"USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME"}},
		func(d *bootstrap.Deps) any { return d.Steps().UpsertUser })
}
