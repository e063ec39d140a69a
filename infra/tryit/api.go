package tryit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// PageHeader is the header the page sends with each request to its
// backend, and the backend with each request to the Kakao double's control
// API: a browser sends it only from a page of the same origin (any other
// needs a CORS preflight, which nothing here answers).
const PageHeader = "X-Kakaoauth-Page"

// errorBody is the endpoints' error shape, the login API's own.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: code, Message: msg})
}

// sameOrigin refuses calls from other sites' pages: these endpoints act
// for whoever holds the tokens in the request, and on the local stack
// they unlink accounts. A browser sends Origin with every POST; a
// cross-site page cannot send application/json without a preflight, which
// nothing here answers.
func (p *Page) sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	if origin := r.Header.Get("Origin"); origin != "" && origin != p.origin(r) {
		writeError(w, http.StatusForbidden, "Forbidden", "This page's backend answers its own page only.")
		return false
	}
	return true
}

// decode reads a strict JSON body into v.
func (p *Page) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if !p.sameOrigin(w, r) {
		return false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "InvalidRequest", "Send JSON (Content-Type: application/json).")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The request is not valid JSON for this endpoint.")
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "The request is not valid JSON for this endpoint.")
		return false
	}
	return true
}

// upstream bounds one outbound call and measures it.
func (p *Page) upstream(ctx context.Context) (context.Context, context.CancelFunc, func() int64) {
	ctx, cancel := context.WithTimeout(ctx, upstreamTimeout)
	start := p.now()
	return ctx, cancel, func() int64 { return p.now().Sub(start).Milliseconds() }
}

// hop logs one call the backend made: which, how it ended, how long.
func (p *Page) hop(ctx context.Context, name, outcome string, ms int64) {
	p.log.InfoContext(ctx, "tryit hop", "hop", name, "outcome", outcome, "durationMs", ms)
}

func required(vals ...string) bool {
	for _, v := range vals {
		if strings.TrimSpace(v) == "" {
			return false
		}
	}
	return true
}
