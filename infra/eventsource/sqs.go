// Package eventsource drives a Lambda handler from an SQS queue on the
// local stack the way Lambda's SQS event source mapping does in AWS:
// long-poll a batch, hand it to the handler as an events.SQSEvent, delete
// what succeeded, and leave what failed (the handler's batchItemFailures,
// or the whole batch if it returned an error) to come back after the
// visibility timeout, until SQS's redrive policy moves it to the
// dead-letter queue. The handler is the very function the Lambda runs.
package eventsource

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Handler is a Lambda handler for SQS events with partial batch responses.
type Handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// API is the part of *sqs.Client the poller uses.
type API interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ API = (*sqs.Client)(nil)

// SQS polls one queue for one handler.
type SQS struct {
	api      API
	queueURL string
	queueARN string
	region   string
	handler  Handler
	batch    int32
	wait     int32
	log      *slog.Logger
}

// Option configures an SQS poller.
type Option func(*SQS)

// WithBatchSize is the event source mapping's BatchSize (1-10; default 10).
func WithBatchSize(n int32) Option { return func(p *SQS) { p.batch = min(max(n, 1), 10) } }

// WithLogger receives the poller's own logs.
func WithLogger(l *slog.Logger) Option { return func(p *SQS) { p.log = l } }

// New polls queueURL (whose ARN and region go into each record, as Lambda
// fills eventSourceARN and awsRegion) for handler.
func New(api API, queueURL, queueARN, region string, handler Handler, opts ...Option) *SQS {
	p := &SQS{api: api, queueURL: queueURL, queueARN: queueARN, region: region, handler: handler,
		batch: 10, wait: 1, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Run polls until ctx ends. A failing receive is retried after a pause.
func (p *SQS) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "event source: poll failed", "queue", p.queueURL, "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Poll receives one batch (waiting up to a second for it) and delivers it;
// it returns how many records it delivered.
func (p *SQS) Poll(ctx context.Context) (int, error) {
	out, err := p.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    &p.queueURL,
		MaxNumberOfMessages:         p.batch,
		WaitTimeSeconds:             p.wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil || len(out.Messages) == 0 {
		return 0, err
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(out.Messages))}
	handles := map[string]string{}
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, p.record(m))
		handles[aws.ToString(m.MessageId)] = aws.ToString(m.ReceiptHandle)
	}
	resp, herr := p.handler(ctx, ev)
	failed := map[string]bool{}
	switch {
	case herr != nil:
		// Lambda: a function error returns the whole batch to the queue.
		p.log.WarnContext(ctx, "event source: handler failed; the batch returns to the queue", "queue", p.queueURL, "records", len(ev.Records), "error", herr.Error())
		return len(ev.Records), nil
	default:
		for _, f := range resp.BatchItemFailures {
			if _, ok := handles[f.ItemIdentifier]; !ok {
				// Lambda treats an unknown identifier as the whole batch failing.
				p.log.WarnContext(ctx, "event source: unknown item identifier; the batch returns to the queue", "queue", p.queueURL)
				return len(ev.Records), nil
			}
			failed[f.ItemIdentifier] = true
		}
	}
	var del []types.DeleteMessageBatchRequestEntry
	for id, h := range handles {
		if !failed[id] {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(del))), ReceiptHandle: aws.String(h)})
		}
	}
	if len(del) == 0 {
		return len(ev.Records), nil
	}
	dout, err := p.api.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: &p.queueURL, Entries: del})
	if err != nil {
		return len(ev.Records), err
	}
	if len(dout.Failed) > 0 {
		return len(ev.Records), errors.New("event source: " + strconv.Itoa(len(dout.Failed)) + " messages not deleted: " + aws.ToString(dout.Failed[0].Message))
	}
	return len(ev.Records), nil
}

// record converts a received message as Lambda does.
func (p *SQS) record(m types.Message) events.SQSMessage {
	r := events.SQSMessage{
		MessageId:         aws.ToString(m.MessageId),
		ReceiptHandle:     aws.ToString(m.ReceiptHandle),
		Body:              aws.ToString(m.Body),
		Md5OfBody:         aws.ToString(m.MD5OfBody),
		Attributes:        map[string]string{},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs",
		EventSourceARN:    p.queueARN,
		AWSRegion:         p.region,
	}
	for k, v := range m.Attributes {
		r.Attributes[k] = v
	}
	for k, v := range m.MessageAttributes {
		r.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: aws.ToString(v.DataType)}
	}
	return r
}
