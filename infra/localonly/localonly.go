// Package localonly keeps the local tools (the Kakao double, `kakaoauth
// local`, `kakaoauth tryit`) from being an open door. They hold no real
// secret, but they create users, mint tokens and unlink accounts for
// whoever asks, and they listen on the developer's machine, where any web
// page the developer opens can send them requests:
//
//   - DNS rebinding: a page on attacker.example makes its name resolve to
//     127.0.0.1, and its scripts then read and write the local server as if
//     it were their own origin. The browser still sends Host:
//     attacker.example, so Hosts refuses every Host that is not this
//     machine's (a loopback name, an IP address, or a name the server was
//     told about).
//   - Cross-site requests: a page POSTs to http://127.0.0.1:8081/_fake/unlink
//     with a form or a no-cors fetch, which needs no preflight. Browser
//     refuses any request that a browser marks as coming from another site
//     (Origin, Sec-Fetch-Site) and any write that is not JSON, which no page
//     can send across origins without a preflight, answered here for the
//     local page's origin only.
//
// Exposed and Warn say when a listen address reaches past this machine.
package localonly

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
)

// HostAllowed says whether a request with this Host header (host[:port])
// is addressed to this machine: an IP address (a rebinding page always
// uses a name), localhost or a name under .localhost (browsers resolve
// them to loopback themselves), this machine's own host name (no other
// site can make a browser send it), or one of names.
func HostAllowed(hostport string, names ...string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	switch {
	case host == "":
		return false
	case net.ParseIP(host) != nil:
		return true
	case host == "localhost", strings.HasSuffix(host, ".localhost"):
		return true
	}
	if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, host) }) {
		return true
	}
	me, err := os.Hostname()
	return err == nil && me != "" && (strings.EqualFold(me, host) || strings.EqualFold(strings.SplitN(me, ".", 2)[0]+".local", host))
}

// Hosts serves h only for requests addressed to this machine (HostAllowed
// with names); any other Host is refused with 403 before h sees it.
func Hosts(h http.Handler, names ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !HostAllowed(r.Host, names...) {
			Refuse(w, "This local server answers requests for this machine only (localhost or an IP address), not for "+quoteHost(r.Host)+".")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// CrossSite says whether a browser marked r as sent by a page of another
// origin than those listed: an Origin header not among them (a sandboxed
// or privacy-hidden page sends "null"), or, without one, Sec-Fetch-Site
// cross-site or same-site (another port of the same host is same-site).
// Requests from programs (curl, tests, the try-it backend) carry neither.
func CrossSite(r *http.Request, origins ...string) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return !slices.Contains(origins, o)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// JSON says whether r's body is declared JSON (application/json, any
// parameters): the one content type a page cannot send to another origin
// without the preflight these servers grant to no other site.
func JSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// Browser serves h to programs, to pages of the server's own origin and
// to pages of the listed origins (scheme://host[:port], e.g. the try-it
// page's), and to no other page: a request a browser marks as another
// site's (CrossSite) is refused, and so is every write (any method but GET
// and HEAD) whose body is not JSON. The listed origins get CORS: their
// preflight is answered and the answers are theirs to read. For control
// endpoints.
func Browser(h http.Handler, origins ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		listed := origin != "" && slices.Contains(origins, origin)
		if CrossSite(r, append([]string{OriginOf(r)}, origins...)...) {
			Refuse(w, "This local endpoint answers its own server's pages and programs, not other sites' pages.")
			return
		}
		if len(origins) > 0 {
			w.Header().Add("Vary", "Origin")
		}
		if listed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method == http.MethodOptions {
			if listed {
				w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
				w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
				w.Header().Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !JSON(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnsupportedMediaType)
			_ = json.NewEncoder(w).Encode(errorBody{Error: "InvalidRequest", Message: "Send JSON (Content-Type: application/json)."})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// OriginOf is the origin r was addressed to, as a browser would name it.
func OriginOf(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// Refuse answers 403 in the error shape the login API uses.
func Refuse(w http.ResponseWriter, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(errorBody{Error: "Forbidden", Message: message})
}

// quoteHost names a Host header in a message without letting it shape
// the answer: printable ASCII only, bounded.
func quoteHost(h string) string {
	h = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, h)
	if len(h) > 64 {
		h = h[:64] + "…"
	}
	return fmt.Sprintf("%q", h)
}

// Exposed says whether listening on addr (host:port) is reachable from
// other machines: every address but a loopback one (127.0.0.0/8, ::1,
// localhost). An empty host listens on every interface.
func Exposed(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// Warn prints a warning to w when what listens on addr beyond loopback,
// saying what anyone who can reach it could do there (does, e.g. "create
// Kakao users, mint their tokens and unlink accounts").
func Warn(w io.Writer, what, addr, does string) {
	if !Exposed(addr) {
		return
	}
	fmt.Fprintf(w, "warning: %s listens on %s, which other machines can reach: anyone on your network can %s. Use 127.0.0.1 unless you mean to share it.\n", what, addr, does)
}
