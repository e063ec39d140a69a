// Command recordfailure is the RecordFailure state of the login workflow.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Env: []string{"AUDIT_TABLE"}}, func(d *bootstrap.Deps) any {
		audit := store.AuditOf(dynamodb.NewFromConfig(d.AWS), d.Config)
		return d.Steps(workflow.WithAudit(audit)).RecordFailure
	})
}
