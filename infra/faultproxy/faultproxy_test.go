package faultproxy

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// Through the proxy the SDK sees the services' own error types, and every
// attempt on the wire is counted.
func TestFaultsAsTheSDKSeesThem(t *testing.T) {
	ctx := context.Background()
	p, err := Start(moto.ForTest(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	cfg := moto.AWSConfig(ctx, p.URL())
	idp := cip.NewFromConfig(cfg)
	pool, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("faultproxy")})
	if err != nil {
		t.Fatal(err)
	}
	get := func(opts ...func(*cip.Options)) error {
		_, err := idp.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool.UserPool.Id, Username: aws.String("nobody")}, opts...)
		return err
	}
	once := func(o *cip.Options) { o.RetryMaxAttempts = 1 }

	// Unfaulted: moto's own answer comes through.
	var nf *ciptypes.UserNotFoundException
	if err := get(once); !errors.As(err, &nf) {
		t.Fatalf("through the proxy: %v", err)
	}
	p.Reset()
	p.Inject("AdminGetUser", Fault{Kind: Throttle, Times: 1})
	var tooMany *ciptypes.TooManyRequestsException
	if err := get(once); !errors.As(err, &tooMany) {
		t.Fatalf("throttled: %T %v", err, err)
	}
	// The fault was used up: the next call reaches moto.
	if err := get(once); !errors.As(err, &nf) {
		t.Fatalf("after the fault: %v", err)
	}
	if p.Count("AdminGetUser") != 2 || p.Faulted("AdminGetUser") != 1 {
		t.Fatalf("counts %v, faulted %d", p.Counts(), p.Faulted("AdminGetUser"))
	}

	// The SDK's default retryer retries throttling: each attempt counts.
	p.Reset()
	p.Inject("AdminGetUser", Fault{Kind: Throttle, Times: 2})
	if err := get(); !errors.As(err, &nf) {
		t.Fatalf("retried past two throttles: %v", err)
	}
	if p.Count("AdminGetUser") != 3 {
		t.Fatalf("attempts %d, want 3", p.Count("AdminGetUser"))
	}

	// A 500, a reset connection, a stall: errors the caller can tell.
	for _, c := range []struct {
		kind Kind
		want func(error) bool
	}{
		{ServerError, func(err error) bool { var ie *ciptypes.InternalErrorException; return errors.As(err, &ie) }},
		{Reset, func(err error) bool { var api smithy.APIError; return err != nil && !errors.As(err, &api) }},
		{Stall, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	} {
		p.Inject("AdminGetUser", Fault{Kind: c.kind, Times: -1, Stall: 5 * time.Second})
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := idp.AdminGetUser(cctx, &cip.AdminGetUserInput{UserPoolId: pool.UserPool.Id, Username: aws.String("nobody")}, once)
		cancel()
		if !c.want(err) {
			t.Errorf("%s: %T %v", c.kind, err, err)
		}
	}
	p.Inject("AdminGetUser", Fault{})

	// DynamoDB's throttling code.
	p.Inject("DescribeTable", Fault{Kind: Throttle, Times: 1})
	_, err = dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("x")}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" {
		t.Fatalf("dynamodb throttle: %T %v", err, err)
	}
}

// A recorded operation keeps both bodies as they crossed the wire; other
// operations are only counted.
func TestRecordKeepsBodies(t *testing.T) {
	ctx := context.Background()
	p, err := Start(moto.ForTest(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	idp := cip.NewFromConfig(moto.AWSConfig(ctx, p.URL()))
	p.Record("DescribeUserPool")
	pool, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("recorded")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idp.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: pool.UserPool.Id}); err != nil {
		t.Fatal(err)
	}
	got := p.Exchanges("DescribeUserPool")
	if len(got) != 1 || len(p.Exchanges("CreateUserPool")) != 0 || got[0].Status != 200 {
		t.Fatalf("exchanges %+v", got)
	}
	if !strings.Contains(string(got[0].Request), *pool.UserPool.Id) || !strings.Contains(string(got[0].Response), `"Name": "recorded"`) && !strings.Contains(string(got[0].Response), `"Name":"recorded"`) {
		t.Fatalf("request %s\nresponse %s", got[0].Request, got[0].Response)
	}
	p.Reset()
	if len(p.Exchanges("DescribeUserPool")) != 0 {
		t.Fatal("Reset kept exchanges")
	}
}
