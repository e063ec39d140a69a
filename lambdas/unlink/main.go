// Command unlink is Kakao's unlink callback behind the API (GET and POST
// /kakao/unlink): it checks the call and queues it for the unlink worker,
// answering Kakao at once (see workflow.Steps.UnlinkWebhook).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func main() {
	bootstrap.Start(bootstrap.Needs{
		Params: []string{config.ParamKakaoAppID, config.ParamKakaoAdminKey},
		Env:    []string{"UNLINK_QUEUE_URL"},
	}, func(d *bootstrap.Deps) any { return d.Steps().UnlinkWebhook })
}
