// Package secretsmanager reads the stack's secrets (the pepper, Kakao's
// admin key) from AWS Secrets Manager as config.SecretGetter. Only the
// Lambdas that read a secret import it, so only they link the client.
package secretsmanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth/shared/config"
)

// API is the part of *secretsmanager.Client the getter uses.
type API interface {
	GetSecretValue(context.Context, *awssm.GetSecretValueInput, ...func(*awssm.Options)) (*awssm.GetSecretValueOutput, error)
}

var (
	_ API                 = (*awssm.Client)(nil)
	_ config.SecretGetter = (*Secrets)(nil)
)

// Secrets is Secrets Manager.
type Secrets struct{ api API }

// New returns Secrets Manager through api.
func New(api API) *Secrets { return &Secrets{api: api} }

// GetSecret reads the AWSCURRENT string value of the secret id (name or
// ARN). Only the API's error code is kept: a validation message could
// quote what was sent or stored.
func (s *Secrets) GetSecret(ctx context.Context, id string) (string, error) {
	out, err := s.api.GetSecretValue(ctx, &awssm.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) {
			return "", fmt.Errorf("secretsmanager: get secret value: %s", api.ErrorCode())
		}
		return "", fmt.Errorf("secretsmanager: get secret value: %w", err)
	}
	if out.SecretString == nil {
		return "", errors.New("secretsmanager: the secret holds binary data, not a string")
	}
	return *out.SecretString, nil
}

// FromConfig is Secrets Manager through a client of cfg: what a Lambda's
// main passes as bootstrap.Needs.SecretStore.
func FromConfig(cfg aws.Config) config.SecretGetter { return New(awssm.NewFromConfig(cfg)) }
