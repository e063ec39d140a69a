// Command upsertuser is the UpsertUser state of the login workflow.
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Env: []string{"USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE"}},
		func(d *bootstrap.Deps) any { return d.Steps().UpsertUser })
}
