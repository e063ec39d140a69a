package workflow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// Fuzz targets for the two parsers of outside input in this package: the
// login body (POST /auth/kakao) and Kakao's unlink callback. Seeds (and
// any past finding) live in testdata/fuzz/<target>/ and run as ordinary
// tests; `make fuzz` explores from them.

// fixedLoginReasons are the reasons ParseLoginRequest may give besides
// naming a field: fixed text, so no value from the body reaches a log line
// or the execution's cause.
var fixedLoginReasons = map[string]bool{
	"body too large":                          true,
	"malformed JSON":                          true,
	"trailing data after the JSON object":     true,
	"neither access_token nor id_token given": true,
	"a field is too long":                     true,
	"nonce given without id_token":            true,
	"empty or truncated body":                 true,
	"body is not a JSON object":               true,
	"unknown field":                           true,
}

var wrongTypeReason = regexp.MustCompile(`^field (access_token|id_token|nonce) must be a string$`)

// topLevelKeys are the member names of the body's outermost object, as far
// as the body is well-formed.
func topLevelKeys(body string) map[string]bool {
	keys := map[string]bool{}
	dec := json.NewDecoder(strings.NewReader(body))
	depth := 0
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				depth++
				expectKey = v == '{' && depth == 1
				continue
			case '}', ']':
				depth--
			}
		case string:
			if depth == 1 && expectKey {
				keys[v] = true
				expectKey = false
				continue
			}
		}
		// After a value at depth 1 of the outer object, a key follows.
		expectKey = depth == 1
	}
}

// FuzzParseLoginRequest: the login body either yields a request that
// respects every limit, has only the contract's member names spelt exactly
// (API Gateway's model is case-sensitive) and means what the JSON says, or
// an *InvalidRequest whose reason is fixed text or names one of the
// contract's fields; never a value or a member name from the body.
func FuzzParseLoginRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		req, err := ParseLoginRequest(body)
		if err == nil {
			if len(body) > MaxBodyBytes || !json.Valid([]byte(body)) {
				t.Fatalf("accepted a body that is too large or not JSON: %q", body)
			}
			if req.AccessToken == "" && req.IDToken == "" {
				t.Fatalf("accepted a request without a token: %q", body)
			}
			if len(req.AccessToken) > maxTokenBytes || len(req.IDToken) > maxTokenBytes || len(req.Nonce) > maxNonceBytes {
				t.Fatalf("accepted a field over its limit: %q", body)
			}
			if req.Nonce != "" && req.IDToken == "" {
				t.Fatalf("accepted a nonce without an ID token: %q", body)
			}
			for k := range topLevelKeys(body) {
				if k != "access_token" && k != "id_token" && k != "nonce" {
					t.Fatalf("accepted the member %q, which the API's model refuses: %q", k, body)
				}
			}
			// The request means what the JSON says: plain decoding agrees,
			// and so does parsing the request's own encoding.
			var plain LoginRequest
			if err := json.Unmarshal([]byte(body), &plain); err != nil || plain != req {
				t.Fatalf("parsed %+v, plain decoding gives %+v (%v): %q", req, plain, err, body)
			}
			again, _ := json.Marshal(req)
			if back, err := ParseLoginRequest(string(again)); err != nil || back != req {
				t.Fatalf("the request's own encoding %s parses to %+v, %v", again, back, err)
			}
			return
		}
		var inv *kakaoauth.InvalidRequest
		if !errors.As(err, &inv) || kakaoauth.ErrorName(err) != "InvalidRequest" {
			t.Fatalf("error %T %v: want an unwrapped *kakaoauth.InvalidRequest", err, err)
		}
		if kakaoauth.OutcomeOf(kakaoauth.ErrorName(err)).Status != http.StatusBadRequest {
			t.Fatalf("%v is not answered 400", err)
		}
		if reason := inv.Reason; !fixedLoginReasons[reason] && !wrongTypeReason.MatchString(reason) {
			t.Fatalf("reason %q is neither fixed text nor a contract field's name (body %q)", reason, body)
		}
	})
}

// Unlink fuzzing: a webhook configured for one app and admin key.
const (
	fuzzUnlinkAppID    = 1001
	fuzzUnlinkAdminKey = "fuzz-admin-key-7c1e0b5d9a"
	fuzzUnlinkHeader   = "KakaoAK " + fuzzUnlinkAdminKey
)

// fixedUnlinkReasons are parseUnlink's only errors: fixed text.
var fixedUnlinkReasons = map[string]bool{
	"body too large":                             true,
	"body is not base64":                         true,
	"body is not form-encoded":                   true,
	"app_id must be given exactly once":          true,
	"user_id must be given exactly once":         true,
	"referrer_type must be given exactly once":   true,
	"app_id must be a positive integer":          true,
	"user_id must be a positive integer":         true,
	"referrer_type is not a Kakao referrer type": true,
}

// Ways a fuzzed callback presents the Authorization header.
const (
	authRight          = iota // the right header, in Headers
	authRightMulti            // the right header, in MultiValueHeaders only
	authRightLowercase        // the right header named "authorization"
	authTwice                 // the right header sent twice
	authMissing               // none
	authFuzzed                // the fuzzed value
	authModes
)

// FuzzUnlinkRequest: whatever arrives at the unlink webhook, the handler
// answers one of its fixed statuses and bodies, refuses every caller that
// does not present exactly the admin key and this app's id before anything
// else happens, and parseUnlink yields only well-formed parameters or a
// fixed error. An authorised, well-formed callback is not run here: what
// it does is the account lifecycle's business, tested on its own.
func FuzzUnlinkRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, method uint8, query, body string, isBase64 bool, contentType string, authMode uint8, authValue string) {
		req := events.APIGatewayProxyRequest{
			HTTPMethod:      []string{http.MethodGet, http.MethodPost, http.MethodPut}[method%3],
			Path:            UnlinkPath,
			Body:            body,
			IsBase64Encoded: isBase64,
			Headers:         map[string]string{},
		}
		// API Gateway fills both query maps; the webhook must cope with
		// either alone.
		if q, _ := url.ParseQuery(query); len(q) > 0 {
			if method%2 == 0 {
				req.MultiValueQueryStringParameters = q
			} else {
				req.QueryStringParameters = map[string]string{}
				for k, vs := range q {
					req.QueryStringParameters[k] = vs[len(vs)-1]
				}
			}
		}
		if contentType != "" {
			req.Headers["Content-Type"] = contentType
		}
		switch authMode % authModes {
		case authRight:
			req.Headers["Authorization"] = fuzzUnlinkHeader
		case authRightMulti:
			req.MultiValueHeaders = map[string][]string{"Authorization": {fuzzUnlinkHeader}}
		case authRightLowercase:
			req.Headers["authorization"] = fuzzUnlinkHeader
		case authTwice:
			req.MultiValueHeaders = map[string][]string{"Authorization": {fuzzUnlinkHeader, fuzzUnlinkHeader}}
		case authFuzzed:
			req.Headers["Authorization"] = authValue
		}
		wantAuthorized := authMode%authModes <= authRightLowercase ||
			(authMode%authModes == authFuzzed && authValue == fuzzUnlinkHeader)

		var logs bytes.Buffer
		queue := &memQueue{}
		s := New(WithUnlinkQueue(queue), WithUnlinkAuth(fuzzUnlinkAppID, fuzzUnlinkAdminKey), WithUnlinkMACKeys(1, map[int][]byte{1: testMACKey}),
			WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))

		if got := s.unlinkAuthorized(req); got != wantAuthorized {
			t.Fatalf("authorised %v, want %v (mode %d, header %q)", got, wantAuthorized, authMode%authModes, authValue)
		}
		p, perr := parseUnlink(req)
		if perr != nil && !fixedUnlinkReasons[perr.Error()] {
			t.Fatalf("parse error %q is not fixed text", perr)
		}
		if perr == nil {
			checkUnlinkParams(t, p)
		}

		var want int
		switch {
		case req.HTTPMethod == http.MethodPut:
			want = http.StatusMethodNotAllowed
		case !wantAuthorized:
			want = http.StatusUnauthorized
		case perr != nil:
			want = http.StatusBadRequest
		case p.appID != fuzzUnlinkAppID:
			want = http.StatusUnauthorized
		default:
			want = http.StatusOK
		}
		resp, err := s.UnlinkWebhook(context.Background(), req)
		if err != nil {
			t.Fatalf("the webhook returned an error (API Gateway would answer 502): %v", err)
		}
		if resp.StatusCode != want {
			t.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
		if want == http.StatusOK {
			// Authorised and well-formed: exactly this request is queued,
			// and nothing else happens here.
			if len(queue.requests) != 1 {
				t.Fatalf("queued %d requests", len(queue.requests))
			}
			q := queue.requests[0]
			if q.KakaoID != p.userID || q.AppID != p.appID || q.ReferrerType != p.referrerType || q.ID == "" || q.ReceivedAt.IsZero() {
				t.Fatalf("queued %+v for %+v", q, p)
			}
			return
		}
		if body := map[int]string{405: `{"error":"MethodNotAllowed"}`, 401: unlinkUnauthorized().Body, 400: `{"error":"InvalidRequest"}`}[want]; resp.Body != body {
			t.Fatalf("body %q for %d", resp.Body, want)
		}
		if len(queue.requests) != 0 {
			t.Fatalf("a refused callback was queued: %+v", queue.requests)
		}
		if strings.Contains(logs.String(), fuzzUnlinkAdminKey) || (len(authValue) >= 12 && strings.Contains(logs.String(), authValue)) {
			t.Fatalf("a log line carries the Authorization header: %s", logs.String())
		}
		checkUnlinkLogs(t, logs.Bytes())
	})
}

// checkUnlinkParams: parsed parameters are what the webhook may act on, and
// Kakao's own encoding of them parses back to the same.
func checkUnlinkParams(t *testing.T, p unlinkParams) {
	t.Helper()
	if p.appID <= 0 || p.userID <= 0 || !referrerTypePattern.MatchString(p.referrerType) {
		t.Fatalf("parsed %+v", p)
	}
	canonical := url.Values{
		"app_id": {strconv.FormatInt(p.appID, 10)}, "user_id": {strconv.FormatInt(p.userID, 10)}, "referrer_type": {p.referrerType},
	}
	for _, req := range []events.APIGatewayProxyRequest{
		{HTTPMethod: http.MethodPost, Body: canonical.Encode(), Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{HTTPMethod: http.MethodPost, Body: base64.StdEncoding.EncodeToString([]byte(canonical.Encode())), IsBase64Encoded: true},
		{HTTPMethod: http.MethodGet, MultiValueQueryStringParameters: canonical},
	} {
		if back, err := parseUnlink(req); err != nil || back != p {
			t.Fatalf("%+v re-encoded parses to %+v, %v", p, back, err)
		}
	}
}

// checkUnlinkLogs: a refused callback logs fixed reasons only.
func checkUnlinkLogs(t *testing.T, logs []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(logs))
	for {
		var line map[string]any
		if err := dec.Decode(&line); errors.Is(err, io.EOF) {
			return
		} else if err != nil {
			t.Fatalf("log is not JSON lines: %v", err)
		}
		reason, _ := line["reason"].(string)
		if reason != "authorization" && reason != "app id" && !fixedUnlinkReasons[reason] {
			t.Fatalf("log line with reason %q: %v", reason, line)
		}
	}
}
