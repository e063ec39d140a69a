package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// awsTarget is which stack an operator command works on: a deployed one
// (-stack, the usual credential chain, -region/-profile) or the local
// stack's moto (-endpoint, dummy credentials). audit and admin share it.
type awsTarget struct {
	command                   string // for messages, e.g. "audit"
	region, profile, endpoint string
	stack                     string
	// HTTP carries every AWS request; nil means one with awsTimeout.
	HTTP aws.HTTPClient
}

func (a *awsTarget) register(fs *flag.FlagSet, stackUse string) {
	fs.StringVar(&a.region, "region", "", "AWS region (default: the AWS config's)")
	fs.StringVar(&a.profile, "profile", "", "AWS shared config profile")
	fs.StringVar(&a.endpoint, "endpoint", "", "AWS endpoint of a local stack, e.g. http://127.0.0.1:5000 (dummy credentials)")
	fs.StringVar(&a.stack, "stack", "", "CloudFormation stack whose outputs name "+stackUse)
}

func (a *awsTarget) check(fs *flag.FlagSet) error {
	if a.endpoint != "" && a.profile != "" {
		return fmt.Errorf("%s: -endpoint uses dummy credentials; -profile does not apply", fs.Name())
	}
	return nil
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
