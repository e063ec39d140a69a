package localstack

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// ProxyFunc is a Lambda handler behind an API Gateway proxy integration.
type ProxyFunc func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// maxProxyBody caps what the local endpoint reads for a proxied route; the
// handler applies its own, smaller limit, as it does behind API Gateway.
const maxProxyBody = 1 << 20

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
		resp, err := fn(r.Context(), req)
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
			RequestID:  uuid.NewString(),
			Path:       r.URL.Path,
			HTTPMethod: r.Method,
			Identity:   events.APIGatewayRequestIdentity{SourceIP: remoteIP(r), UserAgent: r.UserAgent()},
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

// RequestAuthorizer is an API Gateway REQUEST authorizer (the unlink
// route's, workflow.Steps.UnlinkAuthorizer).
type RequestAuthorizer func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// AuthorizedProxyHandler serves fn behind authorize the way API Gateway
// does for a method with a request authorizer: the authorizer sees the
// request's headers, query and source address; an error is 401 (what
// API Gateway answers for "Unauthorized"), a Deny 403, each with the
// template's gateway response, and only an Allow reaches fn. What it does not do: cache the authorizer's answer, or
// throttle by the usage plan the answer names (docs/local-stack.md).
func AuthorizedProxyHandler(authorize RequestAuthorizer, fn ProxyFunc, log *slog.Logger) http.Handler {
	inner := ProxyHandler(fn, log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := toProxyRequest(r, nil)
		ev := events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type:      "REQUEST",
			MethodArn: "arn:aws:execute-api:us-east-1:000000000000:local/v1/" + r.Method + r.URL.Path,
			Resource:  r.URL.Path, Path: r.URL.Path, HTTPMethod: r.Method,
			Headers: req.Headers, MultiValueHeaders: req.MultiValueHeaders,
			QueryStringParameters: req.QueryStringParameters, MultiValueQueryStringParameters: req.MultiValueQueryStringParameters,
			RequestContext: events.APIGatewayCustomAuthorizerRequestTypeRequestContext{
				Path: r.URL.Path, Stage: "v1", RequestID: req.RequestContext.RequestID, ResourcePath: r.URL.Path, HTTPMethod: r.Method,
				Identity: events.APIGatewayCustomAuthorizerRequestTypeRequestIdentity{SourceIP: req.RequestContext.Identity.SourceIP},
			},
		}
		resp, err := authorize(r.Context(), ev)
		// The template's gateway responses UNAUTHORIZED and ACCESS_DENIED.
		refuse := func(status int, body string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
		switch {
		case err != nil:
			refuse(http.StatusUnauthorized, `{"error":"Unauthorized"}`)
			return
		case !allows(resp):
			refuse(http.StatusForbidden, `{"error":"Forbidden"}`)
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// allows reports an authorizer's answer that allows execute-api:Invoke.
func allows(resp events.APIGatewayCustomAuthorizerResponse) bool {
	allowed := false
	for _, st := range resp.PolicyDocument.Statement {
		if !slices.Contains(st.Action, "execute-api:Invoke") {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = allowed || st.Effect == "Allow"
	}
	return allowed
}
