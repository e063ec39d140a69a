// Package faultproxy is a reverse proxy between the local stack and
// moto_server that counts the AWS operations passing through and injects
// faults into chosen ones: a throttling answer, a 500, a reset connection,
// or a stall past the client's timeout. The stack's SDK clients point at
// it, so tests see exactly the calls a login puts on the wire (SDK retries
// included, as AWS's quotas count them) and what each failure does.
//
// It understands the JSON protocols the stack uses (Cognito, DynamoDB,
// SQS, EventBridge, Secrets Manager): the operation is the X-Amz-Target header's
// suffix, e.g. AdminSetUserPassword.
package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Kind is what a fault does.
type Kind int

const (
	// Throttle answers the service's throttling error (HTTP 400).
	Throttle Kind = iota + 1
	// ServerError answers HTTP 500 with the service's internal error.
	ServerError
	// Reset closes the connection without an answer.
	Reset
	// Stall holds the request until the client gives up (or Stall passes).
	Stall
)

func (k Kind) String() string {
	switch k {
	case Throttle:
		return "throttle"
	case ServerError:
		return "500"
	case Reset:
		return "reset"
	case Stall:
		return "stall"
	}
	return "none"
}

// Fault is injected into the next Times calls of an operation; Times < 0
// means every call until cleared.
type Fault struct {
	Kind  Kind
	Times int
	// Stall bounds a Stall (default 30 s); the client's timeout is meant
	// to end it first.
	Stall time.Duration
}

// Proxy forwards to one AWS endpoint (moto).
type Proxy struct {
	target *url.URL
	rp     *httputil.ReverseProxy
	srv    *http.Server
	ln     net.Listener

	mu        sync.Mutex
	counts    map[string]int
	faults    map[string]*Fault
	hits      map[string]int // faults served, by operation
	recording map[string]bool
	exchanges map[string][]Exchange
}

// Exchange is one call as it crossed the wire: the request body as the
// client sent it and the response body as the service answered it.
type Exchange struct {
	Request, Response []byte
	Status            int
}

// Start listens on a free loopback port and forwards to target.
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: u, ln: ln, counts: map[string]int{}, faults: map[string]*Fault{}, hits: map[string]int{},
		recording: map[string]bool{}, exchanges: map[string][]Exchange{}}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	// A client that gave up (a stall past its timeout) is expected here,
	// not worth a line on stderr.
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's endpoint, for the SDK's BaseEndpoint.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close stops the proxy.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return p.srv.Close()
	}
	return err
}

// Inject sets the fault of operation op (Times 0 clears it).
func (p *Proxy) Inject(op string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.Times == 0 {
		delete(p.faults, op)
		return
	}
	p.faults[op] = &f
}

// Count is how many calls of op passed (faulted ones included).
func (p *Proxy) Count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

// Counts is every operation seen since the last Reset.
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Faulted is how many calls of op got a fault.
func (p *Proxy) Faulted(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[op]
}

// Reset zeroes the counts and drops recorded exchanges (faults and what
// is recorded stay).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[string]int{}
	p.hits = map[string]int{}
	p.exchanges = map[string][]Exchange{}
}

// Record keeps the bodies of every later call of op (see Exchanges), for
// tests that compare what a client sent with what it had read.
func (p *Proxy) Record(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recording[op] = true
}

// Exchanges are the recorded calls of op, oldest first.
func (p *Proxy) Exchanges(op string) []Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.exchanges[op]...)
}

// record forwards r and keeps both bodies.
func (p *Proxy) record(op string, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
	p.rp.ServeHTTP(rec, r)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exchanges[op] = append(p.exchanges[op], Exchange{Request: body, Response: rec.body.Bytes(), Status: rec.status})
}

type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Operation names a request: the X-Amz-Target suffix, or "" for a
// protocol without one.
func Operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := Operation(r)
	p.mu.Lock()
	p.counts[op]++
	var f Fault
	faulted := false
	if cur := p.faults[op]; cur != nil {
		f, faulted = *cur, true
		p.hits[op]++
		if cur.Times > 0 {
			if cur.Times--; cur.Times == 0 {
				delete(p.faults, op)
			}
		}
	}
	recording := p.recording[op]
	p.mu.Unlock()
	if !faulted {
		if recording {
			p.record(op, w, r)
			return
		}
		p.rp.ServeHTTP(w, r)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	switch f.Kind {
	case Throttle:
		writeError(w, r, http.StatusBadRequest, throttleCode(r), "Rate exceeded")
	case ServerError:
		writeError(w, r, http.StatusInternalServerError, internalCode(r), "We encountered an internal error. Please try again.")
	case Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case Stall:
		d := f.Stall
		if d <= 0 {
			d = 30 * time.Second
		}
		select {
		case <-r.Context().Done():
		case <-time.After(d):
			writeError(w, r, http.StatusInternalServerError, internalCode(r), "stalled")
		}
	}
}

// service is the X-Amz-Target prefix, e.g. AWSCognitoIdentityProviderService.
func service(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.IndexByte(t, '.'); i >= 0 {
		return t[:i]
	}
	return t
}

// throttleCode is the error code each service throttles with.
func throttleCode(r *http.Request) string {
	switch s := service(r); {
	case strings.HasPrefix(s, "AWSCognitoIdentityProviderService"):
		return "TooManyRequestsException"
	case strings.HasPrefix(s, "DynamoDB"):
		return "ThrottlingException"
	case strings.HasPrefix(s, "AmazonSQS"):
		return "RequestThrottled"
	default:
		return "ThrottlingException"
	}
}

func internalCode(r *http.Request) string {
	switch s := service(r); {
	case strings.HasPrefix(s, "AWSCognitoIdentityProviderService"):
		return "InternalErrorException"
	case strings.HasPrefix(s, "DynamoDB"):
		return "InternalServerError"
	case strings.HasPrefix(s, "AmazonSQS"):
		return "InternalError"
	default:
		return "InternalException"
	}
}

// writeError answers in the AWS JSON protocols' error shape.
func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/x-amz-json-1.1"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-RequestId", "faultproxy")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"__type":"`+code+`","message":"`+msg+`"}`)
}
