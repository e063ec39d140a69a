package eventsource

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kakaoauth/kakaoauth/infra/moto"
)

func TestMain(m *testing.M) { os.Exit(moto.RunTests(m)) }

// queue makes a queue with a 1 s visibility timeout and sends bodies.
func queue(t *testing.T, name string, bodies ...string) (*sqs.Client, string, string) {
	t.Helper()
	ctx := context.Background()
	c := sqs.NewFromConfig(moto.AWSConfig(ctx, moto.ForTest(t).URL()))
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"VisibilityTimeout": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	return c, aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
}

// Polls until the queue is empty and returns, in order, the bodies each
// delivery carried.
func deliveries(t *testing.T, p *SQS, until func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !until() {
		if time.Now().After(deadline) {
			t.Fatal("gave up polling")
		}
		if _, err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// Records come as Lambda builds them; successes are deleted, reported
// failures come back after the visibility timeout with a higher receive
// count.
func TestPartialBatchFailures(t *testing.T) {
	c, url, arn := queue(t, "es-partial", "ok-1", "fail-once", "ok-2")
	seen := map[string][]string{} // body -> receive counts
	failed := false
	p := New(c, url, arn, moto.Region, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if r.EventSource != "aws:sqs" || r.EventSourceARN != arn || r.AWSRegion != moto.Region || r.ReceiptHandle == "" || r.Md5OfBody == "" {
				t.Errorf("record %+v", r)
			}
			seen[r.Body] = append(seen[r.Body], r.Attributes["ApproximateReceiveCount"])
			if r.Body == "fail-once" && !failed {
				failed = true
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	})
	deliveries(t, p, func() bool { return len(seen["fail-once"]) == 2 })
	if !slices.Equal(seen["fail-once"], []string{"1", "2"}) || len(seen["ok-1"]) != 1 || len(seen["ok-2"]) != 1 {
		t.Fatalf("deliveries %v", seen)
	}
	// Nothing is left.
	if n, _ := p.Poll(context.Background()); n != 0 {
		t.Fatalf("%d records left after success", n)
	}
}

// A handler error, or an identifier the batch did not have, returns the
// whole batch to the queue, as Lambda does.
func TestWholeBatchReturnsOnAnError(t *testing.T) {
	for name, answer := range map[string]func(events.SQSEvent) (events.SQSEventResponse, error){
		"error": func(events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("boom")
		},
		"unknown id": func(events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-in-the-batch"}}}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, url, arn := queue(t, "es-"+strconv.Itoa(len(name)), "a", "b")
			calls := 0
			counts := map[string]int{}
			p := New(c, url, arn, moto.Region, func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				calls++
				for _, r := range ev.Records {
					counts[r.Body]++
				}
				if calls == 1 {
					return answer(ev)
				}
				return events.SQSEventResponse{}, nil
			})
			deliveries(t, p, func() bool { return counts["a"] >= 2 && counts["b"] >= 2 })
			if n, _ := p.Poll(context.Background()); n != 0 {
				t.Fatalf("%d records left", n)
			}
		})
	}
}
