// Command validatetoken is the ValidateToken state of the login workflow.
package main

import (
	"github.com/kakaoauth/kakaoauth/shared/bootstrap"
	"github.com/kakaoauth/kakaoauth/shared/config"
)

func main() {
	bootstrap.Start(bootstrap.Needs{Params: []string{config.ParamKakaoAppID, config.ParamKakaoAppKeys}},
		func(d *bootstrap.Deps) any { return d.Steps().ValidateToken })
}
