package sqs

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/moto"
	"github.com/kakaoauth/kakaoauth/workflow"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// What the webhook enqueues is what the worker decodes, through real SQS:
// the body byte for byte, and the MAC as the message attribute the worker
// reads.
func TestEnqueueRoundTrip(t *testing.T) {
	ctx := context.Background()
	proxy, err := faultproxy.Start(moto.ForTest(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	client := awssqs.NewFromConfig(moto.AWSConfig(ctx, proxy.URL()))
	q, err := client.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("sqs-adapter-test")})
	if err != nil {
		t.Fatal(err)
	}
	queue := New(client, aws.ToString(q.QueueUrl))
	want := kakaoauth.UnlinkRequest{ID: "req-1", KakaoID: 42, AppID: 1001, ReferrerType: "UNLINK_FROM_APPS",
		ReceivedAt: time.Date(2026, 11, 29, 1, 2, 3, 456e6, time.UTC), SourceIP: "203.0.113.9", UserAgent: "Kakao"}
	signer := workflow.New(workflow.WithUnlinkMACKeys(3, map[int][]byte{3: []byte("0123456789abcdef0123456789abcdef-mac")}))
	msg, err := signer.SignUnlink(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := queue.Enqueue(ctx, msg); err != nil {
		t.Fatal(err)
	}
	out, err := client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("received %v %v", out, err)
	}
	got, err := workflow.DecodeUnlinkRequest(aws.ToString(out.Messages[0].Body))
	if err != nil || got != want {
		t.Fatalf("decoded %+v %v, want %+v", got, err, want)
	}
	if a := out.Messages[0].MessageAttributes[kakaoauth.UnlinkMACAttribute]; aws.ToString(a.StringValue) != msg.MAC || aws.ToString(a.DataType) != "String" {
		t.Fatalf("MAC attribute %+v, want %q", a, msg.MAC)
	}

	// A throttling SQS is Throttled once the SDK's retries are spent.
	proxy.Inject("SendMessage", faultproxy.Fault{Kind: faultproxy.Throttle, Times: -1})
	var throttled *kakaoauth.Throttled
	if err := queue.Enqueue(ctx, msg); !errors.As(err, &throttled) {
		t.Fatalf("throttled send: %T %v", err, err)
	}
}
