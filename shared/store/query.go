package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kakaoauth/kakaoauth"
)

// ReadAPI is all the auditors' queries need: single-item reads and key or
// index queries. Scan is deliberately absent, so no query can fall back to
// reading a whole table, and an auditor's IAM policy can be read-only.
type ReadAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ ReadAPI = (*dynamodb.Client)(nil)

// Reader answers auditors' questions from the mapping and audit tables
// with GetItem and Query only.
type Reader struct {
	api          ReadAPI
	mappingTable string
	auditTable   string
	// PageSize is the Limit of each Query; 0 lets DynamoDB fill 1 MB pages.
	// Results are the same whatever the page size.
	PageSize int32
}

// NewReader reads mappingTable and auditTable; either may be "" when the
// caller only uses the other's queries.
func NewReader(api ReadAPI, mappingTable, auditTable string) *Reader {
	return &Reader{api: api, mappingTable: mappingTable, auditTable: auditTable}
}

// MappingRecord is a mapping row as auditors see it. The password nonce is
// never read (the projection leaves it out).
type MappingRecord struct {
	kakaoauth.Mapping
}

// EventRecord is a stored audit event.
type EventRecord struct {
	kakaoauth.AuditEvent
	ID string
	// ExpiresAt is when DynamoDB TTL may delete the event; zero when the
	// event is kept forever.
	ExpiresAt time.Time
}

// TimeRange is [Since, Until): Since inclusive, Until exclusive, at the
// stored millisecond precision. A zero bound is open, where a query allows it.
type TimeRange struct {
	Since, Until time.Time
}

// EventFilter narrows events by type and error name; empty fields match all.
// It runs as a FilterExpression: filtered-out events are still read (and
// paid for).
type EventFilter struct {
	Type  string
	Error string
}

// EventCount is how many events of one type and error name a UTC day has.
type EventCount struct {
	Day   string
	Type  string
	Error string
	Count int
}

// mappingProjection is every mapping attribute an auditor may see: all but
// the password nonce and its timestamp.
var mappingProjection = struct {
	expr  string
	names map[string]string
}{
	expr: "#k, #sub, #user, #email, #st, #created, #last, #unlinked, #relinked, #deleted, #prev",
	names: map[string]string{
		"#k": AttrKakaoID, "#sub": AttrSub, "#user": AttrUsername, "#email": AttrEmail, "#st": AttrStatus,
		"#created": AttrCreatedAt, "#last": AttrLastLoginAt, "#unlinked": AttrUnlinkedAt,
		"#relinked": AttrRelinkedAt, "#deleted": AttrDeletedAt, "#prev": AttrPrevSubs,
	},
}

// Mapping reads the mapping of kakaoID (one GetItem); *kakaoauth.NotFound
// when there is none.
func (r *Reader) Mapping(ctx context.Context, kakaoID int64) (MappingRecord, error) {
	out, err := r.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &r.mappingTable,
		Key:                      map[string]types.AttributeValue{AttrKakaoID: n(kakaoID)},
		ProjectionExpression:     aws.String(mappingProjection.expr),
		ExpressionAttributeNames: mappingProjection.names,
		// An auditor asks about the row as it is now.
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return MappingRecord{}, classify("get mapping", err)
	}
	if out.Item == nil {
		return MappingRecord{}, notFound(kakaoID)
	}
	return decodeMappingRecord(out.Item)
}

// MappingsBySub finds the mappings whose Cognito sub is sub: a Query on
// bySub for the keys, then a GetItem per key, so the answer does not depend
// on what the index projects. There should be one; more is an anomaly an
// auditor wants to see, so all are returned. *kakaoauth.NotFound when none.
func (r *Reader) MappingsBySub(ctx context.Context, sub string) ([]MappingRecord, error) {
	var ids []int64
	p := dynamodb.NewQueryPaginator(r.api, &dynamodb.QueryInput{
		TableName:                 &r.mappingTable,
		IndexName:                 aws.String(IndexBySub),
		KeyConditionExpression:    aws.String("#sub = :sub"),
		ProjectionExpression:      aws.String("#k"),
		ExpressionAttributeNames:  map[string]string{"#sub": AttrSub, "#k": AttrKakaoID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sub": s(sub)},
		Limit:                     r.limit(),
	})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("query mappings by sub", err)
		}
		for _, item := range out.Items {
			id, err := num(item, AttrKakaoID)
			if err != nil {
				return nil, fmt.Errorf("store: bySub item: %w", err)
			}
			ids = append(ids, id)
		}
	}
	var found []MappingRecord
	for _, id := range ids {
		m, err := r.Mapping(ctx, id)
		var nf *kakaoauth.NotFound
		if errors.As(err, &nf) {
			continue // deleted between the index read and now
		}
		if err != nil {
			return nil, err
		}
		found = append(found, m)
	}
	if len(found) == 0 {
		return nil, &kakaoauth.NotFound{What: "mapping of sub " + sub}
	}
	return found, nil
}

// MappingsCreated yields the mappings created in tr, oldest first: one
// Query on byCreatedDay per UTC day. The index projects sub, username and
// status only, so Email and the other times are zero (Mapping
// reads them). tr needs both bounds.
func (r *Reader) MappingsCreated(ctx context.Context, tr TimeRange) iter.Seq2[MappingRecord, error] {
	return func(yield func(MappingRecord, error) bool) {
		lo, hi, days, err := tr.keys()
		if err != nil {
			yield(MappingRecord{}, err)
			return
		}
		// createdAt is stored without a suffix, so the exclusive end is the
		// last millisecond before it.
		last := FormatTime(hi.Add(-time.Millisecond))
		for _, day := range days {
			items := r.query(ctx, "query mappings by created day", &dynamodb.QueryInput{
				TableName:                &r.mappingTable,
				IndexName:                aws.String(IndexByCreatedDay),
				KeyConditionExpression:   aws.String("#day = :day AND #at BETWEEN :lo AND :hi"),
				ExpressionAttributeNames: map[string]string{"#day": AttrCreatedDay, "#at": AttrCreatedAt},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":day": s(day), ":lo": s(FormatTime(lo)), ":hi": s(last),
				},
			})
			for item, err := range items {
				if err != nil {
					yield(MappingRecord{}, err)
					return
				}
				m, err := decodeMappingRecord(item)
				if !yield(m, err) || err != nil {
					return
				}
			}
		}
	}
}

// UserEvents yields the events of one Kakao account in tr, oldest first:
// one Query on the account's partition. Either bound of tr may be open.
// Events whose Kakao id was never known (anon#<day>) are not among them.
func (r *Reader) UserEvents(ctx context.Context, kakaoID int64, tr TimeRange, f EventFilter) iter.Seq2[EventRecord, error] {
	return func(yield func(EventRecord, error) bool) {
		cond := "#pk = :pk"
		names := map[string]string{"#pk": AttrPK}
		values := map[string]types.AttributeValue{":pk": s(UserPK(kakaoID))}
		lo, hi := ceilMilli(tr.Since), ceilMilli(tr.Until)
		if !tr.Since.IsZero() && !tr.Until.IsZero() && !lo.Before(hi) {
			yield(EventRecord{}, errEmptyRange(tr))
			return
		}
		// sk is "<time>#<id>": sk >= "<lo>" holds from the first event at lo,
		// and sk < "<hi>" excludes every event at hi.
		switch {
		case !tr.Since.IsZero() && !tr.Until.IsZero():
			cond += " AND #sk BETWEEN :lo AND :hi"
		case !tr.Since.IsZero():
			cond += " AND #sk >= :lo"
		case !tr.Until.IsZero():
			cond += " AND #sk < :hi"
		}
		if !tr.Since.IsZero() {
			names["#sk"], values[":lo"] = AttrSK, s(FormatTime(lo))
		}
		if !tr.Until.IsZero() {
			names["#sk"], values[":hi"] = AttrSK, s(FormatTime(hi))
		}
		in := &dynamodb.QueryInput{
			TableName:                 &r.auditTable,
			KeyConditionExpression:    &cond,
			ExpressionAttributeNames:  names,
			ExpressionAttributeValues: values,
		}
		f.apply(in)
		for item, err := range r.query(ctx, "query events of a user", in) {
			if err != nil {
				yield(EventRecord{}, err)
				return
			}
			e, err := decodeEvent(item)
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// Events yields every event in tr across users (anonymous ones included),
// oldest first: one Query on byDay per UTC day. tr needs both bounds.
func (r *Reader) Events(ctx context.Context, tr TimeRange, f EventFilter) iter.Seq2[EventRecord, error] {
	return func(yield func(EventRecord, error) bool) {
		for item, err := range r.eventItems(ctx, tr, f, nil) {
			if err != nil {
				yield(EventRecord{}, err)
				return
			}
			e, err := decodeEvent(item)
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

// Stats counts the events in tr per UTC day, type and error name, sorted by
// those. It reads every event of the range (the cost of Events over tr;
// only day, type and error come over the wire) and counts here.
func (r *Reader) Stats(ctx context.Context, tr TimeRange, f EventFilter) ([]EventCount, error) {
	type key struct{ day, typ, err string }
	counts := map[key]int{}
	for item, err := range r.eventItems(ctx, tr, f, []string{AttrDay, AttrType, AttrError}) {
		if err != nil {
			return nil, err
		}
		counts[key{str(item, AttrDay), str(item, AttrType), str(item, AttrError)}]++
	}
	out := make([]EventCount, 0, len(counts))
	for k, c := range counts {
		out = append(out, EventCount{Day: k.day, Type: k.typ, Error: k.err, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Error < b.Error
	})
	return out, nil
}

// eventItems runs one byDay Query per UTC day of tr; attrs, if any, is the
// projection.
func (r *Reader) eventItems(ctx context.Context, tr TimeRange, f EventFilter, attrs []string) iter.Seq2[map[string]types.AttributeValue, error] {
	return func(yield func(map[string]types.AttributeValue, error) bool) {
		lo, hi, days, err := tr.keys()
		if err != nil {
			yield(nil, err)
			return
		}
		for _, day := range days {
			in := &dynamodb.QueryInput{
				TableName:                &r.auditTable,
				IndexName:                aws.String(IndexByDay),
				KeyConditionExpression:   aws.String("#day = :day AND #sk BETWEEN :lo AND :hi"),
				ExpressionAttributeNames: map[string]string{"#day": AttrDay, "#sk": AttrSK},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":day": s(day), ":lo": s(FormatTime(lo)), ":hi": s(FormatTime(hi)),
				},
			}
			if len(attrs) > 0 {
				expr := ""
				for i, a := range attrs {
					ref := "#p" + strconv.Itoa(i)
					in.ExpressionAttributeNames[ref] = a
					if i > 0 {
						expr += ", "
					}
					expr += ref
				}
				in.ProjectionExpression = &expr
			}
			f.apply(in)
			for item, err := range r.query(ctx, "query events by day", in) {
				if !yield(item, err) || err != nil {
					return
				}
			}
		}
	}
}

// query runs in page by page, PageSize items at a time, until DynamoDB
// reports no LastEvaluatedKey. With a filter a page may be empty and still
// not be the last.
func (r *Reader) query(ctx context.Context, op string, in *dynamodb.QueryInput) iter.Seq2[map[string]types.AttributeValue, error] {
	return func(yield func(map[string]types.AttributeValue, error) bool) {
		in.Limit = r.limit()
		p := dynamodb.NewQueryPaginator(r.api, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				yield(nil, classify(op, err))
				return
			}
			for _, item := range out.Items {
				if !yield(item, nil) {
					return
				}
			}
		}
	}
}

func (r *Reader) limit() *int32 {
	if r.PageSize <= 0 {
		return nil
	}
	return aws.Int32(r.PageSize)
}

// apply adds f to in as a FilterExpression.
func (f EventFilter) apply(in *dynamodb.QueryInput) {
	var cond string
	add := func(ref, attr, val string) {
		if val == "" {
			return
		}
		if cond != "" {
			cond += " AND "
		}
		cond += "#" + ref + " = :" + ref
		in.ExpressionAttributeNames["#"+ref] = attr
		in.ExpressionAttributeValues[":"+ref] = s(val)
	}
	add("ftype", AttrType, f.Type)
	add("ferror", AttrError, f.Error)
	if cond != "" {
		in.FilterExpression = &cond
	}
}

// keys turns a closed range into the stored bounds and the UTC days it
// touches. Bounds are rounded up to the millisecond: a stored time t is in
// [Since, Until) exactly when lo <= t < hi.
func (tr TimeRange) keys() (lo, hi time.Time, days []string, err error) {
	if tr.Since.IsZero() || tr.Until.IsZero() {
		return lo, hi, nil, errors.New("store: a time range across users needs both since and until")
	}
	lo, hi = ceilMilli(tr.Since), ceilMilli(tr.Until)
	if !lo.Before(hi) {
		return lo, hi, nil, errEmptyRange(tr)
	}
	last := Day(hi.Add(-time.Millisecond))
	for d := lo.Truncate(24 * time.Hour); ; d = d.AddDate(0, 0, 1) {
		days = append(days, Day(d))
		if Day(d) >= last {
			return lo, hi, days, nil
		}
	}
}

func errEmptyRange(tr TimeRange) error {
	return fmt.Errorf("store: empty time range: since %s is not before until %s", FormatTime(tr.Since), FormatTime(tr.Until))
}

// ceilMilli rounds t up to the stored millisecond precision, in UTC.
func ceilMilli(t time.Time) time.Time {
	t = t.UTC()
	if c := t.Truncate(time.Millisecond); c.Before(t) {
		return c.Add(time.Millisecond)
	}
	return t
}

func decodeMappingRecord(item map[string]types.AttributeValue) (MappingRecord, error) {
	m, err := decodeMapping(item)
	if err != nil {
		return MappingRecord{}, err
	}
	return MappingRecord{Mapping: m}, nil
}

func decodeEvent(item map[string]types.AttributeValue) (EventRecord, error) {
	e := EventRecord{ID: str(item, AttrEventID)}
	e.Type = str(item, AttrType)
	e.Outcome = str(item, AttrOutcome)
	e.Error = str(item, AttrError)
	e.Sub = str(item, AttrSub)
	e.ExecutionID = str(item, AttrExecutionID)
	e.SourceIP = str(item, AttrSourceIP)
	e.UserAgent = str(item, AttrUserAgent)
	e.Detail = str(item, AttrDetail)
	var err error
	if e.Time, err = ParseTime(str(item, AttrTime)); err != nil {
		return e, fmt.Errorf("store: audit event %s: time: %w", e.ID, err)
	}
	for name, dst := range map[string]*int64{AttrKakaoID: &e.KakaoID, AttrAppID: &e.AppID} {
		if _, ok := item[name]; !ok {
			continue
		}
		if *dst, err = num(item, name); err != nil {
			return e, fmt.Errorf("store: audit event %s: %w", e.ID, err)
		}
	}
	if _, ok := item[AttrExpiresAt]; ok {
		exp, err := num(item, AttrExpiresAt)
		if err != nil {
			return e, fmt.Errorf("store: audit event %s: %w", e.ID, err)
		}
		e.ExpiresAt = time.Unix(exp, 0).UTC()
	}
	return e, nil
}

func num(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("%s is not a number", name)
	}
	i, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return i, nil
}
