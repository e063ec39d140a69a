package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// awsTarget is which stack a command works on: the local stack's moto
// by default (dummy credentials), a deployed stack as soon as -stack,
// -region or -profile says so (the usual credential chain), or any AWS
// endpoint given as -endpoint-url. Every command's AWS flags come from
// here, so they are named and behave alike everywhere.
type awsTarget struct {
	command                   string // for messages, e.g. "audit"
	region, profile, endpoint string
	stack                     string
	// HTTP carries every AWS request; nil means one with awsTimeout.
	HTTP aws.HTTPClient
}

func (a *awsTarget) register(f *cliFlags, stackUse string) {
	f.StringVar(&a.stack, "stack", "", "deployed CloudFormation stack whose outputs name "+stackUse+" (default: the local stack)")
	f.StringVar(&a.region, "region", "", "AWS region of the stack (default: the AWS config's, AWS_REGION)")
	f.StringVar(&a.profile, "profile", "", "AWS shared config profile")
	f.StringVar(&a.endpoint, flagEndpointURL, "", "AWS endpoint URL (default: the local stack's moto, "+localEndpoint()+", unless -stack, -region or -profile; env KAKAOAUTH_ENDPOINT_URL)")
}

// localEndpoint is the local stack's moto: where `make run` starts it, or
// KAKAOAUTH_ENDPOINT_URL.
func localEndpoint() string { return envOr("KAKAOAUTH_ENDPOINT_URL", "http://"+moto.DefaultAddr) }

// local says whether the target is the local stack: no deployed stack,
// region or profile named. Its endpoint is then the local moto unless
// -endpoint-url names another.
func (a *awsTarget) local() bool { return a.stack == "" && a.region == "" && a.profile == "" }

func (a *awsTarget) check(f *cliFlags) error {
	if a.endpoint != "" && a.profile != "" {
		return fmt.Errorf("%s: -endpoint-url uses dummy credentials; -profile does not apply", f.Name())
	}
	if a.endpoint != "" {
		if u, err := url.Parse(a.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: -endpoint-url %q: want a URL such as %s", f.Name(), a.endpoint, localEndpoint())
		}
	}
	if a.local() && a.endpoint == "" {
		a.endpoint = localEndpoint()
	}
	return nil
}

// explain turns a refused connection to the default local stack into
// what to do about it.
func (a *awsTarget) explain(err error) error {
	var op *net.OpError
	if err == nil || !a.local() || !errors.As(err, &op) || op.Op != "dial" {
		return err
	}
	return fmt.Errorf("%s: no local stack answers at %s: start it with `make run`, or name a deployed stack with -stack NAME -region REGION (%w)", a.command, a.endpoint, err)
}

// config is the AWS configuration of the target.
func (a *awsTarget) config(ctx context.Context) (aws.Config, error) {
	httpClient := a.HTTP
	if httpClient == nil {
		httpClient = awshttp.NewBuildableClient().WithTimeout(awsTimeout)
	}
	if a.endpoint != "" {
		cfg := moto.AWSConfig(ctx, a.endpoint)
		if a.region != "" {
			cfg.Region = a.region
		}
		cfg.HTTPClient = httpClient
		return cfg, nil
	}
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient)}
	if a.region != "" {
		opts = append(opts, config.WithRegion(a.region))
	}
	if a.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("%s: AWS config: %w", a.command, err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New(a.command + ": no AWS region: give -region or set AWS_REGION")
	}
	return cfg, nil
}

// describe reads the -stack's outputs and parameters; both are empty
// without -stack.
func (a *awsTarget) describe(ctx context.Context, cfg aws.Config) (outputs, params map[string]string, err error) {
	if a.stack == "" {
		return map[string]string{}, map[string]string{}, nil
	}
	if outputs, params, err = describeStack(ctx, cloudformation.NewFromConfig(cfg), a.stack); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", a.command, err)
	}
	return outputs, params, nil
}

// localPoolID finds a local stack's user pool by name (moto names pools
// randomly); exactly one must have it.
func localPoolID(ctx context.Context, idp cip.ListUserPoolsAPIClient, name string) (string, error) {
	var ids []string
	pages := cip.NewListUserPoolsPaginator(idp, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("listing user pools: %w", err)
		}
		for _, p := range page.UserPools {
			if aws.ToString(p.Name) == name {
				ids = append(ids, aws.ToString(p.Id))
			}
		}
	}
	if len(ids) != 1 {
		return "", fmt.Errorf("%d user pools named %s: is the local stack running (make run)?", len(ids), name)
	}
	return ids[0], nil
}
