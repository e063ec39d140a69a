package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// Parameter is one setting to keep in SSM Parameter Store.
type Parameter struct {
	Value string
	// Secure stores it as a SecureString (the pepper, API keys).
	Secure bool
}

// ParameterPutter is the part of *ssm.Client StoreSettings uses.
type ParameterPutter interface {
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

var _ ParameterPutter = (*ssm.Client)(nil)

// StoreSettings writes each parameter, keyed by its full name
// (e.g. /kakaoauth/local/pepper), overwriting what is there. Values never
// appear in errors.
func StoreSettings(ctx context.Context, client ParameterPutter, params map[string]Parameter) error {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	slices.Sort(names) // deterministic order, so a failure is reproducible
	for _, name := range names {
		p := params[name]
		typ := ssmtypes.ParameterTypeString
		if p.Secure {
			typ = ssmtypes.ParameterTypeSecureString
		}
		if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{
			Name:      aws.String(name),
			Value:     aws.String(p.Value),
			Type:      typ,
			Overwrite: aws.Bool(true),
		}); err != nil {
			if p.Secure {
				// AWS validation messages can quote the value.
				err = redacted{err}
			}
			return fmt.Errorf("provision: put parameter %s: %w", name, err)
		}
	}
	return nil
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
