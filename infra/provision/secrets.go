package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	cfnsm "github.com/awslabs/goformation/v7/cloudformation/secretsmanager"
)

// SecretsAPI is the part of *secretsmanager.Client provisioning uses.
type SecretsAPI interface {
	DescribeSecret(context.Context, *sm.DescribeSecretInput, ...func(*sm.Options)) (*sm.DescribeSecretOutput, error)
	CreateSecret(context.Context, *sm.CreateSecretInput, ...func(*sm.Options)) (*sm.CreateSecretOutput, error)
	PutSecretValue(context.Context, *sm.PutSecretValueInput, ...func(*sm.Options)) (*sm.PutSecretValueOutput, error)
	GetRandomPassword(context.Context, *sm.GetRandomPasswordInput, ...func(*sm.Options)) (*sm.GetRandomPasswordOutput, error)
}

var _ SecretsAPI = (*sm.Client)(nil)

// ensureGeneratedSecret creates the secret name with a value generated as
// the template's GenerateSecretString says, the way CloudFormation does
// (GetRandomPassword, then the key set in SecretStringTemplate), unless it
// exists: a generated secret such as the pepper is kept across runs, or
// what was derived from it would no longer derive.
func ensureGeneratedSecret(ctx context.Context, api SecretsAPI, name string, gen *cfnsm.Secret_GenerateSecretString) (string, error) {
	if arn, found, err := describeSecret(ctx, api, name); err != nil || found {
		return arn, err
	}
	if gen == nil || gen.GenerateStringKey == nil || gen.SecretStringTemplate == nil {
		return "", fmt.Errorf("provision: secret %s: the template must generate it (GenerateStringKey in a SecretStringTemplate)", name)
	}
	in := &sm.GetRandomPasswordInput{
		ExcludePunctuation:      gen.ExcludePunctuation,
		ExcludeCharacters:       gen.ExcludeCharacters,
		IncludeSpace:            gen.IncludeSpace,
		RequireEachIncludedType: gen.RequireEachIncludedType,
	}
	if gen.PasswordLength != nil {
		in.PasswordLength = aws.Int64(int64(*gen.PasswordLength))
	}
	pw, err := api.GetRandomPassword(ctx, in)
	if err != nil {
		return "", fmt.Errorf("provision: secret %s: generate: %w", name, err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(*gen.SecretStringTemplate), &doc); err != nil {
		return "", fmt.Errorf("provision: secret %s: SecretStringTemplate: %w", name, err)
	}
	doc[*gen.GenerateStringKey] = aws.ToString(pw.RandomPassword)
	value, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	out, err := api.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(value))})
	if err != nil {
		return "", fmt.Errorf("provision: create secret %s: %w", name, redacted{err})
	}
	return aws.ToString(out.ARN), nil
}

// PutSecret stores value as the current value of the secret name,
// creating it if needed, as an operator does before deploying (docs/deploy.md).
// It returns the secret's ARN. Values never appear in errors.
func PutSecret(ctx context.Context, api SecretsAPI, name, value string) (string, error) {
	arn, found, err := describeSecret(ctx, api, name)
	if err != nil {
		return "", err
	}
	if found {
		if _, err := api.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(value)}); err != nil {
			return "", fmt.Errorf("provision: put secret value %s: %w", name, redacted{err})
		}
		return arn, nil
	}
	out, err := api.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("provision: create secret %s: %w", name, redacted{err})
	}
	return aws.ToString(out.ARN), nil
}

func describeSecret(ctx context.Context, api SecretsAPI, name string) (arn string, found bool, err error) {
	out, err := api.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(name)})
	var missing *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("provision: describe secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), true, nil
}

// redacted keeps an error inspectable with errors.As but prints only its
// API error code.
type redacted struct{ err error }

func (r redacted) Error() string {
	var api smithy.APIError
	if errors.As(r.err, &api) {
		return api.ErrorCode() + " (message withheld: it may quote a secret value)"
	}
	return "error withheld: it may quote a secret value"
}

func (r redacted) Unwrap() error { return r.err }
