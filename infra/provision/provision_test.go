package provision

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/shared/config"
	"github.com/kakaoauth/kakaoauth/shared/secretsmanager"
)

const templatePath = "../../template.yaml"

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

func TestProvisionTwiceMatchesTemplate(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	names := NamesFor("prov-" + strings.ToLower(t.Name()))

	first, err := Provision(ctx, cfg, templatePath, names)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Provision(ctx, cfg, templatePath, names)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("second run did not reuse the resources: %+v vs %+v", first, second)
	}
	if first.UserPoolID == "" || first.UserPoolClientID == "" {
		t.Fatalf("empty ids: %+v", first)
	}
	// The template's default: the PreAuthentication trigger only, at the
	// function's local ARN; no hosted UI.
	preAuth := "arn:aws:lambda:us-east-1:123456789012:function:" + names.FunctionPrefix + "PreAuthFunction"
	if !reflect.DeepEqual(first.Triggers, map[string]string{"PreAuthFunction": preAuth}) || first.HostedUI != nil {
		t.Fatalf("triggers %v, hosted UI %+v", first.Triggers, first.HostedUI)
	}

	idp := cip.NewFromConfig(cfg)
	pools, err := idp.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pools.UserPools {
		if aws.ToString(p.Name) == names.UserPool {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d pools named %s", n, names.UserPool)
	}

	pool, err := idp.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &first.UserPoolID})
	if err != nil {
		t.Fatal(err)
	}
	up := pool.UserPool
	var kakaoID *ciptypes.SchemaAttributeType
	for i, a := range up.SchemaAttributes {
		if aws.ToString(a.Name) == "custom:kakao_id" {
			kakaoID = &up.SchemaAttributes[i]
		}
	}
	if kakaoID == nil {
		t.Fatal("pool schema has no custom:kakao_id")
	}
	if aws.ToBool(kakaoID.Mutable) || kakaoID.AttributeDataType != ciptypes.AttributeDataTypeString {
		t.Fatalf("custom:kakao_id: mutable=%v type=%s", aws.ToBool(kakaoID.Mutable), kakaoID.AttributeDataType)
	}
	if !slices.Equal(up.AliasAttributes, []ciptypes.AliasAttributeType{ciptypes.AliasAttributeTypeEmail}) {
		t.Fatalf("alias attributes %v", up.AliasAttributes)
	}
	pp := up.Policies.PasswordPolicy
	if aws.ToInt32(pp.MinimumLength) != 12 || !pp.RequireSymbols || !pp.RequireNumbers || !pp.RequireUppercase || !pp.RequireLowercase {
		t.Fatalf("password policy %+v", pp)
	}
	if up.AdminCreateUserConfig == nil || !up.AdminCreateUserConfig.AllowAdminCreateUserOnly {
		t.Fatal("pool allows self sign-up")
	}
	if lc := up.LambdaConfig; lc == nil || aws.ToString(lc.PreAuthentication) != preAuth || lc.PreSignUp != nil {
		t.Fatalf("the pool's triggers: %+v", up.LambdaConfig)
	}

	client, err := idp.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{
		UserPoolId: &first.UserPoolID, ClientId: &first.UserPoolClientID,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := client.UserPoolClient
	flows := slices.Clone(c.ExplicitAuthFlows)
	slices.Sort(flows)
	if !slices.Equal(flows, []ciptypes.ExplicitAuthFlowsType{"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}) {
		t.Fatalf("auth flows %v", c.ExplicitAuthFlows)
	}
	if aws.ToString(c.ClientSecret) != "" {
		t.Fatal("client has a secret")
	}
	if slices.Contains(c.WriteAttributes, "custom:kakao_id") || slices.Contains(c.WriteAttributes, "email_verified") {
		t.Fatalf("client may write %v", c.WriteAttributes)
	}
	if !slices.Contains(c.ReadAttributes, "custom:kakao_id") {
		t.Fatalf("client cannot read custom:kakao_id: %v", c.ReadAttributes)
	}
	if c.PreventUserExistenceErrors != ciptypes.PreventUserExistenceErrorTypesEnabled {
		t.Fatalf("client PreventUserExistenceErrors %s, want ENABLED", c.PreventUserExistenceErrors)
	}
	// A client an earlier template made (a moto that kept running, LEGACY)
	// is brought to the template's setting, the rest of it as declared.
	if _, err := idp.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{UserPoolId: &first.UserPoolID, ClientId: &first.UserPoolClientID,
		PreventUserExistenceErrors: ciptypes.PreventUserExistenceErrorTypesLegacy}); err != nil {
		t.Fatal(err)
	}
	if again, err := Provision(ctx, cfg, templatePath, names); err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("third run: %+v %v", again, err)
	}
	client, err = idp.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &first.UserPoolID, ClientId: &first.UserPoolClientID})
	if err != nil {
		t.Fatal(err)
	}
	if c := client.UserPoolClient; c.PreventUserExistenceErrors != ciptypes.PreventUserExistenceErrorTypesEnabled ||
		!slices.Contains(c.ReadAttributes, "custom:kakao_id") || len(c.ExplicitAuthFlows) != 2 || !aws.ToBool(c.EnableTokenRevocation) {
		t.Fatalf("after the update: %+v", c)
	}

	ddb := dynamodb.NewFromConfig(cfg)
	mapping := describe(t, ddb, names.MappingTable)
	if got := keysString(mapping.KeySchema); got != "kakaoId:HASH" {
		t.Fatalf("mapping keys %s", got)
	}
	assertAttrType(t, mapping, "kakaoId", ddbtypes.ScalarAttributeTypeN)
	assertGSI(t, mapping, "bySub", "sub:HASH", ddbtypes.ProjectionTypeAll)
	assertGSI(t, mapping, "byCreatedDay", "createdDay:HASH,createdAt:RANGE", ddbtypes.ProjectionTypeInclude)
	if mapping.BillingModeSummary == nil || mapping.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Fatalf("mapping billing %+v", mapping.BillingModeSummary)
	}

	audit := describe(t, ddb, names.AuditTable)
	if got := keysString(audit.KeySchema); got != "pk:HASH,sk:RANGE" {
		t.Fatalf("audit keys %s", got)
	}
	assertGSI(t, audit, "byDay", "day:HASH,sk:RANGE", ddbtypes.ProjectionTypeAll)
	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &names.AuditTable})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expiresAt" {
		t.Fatalf("audit TTL %+v", d)
	}
	for _, table := range []string{names.MappingTable, names.AuditTable} {
		b, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		if b.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
			t.Fatalf("%s: PITR not enabled", table)
		}
	}

	// The unlink queue, wired to its dead-letter queue as the template
	// says, and the event bus.
	q := sqs.NewFromConfig(cfg)
	attrs := func(url string) map[string]string {
		out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes
	}
	queue, dlq := attrs(first.UnlinkQueueURL), attrs(first.UnlinkDLQURL)
	var redrive struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(queue["RedrivePolicy"]), &redrive); err != nil {
		t.Fatalf("redrive policy %q: %v", queue["RedrivePolicy"], err)
	}
	if redrive.DeadLetterTargetArn != dlq["QueueArn"] || redrive.MaxReceiveCount != 5 || queue["VisibilityTimeout"] != "360" || dlq["MessageRetentionPeriod"] != "1209600" {
		t.Fatalf("queue %v, dead-letter queue %v", queue, dlq)
	}
	if _, err := eventbridge.NewFromConfig(cfg).DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: &first.EventBusName}); err != nil || first.EventBusName != names.EventBus {
		t.Fatalf("event bus %q: %v", first.EventBusName, err)
	}
	// The local stack shortens the visibility timeout; nothing else moves.
	short, err := Provision(ctx, cfg, templatePath, names, WithQueueVisibility(2*time.Second))
	if err != nil || !reflect.DeepEqual(short, first) {
		t.Fatalf("provision with a short visibility: %+v %v", short, err)
	}
	if got := attrs(first.UnlinkQueueURL); got["VisibilityTimeout"] != "2" || got["RedrivePolicy"] != queue["RedrivePolicy"] {
		t.Fatalf("after the override: %v", got)
	}
}

func TestProvisionRefusesDriftedTable(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	names := NamesFor("prov-" + strings.ToLower(t.Name()))
	ddb := dynamodb.NewFromConfig(cfg)
	// A mapping table keyed the old way, as a stale local moto might hold.
	if _, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &names.MappingTable,
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	_, err := Provision(ctx, cfg, templatePath, names)
	if err == nil || !strings.Contains(err.Error(), "another shape") {
		t.Fatalf("want drift error, got %v", err)
	}
}

func TestProvisionNeedsNames(t *testing.T) {
	_, err := Provision(context.Background(), aws.Config{}, templatePath, Names{UserPool: "x"})
	if err == nil {
		t.Fatal("accepted missing names")
	}
}

// The pepper is generated once, as the template's GenerateSecretString
// says, and kept by a second run: what was derived from it must still
// derive.
func TestProvisionGeneratesThePepperOnce(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	names := NamesFor("prov-" + strings.ToLower(t.Name()))
	secrets := secretsmanager.FromConfig(cfg)
	var values []string
	for range 2 {
		st, err := Provision(ctx, cfg, templatePath, names)
		if err != nil {
			t.Fatal(err)
		}
		v, err := secrets.GetSecret(ctx, st.PepperSecretARN)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	if values[0] != values[1] {
		t.Fatal("a second run replaced the pepper")
	}
	version, peppers, err := config.ParsePeppers(values[0])
	if err != nil {
		t.Fatal(err)
	}
	if version != 1 || len(peppers[1]) != 64 || strings.ContainsFunc(string(peppers[1]), func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		t.Fatalf("pepper version %d, %d characters, want version 1 and 64 letters and digits", version, len(peppers[1]))
	}
}

func TestPutSecretCreatesThenReplaces(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	api := sm.NewFromConfig(cfg)
	var arns []string
	for _, value := range []string{"first", "second"} { // the second run replaces the value
		arn, err := PutSecret(ctx, api, "kakaoauth/test/admin-key", "admin-"+value)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	if arns[0] != arns[1] || arns[0] == "" {
		t.Fatalf("ARNs %q", arns)
	}
	got, err := secretsmanager.FromConfig(cfg).GetSecret(ctx, "kakaoauth/test/admin-key")
	if err != nil || got != "admin-second" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestPutSecretWithholdsValuesFromErrors(t *testing.T) {
	secret := "s3cr3t-value"
	failing := failingSecrets{err: &smithy.GenericAPIError{Code: "ValidationException", Message: "Value '" + secret + "' at 'secretString' failed to satisfy constraint"}}
	_, err := PutSecret(context.Background(), failing, "p", secret)
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("error %q", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatal("redaction lost the API error")
	}
}

// failingSecrets finds no secret and fails to create one.
type failingSecrets struct {
	SecretsAPI
	err error
}

func (f failingSecrets) DescribeSecret(context.Context, *sm.DescribeSecretInput, ...func(*sm.Options)) (*sm.DescribeSecretOutput, error) {
	return nil, &smtypes.ResourceNotFoundException{}
}

func (f failingSecrets) CreateSecret(context.Context, *sm.CreateSecretInput, ...func(*sm.Options)) (*sm.CreateSecretOutput, error) {
	return nil, f.err
}

func describe(t *testing.T, ddb *dynamodb.Client, name string) *ddbtypes.TableDescription {
	t.Helper()
	out, err := ddb.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return out.Table
}

func assertAttrType(t *testing.T, d *ddbtypes.TableDescription, name string, typ ddbtypes.ScalarAttributeType) {
	t.Helper()
	for _, a := range d.AttributeDefinitions {
		if aws.ToString(a.AttributeName) == name {
			if a.AttributeType != typ {
				t.Fatalf("%s is %s, want %s", name, a.AttributeType, typ)
			}
			return
		}
	}
	t.Fatalf("no attribute definition for %s", name)
}

func assertGSI(t *testing.T, d *ddbtypes.TableDescription, name, keys string, proj ddbtypes.ProjectionType) {
	t.Helper()
	for _, g := range d.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) == name {
			if got := keysString(g.KeySchema); got != keys {
				t.Fatalf("%s keys %s, want %s", name, got, keys)
			}
			if g.Projection == nil || g.Projection.ProjectionType != proj {
				t.Fatalf("%s projection %+v", name, g.Projection)
			}
			return
		}
	}
	t.Fatalf("%s: no GSI %s", aws.ToString(d.TableName), name)
}

// HostedUi=enabled (with what it needs) adds the PreSignUp trigger, the
// pool's domain, the Kakao identity provider with its client secret read
// from Secrets Manager, and the hosted UI's client, as the template says.
func TestProvisionHostedUI(t *testing.T) {
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx, moto.ForTest(t).URL())
	names := NamesFor("prov-hosted")
	if _, err := sm.NewFromConfig(cfg).CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("prov-hosted/kakao-client-secret"), SecretString: aws.String("s3cret")}); err != nil {
		t.Fatal(err)
	}
	params := map[string]string{
		"HostedUi": "enabled", "KakaoIdAttribute": "mutable", "HostedUiDomainPrefix": "prov-hosted",
		"HostedUiCallbackUrls": "http://127.0.0.1:9/callback,http://localhost:9/callback", "HostedUiSignOutUrls": "http://127.0.0.1:9/",
		"KakaoRestApiKey": "restkey123", "KakaoClientSecretName": "prov-hosted/kakao-client-secret",
		"KakaoAuthBaseUrl": "http://127.0.0.1:7", "KakaoApiBaseUrl": "http://127.0.0.1:8", "AllowNonKakaoHosts": "true",
	}
	st, err := Provision(ctx, cfg, templatePath, names, WithParameters(params))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Provision(ctx, cfg, templatePath, names, WithParameters(params)); err != nil {
		t.Fatalf("second run: %v", err)
	}
	arn := "arn:aws:lambda:us-east-1:123456789012:function:" + names.FunctionPrefix
	if !reflect.DeepEqual(st.Triggers, map[string]string{"PreAuthFunction": arn + "PreAuthFunction", "PreSignUpFunction": arn + "PreSignUpFunction"}) {
		t.Fatalf("triggers %v", st.Triggers)
	}
	if st.HostedUI == nil || st.HostedUI.Domain != "prov-hosted" || st.HostedUI.Provider != "Kakao" || st.HostedUI.ClientID == "" {
		t.Fatalf("hosted UI %+v", st.HostedUI)
	}
	idp := cip.NewFromConfig(cfg)
	p, err := idp.DescribeIdentityProvider(ctx, &cip.DescribeIdentityProviderInput{UserPoolId: &st.UserPoolID, ProviderName: aws.String("Kakao")})
	if err != nil {
		t.Fatal(err)
	}
	d := p.IdentityProvider.ProviderDetails
	if d["client_id"] != "restkey123" || d["client_secret"] != "s3cret" || d["authorize_url"] != "http://127.0.0.1:7/oauth/authorize" ||
		d["oidc_issuer"] != "http://127.0.0.1:7" || d["attributes_url"] != "http://127.0.0.1:8/v1/oidc/userinfo" ||
		p.IdentityProvider.AttributeMapping["nickname"] != "nickname" {
		t.Fatalf("identity provider %+v", p.IdentityProvider)
	}
	c, err := idp.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &st.UserPoolID, ClientId: &st.HostedUI.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	hc := c.UserPoolClient
	if !slices.Equal(hc.CallbackURLs, []string{"http://127.0.0.1:9/callback", "http://localhost:9/callback"}) || !slices.Equal(hc.SupportedIdentityProviders, []string{"Kakao"}) ||
		!aws.ToBool(hc.AllowedOAuthFlowsUserPoolClient) || hc.PreventUserExistenceErrors != ciptypes.PreventUserExistenceErrorTypesEnabled ||
		!slices.Equal(hc.WriteAttributes, []string{"nickname"}) || !slices.Equal(hc.LogoutURLs, []string{"http://127.0.0.1:9/"}) {
		t.Fatalf("hosted UI client %+v", hc)
	}
	dom, err := idp.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String("prov-hosted")})
	if err != nil || aws.ToString(dom.DomainDescription.UserPoolId) != st.UserPoolID {
		t.Fatalf("domain %+v %v", dom, err)
	}
	// The same names without the hosted UI: the pool's triggers differ.
	if _, err := Provision(ctx, cfg, templatePath, names); err == nil || !strings.Contains(err.Error(), "other triggers") {
		t.Fatalf("reusing the pool with other triggers: %v", err)
	}
}
