// Command preauth is the user pool's PreAuthentication trigger: it refuses
// any password or SRP sign-in of a Kakao-linked user that IssueTokens did
// not start (see workflow.Steps.PreAuthentication).
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
		// The proof key only: the trigger checks proofs, it never derives
		// a password.
		Secrets:     []string{config.SecretProofKey},
		Env:         []string{"AUDIT_TABLE"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		audit := store.AuditOf(dynamodb.NewFromConfig(d.AWS), d.Config)
		opts := []workflow.Option{workflow.WithAudit(audit)}
		if d.Config.HostedUI {
			// A sign-in through a federated-only client (the hosted UI's)
			// needs no broker proof; the pool comes with each event.
			opts = append(opts, workflow.WithHostedUI(workflow.HostedUI{Clients: cognito.NewAppClients(cip.NewFromConfig(d.AWS), 0, nil)}))
		}
		return d.Steps(opts...).PreAuthentication
	})
}
