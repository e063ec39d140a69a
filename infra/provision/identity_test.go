package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ci "github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

// The identity pool is the template's, with EnableIdentityPool=true (and
// none without: the default): no guests, no
// classic flow, the stack's pool and app client as the one provider with
// the server-side token check, the authenticated role attached, and the
// users' bucket.
func TestIdentityPoolMatchesTemplate(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	names := NamesFor("prov-" + strings.ToLower(t.Name()))
	st, err := Provision(ctx, cfg, templatePath, names, WithParameters(map[string]string{"EnableIdentityPool": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	api := ci.NewFromConfig(cfg)
	pool, err := api.DescribeIdentityPool(ctx, &ci.DescribeIdentityPoolInput{IdentityPoolId: aws.String(st.IdentityPoolID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(pool.IdentityPoolName) != names.IdentityPool || pool.AllowUnauthenticatedIdentities || aws.ToBool(pool.AllowClassicFlow) {
		t.Errorf("identity pool %+v", pool)
	}
	if len(pool.CognitoIdentityProviders) != 1 {
		t.Fatalf("providers %+v", pool.CognitoIdentityProviders)
	}
	p := pool.CognitoIdentityProviders[0]
	if aws.ToString(p.ProviderName) != "cognito-idp.us-east-1.amazonaws.com/"+st.UserPoolID || aws.ToString(p.ClientId) != st.UserPoolClientID || !aws.ToBool(p.ServerSideTokenCheck) {
		t.Errorf("provider %s %s %v", aws.ToString(p.ProviderName), aws.ToString(p.ClientId), aws.ToBool(p.ServerSideTokenCheck))
	}
	roles, err := api.GetIdentityPoolRoles(ctx, &ci.GetIdentityPoolRolesInput{IdentityPoolId: aws.String(st.IdentityPoolID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles.Roles) != 1 || roles.Roles["authenticated"] != st.IdentityRoleARN || !strings.HasSuffix(st.IdentityRoleARN, ":role/"+names.IdentityRole) {
		t.Errorf("roles %v, role %s", roles.Roles, st.IdentityRoleARN)
	}
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(st.UserFilesBucket)}); err != nil {
		t.Errorf("bucket %s: %v", st.UserFilesBucket, err)
	}
}

func TestNoIdentityPoolByDefault(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	names := NamesFor("prov-" + strings.ToLower(t.Name()))
	st, err := Provision(ctx, cfg, templatePath, names)
	if err != nil {
		t.Fatal(err)
	}
	if st.IdentityPoolID != "" || st.IdentityRoleARN != "" || st.UserFilesBucket != "" {
		t.Errorf("an identity pool with EnableIdentityPool at its default: %+v", st)
	}
}

// The users' bucket has the template's CORS rules for CorsAllowedOrigins
// (a web app's pages upload to it from the browser), and none again when
// a later provision has no origins.
func TestUserFilesBucketCORSFollowsTemplate(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	names := NamesFor("prov-" + strings.ToLower(t.Name()))
	origins := "https://app.example.com,http://localhost:8090"
	st, err := Provision(ctx, cfg, templatePath, names, WithParameters(map[string]string{"EnableIdentityPool": "true", "CorsAllowedOrigins": origins}))
	if err != nil {
		t.Fatal(err)
	}
	api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	out, err := api.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(st.UserFilesBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CORSRules) != 1 {
		t.Fatalf("rules %+v", out.CORSRules)
	}
	r := out.CORSRules[0]
	if got := strings.Join(r.AllowedOrigins, ","); got != origins ||
		strings.Join(r.AllowedMethods, ",") != "GET,PUT,HEAD,DELETE" || strings.Join(r.AllowedHeaders, ",") != "*" ||
		strings.Join(r.ExposeHeaders, ",") != "ETag" || aws.ToInt32(r.MaxAgeSeconds) != 600 {
		t.Errorf("rule: origins %v methods %v headers %v expose %v max age %d",
			r.AllowedOrigins, r.AllowedMethods, r.AllowedHeaders, r.ExposeHeaders, aws.ToInt32(r.MaxAgeSeconds))
	}

	if _, err := Provision(ctx, cfg, templatePath, names, WithParameters(map[string]string{"EnableIdentityPool": "true"})); err != nil {
		t.Fatal(err)
	}
	if out, err := api.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(st.UserFilesBucket)}); err == nil {
		t.Errorf("rules left without CorsAllowedOrigins: %+v", out.CORSRules)
	}
}
