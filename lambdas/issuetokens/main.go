// Command issuetokens is the IssueTokens state of the login workflow.
package main

import (
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Secrets:     []string{config.SecretPepper, config.SecretProofKey},
		Env:         []string{"USER_POOL_ID", "USER_POOL_CLIENT_ID", "MAPPING_TABLE", "AUDIT_TABLE"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		c, db := d.Config, dynamodb.NewFromConfig(d.AWS)
		return d.Steps(
			workflow.WithUsers(cognito.New(cip.NewFromConfig(d.AWS), c.UserPoolID, c.UserPoolClientID)),
			workflow.WithMappings(store.NewMappings(db, c.MappingTable)),
			workflow.WithAudit(store.AuditOf(db, c)),
		).IssueTokens
	})
}
