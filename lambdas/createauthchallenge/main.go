// Command createauthchallenge is the user pool's CreateAuthChallenge
// trigger: a random challenge per sign-in, which the broker's answer is
// bound to (see workflow.Steps.CreateAuthChallenge).
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
)

func main() {
	bootstrap.Start(bootstrap.Needs{}, func(d *bootstrap.Deps) any {
		return d.Steps().CreateAuthChallenge
	})
}
