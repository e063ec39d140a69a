package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/infra/localstack"
	"github.com/kakaoauth/kakaoauth/infra/provision"
	"github.com/kakaoauth/kakaoauth/shared/store"
)

func init() {
	commands["audit"] = command{summary: "answer auditors' questions from the mapping and audit tables (GetItem/Query only)", run: runAudit}
}

// Stack outputs (template.yaml) that name the tables.
const (
	outputMappingTable = "MappingTableName"
	outputAuditTable   = "AuditTableName"
)

// awsTimeout bounds each AWS request (the SDK retries within its own budget).
const awsTimeout = 30 * time.Second

// AuditMain runs one auditor query: `kakaoauth audit <query> [flags]`.
type AuditMain struct {
	Out, Err io.Writer
	// HTTPClient carries every AWS request; nil means one with awsTimeout.
	HTTPClient aws.HTTPClient
	// Now is the default --until; nil means time.Now.
	Now func() time.Time

	target *awsTarget // the query's, once its flags are read
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := AuditMain{Out: stdout, Err: stderr}
	return m.Run(ctx, args)
}

const auditUsage = `usage: kakaoauth audit <query> [flags]

queries:
  mapping  -kakao-id N | -sub S            one account's mapping (GetItem; bySub Query + GetItem)
  mappings -since T [-until T] [-details]  accounts linked in [since, until) (byCreatedDay, one Query per day)
  events   -kakao-id N [-since T] [-until T] [-type X] [-error E]
                                           one account's events (one Query on its partition)
  events   -since T [-until T] [-type X] [-error E]
                                           every event in [since, until) (byDay, one Query per day)
  stats    -since T [-until T] [-type X] [-error E]
                                           event counts per UTC day, type and error name

Times: RFC 3339 with any offset (2026-11-25T09:00:00+09:00, 2026-11-25T00:00:00Z) or a
date (2026-11-25, taken as 00:00 UTC). -since is inclusive, -until exclusive (default: now).
Output times are UTC. Where: the local stack (make run) by default; a deployed one with
-stack NAME -region REGION (its outputs name the tables), or -mapping-table/-audit-table.
Output: a table that fits 100 columns; -wide every column, -json, -csv.
Run "kakaoauth audit <query> -h" for every flag.
`

// Run parses args (the query and its flags) and prints the answer.
func (m *AuditMain) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Err, auditUsage)
		return errors.New("audit: which query?")
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Err, auditUsage)
		return flag.ErrHelp
	}
	queries := map[string]func(context.Context, []string) error{
		"mapping":  m.mapping,
		"mappings": m.mappings,
		"events":   m.events,
		"stats":    m.stats,
	}
	q, ok := queries[args[0]]
	if !ok {
		fmt.Fprint(m.Err, auditUsage)
		return fmt.Errorf("audit: unknown query %q", args[0])
	}
	err := q(ctx, args[1:])
	if m.target != nil {
		err = m.target.explain(err)
	}
	return err
}

// auditFlags are the flags every query takes.
type auditFlags struct {
	fs *cliFlags
	awsTarget
	mappingTable, auditTable string
	out                      outputFormat
	pageSize                 int
	limit                    int
}

func (m *AuditMain) flags(name string) *auditFlags {
	f := &auditFlags{fs: newFlags("audit "+name, m.Err, ""), awsTarget: awsTarget{command: "audit", HTTP: m.HTTPClient}}
	f.register(f.fs, "the tables")
	f.fs.alias("endpoint", flagEndpointURL)
	m.target = &f.awsTarget
	f.fs.StringVar(&f.mappingTable, "mapping-table", "", "mapping table name (default: the stack's, or the local stack's)")
	f.fs.StringVar(&f.auditTable, "audit-table", "", "audit table name (default: the stack's, or the local stack's)")
	f.out.register(f.fs, "wide", "json", "csv")
	f.fs.IntVar(&f.pageSize, "page-size", 0, "items per DynamoDB request (0: DynamoDB's 1 MB pages)")
	f.fs.IntVar(&f.limit, "limit", 0, "print at most this many rows (0: all)")
	return f
}

func (f *auditFlags) parse(args []string) error {
	if err := f.fs.parseNoArgs(args); err != nil {
		return err
	}
	if f.pageSize < 0 || f.pageSize > 1<<20 || f.limit < 0 {
		return fmt.Errorf("%s: -page-size and -limit must be positive", f.fs.Name())
	}
	return f.check(f.fs)
}

// reader connects to the tables that the query needs.
func (m *AuditMain) reader(ctx context.Context, f *auditFlags, needMapping, needAudit bool) (*store.Reader, error) {
	cfg, err := f.config(ctx)
	if err != nil {
		return nil, err
	}
	outs, _, err := f.describe(ctx, cfg)
	if err != nil {
		return nil, f.explain(err)
	}
	// Explicit table flags win over the stack's outputs.
	mappingTable := orDefault(f.mappingTable, outs[outputMappingTable])
	auditTable := orDefault(f.auditTable, outs[outputAuditTable])
	if f.local() {
		local := provision.NamesFor(localstack.DefaultPrefix)
		mappingTable = orDefault(mappingTable, local.MappingTable)
		auditTable = orDefault(auditTable, local.AuditTable)
	}
	if needMapping && mappingTable == "" {
		return nil, errors.New("audit: which mapping table? give -mapping-table or -stack")
	}
	if needAudit && auditTable == "" {
		return nil, errors.New("audit: which audit table? give -audit-table or -stack")
	}
	r := store.NewReader(dynamodb.NewFromConfig(cfg), mappingTable, auditTable)
	r.PageSize = int32(f.pageSize)
	return r, nil
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// timeFlag is an audit time bound: RFC 3339 with any offset, or a date
// taken as UTC midnight. It holds UTC.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339Nano)
}

func (f *timeFlag) Set(v string) error {
	t, err := parseAuditTime(v)
	if err != nil {
		return err
	}
	f.t = t
	return nil
}

func parseAuditTime(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t, err = time.Parse(time.DateOnly, v) // UTC midnight
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-11-25T09:00:00+09:00) or a date (2026-11-25, UTC)", v)
	}
	// An offset can carry 0000-01-01 or 9999-12-31 out of the years that
	// print as RFC 3339 (and as stored keys); found by fuzzing.
	if t = t.UTC(); t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%q: outside the years 0000-9999 once in UTC", v)
	}
	return t, nil
}

// rangeFlags are --since/--until.
type rangeFlags struct{ since, until timeFlag }

func (r *rangeFlags) register(fs *cliFlags) {
	fs.Var(&r.since, "since", "start of the range, inclusive (RFC 3339 or YYYY-MM-DD = 00:00 UTC)")
	fs.Var(&r.until, "until", "end of the range, exclusive (RFC 3339 or YYYY-MM-DD = 00:00 UTC; default now)")
}

// closed is the range of a query across users: --since required, --until
// defaulting to now.
func (r *rangeFlags) closed(name string, now func() time.Time) (store.TimeRange, error) {
	if r.since.t.IsZero() {
		return store.TimeRange{}, fmt.Errorf("%s: -since is required", name)
	}
	tr := store.TimeRange{Since: r.since.t, Until: r.until.t}
	if tr.Until.IsZero() {
		if now == nil {
			now = time.Now
		}
		tr.Until = now().UTC()
	}
	if !tr.Since.Before(tr.Until) {
		return tr, fmt.Errorf("%s: -since %s is not before -until %s", name, tr.Since.Format(time.RFC3339Nano), tr.Until.Format(time.RFC3339Nano))
	}
	if tr.Until.Sub(tr.Since) > maxAuditRangeDays*24*time.Hour {
		return tr, fmt.Errorf("%s: the range spans more than %d days, and it costs one Query per UTC day; narrow -since/-until", name, maxAuditRangeDays)
	}
	return tr, nil
}

// daysIn is how many UTC days a range touches (one Query each).
func daysIn(tr store.TimeRange) int {
	first := tr.Since.UTC().Truncate(24 * time.Hour)
	return int(tr.Until.UTC().Sub(first).Hours()/24) + 1
}

// maxAuditRangeDays bounds a range across users: it costs one Query per
// UTC day (a typo such as -since 0026-11-25 would be 730,000 of them), and
// no audit event outlives the longest retention, 3650 days.
const maxAuditRangeDays = 3660

// filterFlags are --type/--error.
type filterFlags struct{ f store.EventFilter }

var eventTypes = []string{
	kakaoauth.EventLoginSucceeded, kakaoauth.EventLoginFailed, kakaoauth.EventUserCreated,
	kakaoauth.EventPasswordLoginBlocked, kakaoauth.EventUnlinked, kakaoauth.EventRelinked, kakaoauth.EventDeleted, kakaoauth.EventRecreated,
	kakaoauth.EventFederatedLinked, kakaoauth.EventFederatedRefused,
	kakaoauth.EventBanned, kakaoauth.EventUnbanned, kakaoauth.EventReconciled, kakaoauth.EventUnlinkRefused,
}

func (ff *filterFlags) register(fs *cliFlags) {
	fs.StringVar(&ff.f.Type, "type", "", "only events of this type: "+strings.Join(eventTypes, ", "))
	fs.StringVar(&ff.f.Error, "error", "", "only events with this error name, e.g. InvalidKakaoToken")
}

// check refuses an unknown type: a typo would otherwise look like "none".
func (ff *filterFlags) check(name string) error {
	if ff.f.Type != "" && !slices.Contains(eventTypes, ff.f.Type) {
		return fmt.Errorf("%s: -type %q: want one of %s", name, ff.f.Type, strings.Join(eventTypes, ", "))
	}
	return nil
}

func (m *AuditMain) mapping(ctx context.Context, args []string) error {
	f := m.flags("mapping")
	var kakaoID int64
	var sub string
	f.fs.Int64Var(&kakaoID, "kakao-id", 0, "Kakao user id")
	f.fs.StringVar(&sub, "sub", "", "Cognito sub")
	if err := f.parse(args); err != nil {
		return err
	}
	if (kakaoID == 0) == (sub == "") {
		return errors.New("audit mapping: give exactly one of -kakao-id and -sub")
	}
	r, err := m.reader(ctx, f, true, false)
	if err != nil {
		return err
	}
	var found []store.MappingRecord
	if kakaoID != 0 {
		mp, err := r.Mapping(ctx, kakaoID)
		if err != nil {
			return err
		}
		found = append(found, mp)
	} else if found, err = r.MappingsBySub(ctx, sub); err != nil {
		return err
	}
	return printRows(m.Out, f, mappingColumns(true), noErrors(slices.Values(found)))
}

func (m *AuditMain) mappings(ctx context.Context, args []string) error {
	f := m.flags("mappings")
	var rf rangeFlags
	rf.register(f.fs)
	details := f.fs.Bool("details", false, "also read each row (one GetItem per mapping) for email, lastLoginAt and unlinkedAt")
	if err := f.parse(args); err != nil {
		return err
	}
	tr, err := rf.closed("audit mappings", m.Now)
	if err != nil {
		return err
	}
	r, err := m.reader(ctx, f, true, false)
	if err != nil {
		return err
	}
	rows := r.MappingsCreated(ctx, tr)
	if *details {
		rows = withDetails(ctx, r, rows)
	}
	return printRows(m.Out, f, mappingColumns(*details), rows)
}

// withDetails replaces each index row by the full row.
func withDetails(ctx context.Context, r *store.Reader, rows iter.Seq2[store.MappingRecord, error]) iter.Seq2[store.MappingRecord, error] {
	return func(yield func(store.MappingRecord, error) bool) {
		for mp, err := range rows {
			if err == nil {
				mp, err = r.Mapping(ctx, mp.KakaoID)
			}
			if !yield(mp, err) || err != nil {
				return
			}
		}
	}
}

func (m *AuditMain) events(ctx context.Context, args []string) error {
	f := m.flags("events")
	var rf rangeFlags
	var ff filterFlags
	var kakaoID int64
	f.fs.Int64Var(&kakaoID, "kakao-id", 0, "only this Kakao account's events (then -since/-until are optional)")
	rf.register(f.fs)
	ff.register(f.fs)
	if err := f.parse(args); err != nil {
		return err
	}
	if err := ff.check("audit events"); err != nil {
		return err
	}
	var rows iter.Seq2[store.EventRecord, error]
	if kakaoID != 0 {
		tr := store.TimeRange{Since: rf.since.t, Until: rf.until.t}
		if !tr.Since.IsZero() && !tr.Until.IsZero() && !tr.Since.Before(tr.Until) {
			return errors.New("audit events: -since is not before -until")
		}
		r, err := m.reader(ctx, f, false, true)
		if err != nil {
			return err
		}
		rows = r.UserEvents(ctx, kakaoID, tr, ff.f)
	} else {
		tr, err := rf.closed("audit events", m.Now)
		if err != nil {
			return err
		}
		r, err := m.reader(ctx, f, false, true)
		if err != nil {
			return err
		}
		rows = r.Events(ctx, tr, ff.f)
	}
	return printRows(m.Out, f, eventColumns, rows)
}

func (m *AuditMain) stats(ctx context.Context, args []string) error {
	f := m.flags("stats")
	var rf rangeFlags
	var ff filterFlags
	rf.register(f.fs)
	ff.register(f.fs)
	if err := f.parse(args); err != nil {
		return err
	}
	if err := ff.check("audit stats"); err != nil {
		return err
	}
	tr, err := rf.closed("audit stats", m.Now)
	if err != nil {
		return err
	}
	r, err := m.reader(ctx, f, false, true)
	if err != nil {
		return err
	}
	// Counting reads the whole range before printing anything: say so
	// while it takes (events and mappings print rows as they come).
	var counts []store.EventCount
	if err := waitSaying(m.Err, fmt.Sprintf("audit stats: still counting %d UTC days (one Query each)", daysIn(tr)), func() error {
		var err error
		counts, err = r.Stats(ctx, tr, ff.f)
		return err
	}); err != nil {
		return err
	}
	return printRows(m.Out, f, statColumns, noErrors(slices.Values(counts)))
}

// noErrors turns a sequence read in full into printRows' input.
func noErrors[T any](seq iter.Seq[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v := range seq {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// column is one field of the output: its name (the stored attribute's, in
// JSON and CSV; upper snake case in tables) and its text.
type column[T any] struct {
	name  string
	text  func(T) string
	isNum bool // a JSON number, not a string
	// width is the column's width in the default table, which fits 100
	// columns (longer cells are cut with "…"; times show whole seconds);
	// 0 leaves the column to -wide, -json and -csv.
	width int
	time  bool
}

func mappingColumns(full bool) []column[store.MappingRecord] {
	cols := []column[store.MappingRecord]{
		{name: store.AttrKakaoID, text: func(m store.MappingRecord) string { return strconv.FormatInt(m.KakaoID, 10) }, isNum: true, width: 12},
		{name: store.AttrCreatedAt, text: func(m store.MappingRecord) string { return timeText(m.CreatedAt) }, width: 20, time: true},
		{name: store.AttrStatus, text: func(m store.MappingRecord) string { return m.Status }, width: 8},
		{name: store.AttrSub, text: func(m store.MappingRecord) string { return m.Sub }, width: 36},
		{name: store.AttrUsername, text: func(m store.MappingRecord) string { return m.Username }, width: 16},
	}
	if full {
		cols = append(cols,
			column[store.MappingRecord]{name: store.AttrEmail, text: func(m store.MappingRecord) string { return m.Email }},
			column[store.MappingRecord]{name: store.AttrLastLoginAt, text: func(m store.MappingRecord) string { return timeText(m.LastLoginAt) }},
			column[store.MappingRecord]{name: store.AttrUnlinkedAt, text: func(m store.MappingRecord) string { return timeText(m.UnlinkedAt) }},
			column[store.MappingRecord]{name: store.AttrRelinkedAt, text: func(m store.MappingRecord) string { return timeText(m.RelinkedAt) }},
			column[store.MappingRecord]{name: store.AttrDeletedAt, text: func(m store.MappingRecord) string { return timeText(m.DeletedAt) }},
			column[store.MappingRecord]{name: store.AttrPrevSubs, text: func(m store.MappingRecord) string { return strings.Join(m.PreviousSubs, " ") }},
		)
	}
	return cols
}

var eventColumns = []column[store.EventRecord]{
	{name: store.AttrTime, text: func(e store.EventRecord) string { return timeText(e.Time) }, width: 20, time: true},
	{name: store.AttrType, text: func(e store.EventRecord) string { return e.Type }, width: 22},
	{name: store.AttrOutcome, text: func(e store.EventRecord) string { return e.Outcome }},
	{name: store.AttrError, text: func(e store.EventRecord) string { return e.Error }, width: 18},
	{name: store.AttrKakaoID, text: func(e store.EventRecord) string { return idText(e.KakaoID) }, isNum: true, width: 12},
	{name: store.AttrSub, text: func(e store.EventRecord) string { return e.Sub }, width: 13},
	{name: store.AttrAppID, text: func(e store.EventRecord) string { return idText(e.AppID) }, isNum: true},
	{name: store.AttrSourceIP, text: func(e store.EventRecord) string { return e.SourceIP }},
	{name: store.AttrUserAgent, text: func(e store.EventRecord) string { return e.UserAgent }},
	{name: store.AttrExecutionID, text: func(e store.EventRecord) string { return e.ExecutionID }},
	{name: store.AttrDetail, text: func(e store.EventRecord) string { return e.Detail }},
	{name: store.AttrEventID, text: func(e store.EventRecord) string { return e.ID }},
	{name: store.AttrExpiresAt, text: func(e store.EventRecord) string { return timeText(e.ExpiresAt) }},
}

var statColumns = []column[store.EventCount]{
	{name: store.AttrDay, text: func(c store.EventCount) string { return c.Day }, width: 10},
	{name: store.AttrType, text: func(c store.EventCount) string { return c.Type }, width: 22},
	{name: store.AttrError, text: func(c store.EventCount) string { return c.Error }, width: 24},
	{name: "count", text: func(c store.EventCount) string { return strconv.Itoa(c.Count) }, isNum: true, width: 10},
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return store.FormatTime(t)
}

func idText(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// printRows writes rows in f's format, stopping after f.limit rows. An
// error from rows is returned after what was printed so far is flushed.
func printRows[T any](w io.Writer, f *auditFlags, cols []column[T], rows iter.Seq2[T, error]) error {
	var p rowPrinter
	switch f.out.format {
	case "json":
		p = &jsonPrinter{w: w}
	case "csv":
		p = &csvPrinter{w: csv.NewWriter(w)}
	case "wide":
		p = &tablePrinter{w: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	default:
		// The narrow table: only the columns with a width, cut to it.
		var narrow []column[T]
		for _, c := range cols {
			if c.width > 0 {
				narrow = append(narrow, c)
			}
		}
		widths := make([]int, len(narrow))
		for i, c := range narrow {
			widths[i] = c.width
			if c.time {
				c.text = func(f func(T) string) func(T) string {
					return func(v T) string { return wholeSeconds(f(v)) }
				}(c.text)
				narrow[i] = c
			}
		}
		p = &tablePrinter{w: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0), widths: widths}
		if len(narrow) < len(cols) {
			defer fmt.Fprintf(f.fs.stderr, "(-wide prints every column, -json every field)\n")
		}
		cols = narrow
	}
	names := make([]string, len(cols))
	isNum := make([]bool, len(cols))
	for i, c := range cols {
		names[i], isNum[i] = c.name, c.isNum
	}
	if err := p.header(names); err != nil {
		return err
	}
	var rowErr error
	n := 0
	for rec, err := range rows {
		if err != nil {
			rowErr = err
			break
		}
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = c.text(rec)
		}
		if err := p.row(names, isNum, cells); err != nil {
			return err
		}
		if n++; f.limit > 0 && n >= f.limit {
			break
		}
	}
	if err := p.close(); err != nil && rowErr == nil {
		return err
	}
	return rowErr
}

// wholeSeconds shortens a stored time (2026-11-25T22:40:25.550Z) to
// 2026-11-25T22:40:25Z for the narrow table.
func wholeSeconds(t string) string {
	if len(t) == len("2006-01-02T15:04:05.000Z") && t[19] == '.' {
		return t[:19] + "Z"
	}
	return t
}

type rowPrinter interface {
	header(names []string) error
	row(names []string, isNum []bool, cells []string) error
	close() error
}

// tablePrinter aligns columns, each cut to its width if it has one. Cell
// text is client-controlled (user agent, detail), so control characters
// are escaped: they could break the layout or drive the auditor's
// terminal.
type tablePrinter struct {
	w      *tabwriter.Writer
	widths []int // nil: every cell whole (-wide)
}

func (p *tablePrinter) header(names []string) error {
	heads := make([]string, len(names))
	for i, n := range names {
		heads[i] = p.cut(i, snakeUpper(n))
	}
	_, err := fmt.Fprintln(p.w, strings.Join(heads, "\t"))
	return err
}

func (p *tablePrinter) row(_ []string, _ []bool, cells []string) error {
	out := make([]string, len(cells))
	for i, c := range cells {
		switch {
		case c == "":
			out[i] = "-"
		case strings.IndexFunc(c, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
			q := strconv.QuoteToGraphic(c)
			out[i] = q[1 : len(q)-1]
		default:
			out[i] = c
		}
		out[i] = p.cut(i, out[i])
	}
	_, err := fmt.Fprintln(p.w, strings.Join(out, "\t"))
	return err
}

// cut shortens s to column i's width, ending it with "…".
func (p *tablePrinter) cut(i int, s string) string {
	if p.widths == nil {
		return s
	}
	if r := []rune(s); len(r) > p.widths[i] {
		return string(r[:p.widths[i]-1]) + "…"
	}
	return s
}

func (p *tablePrinter) close() error { return p.w.Flush() }

// snakeUpper turns kakaoId into KAKAO_ID.
func snakeUpper(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// csvPrinter writes RFC 4180 CSV with a header line. Text cells are
// verbatim but for csvCell: userAgent and detail are whatever clients
// sent, and a spreadsheet would run a formula among them.
type csvPrinter struct{ w *csv.Writer }

func (p *csvPrinter) header(names []string) error { return p.w.Write(names) }

func (p *csvPrinter) row(_ []string, isNum []bool, cells []string) error {
	out := make([]string, len(cells))
	for i, c := range cells {
		if !isNum[i] {
			c = csvCell(c)
		}
		out[i] = c
	}
	return p.w.Write(out)
}

// csvCell neutralises a cell a spreadsheet would read as a formula (one
// starting with = + - @, a tab or a CR) with a leading ', as OWASP
// advises for CSV injection.
func csvCell(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

func (p *csvPrinter) close() error {
	p.w.Flush()
	return p.w.Error()
}

// jsonPrinter writes one JSON array, an object per row, as rows arrive;
// empty fields are left out.
type jsonPrinter struct {
	w    io.Writer
	rows int
}

func (p *jsonPrinter) header([]string) error {
	_, err := io.WriteString(p.w, "[")
	return err
}

func (p *jsonPrinter) row(names []string, isNum []bool, cells []string) error {
	var b strings.Builder
	if p.rows > 0 {
		b.WriteString(",")
	}
	p.rows++
	b.WriteString("\n  {")
	first := true
	for i, c := range cells {
		if c == "" {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		k, _ := json.Marshal(names[i])
		b.Write(k)
		b.WriteString(": ")
		if isNum[i] {
			b.WriteString(c) // produced by strconv, a valid JSON number
		} else {
			v, _ := json.Marshal(c)
			b.Write(v)
		}
	}
	b.WriteString("}")
	_, err := io.WriteString(p.w, b.String())
	return err
}

func (p *jsonPrinter) close() error {
	end := "]\n"
	if p.rows > 0 {
		end = "\n]\n"
	}
	_, err := io.WriteString(p.w, end)
	return err
}
