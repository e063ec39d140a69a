// Package lambdaapi serves Lambda's Invoke API
// (POST /2015-03-31/functions/{FunctionName}/invocations) for Go handlers
// registered by function ARN, run as the Lambda Go runtime runs them: the
// handler value a Lambda's main gives lambda.Start, the payload decoded
// into its event type, its result encoded, its error (or panic) answered
// as a function error (X-Amz-Function-Error: Unhandled, {"errorMessage",
// "errorType"}).
//
// The local stack serves its Cognito triggers here and tells the moto
// layer where they are (moto.RegisterFunctions), so that moto's Cognito
// invokes them where Cognito would, through the same API Cognito uses.
package lambdaapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"
)

// InvokePathPrefix and InvokePathSuffix frame a function name in an Invoke
// request's path.
const (
	InvokePathPrefix = "/2015-03-31/functions/"
	InvokePathSuffix = "/invocations"
)

// MaxPayload is Lambda's limit on a synchronous invocation's request.
const MaxPayload = 6 << 20

// Server runs registered handlers behind the Invoke API. Its zero value
// is not usable; call New.
type Server struct {
	log *slog.Logger

	mu        sync.RWMutex
	functions map[string]*function // by ARN
}

type function struct {
	arn     string
	handler lambda.Handler
	timeout time.Duration
}

// Option adjusts a Server.
type Option func(*Server)

// WithLogger logs each invocation's outcome (function, request id,
// duration, error type; never the payload).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// New returns a Server with no functions.
func New(opts ...Option) *Server {
	s := &Server{log: slog.New(slog.DiscardHandler), functions: map[string]*function{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Register serves handler (anything lambda.Start accepts) as the function
// arn, with the function's timeout (0: none beyond the caller's).
// Registering an ARN again replaces its handler.
func (s *Server) Register(arn string, handler any, timeout time.Duration) {
	f := &function{arn: arn, handler: lambda.NewHandler(handler), timeout: timeout}
	s.mu.Lock()
	s.functions[arn] = f
	s.mu.Unlock()
}

// ARNs are the registered functions.
func (s *Server) ARNs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.functions))
	for arn := range s.functions {
		out = append(out, arn)
	}
	return out
}

// lookup finds a function by what Invoke accepts as FunctionName: its ARN
// (with or without a qualifier), or its name.
func (s *Server) lookup(name, qualifier string) *function {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if f, ok := s.functions[name]; ok {
		return f
	}
	for arn, f := range s.functions {
		if functionName(arn) == functionName(name) && (qualifier == "" || qualifier == "$LATEST" || strings.HasSuffix(arn, ":"+qualifier)) {
			return f
		}
	}
	return nil
}

// functionName is the function's name in an ARN
// (arn:aws:lambda:region:account:function:name[:qualifier]), or name.
func functionName(s string) string {
	if i := strings.Index(s, ":function:"); i >= 0 {
		s = s[i+len(":function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), InvokePathPrefix)
	if ok {
		rest, ok = strings.CutSuffix(rest, InvokePathSuffix)
	}
	if !ok || rest == "" || strings.Contains(rest, "/") {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "Unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "UnknownOperationException", "Invoke is POST")
		return
	}
	name, err := url.PathUnescape(rest)
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidParameterValueException", "FunctionName is not URL-encoded")
		return
	}
	f := s.lookup(name, r.URL.Query().Get("Qualifier"))
	if f == nil {
		writeError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
		// The stack's callers (Cognito) only invoke synchronously.
		writeError(w, http.StatusBadRequest, "InvalidParameterValueException", "only RequestResponse invocations are served here, not "+t)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, "InvalidRequestContentException", "could not read the payload")
		return
	case len(payload) > MaxPayload:
		writeError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	case len(payload) == 0:
		payload = []byte("{}")
	}

	requestID := uuid.NewString()
	ctx := lambdacontext.NewContext(r.Context(), &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: f.arn})
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	start := time.Now()
	out, ferr := s.invoke(ctx, f, requestID, payload)
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	w.Header().Set("X-Amzn-RequestId", requestID)
	w.Header().Set("Content-Type", "application/json")
	if ferr != nil {
		s.log.InfoContext(r.Context(), "function failed", "function", functionName(f.arn), "requestId", requestID,
			"errorType", ferr.Type, "durationMs", time.Since(start).Milliseconds())
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		body, _ := json.Marshal(ferr)
		_, _ = w.Write(body)
		return
	}
	s.log.DebugContext(r.Context(), "function invoked", "function", functionName(f.arn), "requestId", requestID,
		"durationMs", time.Since(start).Milliseconds())
	_, _ = w.Write(out)
}

// FunctionError is a function error as Lambda reports it.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// invoke runs f as the Go runtime does: an error is reported with its
// type's name, a panic too (the runtime would also restart the sandbox).
func (s *Server) invoke(ctx context.Context, f *function, requestID string, payload []byte) (out []byte, ferr *FunctionError) {
	defer func() {
		if p := recover(); p != nil {
			ferr = &FunctionError{Message: fmt.Sprint(p), Type: typeName(p)}
			s.log.ErrorContext(ctx, "function panicked", "function", functionName(f.arn), "requestId", requestID,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	out, err := f.handler.Invoke(ctx, payload)
	if err != nil {
		return nil, &FunctionError{Message: err.Error(), Type: typeName(err)}
	}
	return out, nil
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]string{"Type": "User", "message": message})
	_, _ = w.Write(body)
}
