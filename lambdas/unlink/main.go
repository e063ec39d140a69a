// Command unlink is Kakao's unlink callback behind the API (GET and POST
// /kakao/unlink, after the unlink authorizer): it checks the call, signs
// it and queues it for the unlink worker, answering Kakao at once; when
// the queue fails it keeps the request in the inbox for the sweeper (see
// workflow.Steps.UnlinkWebhook).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/sqs"
	"github.com/kakaoauth/kakaoauth/shared/store"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Secrets:     []string{config.SecretKakaoAdminKey, config.SecretUnlinkMACKey},
		Env:         []string{"UNLINK_QUEUE_URL", "KAKAO_APP_ID", "OPERATIONS_TABLE"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		queue := sqs.New(awssqs.NewFromConfig(d.AWS), d.Config.UnlinkQueueURL)
		inbox := store.NewOperations(dynamodb.NewFromConfig(d.AWS), d.Config.OperationsTable)
		return d.Steps(workflow.WithUnlinkQueue(queue), workflow.WithInbox(inbox)).UnlinkWebhook
	})
}
