// Package localapi serves the login endpoint on the local stack with the
// same contract as the deployed API Gateway: it builds the execution input
// the way the API's request template does, runs the workflow synchronously
// (the local executor stands in for StartSyncExecution), and maps the
// result the way the response template does.
package localapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"unicode/utf16"

	"github.com/google/uuid"
	"github.com/kakaoauth/kakaoauth"
	"github.com/kakaoauth/kakaoauth/workflow"
)

// Execution statuses, as StartSyncExecution reports them.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
)

// Result is what a synchronous execution returns.
type Result struct {
	Status string
	Output json.RawMessage
	Error  string
	Cause  string
}

// Executor runs the login workflow synchronously on input.
type Executor interface {
	Execute(ctx context.Context, input json.RawMessage) (Result, error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, input json.RawMessage) (Result, error)

func (f ExecutorFunc) Execute(ctx context.Context, input json.RawMessage) (Result, error) {
	return f(ctx, input)
}

// MaxPayloadBytes is API Gateway's payload limit (10 MB): a bigger body is
// refused before any template runs (its REQUEST_TOO_LARGE answer).
const MaxPayloadBytes = 10 << 20

// LoginPath is the route of the login endpoint.
const LoginPath = "/auth/kakao"

// Handler serves POST /auth/kakao.
type Handler struct {
	exec Executor
	log  *slog.Logger
	cors CORS
}

// Option configures a Handler.
type Option func(*Handler)

// WithAllowedOrigins lets browser pages from these origins call the login
// route (CORS), as the API's CorsAllowedOrigins parameter does; without
// it, as with an empty list, the route answers no CORS headers at all.
func WithAllowedOrigins(origins ...string) Option {
	return func(h *Handler) { h.cors = CORS{origins: slices.Clone(origins)} }
}

// New returns the login handler.
func New(exec Executor, log *slog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{exec: exec, log: log}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Mux routes the local API: the login endpoint, plus extra routes (such as
// the unlink webhook) given by the caller.
func Mux(login http.Handler, extra map[string]http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(LoginPath, login)
	for p, h := range extra {
		mux.Handle(p, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeNotFound(w) })
	return mux
}

// writeNotFound is the API's answer to a route or method it does not have
// (MISSING_AUTHENTICATION_TOKEN, which template.yaml makes a 404).
func writeNotFound(w http.ResponseWriter) {
	writeJSON(w, kakaoauth.RouteNotFound.Status, errorBody{Error: kakaoauth.RouteNotFound.Code, Message: kakaoauth.RouteNotFound.Message})
}

// JSONContentType says whether API Gateway runs the login's
// application/json template for a request with this Content-Type: no
// header (API Gateway takes it for application/json) or application/json
// with any parameters, such as charset.
func JSONContentType(header string) bool {
	if header == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(header)
	return err == nil && mt == "application/json"
}

// javaLength is the length of body as the API's template sees it
// ($input.body.length(), a Java string): UTF-16 units, an invalid byte
// counting as one.
func javaLength(body string) int {
	n := 0
	for _, r := range body {
		n += utf16.RuneLen(r)
	}
	return n
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// executionInput mirrors the API's request template: a body longer than
// the contract's limit is not carried, only flagged (the workflow refuses
// it), so that the input stays far below StartSyncExecution's 256 KiB.
type executionInput struct {
	Body      string         `json:"body"`
	Oversized bool           `json:"oversized"`
	Context   requestContext `json:"context"`
}

type requestContext struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
	RequestID string `json:"requestId"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The API's OPTIONS method always answers 204 (the CORS preflight);
	// the headers say more only for an allowed origin.
	if r.Method == http.MethodOptions {
		h.cors.preflight(w, r)
		return
	}
	h.cors.apply(w, r)
	if r.Method != http.MethodPost {
		// API Gateway answers a method the route lacks as an unknown route.
		writeNotFound(w)
		return
	}
	if !JSONContentType(r.Header.Get("Content-Type")) {
		// API Gateway has no template for it (UNSUPPORTED_MEDIA_TYPE).
		writeOutcome(w, kakaoauth.OutcomeOf("InvalidRequest"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
	if err != nil || len(body) > MaxPayloadBytes {
		// API Gateway's REQUEST_TOO_LARGE, or a body that did not arrive.
		writeOutcome(w, kakaoauth.OutcomeOf("InvalidRequest"))
		return
	}
	in := executionInput{Body: string(body), Context: requestContext{
		SourceIP: sourceIP(r), UserAgent: r.UserAgent(), RequestID: uuid.NewString(),
	}}
	if javaLength(in.Body) > workflow.MaxBodyBytes {
		in.Body, in.Oversized = "", true
	}
	raw, err := json.Marshal(in)
	if err != nil {
		writeOutcome(w, kakaoauth.OutcomeOf(""))
		return
	}
	res, err := h.exec.Execute(r.Context(), raw)
	if err != nil {
		// The executor itself failed (not the workflow): StartSyncExecution
		// erroring behind API Gateway is a 500 too.
		h.log.ErrorContext(r.Context(), "execution could not run", "requestId", in.Context.RequestID, "error", err.Error())
		writeOutcome(w, kakaoauth.OutcomeOf(""))
		return
	}
	switch res.Status {
	case StatusSucceeded:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(res.Output)
	case StatusTimedOut:
		writeOutcome(w, kakaoauth.OutcomeOf(kakaoauth.ErrorTimeout))
	default:
		writeOutcome(w, kakaoauth.OutcomeOf(res.Error))
	}
}

func writeOutcome(w http.ResponseWriter, o kakaoauth.Outcome) {
	writeJSON(w, o.Status, errorBody{Error: o.Code, Message: o.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
