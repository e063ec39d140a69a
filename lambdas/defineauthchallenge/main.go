// Command defineauthchallenge is the user pool's DefineAuthChallenge
// trigger: one CUSTOM_CHALLENGE, on the broker's client only, for the
// Kakao login of a user kakaoauth linked (see
// workflow.Steps.DefineAuthChallenge).
package main

import (
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/cognito"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Env: []string{"BROKER_CLIENT_NAME"}}, func(d *bootstrap.Deps) any {
		clients := cognito.NewAppClients(cip.NewFromConfig(d.AWS), 0, nil)
		return d.Steps(workflow.WithBrokerClient(d.Config.BrokerClientName, clients)).DefineAuthChallenge
	})
}
