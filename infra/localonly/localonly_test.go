package localonly

import (
	"bytes"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestHostAllowed(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8080":              true,
		"127.0.0.1":                   true,
		"[::1]:8080":                  true,
		"192.168.0.7:8080":            true, // a phone on the LAN uses the address
		"localhost:8080":              true,
		"LOCALHOST":                   true,
		"tryit.localhost:8080":        true,
		"localhost.:8080":             true,
		"host.docker.internal:8081":   true, // listed below
		"":                            false,
		"attacker.example:8080":       false,
		"localhost.attacker.example":  false,
		"127.0.0.1.attacker.example":  false,
		"attacker.example:8080@local": false,
		"[::1].evil":                  false,
	} {
		if got := HostAllowed(host, "host.docker.internal"); got != want {
			t.Errorf("HostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
	// This machine's own name: a program on another machine of the
	// network may use it; no other site can make a browser send it.
	if me, err := os.Hostname(); err == nil && me != "" {
		for _, host := range []string{me + ":8080", strings.ToUpper(me), strings.SplitN(me, ".", 2)[0] + ".local:8080"} {
			if !HostAllowed(host) {
				t.Errorf("HostAllowed(%q), this machine's name: false", host)
			}
		}
		if HostAllowed(me + ".attacker.example") {
			t.Errorf("HostAllowed(%q): true", me+".attacker.example")
		}
	}
}

func TestExposed(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": false, "127.0.0.2:8080": false, "[::1]:8080": false, "localhost:8080": false,
		"0.0.0.0:8080": true, "[::]:8080": true, ":8080": true, "192.168.0.7:8080": true, "myhost:8080": true,
	} {
		if got := Exposed(addr); got != want {
			t.Errorf("Exposed(%q) = %v, want %v", addr, got, want)
		}
	}
	var out bytes.Buffer
	Warn(&out, "the double", "127.0.0.1:8081", "mint tokens")
	if out.Len() != 0 {
		t.Fatalf("a loopback address warned: %s", out.String())
	}
	Warn(&out, "the double", "0.0.0.0:8081", "mint tokens")
	if got := out.String(); !strings.HasPrefix(got, "warning: the double listens on 0.0.0.0:8081") || !strings.Contains(got, "mint tokens") {
		t.Fatalf("warning %q", got)
	}
}

// A Host that would shape the refusal is quoted harmlessly.
func TestRefusalQuotesTheHostHarmlessly(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "evil.example\u202e" + strings.Repeat("x", 100)
	rec := httptest.NewRecorder()
	Hosts(nil).ServeHTTP(rec, req)
	if rec.Code != 403 || strings.Contains(rec.Body.String(), "\u202e") || len(rec.Body.String()) > 300 {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
}
