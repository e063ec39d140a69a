// Command unlinkworker consumes the unlink queue (SQS event source mapping,
// partial batch failures): it carries out each unlink Kakao reported,
// disabling or deleting the account (see workflow.Steps.UnlinkWorker and
// workflow/lifecycle.go).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Env: []string{"USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME"}},
		func(d *bootstrap.Deps) any { return d.Steps().UnlinkWorker })
}
