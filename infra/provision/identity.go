package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	citypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentity/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	cfncognito "github.com/awslabs/goformation/v7/cloudformation/cognito"
)

// The identity pool's resources (template.yaml, EnableIdentityPool). The
// local stack always has them, so that `make run` shows every part.
const (
	LogicalIdentityPool     = "IdentityPool"
	LogicalIdentityRole     = "IdentityAuthenticatedRole"
	LogicalUserFilesBucket  = "UserFilesBucket"
	identityRoleSessionName = "CognitoIdentityCredentials"
)

// ensureIdentity creates (or finds) the identity pool with the template's
// settings, the user pool's app client as its provider, the role it hands
// authenticated identities (IAM is not enforced locally: the role is
// there for its ARN, which credentials name), and the users' bucket.
func ensureIdentity(ctx context.Context, cfg aws.Config, names Names, userPoolID, clientID string, p *cfncognito.IdentityPool) (poolID, roleARN string, err error) {
	if len(p.CognitoIdentityProviders) == 0 {
		return "", "", errors.New("provision: the template's identity pool has no provider")
	}
	api := ci.NewFromConfig(cfg)
	pages := ci.NewListIdentityPoolsPaginator(api, &ci.ListIdentityPoolsInput{MaxResults: aws.Int32(60)})
	for pages.HasMorePages() && poolID == "" {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", "", fmt.Errorf("provision: list identity pools: %w", err)
		}
		for _, ip := range page.IdentityPools {
			if aws.ToString(ip.IdentityPoolName) == names.IdentityPool {
				poolID = aws.ToString(ip.IdentityPoolId)
				break
			}
		}
	}
	if poolID == "" {
		// The template's first provider is the stack's app client (the
		// second, the hosted UI's, only with the hosted UI).
		out, err := api.CreateIdentityPool(ctx, &ci.CreateIdentityPoolInput{
			IdentityPoolName:               aws.String(names.IdentityPool),
			AllowUnauthenticatedIdentities: p.AllowUnauthenticatedIdentities,
			AllowClassicFlow:               p.AllowClassicFlow,
			CognitoIdentityProviders: []citypes.CognitoIdentityProvider{{
				ProviderName:         aws.String(fmt.Sprintf("cognito-idp.%s.amazonaws.com/%s", cfg.Region, userPoolID)),
				ClientId:             aws.String(clientID),
				ServerSideTokenCheck: p.CognitoIdentityProviders[0].ServerSideTokenCheck,
			}},
		})
		if err != nil {
			return "", "", fmt.Errorf("provision: create identity pool %s: %w", names.IdentityPool, err)
		}
		poolID = aws.ToString(out.IdentityPoolId)
	}

	roles := iam.NewFromConfig(cfg)
	role, err := roles.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(names.IdentityRole)})
	var missing *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &missing):
		created, err := roles.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(names.IdentityRole),
			AssumeRolePolicyDocument: aws.String(trustPolicy(poolID)),
		})
		if err != nil {
			return "", "", fmt.Errorf("provision: create role %s: %w", names.IdentityRole, err)
		}
		roleARN = aws.ToString(created.Role.Arn)
	case err != nil:
		return "", "", fmt.Errorf("provision: role %s: %w", names.IdentityRole, err)
	default:
		roleARN = aws.ToString(role.Role.Arn)
	}
	if _, err := api.SetIdentityPoolRoles(ctx, &ci.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(poolID), Roles: map[string]string{"authenticated": roleARN},
	}); err != nil {
		return "", "", fmt.Errorf("provision: roles of identity pool %s (moto needs infra/moto/ext): %w", names.IdentityPool, err)
	}

	bucket := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := bucket.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(names.UserFilesBucket)}); err != nil {
		if _, err := bucket.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(names.UserFilesBucket)}); err != nil {
			return "", "", fmt.Errorf("provision: create bucket %s: %w", names.UserFilesBucket, err)
		}
	}
	return poolID, roleARN, nil
}

// trustPolicy is the template's trust of IdentityAuthenticatedRole for
// the local pool: authenticated identities of this identity pool only.
func trustPolicy(identityPoolID string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"` + identityPoolID + `"},` +
		`"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}]}`
}
