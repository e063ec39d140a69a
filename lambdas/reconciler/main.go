// Command reconciler runs on the ReconcileSchedule (EventBridge
// Scheduler): it asks Kakao which of the accounts kakaoauth holds active
// are still linked to the app and applies the unlinks whose callback was
// lost, through the same lifecycle code as the unlink worker (see
// workflow.Steps.Reconcile).
package main

import (
	"os"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/cloudwatch"
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
		Secrets:     []string{config.SecretKakaoAdminKey},
		Env:         []string{"USER_POOL_ID", "MAPPING_TABLE", "AUDIT_TABLE", "EVENT_BUS_NAME", "OPERATIONS_TABLE", "STACK_NAME"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		c, db, idp := d.Config, dynamodb.NewFromConfig(d.AWS), cip.NewFromConfig(d.AWS)
		links := kakao.NewAccounts(kakao.NewClient(d.HTTP, kakao.WithAPIBaseURL(c.KakaoAPIBaseURL), kakao.WithAuthBaseURL(c.KakaoAuthBaseURL)), c.KakaoAdminKey)
		opts := []workflow.Option{
			workflow.WithUsers(cognito.New(idp, c.UserPoolID, "")),
			workflow.WithMappings(store.NewMappings(db, c.MappingTable, store.WithRetention(c.Retention))),
			workflow.WithAudit(store.AuditOf(db, c)),
			workflow.WithEvents(eventbridge.New(awseb.NewFromConfig(d.AWS), c.EventBusName)),
			workflow.WithReconciler(links, store.NewActiveAccounts(db, c.MappingTable), store.NewOperations(db, c.OperationsTable),
				cloudwatch.New(os.Stdout, c.StackName),
				workflow.ReconcilerSettings{RequestsPerSecond: c.ReconcileRate, MaxUnlinksPerRun: c.ReconcileMaxUnlinks}),
		}
		if c.HostedUI {
			opts = append(opts, workflow.WithHostedUI(workflow.HostedUI{UserPoolID: c.UserPoolID, Links: cognito.NewFederation(idp, c.UserPoolID)}))
		}
		return d.Steps(opts...).Reconcile
	})
}
