// Package sqs is the unlink queue (kakaoauth.UnlinkQueue) on Amazon SQS:
// the unlink webhook enqueues Kakao's callback and answers at once; the
// unlink worker, fed by Lambda's event source mapping (or the local
// stack's poller), carries it out with retries and a dead-letter queue.
package sqs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth"
)

// API is the part of *sqs.Client the queue uses.
type API interface {
	SendMessage(context.Context, *awssqs.SendMessageInput, ...func(*awssqs.Options)) (*awssqs.SendMessageOutput, error)
}

var (
	_ API                   = (*awssqs.Client)(nil)
	_ kakaoauth.UnlinkQueue = (*Queue)(nil)
)

// Queue is one SQS queue of unlink requests.
type Queue struct {
	api API
	url string
}

// New returns the queue at queueURL.
func New(api API, queueURL string) *Queue { return &Queue{api: api, url: queueURL} }

// Enqueue sends m: its body as the message body, its MAC as a message
// attribute. The queue is a standard one (at least once): the worker is
// idempotent per request id.
func (q *Queue) Enqueue(ctx context.Context, m kakaoauth.UnlinkMessage) error {
	in := &awssqs.SendMessageInput{QueueUrl: &q.url, MessageBody: aws.String(m.Body)}
	if m.MAC != "" {
		in.MessageAttributes = map[string]types.MessageAttributeValue{
			kakaoauth.UnlinkMACAttribute: {DataType: aws.String("String"), StringValue: aws.String(m.MAC)},
		}
	}
	if _, err := q.api.SendMessage(ctx, in); err != nil {
		return classify(err)
	}
	return nil
}

func classify(err error) error {
	var api smithy.APIError
	var overLimit *types.OverLimit
	if errors.As(err, &overLimit) || (errors.As(err, &api) && (api.ErrorCode() == "ThrottlingException" || api.ErrorCode() == "RequestThrottled")) {
		return &kakaoauth.Throttled{Reason: "sqs send message"}
	}
	return fmt.Errorf("sqs: send message: %w", err)
}
