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
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	cfncognito "github.com/awslabs/goformation/v7/cloudformation/cognito"
	cfns3 "github.com/awslabs/goformation/v7/cloudformation/s3"
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
// there for its ARN, which credentials name), and the users' bucket with
// the template's CORS rules (CorsAllowedOrigins), which a web app's
// uploads from the browser need.
func ensureIdentity(ctx context.Context, cfg aws.Config, names Names, userPoolID, clientID string, p *cfncognito.IdentityPool, files *cfns3.Bucket) (poolID, roleARN string, err error) {
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
	if err := ensureBucketCORS(ctx, bucket, names.UserFilesBucket, files.CorsConfiguration); err != nil {
		return "", "", err
	}
	return poolID, roleARN, nil
}

// ensureBucketCORS gives the bucket the template's CORS rules, or none
// when the template has none (CorsAllowedOrigins empty).
func ensureBucketCORS(ctx context.Context, api *s3.Client, bucket string, c *cfns3.Bucket_CorsConfiguration) error {
	if c == nil || len(c.CorsRules) == 0 {
		if _, err := api.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)}); err != nil {
			return fmt.Errorf("provision: CORS of bucket %s: %w", bucket, err)
		}
		return nil
	}
	rules := make([]s3types.CORSRule, 0, len(c.CorsRules))
	for _, r := range c.CorsRules {
		rule := s3types.CORSRule{AllowedMethods: r.AllowedMethods, AllowedOrigins: r.AllowedOrigins,
			AllowedHeaders: r.AllowedHeaders, ExposeHeaders: r.ExposedHeaders, ID: r.Id}
		if r.MaxAge != nil {
			rule.MaxAgeSeconds = aws.Int32(int32(*r.MaxAge))
		}
		rules = append(rules, rule)
	}
	if _, err := api.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String(bucket),
		CORSConfiguration: &s3types.CORSConfiguration{CORSRules: rules}}); err != nil {
		return fmt.Errorf("provision: CORS of bucket %s: %w", bucket, err)
	}
	return nil
}

// trustPolicy is the template's trust of IdentityAuthenticatedRole for
// the local pool: authenticated identities of this identity pool only.
func trustPolicy(identityPoolID string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"` + identityPoolID + `"},` +
		`"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}]}`
}
