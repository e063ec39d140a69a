package lambdaapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The Invoke API as the SDK's Lambda client speaks it, against handlers of
// the shapes the stack's triggers have.

const arn = "arn:aws:lambda:us-east-1:123456789012:function:kakaoauth-t-PreAuthFunction"

type refused struct{ why string }

func (e *refused) Error() string { return e.why }

func newClient(t *testing.T, s *Server) *awslambda.Client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return awslambda.New(awslambda.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
}

func TestInvokeRunsTheHandler(t *testing.T) {
	s := New()
	var gotRequestID, gotARN string
	s.Register(arn, func(ctx context.Context, ev events.CognitoEventUserPoolsPreAuthentication) (events.CognitoEventUserPoolsPreAuthentication, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		gotRequestID, gotARN = lc.AwsRequestID, lc.InvokedFunctionArn
		if ev.Request.UserAttributes["custom:kakao_id"] != "" {
			return ev, &refused{"Kakao users sign in through kakaoauth."}
		}
		ev.Response = events.CognitoEventUserPoolsPreAuthenticationResponse{}
		return ev, nil
	}, time.Second)
	client := newClient(t, s)
	ctx := context.Background()

	ev := events.CognitoEventUserPoolsPreAuthentication{CognitoEventUserPoolsHeader: events.CognitoEventUserPoolsHeader{
		Version: "1", TriggerSource: "PreAuthentication_Authentication", UserPoolID: "us-east-1_x", UserName: "native"}}
	ev.Request.UserAttributes = map[string]string{"email": "a@example.com"}
	payload, _ := json.Marshal(ev)
	for _, name := range []string{arn, "kakaoauth-t-PreAuthFunction"} {
		out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
		if err != nil {
			t.Fatalf("Invoke %s: %v", name, err)
		}
		if out.StatusCode != 200 || out.FunctionError != nil {
			t.Fatalf("Invoke %s: status %d, function error %v", name, out.StatusCode, aws.ToString(out.FunctionError))
		}
		var back events.CognitoEventUserPoolsPreAuthentication
		if err := json.Unmarshal(out.Payload, &back); err != nil || back.UserName != "native" || back.TriggerSource != ev.TriggerSource {
			t.Fatalf("Invoke %s answered %s (%v)", name, out.Payload, err)
		}
		if gotRequestID == "" || gotARN != arn {
			t.Fatalf("the handler's Lambda context: request id %q, function %q", gotRequestID, gotARN)
		}
	}

	// The handler's error is a function error, with its message and type.
	ev.Request.UserAttributes["custom:kakao_id"] = "42"
	payload, _ = json.Marshal(ev)
	out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(arn), Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("function error %q, want Unhandled", aws.ToString(out.FunctionError))
	}
	var ferr FunctionError
	if err := json.Unmarshal(out.Payload, &ferr); err != nil || ferr.Message != "Kakao users sign in through kakaoauth." || ferr.Type != "refused" {
		t.Fatalf("function error payload %s", out.Payload)
	}
}

func TestInvokePanicAndUnknownFunction(t *testing.T) {
	s := New()
	s.Register(arn, func(context.Context, json.RawMessage) (json.RawMessage, error) { panic("boom") }, 0)
	client := newClient(t, s)
	ctx := context.Background()
	out, err := client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(arn), Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "boom") {
		t.Fatalf("a panic: function error %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
	}

	_, err = client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(arn + "-other"), Payload: []byte(`{}`)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("an unknown function: %v", err)
	}
}

// The function's timeout ends a handler that overruns it.
func TestInvokeTimeout(t *testing.T) {
	s := New()
	s.Register(arn, func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, 50*time.Millisecond)
	out, err := newClient(t, s).Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String(arn), Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FunctionError) == "" || !strings.Contains(string(out.Payload), "deadline exceeded") {
		t.Fatalf("an overrun: function error %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
	}
}
