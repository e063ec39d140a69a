// Command recordfailure is the RecordFailure state of the login workflow.
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Env: []string{"AUDIT_TABLE"}},
		func(d *bootstrap.Deps) any { return d.Steps().RecordFailure })
}
