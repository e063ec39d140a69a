package workflow

import (
	"context"
	"errors"
	"time"

	"github.com/kakaoauth/kakaoauth"
)

// The sweeper (SweeperFunction, every minute by EventBridge Scheduler; a
// timer on the local stack) does what must not wait for an account's next
// reader, which may never come:
//
//   - the unlink inbox: callbacks the webhook kept because the queue
//     refused them are queued (with the webhook's MAC) and removed;
//   - stranded lifecycle events: a transition whose own run could not
//     send its audit and bus events (the bus, the audit table, the
//     function failed) is finished from the outbox, audited with the
//     request that caused it, published with its one id;
//   - retention: an unlinked account's kept email is dropped after
//     UnlinkedEmailRetentionDays, a deleted account's audit events lose
//     their IP addresses and user agents after DeletedAccountPiiDays.
//
// Rows with such work are found by the mapping table's byDue index (only
// they carry its key), so a sweep reads nothing else.

// DueRows is what the sweeper needs of the mapping table beyond the
// lifecycle (store.Mappings).
type DueRows interface {
	// Due lists up to limit Kakao ids whose rows have work due at now.
	Due(ctx context.Context, now time.Time, limit int32) ([]int64, error)
	// DropKeptEmail drops the email kept until keptUntil; false when the
	// row changed meanwhile.
	DropKeptEmail(ctx context.Context, kakaoID int64, keptUntil time.Time) (bool, error)
	// ScrubDone records the audit scrub due at scrubAt as done.
	ScrubDone(ctx context.Context, kakaoID int64, scrubAt time.Time) (bool, error)
	// Reschedule sets the row's next due time from what it still holds.
	Reschedule(ctx context.Context, kakaoID int64) error
}

// AuditScrubber removes IP addresses and user agents from a Kakao
// account's audit events (store.Audit).
type AuditScrubber interface {
	ScrubPII(ctx context.Context, kakaoID int64) (int, error)
}

type sweeperDeps struct {
	rows     DueRows
	scrubber AuditScrubber
}

// WithSweeper gives the sweeper its stores.
func WithSweeper(rows DueRows, scrubber AuditScrubber) Option {
	return func(s *Steps) { s.sweeper = sweeperDeps{rows: rows, scrubber: scrubber} }
}

// WithInbox is where the webhook keeps the callbacks the queue refused,
// and where the sweeper finds them.
func WithInbox(in kakaoauth.UnlinkInbox) Option { return func(s *Steps) { s.inbox = in } }

// SweepEvent is the schedule's input (nothing).
type SweepEvent struct{}

// SweepReport says what one sweep did.
type SweepReport struct {
	Queued        int `json:"queued"`        // kept unlink requests queued
	Rows          int `json:"rows"`          // due rows looked at
	Events        int `json:"events"`        // stranded lifecycle events sent
	EmailsDropped int `json:"emailsDropped"` // kept emails dropped
	Scrubbed      int `json:"scrubbed"`      // deleted accounts whose audit events were scrubbed
	Failures      int `json:"failures"`      // pieces of work left for the next sweep
}

const (
	sweepPage = 100
	// sweepMargin is left of the function's time when a sweep stops
	// taking new work.
	sweepMargin = 10 * time.Second
	// sweepBudget bounds a sweep run without a deadline (the local stack).
	sweepBudget = 50 * time.Second
)

// Sweep runs one sweep. It fails only when it could not read its work;
// a piece of work that fails is logged and left for the next sweep.
func (s *Steps) Sweep(ctx context.Context, _ SweepEvent) (SweepReport, error) {
	var rep SweepReport
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(sweepBudget)
	}
	stop := stopBefore(deadline, sweepMargin)
	if err := s.sweepInbox(ctx, &rep); err != nil {
		return rep, err
	}
	if s.sweeper.rows == nil {
		return rep, nil
	}
	seen := map[int64]bool{}
	for time.Now().Before(stop) {
		ids, err := s.sweeper.rows.Due(ctx, millis(s.now()), sweepPage)
		if err != nil {
			return rep, err
		}
		fresh := 0
		for _, id := range ids {
			if seen[id] || !time.Now().Before(stop) {
				continue // a row whose work failed is not tried twice in a run
			}
			seen[id], fresh = true, fresh+1
			s.sweepRow(ctx, id, &rep)
		}
		if fresh == 0 || len(ids) < sweepPage {
			break
		}
	}
	if rep != (SweepReport{}) {
		s.log.InfoContext(ctx, "sweep done", "sweeper", "sweep", "queued", rep.Queued, "rows", rep.Rows, "events", rep.Events,
			"emailsDropped", rep.EmailsDropped, "scrubbed", rep.Scrubbed, "failures", rep.Failures)
	}
	return rep, nil
}

// sweepInbox queues the callbacks the webhook kept, oldest first.
func (s *Steps) sweepInbox(ctx context.Context, rep *SweepReport) error {
	if s.inbox == nil {
		return nil
	}
	entries, err := s.inbox.Pending(ctx, sweepPage)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if s.unlinks == nil {
			return errors.New("the sweeper has no unlink queue")
		}
		if err := s.unlinks.Enqueue(ctx, e.Message); err != nil {
			// The queue is still down: the rest waits for the next sweep.
			s.log.WarnContext(ctx, "kept unlink request not queued yet", "sweeper", "inbox", "requestId", e.ID, "error", err.Error())
			rep.Failures++
			return nil
		}
		if err := s.inbox.Done(ctx, e); err != nil {
			// Queued twice at worst: the worker is idempotent per request.
			s.log.WarnContext(ctx, "kept unlink request queued but not removed", "sweeper", "inbox", "requestId", e.ID, "error", err.Error())
			rep.Failures++
			continue
		}
		s.log.InfoContext(ctx, "kept unlink request queued", "sweeper", "inbox", "requestId", e.ID, "receivedAt", e.ReceivedAt)
		rep.Queued++
	}
	return nil
}

// sweepRow does a due row's work: its stranded events, then its
// retention, then sets when it is due next.
func (s *Steps) sweepRow(ctx context.Context, kakaoID int64, rep *SweepReport) {
	rep.Rows++
	fail := func(what string, err error) {
		rep.Failures++
		s.log.WarnContext(ctx, "sweep: "+what+" failed; the next sweep tries again", "sweeper", "rows", "kakaoId", kakaoID, "error", err.Error())
	}
	m, err := s.mappings.Get(ctx, kakaoID)
	var notFound *kakaoauth.NotFound
	switch {
	case errors.As(err, &notFound):
		return
	case err != nil:
		fail("reading the row", err)
		return
	}
	if len(m.Outbox) > 0 {
		if s.finishPending(ctx, m) {
			rep.Events += len(m.Outbox)
		} else {
			rep.Failures++
		}
	}
	now := s.now()
	switch {
	case m.Status == kakaoauth.StatusUnlinked && !m.EmailKeptUntil.IsZero() && !m.EmailKeptUntil.After(now):
		if dropped, err := s.sweeper.rows.DropKeptEmail(ctx, kakaoID, m.EmailKeptUntil); err != nil {
			fail("dropping the kept email", err)
		} else if dropped {
			rep.EmailsDropped++
		}
	case m.Status == kakaoauth.StatusDeleted && !m.PIIScrubAt.IsZero() && !m.PIIScrubAt.After(now) && s.sweeper.scrubber != nil:
		n, err := s.sweeper.scrubber.ScrubPII(ctx, kakaoID)
		if err != nil {
			fail("scrubbing the audit events", err)
			break
		}
		if done, err := s.sweeper.rows.ScrubDone(ctx, kakaoID, m.PIIScrubAt); err != nil {
			fail("recording the scrub", err)
		} else if done {
			rep.Scrubbed++
			s.log.InfoContext(ctx, "deleted account's audit events scrubbed of IP addresses and user agents", "sweeper", "rows", "kakaoId", kakaoID, "events", n)
		}
	}
	if err := s.sweeper.rows.Reschedule(ctx, kakaoID); err != nil {
		fail("rescheduling the row", err)
	}
}

// stopBefore is when a scheduled run stops taking new work: margin before
// its deadline, or half the time left when that is shorter (a function
// run with a short timeout still does some work).
func stopBefore(deadline time.Time, margin time.Duration) time.Time {
	if left := time.Until(deadline); left < 2*margin {
		margin = left / 2
	}
	return deadline.Add(-margin)
}
