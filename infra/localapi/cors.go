package localapi

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Preflight answers of the login route, as the API's OPTIONS method gives
// them (template.yaml).
const (
	CORSAllowMethods = "POST"
	CORSAllowHeaders = "Content-Type"
	CORSMaxAge       = "600"
)

// CORS is the browser access the login route allows: exactly the listed
// origins (scheme://host[:port]), none when the list is empty. It mirrors
// the API's CorsAllowedOrigins parameter.
type CORS struct {
	origins []string
}

// OriginPattern is one allowed origin: http(s)://host[:port] in lower
// case, no path, wildcard or trailing slash, since browsers send and
// compare origins exactly so. The stack parameter's AllowedPattern is a
// comma-separated list of these (infra/templatecheck checks it).
const OriginPattern = `https?://[a-z0-9.-]+(:[0-9]{1,5})?`

var originRE = regexp.MustCompile(`^` + OriginPattern + `$`)

// ParseOrigins reads a comma-separated origin list as the stack parameter
// takes it; "" is no origin.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if !originRE.MatchString(o) {
			return nil, fmt.Errorf("CORS origin %q: want scheme://host[:port] in lower case, e.g. http://localhost:8090", o)
		}
		out = append(out, o)
	}
	return out, nil
}

// Allowed says whether a request from origin may read the answers.
func (c CORS) Allowed(origin string) bool {
	return origin != "" && slices.Contains(c.origins, origin)
}

// Enabled says whether any origin is configured.
func (c CORS) Enabled() bool { return len(c.origins) > 0 }

// apply adds the CORS headers an answer to r carries: Vary: Origin once
// any origin is configured (the answer depends on it), and
// Access-Control-Allow-Origin only for an allowed one.
func (c CORS) apply(w http.ResponseWriter, r *http.Request) bool {
	if !c.Enabled() {
		return false
	}
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !c.Allowed(origin) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

// preflight answers OPTIONS: 204, with the allowed method and header only
// for an allowed origin, so any other origin's browser refuses the POST.
func (c CORS) preflight(w http.ResponseWriter, r *http.Request) {
	c.preflightFor(w, r, CORSAllowMethods, CORSAllowHeaders)
}

// preflightFor is preflight for a route with other methods and headers.
func (c CORS) preflightFor(w http.ResponseWriter, r *http.Request, methods, headers string) {
	if c.apply(w, r) {
		w.Header().Set("Access-Control-Allow-Methods", methods)
		w.Header().Set("Access-Control-Allow-Headers", headers)
		w.Header().Set("Access-Control-Max-Age", CORSMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
}
