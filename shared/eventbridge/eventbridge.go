// Package eventbridge publishes the account lifecycle events
// (kakaoauth.EventPublisher) on an Amazon EventBridge bus, with source
// "kakaoauth" and the event type as detail-type, for apps' backends (a
// welcome mail on user_created, deleting their own data on deleted).
package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/kakaoauth/kakaoauth"
)

// Source is the events' source field: rules match on it.
const Source = "kakaoauth"

// API is the part of *eventbridge.Client the bus uses.
type API interface {
	PutEvents(context.Context, *awseb.PutEventsInput, ...func(*awseb.Options)) (*awseb.PutEventsOutput, error)
}

var (
	_ API                      = (*awseb.Client)(nil)
	_ kakaoauth.EventPublisher = (*Bus)(nil)
)

// Bus is one event bus.
type Bus struct {
	api  API
	name string
}

// New returns the bus named name (or its ARN).
func New(api API, name string) *Bus { return &Bus{api: api, name: name} }

// Publish puts e on the bus. Its detail is the event as JSON: ids, times
// and the reason, never a token or personal data.
func (b *Bus) Publish(ctx context.Context, e kakaoauth.LifecycleEvent) error {
	detail, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("eventbridge: encode %s: %w", e.Type, err)
	}
	out, err := b.api.PutEvents(ctx, &awseb.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: &b.name,
		Source:       aws.String(Source),
		DetailType:   aws.String(e.Type),
		Detail:       aws.String(string(detail)),
		Time:         aws.Time(e.Time),
	}}})
	if err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && api.ErrorCode() == "ThrottlingException" {
			return &kakaoauth.Throttled{Reason: "eventbridge put events"}
		}
		return fmt.Errorf("eventbridge: put %s: %w", e.Type, err)
	}
	// PutEvents answers 200 even when an entry failed.
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		if code == "ThrottlingException" {
			return &kakaoauth.Throttled{Reason: "eventbridge put events"}
		}
		return fmt.Errorf("eventbridge: put %s: entry failed: %s %s", e.Type, code, msg)
	}
	return nil
}
