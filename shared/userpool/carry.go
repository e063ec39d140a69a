package userpool

import (
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// UpdateUserPool sets every setting its request leaves out back to
// Cognito's default ("If you don't provide a value for an attribute, Amazon
// Cognito sets it to its default value", API reference). So the request is
// the whole description, field by field; the tables below say why each
// description field that is not sent stays out, and a test walks both SDK
// types by reflection so that a field a newer SDK adds fails the build of
// this table instead of being dropped.

// notSent are DescribeUserPool fields (types.UserPoolType) that the
// UpdateUserPool request does not carry, with the reason. None of them is a
// setting UpdateUserPool could reset.
var notSent = map[string]string{
	"Arn":                       "read-only: the pool's ARN",
	"CreationDate":              "read-only",
	"LastModifiedDate":          "read-only",
	"EstimatedNumberOfUsers":    "read-only",
	"Status":                    "read-only (deprecated, always empty)",
	"EmailConfigurationFailure": "read-only: the last email configuration error",
	"SmsConfigurationFailure":   "read-only: the last SMS configuration error",
	"Domain":                    "belongs to the pool's domain (CreateUserPoolDomain), which UpdateUserPool does not touch",
	"CustomDomain":              "belongs to the pool's domain (CreateUserPoolDomain), which UpdateUserPool does not touch",
	"AliasAttributes":           "fixed when the pool is created; not in UpdateUserPool",
	"UsernameAttributes":        "fixed when the pool is created; not in UpdateUserPool",
	"UsernameConfiguration":     "fixed when the pool is created; not in UpdateUserPool",
	"SchemaAttributes":          "attributes are only ever added (AddCustomAttributes), never set by UpdateUserPool",
}

// requestNotCarried are UpdateUserPool fields that are not taken from the
// description, with the reason. Empty today: every field of the request has
// its counterpart in the description. A field a newer SDK adds to the
// request alone belongs here (or in UpdateInput) before it can build.
var requestNotCarried = map[string]string{}

// renamed are UpdateUserPool fields taken from a description field of
// another name.
var renamed = map[string]string{
	"UserPoolId": "Id",
	"PoolName":   "Name",
}

// reshaped are the leaves (paths in the description) that the request
// carries in another form, with the reason. Everything else under a sent
// field is sent exactly as read.
var reshaped = map[string]string{
	// DescribeUserPool still reports the deprecated field, and UpdateUserPool
	// refuses it: "Please use TemporaryPasswordValidityDays in PasswordPolicy
	// instead of UnusedAccountValidityDays" (InvalidParameterException;
	// aws-sdk-js #3817, pulumi-aws-native #1256). Its value is the temporary
	// password validity, which the password policy carries.
	"AdminCreateUserConfig.UnusedAccountValidityDays": "deprecated and refused by UpdateUserPool; " +
		"its value travels as Policies.PasswordPolicy.TemporaryPasswordValidityDays when the policy has none",
}

// UpdateInput is the UpdateUserPool request that leaves pool exactly as
// described: every field of the description, except those in notSent and
// the reshaped leaves. Nothing in pool is modified; change the returned
// request's LambdaConfig to change the triggers.
func UpdateInput(pool *types.UserPoolType) *cip.UpdateUserPoolInput {
	in := &cip.UpdateUserPoolInput{
		UserPoolId:                  pool.Id,
		PoolName:                    pool.Name,
		AccountRecoverySetting:      pool.AccountRecoverySetting,
		AdminCreateUserConfig:       pool.AdminCreateUserConfig,
		AutoVerifiedAttributes:      pool.AutoVerifiedAttributes,
		DeletionProtection:          pool.DeletionProtection,
		DeviceConfiguration:         pool.DeviceConfiguration,
		EmailConfiguration:          pool.EmailConfiguration,
		EmailVerificationMessage:    pool.EmailVerificationMessage,
		EmailVerificationSubject:    pool.EmailVerificationSubject,
		IssuerConfiguration:         pool.IssuerConfiguration,
		KeyConfiguration:            pool.KeyConfiguration,
		LambdaConfig:                cloneLambdaConfig(pool.LambdaConfig),
		MfaConfiguration:            pool.MfaConfiguration,
		Policies:                    pool.Policies,
		SmsAuthenticationMessage:    pool.SmsAuthenticationMessage,
		SmsConfiguration:            pool.SmsConfiguration,
		SmsVerificationMessage:      pool.SmsVerificationMessage,
		UserAttributeUpdateSettings: pool.UserAttributeUpdateSettings,
		UserPoolAddOns:              pool.UserPoolAddOns,
		UserPoolTags:                pool.UserPoolTags,
		UserPoolTier:                pool.UserPoolTier,
		VerificationMessageTemplate: pool.VerificationMessageTemplate,
	}
	if c := pool.AdminCreateUserConfig; c != nil && c.UnusedAccountValidityDays != 0 {
		cc := *c
		cc.UnusedAccountValidityDays = 0
		in.AdminCreateUserConfig = &cc
		// A policy without the validity gets it; a pool without a password
		// policy gets none invented (its zero booleans would weaken it).
		if pp := passwordPolicy(pool.Policies); pp != nil && pp.TemporaryPasswordValidityDays == 0 {
			policy := *pp
			policy.TemporaryPasswordValidityDays = c.UnusedAccountValidityDays
			policies := *pool.Policies
			policies.PasswordPolicy = &policy
			in.Policies = &policies
		}
	}
	return in
}

func passwordPolicy(p *types.UserPoolPolicyType) *types.PasswordPolicyType {
	if p == nil {
		return nil
	}
	return p.PasswordPolicy
}

// cloneLambdaConfig copies the trigger configuration so that changing the
// request's slots leaves the description as read.
func cloneLambdaConfig(c *types.LambdaConfigType) *types.LambdaConfigType {
	if c == nil {
		return nil
	}
	cc := *c
	return &cc
}
