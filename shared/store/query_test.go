package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
)

// countingAPI passes calls to the real client and counts them, to prove
// that small pages really were several requests.
type countingAPI struct {
	ReadAPI
	mu      sync.Mutex
	queries int
	gets    int
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.mu.Lock()
	c.queries++
	c.mu.Unlock()
	return c.ReadAPI.Query(ctx, in, opts...)
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.ReadAPI.GetItem(ctx, in, opts...)
}

func (c *countingAPI) reset() (queries, gets int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	queries, gets = c.queries, c.gets
	c.queries, c.gets = 0, 0
	return queries, gets
}

var seedBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

var seedErrors = []string{"InvalidKakaoToken", "KakaoUnavailable", "AccountUnlinked"}

// seedEvents is the test's model of the audit trail: 300 events 53 minutes
// apart over 12 UTC days, five users plus anonymous failures, and two
// events on either side of midnight 4 March.
func seedEvents() []kakaoauth.AuditEvent {
	var evs []kakaoauth.AuditEvent
	for i := range 300 {
		e := kakaoauth.AuditEvent{
			Time:        seedBase.Add(time.Duration(i) * 53 * time.Minute).Add(time.Duration(i%7) * time.Millisecond),
			ExecutionID: fmt.Sprintf("exec-%03d", i),
			SourceIP:    fmt.Sprintf("198.51.100.%d", i%250),
			UserAgent:   "app/" + fmt.Sprint(i%3),
			AppID:       1001,
		}
		if i%9 == 0 {
			e.Type, e.Outcome, e.Error, e.AppID = kakaoauth.EventLoginFailed, "failure", "InvalidKakaoToken", 0
		} else {
			e.KakaoID = int64(100 + i%5)
			e.Sub = fmt.Sprintf("sub-%d", e.KakaoID)
			switch i % 4 {
			case 0:
				e.Type, e.Outcome = kakaoauth.EventLoginSucceeded, "success"
			case 1:
				e.Type, e.Outcome, e.Error = kakaoauth.EventLoginFailed, "failure", seedErrors[i%3]
			case 2:
				e.Type, e.Outcome = kakaoauth.EventUserCreated, "success"
			case 3:
				e.Type, e.Outcome, e.Detail = kakaoauth.EventUnlinked, "success", "UNLINK_FROM_APPS"
			}
		}
		evs = append(evs, e)
	}
	midnight := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	evs = append(evs,
		kakaoauth.AuditEvent{Time: midnight.Add(-time.Millisecond), Type: kakaoauth.EventLoginSucceeded, Outcome: "success", KakaoID: 100, Sub: "sub-100", ExecutionID: "exec-before-midnight"},
		kakaoauth.AuditEvent{Time: midnight, Type: kakaoauth.EventLoginFailed, Outcome: "failure", Error: "Throttled", ExecutionID: "exec-at-midnight"},
	)
	return evs
}

// seed records evs through Audit.Record, each stamped by the injected clock.
func seed(t *testing.T, api API, table string, evs []kakaoauth.AuditEvent) {
	t.Helper()
	var now time.Time
	a := NewAudit(api, table, 400*24*time.Hour, func() time.Time { return now })
	for _, e := range evs {
		now, e.Time = e.Time, time.Time{}
		if err := a.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// want is the model's answer: the execution ids of the matching events in
// time order.
func want(evs []kakaoauth.AuditEvent, kakaoID int64, tr TimeRange, f EventFilter) []string {
	var match []kakaoauth.AuditEvent
	for _, e := range evs {
		if (kakaoID != 0 && e.KakaoID != kakaoID) ||
			(!tr.Since.IsZero() && e.Time.Before(tr.Since)) ||
			(!tr.Until.IsZero() && !e.Time.Before(tr.Until)) ||
			(f.Type != "" && e.Type != f.Type) || (f.Error != "" && e.Error != f.Error) {
			continue
		}
		match = append(match, e)
	}
	sort.Slice(match, func(i, j int) bool { return match[i].Time.Before(match[j].Time) })
	ids := make([]string, len(match))
	for i, e := range match {
		ids[i] = e.ExecutionID
	}
	return ids
}

func collect[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func execIDs(evs []EventRecord) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ExecutionID
	}
	return ids
}

func assertIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %d events %v\nwant %d events %v", what, len(got), got, len(want), want)
	}
}

func seedTime(i int) time.Time {
	return seedBase.Add(time.Duration(i) * 53 * time.Minute).Add(time.Duration(i%7) * time.Millisecond)
}

func TestEventQueries(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	evs := seedEvents()
	seed(t, db, stack.AuditTable, evs)
	api := &countingAPI{ReadAPI: db}
	r := NewReader(api, stack.MappingTable, stack.AuditTable)

	// [event 40, event 200): 160 of the regular events, plus both midnight ones.
	span := TimeRange{Since: seedTime(40), Until: seedTime(200)}

	t.Run("across users, edges and pages", func(t *testing.T) {
		w := want(evs, 0, span, EventFilter{})
		if len(w) != 162 || w[0] != "exec-040" || w[len(w)-1] != "exec-199" {
			t.Fatalf("model: %d events from %s to %s", len(w), w[0], w[len(w)-1])
		}
		for _, size := range []int32{0, 1, 7, 162, 1000} {
			r.PageSize = size
			api.reset()
			got := collect(t, r.Events(ctx, span, EventFilter{}))
			assertIDs(t, fmt.Sprintf("page size %d", size), execIDs(got), w)
			// One Query per UTC day at least, and every page when pages are small.
			queries, gets := api.reset()
			days := 7 // 2 to 8 March
			if size > 0 && queries < len(w)/int(size) || queries < days || gets != 0 {
				t.Fatalf("page size %d: %d queries, %d gets", size, queries, gets)
			}
		}
		r.PageSize = 0

		// An event exactly at since is in, one exactly at until is out.
		shifted := TimeRange{Since: span.Since.Add(time.Millisecond), Until: span.Until.Add(time.Millisecond)}
		got := execIDs(collect(t, r.Events(ctx, shifted, EventFilter{})))
		assertIDs(t, "shifted by 1ms", got, want(evs, 0, shifted, EventFilter{}))
		if got[0] != "exec-041" || got[len(got)-1] != "exec-200" {
			t.Fatalf("shifted range runs from %s to %s", got[0], got[len(got)-1])
		}
		// Sub-millisecond bounds round up like the stored times do.
		sub := TimeRange{Since: span.Since.Add(time.Microsecond), Until: span.Until.Add(time.Microsecond)}
		assertIDs(t, "shifted by 1µs", execIDs(collect(t, r.Events(ctx, sub, EventFilter{}))), got)
	})

	t.Run("midnight", func(t *testing.T) {
		midnight := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
		before := execIDs(collect(t, r.Events(ctx, TimeRange{Since: midnight.Add(-time.Hour), Until: midnight}, EventFilter{})))
		if len(before) == 0 || before[len(before)-1] != "exec-before-midnight" || slices.Contains(before, "exec-at-midnight") {
			t.Fatalf("the hour before midnight: %v", before)
		}
		after := execIDs(collect(t, r.Events(ctx, TimeRange{Since: midnight, Until: midnight.Add(time.Hour)}, EventFilter{})))
		if len(after) == 0 || after[0] != "exec-at-midnight" || slices.Contains(after, "exec-before-midnight") {
			t.Fatalf("the hour after midnight: %v", after)
		}
		// A range of one millisecond on each side of midnight.
		assertIDs(t, "last ms", execIDs(collect(t, r.Events(ctx, TimeRange{Since: midnight.Add(-time.Millisecond), Until: midnight}, EventFilter{}))), []string{"exec-before-midnight"})
		assertIDs(t, "first ms", execIDs(collect(t, r.Events(ctx, TimeRange{Since: midnight, Until: midnight.Add(time.Millisecond)}, EventFilter{}))), []string{"exec-at-midnight"})
	})

	t.Run("filters with sparse pages", func(t *testing.T) {
		r.PageSize = 3
		defer func() { r.PageSize = 0 }()
		for _, f := range []EventFilter{
			{Type: kakaoauth.EventLoginFailed},
			{Error: "KakaoUnavailable"},
			{Type: kakaoauth.EventLoginFailed, Error: "InvalidKakaoToken"},
			{Type: kakaoauth.EventUnlinked, Error: "InvalidKakaoToken"}, // none
		} {
			w := want(evs, 0, span, f)
			got := collect(t, r.Events(ctx, span, f))
			assertIDs(t, fmt.Sprintf("%+v", f), execIDs(got), w)
			for _, e := range got {
				if (f.Type != "" && e.Type != f.Type) || (f.Error != "" && e.Error != f.Error) {
					t.Fatalf("%+v let through %+v", f, e)
				}
			}
		}
		if n := len(want(evs, 0, span, EventFilter{Error: "KakaoUnavailable"})); n != 13 {
			t.Fatalf("model: %d KakaoUnavailable events", n)
		}
	})

	t.Run("one user", func(t *testing.T) {
		r.PageSize = 4
		defer func() { r.PageSize = 0 }()
		for _, tc := range []struct {
			name string
			tr   TimeRange
			f    EventFilter
		}{
			{name: "all time"},
			{name: "range", tr: span},
			{name: "since only", tr: TimeRange{Since: seedTime(101)}},
			{name: "until only", tr: TimeRange{Until: seedTime(101)}},
			{name: "failures", tr: span, f: EventFilter{Type: kakaoauth.EventLoginFailed}},
		} {
			api.reset()
			got := collect(t, r.UserEvents(ctx, 101, tc.tr, tc.f))
			assertIDs(t, tc.name, execIDs(got), want(evs, 101, tc.tr, tc.f))
			if queries, gets := api.reset(); gets != 0 || queries < len(got)/4 {
				t.Fatalf("%s: %d queries, %d gets", tc.name, queries, gets)
			}
		}
		// exec-101 is user 101's (101 % 5 == 1): since is inclusive, until exclusive.
		if got := collect(t, r.UserEvents(ctx, 101, TimeRange{Since: seedTime(101)}, EventFilter{})); got[0].ExecutionID != "exec-101" {
			t.Fatalf("since-only starts at %s", got[0].ExecutionID)
		}
		if got := collect(t, r.UserEvents(ctx, 101, TimeRange{Until: seedTime(101)}, EventFilter{})); got[len(got)-1].ExecutionID == "exec-101" {
			t.Fatal("until-only includes the event at until")
		}
		if n := len(want(evs, 101, TimeRange{}, EventFilter{})); n != 54 {
			t.Fatalf("model: user 101 has %d events", n)
		}
		if got := collect(t, r.UserEvents(ctx, 999, TimeRange{}, EventFilter{})); len(got) != 0 {
			t.Fatalf("unknown user has %d events", len(got))
		}
	})

	t.Run("every field comes back", func(t *testing.T) {
		got := collect(t, r.UserEvents(ctx, 103, TimeRange{Since: seedTime(13), Until: seedTime(14)}, EventFilter{}))
		e := evs[13] // user 103, a KakaoUnavailable failure
		if len(got) != 1 {
			t.Fatalf("%d events", len(got))
		}
		g := got[0]
		if !g.Time.Equal(e.Time) || g.Time.Location() != time.UTC || g.Type != e.Type || g.Outcome != e.Outcome ||
			g.Error != "KakaoUnavailable" || g.KakaoID != 103 || g.Sub != "sub-103" || g.ExecutionID != "exec-013" ||
			g.SourceIP != "198.51.100.13" || g.UserAgent != "app/1" || g.AppID != 1001 || g.ID == "" ||
			!g.ExpiresAt.Equal(e.Time.Add(400*24*time.Hour).Truncate(time.Second)) {
			t.Fatalf("got %+v\nseeded %+v", g, e)
		}
	})

	t.Run("stats", func(t *testing.T) {
		r.PageSize = 5
		defer func() { r.PageSize = 0 }()
		got, err := r.Stats(ctx, span, EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := map[EventCount]bool{}
		type key struct{ day, typ, err string }
		model := map[key]int{}
		for _, e := range evs {
			if !e.Time.Before(span.Since) && e.Time.Before(span.Until) {
				model[key{Day(e.Time), e.Type, e.Error}]++
			}
		}
		for k, n := range model {
			wantCounts[EventCount{Day: k.day, Type: k.typ, Error: k.err, Count: n}] = true
		}
		total := 0
		for i, c := range got {
			if !wantCounts[c] {
				t.Fatalf("unexpected count %+v", c)
			}
			if i > 0 && !lessCount(got[i-1], c) {
				t.Fatalf("not sorted: %+v then %+v", got[i-1], c)
			}
			total += c.Count
		}
		if len(got) != len(wantCounts) || total != 162 {
			t.Fatalf("%d rows for %d counts, total %d", len(got), len(wantCounts), total)
		}
		// Throttled appears once, at midnight 4 March.
		if !slices.Contains(got, EventCount{Day: "2026-03-04", Type: kakaoauth.EventLoginFailed, Error: "Throttled", Count: 1}) {
			t.Fatalf("no Throttled row in %+v", got)
		}
		filtered, err := r.Stats(ctx, span, EventFilter{Error: "AccountUnlinked"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range filtered {
			if c.Error != "AccountUnlinked" || c.Type != kakaoauth.EventLoginFailed {
				t.Fatalf("filtered stats: %+v", c)
			}
			n += c.Count
		}
		if n != len(want(evs, 0, span, EventFilter{Error: "AccountUnlinked"})) {
			t.Fatalf("filtered stats count %d", n)
		}
	})

	t.Run("bad ranges", func(t *testing.T) {
		for _, tr := range []TimeRange{{}, {Since: span.Since}, {Until: span.Until}, {Since: span.Until, Until: span.Since}, {Since: span.Since, Until: span.Since}} {
			if _, err := r.Stats(ctx, tr, EventFilter{}); err == nil {
				t.Errorf("stats accepted %+v", tr)
			}
			for _, err := range r.Events(ctx, tr, EventFilter{}) {
				if err == nil {
					t.Errorf("events accepted %+v", tr)
				}
			}
		}
		for _, err := range r.UserEvents(ctx, 101, TimeRange{Since: span.Until, Until: span.Since}, EventFilter{}) {
			if err == nil {
				t.Error("user events accepted a reversed range")
			}
		}
	})

	t.Run("stopping early stops reading", func(t *testing.T) {
		r.PageSize = 2
		defer func() { r.PageSize = 0 }()
		api.reset()
		n := 0
		for _, err := range r.Events(ctx, span, EventFilter{}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 3 {
				break
			}
		}
		if queries, _ := api.reset(); queries != 2 {
			t.Fatalf("%d queries for 3 events in pages of 2", queries)
		}
	})
}

func lessCount(a, b EventCount) bool {
	if a.Day != b.Day {
		return a.Day < b.Day
	}
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	return a.Error < b.Error
}

func TestMappingQueries(t *testing.T) {
	ctx := context.Background()
	db, stack := tables(t)
	m := NewMappings(db, stack.MappingTable)
	api := &countingAPI{ReadAPI: db}
	r := NewReader(api, stack.MappingTable, stack.AuditTable)

	// 40 mappings 2h 17m apart from 10 March 00:00 UTC: about 3.8 days.
	created := func(i int) time.Time {
		return time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 137 * time.Minute)
	}
	for i := range 40 {
		mp := mapping(int64(1000 + i))
		mp.CreatedAt = created(i)
		mp.LastLoginAt = created(i).Add(time.Minute)
		mp.PasswordNonce, mp.PasswordSetAt = "nonce-secret", created(i)
		if i == 5 {
			mp.Email = ""
		}
		if err := m.Create(ctx, mp); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.MarkUnlinked(ctx, 1003, created(3).Add(time.Hour), kakaoauth.LifecycleEvent{ID: "u", Type: kakaoauth.EventUnlinked, Time: created(3).Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Two Kakao accounts on one sub: an anomaly the auditor must see.
	dup := mapping(2000)
	dup.Sub, dup.CreatedAt = "sub-1007", created(7)
	if err := m.Create(ctx, dup); err != nil {
		t.Fatal(err)
	}

	t.Run("mapping", func(t *testing.T) {
		api.reset()
		got, err := r.Mapping(ctx, 1003)
		if err != nil {
			t.Fatal(err)
		}
		if got.KakaoID != 1003 || got.Sub != "sub-1003" || got.Username != "kakao_1003" || got.Email != "u1003@example.com" ||
			got.Status != kakaoauth.StatusUnlinked || !got.CreatedAt.Equal(created(3)) || !got.LastLoginAt.Equal(created(3).Add(time.Minute)) ||
			!got.UnlinkedAt.Equal(created(3).Add(time.Hour)) {
			t.Fatalf("got %+v", got)
		}
		if got.PasswordNonce != "" || !got.PasswordSetAt.IsZero() {
			t.Fatal("the password nonce was read")
		}
		if q, g := api.reset(); q != 0 || g != 1 {
			t.Fatalf("%d queries, %d gets", q, g)
		}
		if got, _ := r.Mapping(ctx, 1005); got.Email != "" || got.Status != kakaoauth.StatusActive {
			t.Fatalf("no email: %+v", got)
		}
		var nf *kakaoauth.NotFound
		if _, err := r.Mapping(ctx, 4040); !errors.As(err, &nf) {
			t.Fatalf("missing: %v", err)
		}
	})

	t.Run("by sub", func(t *testing.T) {
		api.reset()
		got, err := r.MappingsBySub(ctx, "sub-1012")
		if err != nil || len(got) != 1 || got[0].KakaoID != 1012 || got[0].Email != "u1012@example.com" || got[0].PasswordNonce != "" {
			t.Fatalf("got %+v, %v", got, err)
		}
		if q, g := api.reset(); q != 1 || g != 1 {
			t.Fatalf("%d queries, %d gets", q, g)
		}
		got, err = r.MappingsBySub(ctx, "sub-1007")
		if err != nil {
			t.Fatal(err)
		}
		ids := []int64{}
		for _, mp := range got {
			ids = append(ids, mp.KakaoID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []int64{1007, 2000}) {
			t.Fatalf("sub-1007 maps %v", ids)
		}
		var nf *kakaoauth.NotFound
		if _, err := r.MappingsBySub(ctx, "sub-nobody"); !errors.As(err, &nf) {
			t.Fatalf("missing sub: %v", err)
		}
	})

	t.Run("created in a range", func(t *testing.T) {
		wantIDs := func(tr TimeRange) []int64 {
			var ids []int64
			for i := range 40 {
				if c := created(i); !c.Before(tr.Since) && c.Before(tr.Until) {
					ids = append(ids, int64(1000+i))
					if i == 7 {
						ids = append(ids, 2000) // created at the same instant
					}
				}
			}
			return ids
		}
		for _, tc := range []struct {
			name string
			tr   TimeRange
			n    int
		}{
			{"all", TimeRange{Since: created(0), Until: created(40)}, 41},
			{"since is inclusive, until exclusive", TimeRange{Since: created(3), Until: created(30)}, 28},
			{"one ms later", TimeRange{Since: created(3).Add(time.Millisecond), Until: created(30).Add(time.Millisecond)}, 28},
			{"a day in KST", TimeRange{Since: time.Date(2026, 3, 11, 0, 0, 0, 0, time.FixedZone("KST", 9*3600)), Until: time.Date(2026, 3, 12, 0, 0, 0, 0, time.FixedZone("KST", 9*3600))}, 12},
		} {
			for _, size := range []int32{0, 1, 4} {
				r.PageSize = size
				api.reset()
				got := collect(t, r.MappingsCreated(ctx, tc.tr))
				var ids []int64
				for i, mp := range got {
					ids = append(ids, mp.KakaoID)
					if i > 0 && mp.CreatedAt.Before(got[i-1].CreatedAt) {
						t.Fatalf("%s: not in createdAt order", tc.name)
					}
					if mp.Sub == "" || mp.Username == "" || mp.Status == "" || mp.CreatedAt.IsZero() || mp.PasswordNonce != "" {
						t.Fatalf("%s: row %+v", tc.name, mp)
					}
				}
				w := wantIDs(tc.tr)
				slices.Sort(ids)
				slices.Sort(w)
				if !slices.Equal(ids, w) || len(ids) != tc.n {
					t.Fatalf("%s, page size %d: got %v, want %d: %v", tc.name, size, ids, tc.n, w)
				}
				if q, g := api.reset(); g != 0 || (size > 0 && q < tc.n/int(size)) {
					t.Fatalf("%s: %d queries, %d gets", tc.name, q, g)
				}
			}
		}
		r.PageSize = 0
		for _, err := range r.MappingsCreated(ctx, TimeRange{Since: created(1)}) {
			if err == nil {
				t.Fatal("accepted an open range")
			}
		}
	})
}

func TestTimeRangeKeys(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	for _, tc := range []struct {
		tr     TimeRange
		lo, hi string
		days   []string
	}{
		{TimeRange{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
			"2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z", []string{"2026-03-01"}},
		{TimeRange{time.Date(2026, 3, 1, 0, 0, 0, 0, kst), time.Date(2026, 3, 2, 0, 0, 0, 1, kst)},
			"2026-02-28T15:00:00.000Z", "2026-03-01T15:00:00.001Z", []string{"2026-02-28", "2026-03-01"}},
		{TimeRange{time.Date(2026, 2, 27, 23, 59, 59, 999_000_001, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 1, time.UTC)},
			"2026-02-28T00:00:00.000Z", "2026-03-01T00:00:00.001Z", []string{"2026-02-28", "2026-03-01"}},
		{TimeRange{time.Date(2028, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(2028, 3, 1, 12, 0, 0, 0, time.UTC)},
			"2028-02-28T12:00:00.000Z", "2028-03-01T12:00:00.000Z", []string{"2028-02-28", "2028-02-29", "2028-03-01"}},
	} {
		lo, hi, days, err := tc.tr.keys()
		if err != nil || FormatTime(lo) != tc.lo || FormatTime(hi) != tc.hi || !slices.Equal(days, tc.days) {
			t.Errorf("%v: %s %s %v %v", tc.tr, FormatTime(lo), FormatTime(hi), days, err)
		}
	}
}
