// Command upsertuser is the UpsertUser state of the login workflow (and its
// RecreateUser state).
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
		Secrets:     []string{config.SecretPepper},
		Env:         []string{"USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		c, db := d.Config, dynamodb.NewFromConfig(d.AWS)
		return d.Steps(
			workflow.WithUsers(cognito.New(cip.NewFromConfig(d.AWS), c.UserPoolID, "")),
			workflow.WithMappings(store.NewMappings(db, c.MappingTable)),
			workflow.WithAudit(store.AuditOf(db, c)),
			workflow.WithEvents(eventbridge.New(awseb.NewFromConfig(d.AWS), c.EventBusName)),
		).UpsertUser
	})
}
