package tryit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/kakaoauth/kakaoauth/infra/localonly"
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
// they unlink accounts. The page sends PageHeader, which no other site's
// page can send without a preflight that nothing here answers (neither can
// it send application/json); a browser marks another site's request
// (Origin, Sec-Fetch-Site); and a DNS-rebinding page, whose Origin matches
// its Host, is refused by its Host (Page.guard).
func (p *Page) sameOrigin(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get(PageHeader) == "" || localonly.CrossSite(r, p.origin(r)) {
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
	if !localonly.JSON(r) {
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
