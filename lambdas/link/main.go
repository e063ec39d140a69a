// Command link serves the linking endpoints, POST and DELETE
// /auth/kakao/link (API Gateway proxy integration): a signed-in user of
// the pool links a Kakao account, or removes the link (see
// workflow.Steps.LinkEndpoint).
package main

import (
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
		// The admin key: Kakao's unlink API when a user removes the link.
		Secrets:     []string{config.SecretKakaoAdminKey},
		Env:         []string{"USER_POOL_ID", "USER_POOL_CLIENT_ID", "MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME", "KAKAO_APP_ID", "KAKAO_APP_KEYS"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		c, db, idp := d.Config, dynamodb.NewFromConfig(d.AWS), cip.NewFromConfig(d.AWS)
		client := kakao.NewClient(d.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL))
		opts := []workflow.Option{
			workflow.WithKakao(kakao.ForApp(d.HTTP, c.KakaoAPIBaseURL, c.KakaoAuthBaseURL, c.KakaoAppID, c.KakaoAppKeys,
				kakao.WithNonceRequired(!c.AllowIDTokenWithoutNonce))),
			// AdminGetUser: the bearer's status (a user CUSTOM_AUTH cannot
			// sign in is not linked).
			workflow.WithUsers(cognito.New(idp, c.UserPoolID, c.UserPoolClientID)),
			workflow.WithAccessTokens(cognito.NewAccessTokens(idp, c.UserPoolID, append([]string{c.UserPoolClientID}, c.LinkClientIDs...), nil)),
			workflow.WithKakaoAccounts(kakao.NewAccounts(client, c.KakaoAdminKey)),
			workflow.WithMappings(store.NewMappings(db, c.MappingTable)),
			workflow.WithAudit(store.AuditOf(db, c)),
			workflow.WithEvents(eventbridge.New(awseb.NewFromConfig(d.AWS), c.EventBusName)),
		}
		if c.HostedUI {
			// Removing a link removes the hosted UI's link too.
			opts = append(opts, workflow.WithHostedUI(workflow.HostedUI{UserPoolID: c.UserPoolID, Links: cognito.NewFederation(idp, c.UserPoolID)}))
		}
		return d.Steps(opts...).LinkEndpoint
	})
}
