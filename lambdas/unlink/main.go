// Command unlink is Kakao's unlink callback behind the API (GET and POST
// /kakao/unlink): it checks the call and queues it for the unlink worker,
// answering Kakao at once (see workflow.Steps.UnlinkWebhook).
package main

import (
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
	"github.com/kakaoauth/kakaoauth/shared/sqs"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Secrets:     []string{config.SecretKakaoAdminKey},
		Env:         []string{"UNLINK_QUEUE_URL", "KAKAO_APP_ID"},
		SecretStore: secretsmanager.FromConfig,
	}, func(d *bootstrap.Deps) any {
		queue := sqs.New(awssqs.NewFromConfig(d.AWS), d.Config.UnlinkQueueURL)
		return d.Steps(workflow.WithUnlinkQueue(queue)).UnlinkWebhook
	})
}
