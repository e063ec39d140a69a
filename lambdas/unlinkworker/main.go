// Command unlinkworker consumes the unlink queue (SQS event source mapping,
// partial batch failures): it checks each message's MAC and carries out
// the unlink Kakao reported, disabling or deleting the account (see
// workflow.Steps.UnlinkWorker and workflow/lifecycle.go).
package main

import (
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/eventbridge"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Secrets:     []string{config.SecretUnlinkMACKey},
		Env:         []string{"USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		c, db, idp := d.Config, dynamodb.NewFromConfig(d.AWS), cip.NewFromConfig(d.AWS)
		opts := []workflow.Option{
			workflow.WithUsers(cognito.New(idp, c.UserPoolID, "")),
			workflow.WithMappings(store.NewMappings(db, c.MappingTable, store.WithRetention(c.Retention))),
			workflow.WithAudit(store.AuditOf(db, c)),
			workflow.WithEvents(eventbridge.New(awseb.NewFromConfig(d.AWS), c.EventBusName)),
		}
		if c.HostedUI {
			// An unlink or a deletion also removes the hosted UI's link.
			opts = append(opts, workflow.WithHostedUI(workflow.HostedUI{UserPoolID: c.UserPoolID, Links: cognito.NewFederation(idp, c.UserPoolID)}))
		}
		return d.Steps(opts...).UnlinkWorker
	})
}
