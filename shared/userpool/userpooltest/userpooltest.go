// Package userpooltest creates, in moto, the user pool a team already runs
// when it adopts kakaoauth: every setting UpdateUserPool has, set away from
// its default, and every trigger slot kakaoauth does not use filled. Tests
// of pool attach/detach use it to show that nothing but kakaoauth's slots
// moves.
package userpooltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

func awsConfig(endpoint string) aws.Config { return moto.AWSConfig(context.Background(), endpoint) }

// Account is the account id in the fixture's ARNs.
const Account = "123456789012"

// FunctionARN is a Lambda function ARN in the fixture's account.
func FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:us-east-1:%s:function:%s", Account, name)
}

// TheirTriggers are the team's own functions, in every slot kakaoauth does
// not use.
var TheirTriggers = types.LambdaConfigType{
	PostAuthentication: aws.String(FunctionARN("team-post-auth")),
	PostConfirmation:   aws.String(FunctionARN("team-post-confirmation")),
	CustomMessage:      aws.String(FunctionARN("team-custom-message")),
	UserMigration:      aws.String(FunctionARN("team-user-migration")),
	// V2_0: access token customisation, lost if the version is not carried.
	PreTokenGeneration: aws.String(FunctionARN("team-pre-token:live")),
	PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{
		LambdaArn: aws.String(FunctionARN("team-pre-token:live")), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV20,
	},
	CustomEmailSender: &types.CustomEmailLambdaVersionConfigType{LambdaArn: aws.String(FunctionARN("team-email-sender")), LambdaVersion: types.CustomEmailSenderLambdaVersionTypeV10},
	CustomSMSSender:   &types.CustomSMSLambdaVersionConfigType{LambdaArn: aws.String(FunctionARN("team-sms-sender")), LambdaVersion: types.CustomSMSSenderLambdaVersionTypeV10},
	KMSKeyID:          aws.String("arn:aws:kms:us-east-1:" + Account + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"),
	InboundFederation: &types.InboundFederationLambdaType{LambdaArn: aws.String(FunctionARN("team-inbound-federation")), LambdaVersion: types.InboundFederationLambdaVersionTypeV10},
}

// Create makes the team's pool named name and returns its id. Besides the
// description's settings it sets the MFA configuration (TOTP and SMS), a
// domain and a custom attribute of the team's, which UpdateUserPool must
// not touch either, and the sign-in aliases fixed at creation
// (AliasAttributes, UsernameConfiguration), which no UpdateUserPool may
// change (moto forgets them on an update; the local layer keeps them as AWS
// does).
func Create(ctx context.Context, idp *cip.Client, name string) (string, error) {
	triggers := TheirTriggers
	smsConfig := &types.SmsConfigurationType{
		SnsCallerArn: aws.String("arn:aws:iam::" + Account + ":role/service-role/team-sms"),
		ExternalId:   aws.String("team-external-id"),
		SnsRegion:    aws.String("ap-northeast-1"),
	}
	out, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String(name),
		AccountRecoverySetting: &types.AccountRecoverySettingType{RecoveryMechanisms: []types.RecoveryOptionType{
			{Name: types.RecoveryOptionNameTypeVerifiedPhoneNumber, Priority: aws.Int32(1)},
			{Name: types.RecoveryOptionNameTypeVerifiedEmail, Priority: aws.Int32(2)},
		}},
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{
			AllowAdminCreateUserOnly: true,
			InviteMessageTemplate: &types.MessageTemplateType{
				EmailSubject: aws.String("팀에 오신 것을 환영합니다"),
				EmailMessage: aws.String("Hello {username}, your code is {####}"),
				SMSMessage:   aws.String("{username} {####}"),
			},
		},
		AliasAttributes:        []types.AliasAttributeType{types.AliasAttributeTypeEmail, types.AliasAttributeTypePreferredUsername},
		UsernameConfiguration:  &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail, types.VerifiedAttributeTypePhoneNumber},
		DeletionProtection:     types.DeletionProtectionTypeActive,
		DeviceConfiguration:    &types.DeviceConfigurationType{ChallengeRequiredOnNewDevice: true, DeviceOnlyRememberedOnUserPrompt: true},
		EmailConfiguration: &types.EmailConfigurationType{
			EmailSendingAccount: types.EmailSendingAccountTypeDeveloper,
			SourceArn:           aws.String("arn:aws:ses:us-east-1:" + Account + ":identity/no-reply@team.example"),
			From:                aws.String("Team <no-reply@team.example>"),
			ReplyToEmailAddress: aws.String("help@team.example"),
			ConfigurationSet:    aws.String("team-config-set"),
		},
		EmailVerificationMessage: aws.String("Your code: {####}"),
		EmailVerificationSubject: aws.String("Verify your email"),
		IssuerConfiguration:      &types.IssuerConfigurationType{Type: types.IssuerTypeUpdated},
		KeyConfiguration: &types.KeyConfigurationType{
			KeyType:   types.EncryptionKeyTypeCustomerManagedKey,
			KmsKeyArn: aws.String("arn:aws:kms:us-east-1:" + Account + ":key/mrk-1234abcd"),
		},
		LambdaConfig:     &triggers,
		MfaConfiguration: types.UserPoolMfaTypeOptional,
		Policies: &types.UserPoolPolicyType{
			PasswordPolicy: &types.PasswordPolicyType{
				MinimumLength: aws.Int32(14), RequireUppercase: true, RequireLowercase: true, RequireNumbers: false, RequireSymbols: true,
				TemporaryPasswordValidityDays: 2, PasswordHistorySize: aws.Int32(6),
			},
			SignInPolicy: &types.SignInPolicyType{AllowedFirstAuthFactors: []types.AuthFactorType{types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp, types.AuthFactorTypeWebAuthn}},
		},
		SmsAuthenticationMessage:    aws.String("Your sign-in code: {####}"),
		SmsConfiguration:            smsConfig,
		SmsVerificationMessage:      aws.String("Your code: {####}"),
		UserAttributeUpdateSettings: &types.UserAttributeUpdateSettingsType{AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}},
		UserPoolAddOns: &types.UserPoolAddOnsType{
			AdvancedSecurityMode:            types.AdvancedSecurityModeTypeEnforced,
			AdvancedSecurityAdditionalFlows: &types.AdvancedSecurityAdditionalFlowsType{CustomAuthMode: types.AdvancedSecurityEnabledModeTypeAudit},
		},
		UserPoolTags: map[string]string{"team": "identity", "cost-center": "42"},
		UserPoolTier: types.UserPoolTierTypePlus,
		VerificationMessageTemplate: &types.VerificationMessageTemplateType{
			DefaultEmailOption: types.DefaultEmailOptionTypeConfirmWithLink,
			EmailMessageByLink: aws.String("Click {##here##} to verify"),
			EmailSubjectByLink: aws.String("Verify by link"),
			SmsMessage:         aws.String("Your code: {####}"),
		},
		Schema: []types.SchemaAttributeType{
			{Name: aws.String("email"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(true), Required: aws.Bool(true)},
			{Name: aws.String("tenant"), AttributeDataType: types.AttributeDataTypeString, Mutable: aws.Bool(false),
				StringAttributeConstraints: &types.StringAttributeConstraintsType{MinLength: aws.String("2"), MaxLength: aws.String("32")}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("creating the team's pool: %w", err)
	}
	id := aws.ToString(out.UserPool.Id)
	if _, err := idp.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{
		UserPoolId:                    &id,
		MfaConfiguration:              types.UserPoolMfaTypeOptional,
		SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true},
		SmsMfaConfiguration:           &types.SmsMfaConfigType{SmsAuthenticationMessage: aws.String("Your sign-in code: {####}"), SmsConfiguration: smsConfig},
	}); err != nil {
		return "", fmt.Errorf("the team pool's MFA: %w", err)
	}
	if _, err := idp.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: &id, Domain: aws.String(name + "-login")}); err != nil {
		return "", fmt.Errorf("the team pool's domain: %w", err)
	}
	return id, nil
}

// Cognito is moto behind a front that keeps the pool settings moto 5.2.1's
// model has no member for (IssuerConfiguration, KeyConfiguration: moto
// accepts them and never returns them) the way Cognito does: CreateUserPool
// and UpdateUserPool set them, an UpdateUserPool that omits one resets it
// (to absent), and DescribeUserPool returns them. Extra members can be
// added to a pool's description, standing in for a Cognito newer than the
// SDK.
type Cognito struct {
	srv *httptest.Server

	mu    sync.Mutex
	kept  map[string]map[string]json.RawMessage // pool id -> member -> value
	extra map[string]map[string]json.RawMessage
}

// NotInMoto are the members Cognito keeps for moto.
var NotInMoto = []string{"IssuerConfiguration", "KeyConfiguration"}

// Start fronts the moto at motoURL.
func Start(motoURL string) (*Cognito, error) {
	target, err := url.Parse(motoURL)
	if err != nil {
		return nil, err
	}
	c := &Cognito{kept: map[string]map[string]json.RawMessage{}, extra: map[string]map[string]json.RawMessage{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndexByte(op, '.')+1:]
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		answer := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			answer = c.around(op, body, answer)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(answer)
	}))
	return c, nil
}

// URL is the endpoint for the SDK.
func (c *Cognito) URL() string { return c.srv.URL }

// Close stops the front.
func (c *Cognito) Close() { c.srv.Close() }

// AddMember makes DescribeUserPool of poolID return member with value.
func (c *Cognito) AddMember(poolID, member string, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.extra[poolID] == nil {
		c.extra[poolID] = map[string]json.RawMessage{}
	}
	c.extra[poolID][member] = raw
	return nil
}

// around keeps what a create or update set and adds it to a description.
func (c *Cognito) around(op string, request, answer []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var req map[string]json.RawMessage
	_ = json.Unmarshal(request, &req)
	switch op {
	case "CreateUserPool", "UpdateUserPool":
		var id string
		if op == "CreateUserPool" {
			var out struct{ UserPool struct{ Id string } }
			_ = json.Unmarshal(answer, &out)
			id = out.UserPool.Id
		} else {
			_ = json.Unmarshal(req["UserPoolId"], &id)
		}
		kept := map[string]json.RawMessage{}
		for _, m := range NotInMoto {
			if v, ok := req[m]; ok {
				kept[m] = v
			}
		}
		c.kept[id] = kept
	case "DescribeUserPool":
		var id string
		_ = json.Unmarshal(req["UserPoolId"], &id)
		var out map[string]map[string]json.RawMessage
		if err := json.Unmarshal(answer, &out); err != nil || out["UserPool"] == nil {
			return answer
		}
		for _, add := range []map[string]json.RawMessage{c.kept[id], c.extra[id]} {
			for m, v := range add {
				out["UserPool"][m] = v
			}
		}
		if b, err := json.Marshal(out); err == nil {
			return b
		}
	}
	return answer
}

// TeamPool is the team's pool in moto behind the front, reached through a
// proxy that counts every call (and records those a test asks for).
type TeamPool struct {
	ID string
	// Endpoint is the proxy's URL: what the SDK or the CLI points at.
	Endpoint string
	IDP      *cip.Client
	Proxy    *faultproxy.Proxy
	Cognito  *Cognito
}

// New creates the team's pool named name in the moto at motoURL; the
// front and the proxy stop with the test.
func New(t testing.TB, motoURL, name string) *TeamPool {
	t.Helper()
	ctx := context.Background()
	front, err := Start(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(front.Close)
	proxy, err := faultproxy.Start(front.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	idp := cip.NewFromConfig(awsConfig(proxy.URL()))
	id, err := Create(ctx, idp, name)
	if err != nil {
		t.Fatal(err)
	}
	proxy.Reset()
	return &TeamPool{ID: id, Endpoint: proxy.URL(), IDP: idp, Proxy: proxy, Cognito: front}
}

// Writes counts the calls on the wire that change a pool.
func (p *TeamPool) Writes() int {
	return p.Proxy.Count("UpdateUserPool") + p.Proxy.Count("AddCustomAttributes") + p.Proxy.Count("SetUserPoolMfaConfig")
}

// CreateUser makes a user of the pool (attrs: name, value pairs); a
// password, when given, is made permanent: the user signs in with it.
func CreateUser(t testing.TB, idp *cip.Client, poolID, username, password string, attrs ...string) {
	t.Helper()
	ctx := context.Background()
	in := &cip.AdminCreateUserInput{UserPoolId: &poolID, Username: &username, MessageAction: types.MessageActionTypeSuppress}
	for i := 0; i+1 < len(attrs); i += 2 {
		in.UserAttributes = append(in.UserAttributes, types.AttributeType{Name: aws.String(attrs[i]), Value: aws.String(attrs[i+1])})
	}
	if _, err := idp.AdminCreateUser(ctx, in); err != nil {
		t.Fatalf("creating %s: %v", username, err)
	}
	if password != "" {
		if _, err := idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &poolID, Username: &username, Password: &password, Permanent: true}); err != nil {
			t.Fatalf("%s's password: %v", username, err)
		}
	}
}
