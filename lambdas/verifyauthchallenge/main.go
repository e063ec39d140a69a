// Command verifyauthchallenge is the user pool's
// VerifyAuthChallengeResponse trigger: only the broker's proof for the
// user, the client and the challenge is a right answer (see
// workflow.Steps.VerifyAuthChallenge).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		// The proof key only: the trigger checks answers, it never derives
		// a password.
		Secrets:     []string{config.SecretProofKey},
		Env:         []string{"AUDIT_TABLE"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		audit := store.AuditOf(dynamodb.NewFromConfig(d.AWS), d.Config)
		return d.Steps(workflow.WithAudit(audit)).VerifyAuthChallenge
	})
}
