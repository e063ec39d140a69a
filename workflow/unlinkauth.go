package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kakaoauth/kakaoauth"
)

// The unlink queue is only as trustworthy as whoever may send to it: the
// template's queue policy lets only the webhook's and the sweeper's roles
// send, and the worker believes a message only with the webhook's MAC of
// its exact body, made with a generated key (UnlinkMacKeySecret) that only
// the webhook and the worker read. A forged message (wrong or no MAC, a
// key version the worker does not hold) changes nothing: it is refused,
// audited once (unlink_refused), retried and dead-lettered, which raises
// the dead-letter alarm.

// unlinkMACKeys signs unlink messages with the current key and accepts a
// MAC of any version held (a rotation adds a version before it becomes
// current).
type unlinkMACKeys struct {
	current int
	keys    map[int][]byte
}

// WithUnlinkMACKeys gives the unlink MAC key secret's versions (see
// config.SecretUnlinkMACKey).
func WithUnlinkMACKeys(current int, keys map[int][]byte) Option {
	return func(s *Steps) { s.unlinkMAC = &unlinkMACKeys{current: current, keys: maps.Clone(keys)} }
}

func unlinkMAC(key, body []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write(body)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// SignUnlink encodes r as the queued message: its JSON and
// "v<version>.<MAC>" of exactly those bytes.
func (s *Steps) SignUnlink(r kakaoauth.UnlinkRequest) (kakaoauth.UnlinkMessage, error) {
	if s.unlinkMAC == nil || len(s.unlinkMAC.keys[s.unlinkMAC.current]) == 0 {
		return kakaoauth.UnlinkMessage{}, errors.New("no unlink MAC key configured")
	}
	body, err := json.Marshal(r)
	if err != nil {
		return kakaoauth.UnlinkMessage{}, err
	}
	k := s.unlinkMAC
	return kakaoauth.UnlinkMessage{Body: string(body), MAC: "v" + strconv.Itoa(k.current) + "." + unlinkMAC(k.keys[k.current], body)}, nil
}

// errForgedUnlink says a queued message does not carry the webhook's MAC.
type errForgedUnlink struct{ reason string }

func (e *errForgedUnlink) Error() string { return "unlink message refused: " + e.reason }

// verifyUnlink checks m's MAC; the reason of a refusal names no key.
func (s *Steps) verifyUnlink(m kakaoauth.UnlinkMessage) error {
	if s.unlinkMAC == nil || len(s.unlinkMAC.keys) == 0 {
		return &errForgedUnlink{"no unlink MAC key configured"}
	}
	version, mac, ok := strings.Cut(m.MAC, ".")
	if !ok || !strings.HasPrefix(version, "v") {
		return &errForgedUnlink{"no MAC"}
	}
	v, err := strconv.Atoi(version[1:])
	key := s.unlinkMAC.keys[v]
	if err != nil || len(key) == 0 {
		return &errForgedUnlink{"MAC of a key version this worker does not hold"}
	}
	if !hmac.Equal([]byte(mac), []byte(unlinkMAC(key, []byte(m.Body)))) {
		return &errForgedUnlink{"wrong MAC"}
	}
	return nil
}

// unlinkGate is the API Gateway request authorizer's configuration: the
// usage plan key Kakao's authenticated calls spend, and the source
// networks they may come from (none: any).
type unlinkGate struct {
	usageKey string
	sources  []netip.Prefix
}

// WithUnlinkAuthorizer configures UnlinkAuthorizer: usageKey is the API
// key of the usage plan that gives Kakao's callbacks their own budget,
// sources the optional allow-list of Kakao's callback networks.
func WithUnlinkAuthorizer(usageKey string, sources []netip.Prefix) Option {
	return func(s *Steps) { s.unlinkGate = &unlinkGate{usageKey: usageKey, sources: slices.Clone(sources)} }
}

// ErrUnauthorized is the error an API Gateway Lambda authorizer returns
// for API Gateway to answer 401 (its text must be exactly "Unauthorized").
var ErrUnauthorized = errors.New("Unauthorized")

// UnlinkPrincipal is the principal id of an authorized Kakao callback.
const UnlinkPrincipal = "kakao-unlink-callback"

// UnlinkAuthorizer is the unlink route's API Gateway REQUEST authorizer
// (identity sources: the Authorization header and the source IP, so that
// a cached answer is never reused for another address). It runs before
// any throttle that is Kakao's own: a call with one of the admin keys
// (the one check, UnlinkKeys) from an allowed network is allowed and
// tied to the usage plan of Kakao's callbacks (usageIdentifierKey), so
// only such calls spend that plan's budget; any other call is refused
// (401, or 403 from outside the allow-list) before it reaches the
// webhook. The webhook still checks the key and the app id itself.
func (s *Steps) UnlinkAuthorizer(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	g, a := s.unlinkGate, s.unlinkAuth
	if g == nil || g.usageKey == "" || a == nil {
		s.log.ErrorContext(ctx, "unlink authorizer not configured: every call refused", "authorizer", "unlink")
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	if _, err := unlinkRouteARN(ev.MethodArn); err != nil {
		// Another route's method: not this authorizer's business.
		s.log.ErrorContext(ctx, "unlink authorizer: unexpected method ARN", "authorizer", "unlink", "error", err.Error())
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	ip := ev.RequestContext.Identity.SourceIP
	if len(g.sources) > 0 {
		addr, err := netip.ParseAddr(ip)
		if err != nil || !slices.ContainsFunc(g.sources, func(p netip.Prefix) bool { return p.Contains(addr.Unmap()) }) {
			s.log.WarnContext(ctx, "unlink callback refused", "authorizer", "unlink", "reason", "source network", "sourceIp", ip)
			return unlinkPolicy(ev.MethodArn, "Deny", ""), nil
		}
	}
	if !a.allows(headerValues(ev.Headers, ev.MultiValueHeaders, "Authorization")) {
		s.log.WarnContext(ctx, "unlink callback refused", "authorizer", "unlink", "reason", "authorization", "sourceIp", ip)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	return unlinkPolicy(ev.MethodArn, "Allow", g.usageKey), nil
}

// unlinkPolicy allows or denies both methods of the unlink route: the
// answer is cached per identity, whichever method asked first. methodARN
// is one of the route's (UnlinkAuthorizer checked it).
func unlinkPolicy(methodARN, effect, usageKey string) events.APIGatewayCustomAuthorizerResponse {
	resource, _ := unlinkRouteARN(methodARN)
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: UnlinkPrincipal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{resource},
			}},
		},
		UsageIdentifierKey: usageKey,
	}
}

// unlinkRouteARN turns a method ARN of the unlink route
// (arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/kakao/unlink)
// into the route's, any method; any other ARN is an error.
func unlinkRouteARN(methodARN string) (string, error) {
	parts := strings.SplitN(methodARN, "/", 4)
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "arn:") || "/"+parts[3] != UnlinkPath {
		return "", errors.New("not a method ARN of " + UnlinkPath)
	}
	return parts[0] + "/" + parts[1] + "/*" + UnlinkPath, nil
}
