package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/faultproxy"
	"github.com/kakaoauth/kakaoauth/infra/moto"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// A published event reaches a rule's target with source kakaoauth, the
// type as detail-type, and the event as detail.
func TestPublishReachesASubscriber(t *testing.T) {
	ctx := context.Background()
	proxy, err := faultproxy.Start(moto.ForTest(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	cfg := moto.AWSConfig(ctx, proxy.URL())
	eb := awseb.NewFromConfig(cfg)
	bus := "eb-adapter-test"
	if _, err := eb.CreateEventBus(ctx, &awseb.CreateEventBusInput{Name: &bus}); err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("eb-adapter-test")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &awseb.PutRuleInput{Name: aws.String("all"), EventBusName: &bus, EventPattern: aws.String(`{"source":["kakaoauth"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &awseb.PutTargetsInput{Rule: aws.String("all"), EventBusName: &bus,
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}

	want := kakaoauth.LifecycleEvent{ID: "e-1", Type: kakaoauth.EventRelinked, KakaoID: 42, Sub: "sub-42",
		Time: time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC), Reason: "login"}
	if err := New(eb, bus).Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("received %v %v", out, err)
	}
	var envelope struct {
		Source     string                   `json:"source"`
		DetailType string                   `json:"detail-type"`
		Detail     kakaoauth.LifecycleEvent `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &envelope); err != nil {
		t.Fatal(err)
	}
	if envelope.Source != Source || envelope.DetailType != want.Type || envelope.Detail != want {
		t.Fatalf("delivered %+v", envelope)
	}

	// A bus that does not exist is an error, never a silent loss; a
	// throttled one is Throttled.
	if err := New(eb, "no-such-bus").Publish(ctx, want); err == nil {
		t.Fatal("published to a bus that does not exist")
	}
	proxy.Inject("PutEvents", faultproxy.Fault{Kind: faultproxy.Throttle, Times: -1})
	var throttled *kakaoauth.Throttled
	if err := New(eb, bus).Publish(ctx, want); !errors.As(err, &throttled) {
		t.Fatalf("throttled publish: %T %v", err, err)
	}
}
