// Package userpool puts kakaoauth's Lambda triggers into a Cognito user
// pool that kakaoauth does not own, and takes them out again, changing
// nothing else.
//
// CloudFormation cannot set triggers on a pool it does not manage, and
// UpdateUserPool resets every setting its request leaves out. So attach and
// detach (Read, PlanAttach or PlanDetach, Apply) read the whole configuration
// (DescribeUserPool, GetUserPoolMfaConfig),
// send it back complete with only kakaoauth's trigger slots changed, refuse a
// slot another function holds, and read the pool again afterwards to show
// that nothing else moved.
package userpool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Cognito is the part of *cognitoidentityprovider.Client the tool uses.
type Cognito interface {
	DescribeUserPool(context.Context, *cip.DescribeUserPoolInput, ...func(*cip.Options)) (*cip.DescribeUserPoolOutput, error)
	GetUserPoolMfaConfig(context.Context, *cip.GetUserPoolMfaConfigInput, ...func(*cip.Options)) (*cip.GetUserPoolMfaConfigOutput, error)
	UpdateUserPool(context.Context, *cip.UpdateUserPoolInput, ...func(*cip.Options)) (*cip.UpdateUserPoolOutput, error)
	AddCustomAttributes(context.Context, *cip.AddCustomAttributesInput, ...func(*cip.Options)) (*cip.AddCustomAttributesOutput, error)
	// ListUsers finds users attach would wrongly treat as kakaoauth's
	// (FindReservedUsers).
	ListUsers(context.Context, *cip.ListUsersInput, ...func(*cip.Options)) (*cip.ListUsersOutput, error)
}

var _ Cognito = (*cip.Client)(nil)

// Slot is a trigger slot of the pool: a field of types.LambdaConfigType
// that holds one function ARN.
type Slot string

// The slots kakaoauth uses.
const (
	PreAuthentication           Slot = "PreAuthentication"
	DefineAuthChallenge         Slot = "DefineAuthChallenge"
	CreateAuthChallenge         Slot = "CreateAuthChallenge"
	VerifyAuthChallengeResponse Slot = "VerifyAuthChallengeResponse"
	PreSignUp                   Slot = "PreSignUp"
)

// Slots is every slot kakaoauth may fill, in the order they are shown.
var Slots = []Slot{PreAuthentication, DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse, PreSignUp}

// get is the ARN in the slot ("" when empty).
func (s Slot) get(c *types.LambdaConfigType) string {
	if c == nil {
		return ""
	}
	return aws.ToString(*s.field(c))
}

func (s Slot) set(c *types.LambdaConfigType, arn string) {
	if arn == "" {
		*s.field(c) = nil
		return
	}
	*s.field(c) = aws.String(arn)
}

func (s Slot) field(c *types.LambdaConfigType) **string {
	switch s {
	case PreAuthentication:
		return &c.PreAuthentication
	case DefineAuthChallenge:
		return &c.DefineAuthChallenge
	case CreateAuthChallenge:
		return &c.CreateAuthChallenge
	case VerifyAuthChallengeResponse:
		return &c.VerifyAuthChallengeResponse
	case PreSignUp:
		return &c.PreSignUp
	}
	panic("userpool: unknown slot " + string(s))
}

// Functions are kakaoauth's functions by slot (function ARNs, as the
// stack's outputs give them). A slot without a function is not kakaoauth's.
type Functions map[Slot]string

// Snapshot is a pool's whole configuration as read.
type Snapshot struct {
	Pool types.UserPoolType
	// MFA is GetUserPoolMfaConfig's answer: the TOTP, SMS, email and
	// passkey settings DescribeUserPool does not show.
	MFA cip.GetUserPoolMfaConfigOutput
}

// Read reads the pool's whole configuration. It refuses a description that
// holds a field this build's AWS SDK does not know: an UpdateUserPool built
// from it could not carry that setting, and Cognito would reset it.
func Read(ctx context.Context, c Cognito, poolID string) (*Snapshot, error) {
	var raw rawBody
	desc, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: &poolID}, raw.capture)
	if err != nil {
		return nil, fmt.Errorf("reading user pool %s: %w", poolID, err)
	}
	if desc.UserPool == nil {
		return nil, fmt.Errorf("reading user pool %s: DescribeUserPool returned no pool", poolID)
	}
	unknown, err := UnknownFields(raw.body)
	if err != nil {
		return nil, fmt.Errorf("reading user pool %s: %w", poolID, err)
	}
	if len(unknown) > 0 {
		return nil, &UnknownFieldsError{Fields: unknown}
	}
	mfa, err := c.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: &poolID})
	if err != nil {
		return nil, fmt.Errorf("reading user pool %s's MFA configuration: %w", poolID, err)
	}
	return &Snapshot{Pool: *desc.UserPool, MFA: *mfa}, nil
}

// UnknownFieldsError is a description with settings this build cannot carry.
type UnknownFieldsError struct{ Fields []string }

func (e *UnknownFieldsError) Error() string {
	return "DescribeUserPool returned settings this kakaoauth build does not know (" + strings.Join(e.Fields, ", ") +
		"): an UpdateUserPool request could not carry them and Cognito would reset them; nothing was changed. " +
		"Use a kakaoauth built with a newer AWS SDK"
}

// rawBody keeps the DescribeUserPool answer as it came off the wire.
type rawBody struct{ body []byte }

func (r *rawBody) capture(o *cip.Options) {
	o.HTTPClient = &teeClient{next: o.HTTPClient, into: &r.body}
}

type teeClient struct {
	next aws.HTTPClient
	into *[]byte
}

func (t *teeClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	*t.into = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// UnknownFields lists the members of a DescribeUserPool answer (its JSON
// body) that the SDK's types.UserPoolType does not have, nested ones by
// path. Members of the request shapes (PoolName, UserPoolId) count as known:
// they name what the SDK already carries.
func UnknownFields(body []byte) ([]string, error) {
	if len(body) == 0 {
		return nil, errors.New("DescribeUserPool's answer was not seen on the wire")
	}
	var doc struct {
		UserPool json.RawMessage
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("DescribeUserPool's answer: %w", err)
	}
	var v any
	if err := json.Unmarshal(doc.UserPool, &v); err != nil {
		return nil, fmt.Errorf("DescribeUserPool's answer: %w", err)
	}
	known := map[string]bool{}
	for _, t := range []reflect.Type{reflect.TypeFor[cip.UpdateUserPoolInput](), reflect.TypeFor[cip.CreateUserPoolInput]()} {
		for f := range t.Fields() {
			known[f.Name] = true
		}
	}
	var out []string
	walkUnknown(v, reflect.TypeFor[types.UserPoolType](), "", known, &out)
	sort.Strings(out)
	return slices.Compact(out), nil
}

func walkUnknown(v any, t reflect.Type, path string, topKnown map[string]bool, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch val := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Struct:
			for k, sub := range val {
				f, ok := t.FieldByName(k)
				if !ok || !f.IsExported() {
					if path == "" && topKnown[k] {
						continue
					}
					*out = append(*out, join(path, k))
					continue
				}
				walkUnknown(sub, f.Type, join(path, k), nil, out)
			}
		case reflect.Map:
			for k, sub := range val {
				walkUnknown(sub, t.Elem(), join(path, k), nil, out)
			}
		}
	case []any:
		if t.Kind() == reflect.Slice {
			for _, sub := range val {
				walkUnknown(sub, t.Elem(), path+"[]", nil, out)
			}
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
