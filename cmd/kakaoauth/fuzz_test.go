package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kakaoauth/kakaoauth/shared/store"
)

// FuzzAuditTimeFlags: --since/--until as the audit queries parse them.
// Whatever an auditor types, a time is accepted only as RFC 3339 (any
// offset) or a date at 00:00 UTC, is held in UTC, prints as text that
// parses back to the same instant, and a range is accepted only if it is
// non-empty and within what one query per day can reasonably cover. Errors
// quote the input escaped, so it cannot drive the terminal.
func FuzzAuditTimeFlags(f *testing.F) {
	now := at("2026-11-27T00:00:00Z")
	f.Fuzz(func(t *testing.T, since, until string) {
		var rf rangeFlags
		fs := newFlags("audit events", io.Discard, "")
		rf.register(fs)
		args := []string{"-since", since}
		if until != "" {
			args = append(args, "-until", until)
		}
		err := fs.Parse(args)

		wantSince, sinceOK := referenceAuditTime(since)
		wantUntil, untilOK := referenceAuditTime(until)
		if until == "" {
			untilOK = true
		}
		if err != nil {
			if sinceOK && untilOK {
				t.Fatalf("refused %q, %q: %v", since, until, err)
			}
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("error %q carries control characters", err)
			}
			return
		}
		if !sinceOK || !untilOK {
			t.Fatalf("accepted %q, %q as %v, %v", since, until, rf.since.t, rf.until.t)
		}
		for _, got := range []struct {
			t    time.Time
			want time.Time
			in   string
		}{{rf.since.t, wantSince, since}, {rf.until.t, wantUntil, until}} {
			if got.in == "" {
				continue
			}
			if got.t.Location() != time.UTC || !got.t.Equal(got.want) {
				t.Fatalf("%q parsed as %v, want %v in UTC", got.in, got.t, got.want)
			}
			// What the tool prints (flag defaults, error texts, stored
			// keys) must read back as the same instant.
			if back, err := time.Parse(time.RFC3339Nano, got.t.Format(time.RFC3339Nano)); err != nil || !back.Equal(got.t) {
				t.Fatalf("%q parsed as %v, which prints as text that does not parse back (%v)", got.in, got.t, err)
			}
			if back, err := store.ParseTime(store.FormatTime(got.t)); err != nil || !back.Equal(got.t.Truncate(time.Millisecond)) {
				t.Fatalf("%q parsed as %v, stored as %q (%v)", got.in, got.t, store.FormatTime(got.t), err)
			}
		}

		tr, err := rf.closed("audit events", func() time.Time { return now })
		if err != nil {
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("error %q carries control characters", err)
			}
			return
		}
		if !tr.Since.Before(tr.Until) || (until == "" && !tr.Until.Equal(now)) {
			t.Fatalf("accepted range %v .. %v for %q, %q", tr.Since, tr.Until, since, until)
		}
		if days := tr.Until.Sub(tr.Since).Hours() / 24; days > maxAuditRangeDays+1 {
			t.Fatalf("accepted a range of %.0f days (%q, %q): one Query per day", days, since, until)
		}
	})
}

// referenceAuditTime is docs/operations.md's rule for a time flag, with the
// standard library alone: RFC 3339 with any offset, or a date at 00:00 UTC,
// in the years 0000-9999 once in UTC.
func referenceAuditTime(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t, err = time.ParseInLocation(time.DateOnly, v, time.UTC)
	}
	// Only the instants RFC 3339 can print, in UTC.
	return t, err == nil && t.UTC().Year() >= 0 && t.UTC().Year() <= 9999
}
