// Command presignup is the user pool's PreSignUp trigger, deployed only
// with the hosted UI (stack parameter HostedUi): it links a Kakao identity
// signing in through Cognito's hosted UI to the broker's kakao_<id> user,
// creating or re-linking that account first (see
// workflow.Steps.PreSignUp). It learns its pool from the first event
// (workflow.PreSignUpOfPool).
package main

import (
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/eventbridge"
	"github.com/kakaoauth/kakaoauth/shared/kakao"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Secrets:     []string{config.SecretPepper, config.SecretKakaoAdminKey},
		Env:         []string{"MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME", "HOSTED_UI"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		c, db, idp := d.Config, dynamodb.NewFromConfig(d.AWS), cip.NewFromConfig(d.AWS)
		// Inside a Cognito trigger, which has 5 s in all: 1 s per attempt.
		lookups := kakao.NewClient(d.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL), kakao.WithTimeout(time.Second))
		accounts := kakao.NewAccounts(lookups, c.KakaoAdminKey)
		mappings := store.NewMappings(db, c.MappingTable)
		audit := store.AuditOf(db, c)
		events := eventbridge.New(awseb.NewFromConfig(d.AWS), c.EventBusName)
		return workflow.PreSignUpOfPool(func(pool string) *workflow.Steps {
			return d.Steps(
				workflow.WithUsers(cognito.New(idp, pool, "")),
				workflow.WithMappings(mappings),
				workflow.WithAudit(audit),
				workflow.WithEvents(events),
				workflow.WithHostedUI(workflow.HostedUI{UserPoolID: pool, Accounts: accounts, Links: cognito.NewFederation(idp, pool)}),
			)
		})
	})
}
