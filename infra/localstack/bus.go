package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kakaoauth/kakaoauth"
	kebus "github.com/kakaoauth/kakaoauth/shared/eventbridge"
)

// BusSubscription is a queue that a rule on the lifecycle bus feeds: what
// an app's backend sets up to consume kakaoauth's events.
type BusSubscription struct {
	sqs      *sqs.Client
	queueURL string
}

// BusEvent is one delivered lifecycle event, in EventBridge's envelope.
type BusEvent struct {
	Source     string                   `json:"source"`
	DetailType string                   `json:"detail-type"`
	Detail     kakaoauth.LifecycleEvent `json:"detail"`
}

// SubscribeToBus creates (or reuses) queue name and a rule of the same
// name on bus that sends it every event with source kakaoauth.
func SubscribeToBus(ctx context.Context, cfg aws.Config, bus, name string) (*BusSubscription, error) {
	q := sqs.NewFromConfig(cfg)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		return nil, fmt.Errorf("bus subscription %s: %w", name, err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return nil, fmt.Errorf("bus subscription %s: %w", name, err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	pattern, _ := json.Marshal(map[string][]string{"source": {kebus.Source}})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &name, EventBusName: &bus, EventPattern: aws.String(string(pattern))}); err != nil {
		return nil, fmt.Errorf("bus subscription %s: rule: %w", name, err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, EventBusName: &bus, Targets: []ebtypes.Target{{
		Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]),
	}}}); err != nil {
		return nil, fmt.Errorf("bus subscription %s: target: %w", name, err)
	}
	return &BusSubscription{sqs: q, queueURL: aws.ToString(out.QueueUrl)}, nil
}

// Receive waits up to a second for events and takes them off the queue.
func (b *BusSubscription) Receive(ctx context.Context) ([]BusEvent, error) {
	out, err := b.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &b.queueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		return nil, err
	}
	var evs []BusEvent
	for _, m := range out.Messages {
		var e BusEvent
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err == nil {
			evs = append(evs, e)
		}
		if _, err := b.sqs.DeleteMessage(context.WithoutCancel(ctx), &sqs.DeleteMessageInput{QueueUrl: &b.queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
			return evs, err
		}
	}
	return evs, nil
}

// WaitFor receives until an event matching want arrives or timeout passes;
// it returns every event received meanwhile.
func (b *BusSubscription) WaitFor(ctx context.Context, timeout time.Duration, want func(BusEvent) bool) ([]BusEvent, bool) {
	deadline := time.Now().Add(timeout)
	var all []BusEvent
	for time.Now().Before(deadline) {
		evs, err := b.Receive(ctx)
		if err != nil {
			return all, false
		}
		for _, e := range evs {
			all = append(all, e)
			if want(e) {
				return all, true
			}
		}
	}
	return all, false
}
