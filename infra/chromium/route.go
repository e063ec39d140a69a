package chromium

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// Route answers the tab's requests whose URL matches urlPattern (the
// DevTools protocol's wildcards: * any run, ? one character) with h, as if
// the request's host had answered: a host the tests cannot reach (an AWS
// hostname that a library builds itself, with no setting for another)
// served by a local stand-in. The page sees the URL it asked for and h's
// answer, and the browser applies its rules to it as to any response
// (CORS, preflights included, which Chromium pauses here too).
//
// h gets the request as the browser would send it: method, URL (its Host
// the URL's), headers and body. A body Chromium does not report (a very
// long one) gets 502 and says so, rather than an empty body forwarded.
func (t *Tab) Route(urlPattern string, h http.Handler) {
	t.tb.Helper()
	t.do("route "+urlPattern, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		// Subscribed before requests are paused: none is left hanging.
		events := cdp.Events(t.ctx, target, fetch.RequestPaused)
		if _, err := cdp.Call(ctx, target, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: urlPattern}},
		}); err != nil {
			return err
		}
		go func() {
			for ev, err := range events {
				if err != nil {
					return
				}
				rec := serve(h, ev)
				headers := make([]*fetch.HeaderEntry, 0, len(rec.Header()))
				for k, vs := range rec.Header() {
					for _, v := range vs {
						headers = append(headers, &fetch.HeaderEntry{Name: k, Value: v})
					}
				}
				_, _ = cdp.Call(t.ctx, target, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID: ev.RequestID, ResponseCode: int64(rec.Code), ResponseHeaders: headers, Body: rec.Body.Bytes(),
				})
			}
		}()
		return nil
	}))
}

// serve runs h on the paused request ev.
func serve(h http.Handler, ev fetch.EventRequestPaused) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	var body bytes.Buffer
	for _, e := range ev.Request.PostDataEntries {
		body.Write(e.Bytes)
	}
	if ev.Request.HasPostData && body.Len() == 0 {
		http.Error(rec, "chromium: the request's body was not reported", http.StatusBadGateway)
		return rec
	}
	r := httptest.NewRequest(ev.Request.Method, ev.Request.URL, &body)
	for k, v := range ev.Request.Headers {
		r.Header.Set(k, fmt.Sprint(v))
	}
	h.ServeHTTP(rec, r)
	return rec
}
