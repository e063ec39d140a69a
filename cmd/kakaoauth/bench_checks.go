package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

// UserLister is the part of the Cognito client the checks use: ListUsers
// (and ListUserPools to find the local pool by name), nothing that writes.
type UserLister interface {
	cip.ListUsersAPIClient
	cip.ListUserPoolsAPIClient
}

var _ UserLister = (*cip.Client)(nil)

// benchChecker reads what a run left behind: the pool with ListUsers, the
// tables with Query and GetItem (store.Reader: never a Scan).
type benchChecker struct {
	users  UserLister
	reader *store.Reader
	where  benchTargets
}

// benchTargets names what was checked, for the report.
type benchTargets struct {
	UserPoolID   string `json:"userPoolId"`
	MappingTable string `json:"mappingTable"`
	AuditTable   string `json:"auditTable"`
	Endpoint     string `json:"awsEndpoint,omitempty"`
}

func (m *BenchMain) newChecker(ctx context.Context) (*benchChecker, error) {
	w := m.Where
	if w.local() && w.Endpoint == "" {
		w.Endpoint = localEndpoint()
	}
	target := awsTarget{command: "bench", region: w.Region, profile: w.Profile, endpoint: w.Endpoint, stack: w.Stack, HTTP: m.AWSHTTP}
	cfg, err := target.config(ctx)
	if err != nil {
		return nil, err
	}
	idp := cip.NewFromConfig(cfg)
	t := benchTargets{UserPoolID: w.UserPoolID, MappingTable: w.MappingTable, AuditTable: w.AuditTable, Endpoint: w.Endpoint}
	switch {
	case w.Stack != "":
		outs, _, err := target.describe(ctx, cfg)
		if err != nil {
			return nil, err
		}
		t.UserPoolID = orDefault(t.UserPoolID, outs[outputUserPoolID])
		t.MappingTable = orDefault(t.MappingTable, outs[outputMappingTable])
		t.AuditTable = orDefault(t.AuditTable, outs[outputAuditTable])
	case w.local():
		names := provision.NamesFor(w.Prefix)
		t.MappingTable = orDefault(t.MappingTable, names.MappingTable)
		t.AuditTable = orDefault(t.AuditTable, names.AuditTable)
		if t.UserPoolID == "" {
			if t.UserPoolID, err = localPoolID(ctx, idp, names.UserPool); err != nil {
				return nil, target.explain(err)
			}
		}
	}
	if t.UserPoolID == "" || t.MappingTable == "" || t.AuditTable == "" {
		return nil, errors.New("bench: which user pool and tables? give -stack, or -user-pool-id, -mapping-table and -audit-table (or -check=false)")
	}
	c := &benchChecker{users: idp, reader: store.NewReader(dynamodb.NewFromConfig(cfg), t.MappingTable, t.AuditTable), where: t}
	// Reach all three before the run, so a wrong name does not cost one.
	if _, err := idp.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: &t.UserPoolID, Limit: aws.Int32(1)}); err != nil {
		return nil, fmt.Errorf("bench: user pool %s: %w", t.UserPoolID, err)
	}
	var nf *kakaoauth.NotFound
	if _, err := c.reader.Mapping(ctx, 0); err != nil && !errors.As(err, &nf) {
		return nil, fmt.Errorf("bench: mapping table %s: %w", t.MappingTable, err)
	}
	now := time.Now()
	for _, err := range c.reader.Events(ctx, store.TimeRange{Since: now.Add(-time.Second), Until: now}, store.EventFilter{Type: "none"}) {
		if err != nil {
			return nil, fmt.Errorf("bench: audit table %s: %w", t.AuditTable, err)
		}
	}
	return c, nil
}

// timeWindow is the range whose audit events and mappings belong to a run
// that went from start to end, with a minute either side for clock skew.
func timeWindow(start, end time.Time) store.TimeRange {
	return store.TimeRange{Since: start.Add(-time.Minute), Until: end.Add(time.Minute)}
}

// benchCheck is one invariant's verdict.
type benchCheck struct {
	Name     string   `json:"name"`
	OK       bool     `json:"ok"`
	Detail   string   `json:"detail"`
	Examples []string `json:"examples,omitempty"`
}

// The invariants, by the stable name the JSON output uses.
var checkLabels = map[string]string{
	"users_equal_logged_in_accounts": "users = distinct Kakao ids logged in",
	"one_mapping_per_user":           "mappings = users, each pointing at its sub",
	"one_terminal_event_per_attempt": "exactly one terminal audit event per attempt",
	"no_orphan_user":                 "no orphan user (a user without a mapping)",
	"no_unexpected_5xx":              "no unexpected 5xx",
	"answers_as_expected":            "every answer as expected",
}

var checkOrder = []string{"users_equal_logged_in_accounts", "one_mapping_per_user", "one_terminal_event_per_attempt",
	"no_orphan_user", "no_unexpected_5xx", "answers_as_expected"}

func (c benchCheck) label() string { return checkLabels[c.Name] }

// examples keeps the first few items of a finding.
func examples(items []string) []string {
	slices.Sort(items)
	if len(items) > 5 {
		return append(items[:5:5], fmt.Sprintf("... %d more", len(items)-5))
	}
	return items
}

// run evaluates the invariants, re-reading for up to settle while a check
// that reads an index (eventually consistent in DynamoDB) fails.
func (c *benchChecker) run(ctx context.Context, r *benchRun, attempts []*attempt, tr store.TimeRange, settle time.Duration) []benchCheck {
	deadline := time.Now().Add(settle)
	for said := false; ; said = true {
		checks, settled := c.evaluate(ctx, r, attempts, tr)
		if settled || time.Now().After(deadline) {
			return checks
		}
		// A wait of seconds, said as it starts: the indexes lag.
		if !said {
			fmt.Fprintf(r.m.Err, "bench: checks not settled yet (DynamoDB indexes are eventually consistent); reading again for up to %s\n",
				time.Until(deadline).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return checks
		case <-time.After(time.Second):
		}
	}
}

// runState is what the tables and the pool hold for a run.
type runState struct {
	users    map[int64]string // Kakao id -> Cognito sub
	mappings map[int64]store.MappingRecord
	events   []store.EventRecord
}

func (c *benchChecker) read(ctx context.Context, r *benchRun, tr store.TimeRange) (runState, error) {
	st := runState{users: map[int64]string{}, mappings: map[int64]store.MappingRecord{}}
	inRun := func(id int64) bool { return id >= r.firstID() && id < r.firstID()+idSpan }

	pool := c.where.UserPoolID
	p := cip.NewListUsersPaginator(c.users, &cip.ListUsersInput{
		UserPoolId: &pool, Filter: aws.String(fmt.Sprintf(`username ^= "kakao_%d"`, r.idPrefix)),
		AttributesToGet: []string{"sub"}, Limit: aws.Int32(60),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return st, fmt.Errorf("ListUsers: %w", err)
		}
		for _, u := range out.Users {
			id, err := strconv.ParseInt(strings.TrimPrefix(aws.ToString(u.Username), "kakao_"), 10, 64)
			if err != nil || !inRun(id) {
				continue
			}
			for _, a := range u.Attributes {
				if aws.ToString(a.Name) == "sub" {
					st.users[id] = aws.ToString(a.Value)
				}
			}
			if _, ok := st.users[id]; !ok {
				st.users[id] = ""
			}
		}
	}
	for mp, err := range c.reader.MappingsCreated(ctx, tr) {
		if err != nil {
			return st, err
		}
		if inRun(mp.KakaoID) {
			st.mappings[mp.KakaoID] = mp
		}
	}
	prefix := "kakaoauth-bench/" + r.id + " "
	for e, err := range c.reader.Events(ctx, tr, store.EventFilter{}) {
		if err != nil {
			return st, err
		}
		if strings.HasPrefix(e.UserAgent, prefix) {
			st.events = append(st.events, e)
		}
	}
	return st, nil
}

// evaluate reads the run's state once and judges every invariant. settled
// is false when a check that reads an index failed, or a read failed: a
// later read may see more.
func (c *benchChecker) evaluate(ctx context.Context, r *benchRun, attempts []*attempt, tr store.TimeRange) ([]benchCheck, bool) {
	checks := map[string]*benchCheck{}
	for _, name := range checkOrder {
		checks[name] = &benchCheck{Name: name, OK: true}
	}
	fail := func(name string, items []string) {
		if len(items) > 0 {
			checks[name].OK = false
			checks[name].Examples = examples(items)
		}
	}

	// The answers need no reading.
	var fiveXX, unexpected []string
	for _, a := range attempts {
		if a.status >= 500 {
			fiveXX = append(fiveXX, fmt.Sprintf("attempt %d (%s): %d %s", a.n, a.kind, a.status, a.code))
		}
		if !a.asExpected() {
			got := fmt.Sprintf("%d %s", a.status, a.code)
			if a.newUser != nil {
				got += fmt.Sprintf(" new_user=%v", *a.newUser)
			}
			unexpected = append(unexpected, fmt.Sprintf("attempt %d (%s%s): got %s%s", a.n, a.kind, orEmpty(" "+a.variant, a.variant), got, errSuffix(a.err)))
		}
	}
	checks["no_unexpected_5xx"].Detail = fmt.Sprintf("answers 5xx: %d", len(fiveXX))
	fail("no_unexpected_5xx", fiveXX)
	checks["answers_as_expected"].Detail = fmt.Sprintf("answered otherwise: %d of %d attempts", len(unexpected), len(attempts))
	fail("answers_as_expected", unexpected)

	st, err := c.read(ctx, r, tr)
	if err != nil {
		for _, name := range checkOrder[:4] {
			checks[name].OK, checks[name].Detail = false, "could not read: "+err.Error()
		}
		return ordered(checks), false
	}

	// Users = the distinct Kakao ids that logged in.
	loggedIn := map[int64]string{} // id -> the sub its answers named
	var subMismatch []string
	for _, a := range attempts {
		if a.status != http.StatusOK || a.kakaoID == 0 {
			continue
		}
		if prev, ok := loggedIn[a.kakaoID]; ok && prev != a.sub {
			subMismatch = append(subMismatch, fmt.Sprintf("kakao %d answered sub %s and %s", a.kakaoID, prev, a.sub))
		}
		loggedIn[a.kakaoID] = a.sub
	}
	var userDiff []string
	for id := range st.users {
		if _, ok := loggedIn[id]; !ok {
			userDiff = append(userDiff, fmt.Sprintf("user %s never logged in", kakaoauth.Username(id)))
		}
	}
	for id := range loggedIn {
		if _, ok := st.users[id]; !ok {
			userDiff = append(userDiff, fmt.Sprintf("kakao %d logged in but has no user", id))
		}
	}
	checks["users_equal_logged_in_accounts"].Detail = fmt.Sprintf("%d users, %d distinct Kakao ids logged in", len(st.users), len(loggedIn))
	fail("users_equal_logged_in_accounts", userDiff)

	// One mapping per user, pointing at its sub and named after it, and
	// the sub every login of that account was answered with.
	var mapDiff, orphans []string
	for id, sub := range st.users {
		mp, ok := st.mappings[id]
		switch {
		case !ok:
			orphans = append(orphans, kakaoauth.Username(id))
			mapDiff = append(mapDiff, fmt.Sprintf("user %s has no mapping", kakaoauth.Username(id)))
		case mp.Sub != sub || mp.Username != kakaoauth.Username(id):
			mapDiff = append(mapDiff, fmt.Sprintf("mapping %d -> %s %s, user %s", id, mp.Username, mp.Sub, sub))
		case loggedIn[id] != "" && loggedIn[id] != sub:
			mapDiff = append(mapDiff, fmt.Sprintf("kakao %d was answered sub %s, its user is %s", id, loggedIn[id], sub))
		}
	}
	for id := range st.mappings {
		if _, ok := st.users[id]; !ok {
			mapDiff = append(mapDiff, fmt.Sprintf("mapping %d has no user", id))
		}
	}
	mapDiff = append(mapDiff, subMismatch...)
	checks["one_mapping_per_user"].Detail = fmt.Sprintf("%d mappings, %d users", len(st.mappings), len(st.users))
	fail("one_mapping_per_user", mapDiff)
	checks["no_orphan_user"].Detail = fmt.Sprintf("users without a mapping: %d", len(orphans))
	fail("no_orphan_user", orphans)

	// Exactly one terminal event per attempt, saying what the answer
	// said; one user_created per user the run created.
	byAttempt := map[int]*attempt{}
	for _, a := range attempts {
		byAttempt[a.n] = a
	}
	terminal := map[int][]store.EventRecord{}
	created := map[int64]int{}
	var eventDiff []string
	for _, e := range st.events {
		n, err := strconv.Atoi(strings.TrimPrefix(e.UserAgent, "kakaoauth-bench/"+r.id+" attempt/"))
		if err != nil || byAttempt[n] == nil {
			eventDiff = append(eventDiff, fmt.Sprintf("event %s from an unknown attempt (%q)", e.ID, e.UserAgent))
			continue
		}
		switch e.Type {
		case kakaoauth.EventLoginSucceeded, kakaoauth.EventLoginFailed:
			terminal[n] = append(terminal[n], e)
		case kakaoauth.EventUserCreated:
			created[e.KakaoID]++
		}
	}
	nTerminal := 0
	for _, a := range attempts {
		evs := terminal[a.n]
		nTerminal += len(evs)
		switch {
		case a.status == 0 && len(evs) > 1:
			eventDiff = append(eventDiff, fmt.Sprintf("attempt %d (no answer): %d terminal events", a.n, len(evs)))
		case a.status != 0 && len(evs) != 1:
			eventDiff = append(eventDiff, fmt.Sprintf("attempt %d (%d %s): %d terminal events", a.n, a.status, a.code, len(evs)))
		case a.status == http.StatusOK && evs[0].Type != kakaoauth.EventLoginSucceeded,
			a.status != 0 && a.status != http.StatusOK && (evs[0].Type != kakaoauth.EventLoginFailed || !sameError(a.code, evs[0].Error)):
			eventDiff = append(eventDiff, fmt.Sprintf("attempt %d answered %d %s, audited %s %s", a.n, a.status, a.code, evs[0].Type, evs[0].Error))
		}
	}
	newUsers := 0
	for _, a := range attempts {
		if a.status == http.StatusOK && a.newUser != nil && *a.newUser {
			newUsers++
			if created[a.kakaoID] != 1 {
				eventDiff = append(eventDiff, fmt.Sprintf("kakao %d: %d user_created events", a.kakaoID, created[a.kakaoID]))
			}
		}
	}
	checks["one_terminal_event_per_attempt"].Detail = fmt.Sprintf("%d attempts, %d terminal events, %d user_created for %d new users",
		len(attempts), nTerminal, len(created), newUsers)
	fail("one_terminal_event_per_attempt", eventDiff)

	settled := checks["users_equal_logged_in_accounts"].OK && checks["one_mapping_per_user"].OK &&
		checks["one_terminal_event_per_attempt"].OK && checks["no_orphan_user"].OK
	return ordered(checks), settled
}

// sameError: the audit trail names the error as the workflow did, the
// answer by its public code; the two agree except for codes that are not
// error names (internal, Timeout).
func sameError(code, audited string) bool {
	switch code {
	case kakaoauth.CodeInternal, "Timeout":
		return true
	}
	return code == audited
}

func orEmpty(s, cond string) string {
	if cond == "" {
		return ""
	}
	return s
}

func ordered(checks map[string]*benchCheck) []benchCheck {
	out := make([]benchCheck, 0, len(checkOrder))
	for _, name := range checkOrder {
		out = append(out, *checks[name])
	}
	return out
}
