package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// unlinkRecordTimeout bounds one unlink (a handful of Cognito and
// DynamoDB calls); the function's timeout covers a whole batch.
const unlinkRecordTimeout = 10 * time.Second

// UnlinkWorker is the unlink queue's consumer (SQS event source mapping
// with ReportBatchItemFailures; the local stack's poller drives it the same
// way). Each record is one unlink request, believed only with the
// webhook's MAC of its body (unlinkauth.go), carried out by UnlinkAccount;
// a record that fails is reported, so only it is retried, and after the
// queue's maxReceiveCount it lands in the dead-letter queue (with an
// alarm). A redelivered record changes nothing more: UnlinkAccount is
// idempotent per request.
func (s *Steps) UnlinkWorker(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if err := s.unlinkRecord(ctx, rec); err != nil {
			s.log.ErrorContext(ctx, "unlink failed; the message will be retried", "worker", "unlink", "messageId", rec.MessageId,
				"receiveCount", rec.Attributes["ApproximateReceiveCount"], "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (s *Steps) unlinkRecord(ctx context.Context, rec events.SQSMessage) error {
	var mac string
	if a, ok := rec.MessageAttributes[kakaoauth.UnlinkMACAttribute]; ok && a.StringValue != nil {
		mac = *a.StringValue
	}
	if err := s.verifyUnlink(kakaoauth.UnlinkMessage{Body: rec.Body, MAC: mac}); err != nil {
		// Someone else wrote to the queue: nothing in the body is believed.
		// Retried, then dead-lettered (which alarms); audited once.
		if rec.Attributes["ApproximateReceiveCount"] == "1" && s.audit != nil {
			if aerr := s.audit.Record(ctx, kakaoauth.AuditEvent{
				Time: millis(s.now()), Type: kakaoauth.EventUnlinkRefused, Outcome: "failure", Error: "ForgedUnlinkMessage",
				Detail: "messageId=" + rec.MessageId + " reason=" + err.(*errForgedUnlink).reason,
			}); aerr != nil {
				s.log.ErrorContext(ctx, "refused unlink message not audited", "worker", "unlink", "messageId", rec.MessageId, "error", aerr.Error())
			}
		}
		return err
	}
	r, err := DecodeUnlinkRequest(rec.Body)
	if err != nil {
		// Not ours to understand: retried, then kept in the dead-letter
		// queue for an operator, never guessed at.
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, unlinkRecordTimeout)
	defer cancel()
	outcome, err := s.UnlinkAccount(ctx, r)
	if err != nil {
		return fmt.Errorf("kakao account %d: %w", r.KakaoID, err)
	}
	s.log.InfoContext(ctx, "unlink request handled", "worker", "unlink", "kakaoId", r.KakaoID, "referrerType", r.ReferrerType,
		"requestId", r.ID, "outcome", string(outcome), "messageId", rec.MessageId)
	return nil
}

// DecodeUnlinkRequest reads a queued request strictly: a message anyone
// else put on the queue is refused, not half understood.
func DecodeUnlinkRequest(body string) (kakaoauth.UnlinkRequest, error) {
	var r kakaoauth.UnlinkRequest
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, errors.New("unlink request: not the JSON the webhook writes")
	}
	switch {
	case r.ID == "" || r.KakaoID <= 0 || r.ReceivedAt.IsZero():
		return r, errors.New("unlink request: id, kakaoId and receivedAt are required")
	case r.Action != ActionPolicy && r.Action != ActionUnlink && r.Action != ActionDelete:
		return r, errors.New("unlink request: unknown action")
	case !referrerTypePattern.MatchString(r.ReferrerType):
		return r, errors.New("unlink request: bad referrer type")
	}
	return r, nil
}
