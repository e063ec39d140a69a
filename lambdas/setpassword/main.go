// Command setpassword is the SetPassword state of the login workflow.
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
		Secrets:     []string{config.SecretPepper},
		Env:         []string{"USER_POOL_ID", "MAPPING_TABLE"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		c := d.Config
		return d.Steps(
			workflow.WithUsers(cognito.New(cip.NewFromConfig(d.AWS), c.UserPoolID, "")),
			workflow.WithMappings(store.NewMappings(dynamodb.NewFromConfig(d.AWS), c.MappingTable)),
		).SetPassword
	})
}
