package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
)

// The reconciler (ReconcilerFunction, on the ReconcileSchedule; a timer on
// the local stack) catches the unlinks whose callback never arrived:
// Kakao sends each callback once, pauses callbacks to an endpoint that
// errs often, and documents no retry. It walks the accounts kakaoauth
// holds active, created and linked alike, a page of at most 100 at a time,
// asks Kakao with the admin key which of them are still linked to the app
// (GET /v2/app/users, up to 100 ids per request, ReconcileRequestsPerSecond
// at most), and applies an unlink to each one Kakao no longer links,
// through UnlinkAccount like a callback (the stack's unlink policy decides
// between disable and delete; a ban stays), audited as reconciled. It
// counts them in the ReconciledUnlinks metric, which raises an alarm when
// it is not zero: a lost callback is worth knowing about.
//
// A pass over the table may take several runs: the cursor (the operations
// table) says where the last run stopped. A run stops at its time budget,
// at Kakao's first failure (never retried: a quota answer spent twice is
// spent for nothing), or when it has applied ReconcileMaxUnlinksPerRun
// unlinks (a guard against a Kakao answer that suddenly names nobody:
// the rest waits, and the alarm calls an operator).

// ActiveAccounts is the reconciler's walk over the mapping table.
type ActiveAccounts interface {
	// Page returns the active accounts among up to limit rows after the
	// row of key after (0: from the start; other items of the table, such
	// as linked users' claims, have keys that are not Kakao ids), and
	// where the next page starts (0: the end).
	Page(ctx context.Context, after int64, limit int32) (ids []int64, next int64, err error)
}

// CursorStore keeps the reconciler's cursor between runs.
type CursorStore interface {
	Cursor(ctx context.Context) (kakaoauth.ReconcileCursor, error)
	SetCursor(ctx context.Context, c kakaoauth.ReconcileCursor) error
}

type reconcilerDeps struct {
	links      kakaoauth.KakaoLinks
	accounts   ActiveAccounts
	cursor     CursorStore
	metrics    kakaoauth.Metrics
	interval   time.Duration // between two Kakao requests
	maxUnlinks int
}

// ReconcilerSettings are the reconciler's limits.
type ReconcilerSettings struct {
	// RequestsPerSecond paces the requests to Kakao (default 2).
	RequestsPerSecond float64
	// MaxUnlinksPerRun stops a run that has applied this many (default 100).
	MaxUnlinksPerRun int
}

// WithReconciler wires the reconciler.
func WithReconciler(links kakaoauth.KakaoLinks, accounts ActiveAccounts, cursor CursorStore, metrics kakaoauth.Metrics, set ReconcilerSettings) Option {
	return func(s *Steps) {
		rate, max := set.RequestsPerSecond, set.MaxUnlinksPerRun
		if rate <= 0 {
			rate = 2
		}
		if max <= 0 {
			max = 100
		}
		s.reconciler = reconcilerDeps{links: links, accounts: accounts, cursor: cursor, metrics: metrics,
			interval: time.Duration(float64(time.Second) / rate), maxUnlinks: max}
	}
}

// MetricReconciledUnlinks is the metric (and alarm) of the unlinks the
// reconciler applied.
const MetricReconciledUnlinks = "ReconciledUnlinks"

// ReconcileEvent is the schedule's input (nothing).
type ReconcileEvent struct{}

// ReconcileReport says what one run did.
type ReconcileReport struct {
	Checked   int  `json:"checked"`   // active accounts Kakao was asked about
	Unlinked  int  `json:"unlinked"`  // unlinks applied (reconciled)
	PassEnded bool `json:"passEnded"` // the run reached the end of the table
	// Stopped says why the run ended before that, if it did.
	Stopped string `json:"stopped,omitempty"`
}

const (
	reconcileMargin = 15 * time.Second
	reconcileBudget = 2 * time.Minute // a run without a deadline (the local stack)
)

// Reconcile runs the reconciler once.
func (s *Steps) Reconcile(ctx context.Context, _ ReconcileEvent) (ReconcileReport, error) {
	r := s.reconciler
	var rep ReconcileReport
	if r.links == nil || r.accounts == nil || r.cursor == nil {
		return rep, errors.New("the reconciler is not configured")
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(reconcileBudget)
	}
	stop := stopBefore(deadline, reconcileMargin)
	run := uuid.NewString()
	cur, err := r.cursor.Cursor(ctx)
	if err != nil {
		return rep, err
	}
	if cur.After == 0 || cur.PassStartedAt.IsZero() {
		cur = kakaoauth.ReconcileCursor{PassStartedAt: millis(s.now())}
	}
	defer func() {
		if r.metrics != nil {
			if err := r.metrics.Count(context.WithoutCancel(ctx), MetricReconciledUnlinks, rep.Unlinked); err != nil {
				s.log.ErrorContext(ctx, "reconciler metric not sent", "reconciler", run, "error", err.Error())
			}
		}
		level := s.log.InfoContext
		if rep.Unlinked > 0 || rep.Stopped != "" {
			level = s.log.WarnContext
		}
		level(ctx, "reconcile run done", "reconciler", run, "checked", rep.Checked, "unlinked", rep.Unlinked, "passEnded", rep.PassEnded,
			"stopped", rep.Stopped, "passStartedAt", cur.PassStartedAt)
	}()
	first := true
	for {
		if !time.Now().Before(stop) {
			rep.Stopped = "time budget"
			return rep, nil
		}
		ids, next, err := r.accounts.Page(ctx, cur.After, 100)
		if err != nil {
			rep.Stopped = "reading the mapping table: " + err.Error()
			return rep, err
		}
		if len(ids) > 0 {
			if !first {
				if err := s.sleep(ctx, r.interval); err != nil {
					rep.Stopped = "cancelled"
					return rep, nil
				}
			}
			first = false
			stopped, err := s.reconcileBatch(ctx, run, ids, &rep)
			if err != nil || stopped != "" {
				// The cursor stays before this page: the next run asks again.
				rep.Stopped = stopped
				return rep, err
			}
		}
		cur.After = next
		if next == 0 {
			rep.PassEnded = true
			cur = kakaoauth.ReconcileCursor{}
		}
		if err := r.cursor.SetCursor(ctx, cur); err != nil {
			rep.Stopped = "saving the cursor"
			return rep, err
		}
		if rep.PassEnded {
			return rep, nil
		}
	}
}

// reconcileBatch asks Kakao about ids and applies the unlinks it missed.
// stopped says why the run must stop (Kakao failed, too many unlinks).
func (s *Steps) reconcileBatch(ctx context.Context, run string, ids []int64, rep *ReconcileReport) (string, error) {
	r := s.reconciler
	asked := millis(s.now())
	linked, err := r.links.Linked(ctx, ids)
	if err != nil {
		s.log.ErrorContext(ctx, "reconciler: Kakao did not answer; the run stops here", "reconciler", run, "error", err.Error())
		return "Kakao: " + kakaoauth.ErrorName(err), nil
	}
	rep.Checked += len(ids)
	for _, id := range ids {
		if linked[id] {
			continue
		}
		if rep.Unlinked >= r.maxUnlinks {
			s.log.ErrorContext(ctx, "reconciler: too many unlinks in one run; the rest waits for the next run (check Kakao's answers)", "reconciler", run,
				"unlinked", rep.Unlinked)
			return fmt.Sprintf("%d unlinks in one run", rep.Unlinked), nil
		}
		applied, err := s.reconcileOne(ctx, run, id, asked)
		if err != nil {
			return "applying an unlink: " + err.Error(), err
		}
		if applied {
			rep.Unlinked++
		}
	}
	return "", nil
}

// reconcileOne applies the unlink Kakao reported for id (asked: when Kakao
// was asked), unless the account changed since: not active any more, or
// signed in at or after the question (Kakao vouched for it then).
func (s *Steps) reconcileOne(ctx context.Context, run string, id int64, asked time.Time) (bool, error) {
	m, err := s.mappings.Get(ctx, id)
	var notFound *kakaoauth.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if m.Status != kakaoauth.StatusActive || !m.LastLoginAt.Before(asked) {
		return false, nil
	}
	req := kakaoauth.UnlinkRequest{
		ID: uuid.NewSHA1(eventNamespace, []byte("reconcile\x00"+run+"\x00"+m.Sub)).String(), KakaoID: id,
		ReferrerType: ReferrerReconciled, ReceivedAt: asked, Actor: "reconciler",
	}
	outcome, err := s.UnlinkAccount(ctx, req)
	if err != nil && outcome != UnlinkDone {
		return false, err
	}
	if outcome != UnlinkDone {
		return false, nil
	}
	action := "unlinked"
	if s.deletes(req) {
		action = "deleted"
	}
	s.log.WarnContext(ctx, "reconciler applied a lost unlink", "reconciler", run, "kakaoId", id, "sub", m.Sub, "action", action)
	if err := s.audit.Record(ctx, kakaoauth.AuditEvent{
		ID: eventID(req.ID, kakaoauth.EventReconciled), Time: asked, Type: kakaoauth.EventReconciled, Outcome: "success",
		KakaoID: id, Sub: m.Sub, ExecutionID: run,
		Detail: "Kakao no longer links the account to the app; its callback was lost: " + action,
	}); err != nil {
		s.log.ErrorContext(ctx, "reconciled unlink not audited", "reconciler", run, "kakaoId", id, "error", err.Error())
	}
	return true, nil
}
