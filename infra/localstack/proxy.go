package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/kakaoauth/kakaoauth"
)

// ProxyFunc is a Lambda handler behind an API Gateway proxy integration.
type ProxyFunc func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// maxProxyBody caps what the local endpoint reads for a proxied route; the
// handler applies its own, smaller limit, as it does behind API Gateway.
const maxProxyBody = 1 << 20

// integrationTimeout is how long API Gateway waits for a proxied function
// (template.yaml's timeoutInMillis) and how long the function may run
// (its Timeout): the handler's context ends then, as a Lambda's does, and
// the caller gets API Gateway's own 504 if the handler has not answered.
const integrationTimeout = 10 * time.Second

// ProxyHandler serves fn over HTTP the way API Gateway's REST proxy
// integration does: the request becomes an APIGatewayProxyRequest (single-
// and multi-value headers and query, body as text or base64, source IP,
// user agent, a request id) and the response is written back as given. So
// the local endpoint runs the very logic the deployed Lambda runs.
func ProxyHandler(fn ProxyFunc, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxProxyBody))
		if err != nil {
			// API Gateway refuses payloads over its limit before any Lambda.
			writeProxyError(w, http.StatusRequestEntityTooLarge, "Request Too Long")
			return
		}
		req := toProxyRequest(r, body)
		ctx, cancel := context.WithTimeout(r.Context(), integrationTimeout)
		defer cancel()
		type answer struct {
			resp events.APIGatewayProxyResponse
			err  error
		}
		answered := make(chan answer, 1)
		go func() {
			resp, err := fn(ctx, req)
			answered <- answer{resp, err}
		}()
		var resp events.APIGatewayProxyResponse
		select {
		case a := <-answered:
			resp, err = a.resp, a.err
		case <-ctx.Done():
			select {
			case a := <-answered: // it answered as its time ran out
				resp, err = a.resp, a.err
			default:
			}
			if resp.StatusCode != 0 || err != nil {
				break
			}
			log.ErrorContext(r.Context(), "proxied handler timed out", "path", r.URL.Path, "requestId", req.RequestContext.RequestID)
			writeProxyError(w, http.StatusGatewayTimeout, "Endpoint request timed out")
			return
		}
		if err != nil {
			// A Lambda error behind a proxy integration is API Gateway's 502.
			log.ErrorContext(r.Context(), "proxied handler failed", "path", r.URL.Path, "requestId", req.RequestContext.RequestID, "error", err.Error())
			writeProxyError(w, http.StatusBadGateway, "Internal server error")
			return
		}
		writeProxyResponse(w, resp)
	})
}

func toProxyRequest(r *http.Request, body []byte) events.APIGatewayProxyRequest {
	req := events.APIGatewayProxyRequest{
		Resource:                        r.URL.Path,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         map[string]string{},
		MultiValueHeaders:               map[string][]string{},
		QueryStringParameters:           map[string]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		RequestContext: events.APIGatewayProxyRequestContext{
			RequestID:        uuid.NewString(),
			RequestTimeEpoch: time.Now().UnixMilli(),
			Path:             r.URL.Path,
			HTTPMethod:       r.Method,
			Identity:         events.APIGatewayRequestIdentity{SourceIP: remoteIP(r), UserAgent: r.UserAgent()},
		},
	}
	for k, vs := range r.Header {
		req.MultiValueHeaders[k] = vs
		req.Headers[k] = vs[len(vs)-1] // API Gateway keeps the last value
	}
	for k, vs := range r.URL.Query() {
		req.MultiValueQueryStringParameters[k] = vs
		req.QueryStringParameters[k] = vs[len(vs)-1]
	}
	if len(body) > 0 {
		// Text stays text; anything else is base64, as API Gateway does for
		// binary payloads.
		if utf8.Valid(body) {
			req.Body = string(body)
		} else {
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return req
}

func writeProxyResponse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeProxyError(w, http.StatusBadGateway, "Internal server error")
			return
		}
		body = raw
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		// API Gateway: "Malformed Lambda proxy response".
		writeProxyError(w, http.StatusBadGateway, "Internal server error")
		return
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// writeProxyError answers as API Gateway does when it, not the handler,
// fails a request.
func writeProxyError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}

// AuthorizerFunc is a Lambda REQUEST authorizer.
type AuthorizerFunc func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// localMethodARN is what API Gateway would name a method of the local API.
func localMethodARN(r *http.Request) string {
	return "arn:aws:execute-api:us-east-1:123456789012:local/v1/" + r.Method + r.URL.Path
}

// Authorized puts a REQUEST authorizer whose identity source is the
// Authorization header in front of next, as template.yaml does for the
// unlink callback, answering as API Gateway and the template's gateway
// responses do: no header, or the authorizer's "Unauthorized", is 401
// (UNAUTHORIZED); a policy that does not allow the method (a Deny: a
// source network outside the allow-list) is 403 (ACCESS_DENIED); any
// other failure is AUTHORIZER_FAILURE (DEFAULT_5XX: 500). What it does
// not do: cache an answer per identity for the authorizer's TTL (the
// local endpoint asks every time), or throttle by the usage plan the
// answer names (docs/local-stack.md).
func Authorized(authz AuthorizerFunc, next http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			writeOutcome(w, kakaoauth.UnauthorizedOutcome)
			return
		}
		proxy := toProxyRequest(r, nil)
		req := events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type: "REQUEST", MethodArn: localMethodARN(r), Resource: r.URL.Path, Path: r.URL.Path, HTTPMethod: r.Method,
			Headers: proxy.Headers, MultiValueHeaders: proxy.MultiValueHeaders,
			QueryStringParameters: proxy.QueryStringParameters, MultiValueQueryStringParameters: proxy.MultiValueQueryStringParameters,
			RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
				Path: r.URL.Path, HTTPMethod: r.Method, RequestID: proxy.RequestContext.RequestID,
				Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: proxy.RequestContext.Identity.SourceIP},
			},
		}
		resp, err := authz(r.Context(), req)
		switch {
		case err != nil && err.Error() == "Unauthorized":
			writeOutcome(w, kakaoauth.UnauthorizedOutcome)
		case err != nil:
			log.ErrorContext(r.Context(), "authorizer failed", "path", r.URL.Path, "error", err.Error())
			writeOutcome(w, kakaoauth.OutcomeOf(kakaoauth.CodeInternal))
		case !allows(resp.PolicyDocument, req.MethodArn):
			writeOutcome(w, kakaoauth.ForbiddenOutcome)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// allows evaluates an authorizer's policy for a method ARN as API Gateway
// does: some Allow covers it and no Deny does ("*" matches any text).
func allows(p events.APIGatewayCustomAuthorizerPolicy, arn string) bool {
	allowed := false
	for _, st := range p.Statement {
		for _, res := range st.Resource {
			if !globMatch(res, arn) {
				continue
			}
			switch st.Effect {
			case "Deny":
				return false
			case "Allow":
				allowed = true
			}
		}
	}
	return allowed
}

func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func writeGatewayJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeOutcome(w http.ResponseWriter, o kakaoauth.Outcome) {
	b, _ := json.Marshal(map[string]string{"error": o.Code, "message": o.Message})
	writeGatewayJSON(w, o.Status, string(b))
}
