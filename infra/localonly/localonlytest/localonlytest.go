// Package localonlytest sends the requests the local tools' tests need:
// what a browser page of another site, or a DNS-rebinding page, would send
// (its Host, Origin, Sec-Fetch-Site, content type), over real HTTP.
package localonlytest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Answer is what came back.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Send sends method to url with body, the Host header host ("": the
// URL's own) and the given headers (Content-Type among them; an empty
// value sends none), with client
// (nil: http.DefaultClient), and reads the whole answer.
func Send(t testing.TB, client *http.Client, method, url, host, body string, header map[string]string) Answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
}
