package cognito

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/kakaoauth/kakaoauth"
)

// The hosted-UI flow's Cognito side: the links between the pool's Kakao
// identity provider and the broker's users, and what an app client
// allows. moto has no AdminLinkProviderForUser nor
// AdminDisableProviderForUser: their requests are tested as the SDK
// writes them (federation_test.go).

// Names Cognito gives the parties of a link.
const (
	// ProviderCognito names the pool's own users as a link's destination.
	ProviderCognito = "Cognito"
	// AttrCognitoSubject is the identity provider's subject (Kakao's sub,
	// the Kakao user id) as a link's source attribute.
	AttrCognitoSubject = "Cognito_Subject"
	// AttrIdentities lists a user's linked identities (JSON).
	AttrIdentities = "identities"
)

// FederationAPI is the part of the Cognito client Federation uses.
type FederationAPI interface {
	AdminLinkProviderForUser(context.Context, *cip.AdminLinkProviderForUserInput, ...func(*cip.Options)) (*cip.AdminLinkProviderForUserOutput, error)
	AdminDisableProviderForUser(context.Context, *cip.AdminDisableProviderForUserInput, ...func(*cip.Options)) (*cip.AdminDisableProviderForUserOutput, error)
	AdminGetUser(context.Context, *cip.AdminGetUserInput, ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
}

var (
	_ FederationAPI            = (*cip.Client)(nil)
	_ kakaoauth.FederatedLinks = (*Federation)(nil)
)

// Federation links the pool's Kakao identities to the broker's users.
type Federation struct {
	api      FederationAPI
	poolID   string
	provider string
}

// NewFederation manages the links of pool userPoolID's Kakao identity
// provider (kakaoauth.HostedUIProvider).
func NewFederation(api FederationAPI, userPoolID string) *Federation {
	return &Federation{api: api, poolID: userPoolID, provider: kakaoauth.HostedUIProvider}
}

func (f *Federation) source(kakaoID int64) *types.ProviderUserIdentifierType {
	return &types.ProviderUserIdentifierType{
		ProviderName:           aws.String(f.provider),
		ProviderAttributeName:  aws.String(AttrCognitoSubject),
		ProviderAttributeValue: aws.String(strconv.FormatInt(kakaoID, 10)),
	}
}

// Link makes the Kakao identity sign in as username. Cognito refuses a
// second link of an identity (a concurrent sign-in, a retried trigger);
// that is no error when the existing link is to username. Cognito also
// refuses to link a user that has an immutable custom attribute: the
// error says which stack setting that takes.
func (f *Federation) Link(ctx context.Context, kakaoID int64, username string) error {
	_, err := f.api.AdminLinkProviderForUser(ctx, &cip.AdminLinkProviderForUserInput{
		UserPoolId:      &f.poolID,
		DestinationUser: &types.ProviderUserIdentifierType{ProviderName: aws.String(ProviderCognito), ProviderAttributeValue: &username},
		SourceUser:      f.source(kakaoID),
	})
	if err == nil {
		return nil
	}
	if isUserNotFound(err) {
		return notFound(username)
	}
	var invalid *types.InvalidParameterException
	if errors.As(err, &invalid) {
		if linked, lerr := f.linked(ctx, kakaoID, username); lerr == nil && linked {
			return nil
		}
		return fmt.Errorf("cognito: link %s identity %d to %s: %w (Cognito links no user that has an immutable custom attribute: the pool's custom:kakao_id must be mutable, stack parameter KakaoIdAttribute)",
			f.provider, kakaoID, username, err)
	}
	return classify("link provider", err)
}

// Unlink removes the Kakao identity's link to username
// (AdminDisableProviderForUser). It looks first: a user without that link,
// or no user, has nothing to remove.
func (f *Federation) Unlink(ctx context.Context, kakaoID int64, username string) error {
	linked, err := f.linked(ctx, kakaoID, username)
	var nf *kakaoauth.NotFound
	switch {
	case errors.As(err, &nf):
		return nil
	case err != nil:
		return err
	case !linked:
		return nil
	}
	_, err = f.api.AdminDisableProviderForUser(ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: &f.poolID, User: f.source(kakaoID)})
	if err != nil && !isUserNotFound(err) {
		return classify("disable provider for user", err)
	}
	return nil
}

// identity is one entry of the identities attribute.
type identity struct {
	UserID       string `json:"userId"`
	ProviderName string `json:"providerName"`
}

// linked says whether username's identities include the Kakao identity.
func (f *Federation) linked(ctx context.Context, kakaoID int64, username string) (bool, error) {
	out, err := f.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &f.poolID, Username: &username})
	if err != nil {
		if isUserNotFound(err) {
			return false, notFound(username)
		}
		return false, classify("get user", err)
	}
	want := strconv.FormatInt(kakaoID, 10)
	for _, a := range out.UserAttributes {
		if aws.ToString(a.Name) != AttrIdentities {
			continue
		}
		var ids []identity
		if err := json.Unmarshal([]byte(aws.ToString(a.Value)), &ids); err != nil {
			return false, fmt.Errorf("cognito: %s of %s: %w", AttrIdentities, username, err)
		}
		for _, id := range ids {
			if strings.EqualFold(id.ProviderName, f.provider) && id.UserID == want {
				return true, nil
			}
		}
	}
	return false, nil
}

// ClientsAPI is the part of the Cognito client AppClients uses.
type ClientsAPI interface {
	DescribeUserPoolClient(context.Context, *cip.DescribeUserPoolClientInput, ...func(*cip.Options)) (*cip.DescribeUserPoolClientOutput, error)
}

var (
	_ ClientsAPI           = (*cip.Client)(nil)
	_ kakaoauth.AppClients = (*AppClients)(nil)
)

// DefaultClientCacheTTL is how long AppClients keeps what it learnt of a
// client: DescribeUserPoolClient has a small quota, and a client changed
// meanwhile is seen within this long.
const DefaultClientCacheTTL = 5 * time.Minute

// AppClients answers questions about the pool's app clients.
type AppClients struct {
	api   ClientsAPI
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	federatedOnly bool
	name          string
	until         time.Time
}

// NewAppClients describes clients through api, caching each answer for
// ttl (DefaultClientCacheTTL when 0).
func NewAppClients(api ClientsAPI, ttl time.Duration, now func() time.Time) *AppClients {
	if ttl <= 0 {
		ttl = DefaultClientCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &AppClients{api: api, ttl: ttl, now: now, cache: map[string]cachedClient{}}
}

// FederatedOnly: see kakaoauth.AppClients. Errors are not cached.
func (c *AppClients) FederatedOnly(ctx context.Context, userPoolID, clientID string) (bool, error) {
	d, err := c.describe(ctx, userPoolID, clientID)
	return d.federatedOnly, err
}

// Name: see kakaoauth.AppClients; one cached description answers both.
func (c *AppClients) Name(ctx context.Context, userPoolID, clientID string) (string, error) {
	d, err := c.describe(ctx, userPoolID, clientID)
	return d.name, err
}

func (c *AppClients) describe(ctx context.Context, userPoolID, clientID string) (cachedClient, error) {
	key := userPoolID + "/" + clientID
	c.mu.Lock()
	hit, ok := c.cache[key]
	c.mu.Unlock()
	if ok && c.now().Before(hit.until) {
		return hit, nil
	}
	out, err := c.api.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: &userPoolID, ClientId: &clientID})
	if err != nil {
		return cachedClient{}, classify("describe user pool client", err)
	}
	d := cachedClient{federatedOnly: FederatedOnly(out.UserPoolClient), until: c.now().Add(c.ttl)}
	if out.UserPoolClient != nil {
		d.name = aws.ToString(out.UserPoolClient.ClientName)
	}
	c.mu.Lock()
	c.cache[key] = d
	c.mu.Unlock()
	return d, nil
}

// FederatedOnly is the rule, an allow-list: the client names identity
// providers and not COGNITO (its hosted UI offers no password), and its
// explicit auth flows are exactly refreshing (no password, SRP, custom or
// choice-based sign-in through the API; an empty list is not "none":
// Cognito then allows SRP and custom auth).
func FederatedOnly(c *types.UserPoolClientType) bool {
	if c == nil || len(c.SupportedIdentityProviders) == 0 || len(c.ExplicitAuthFlows) == 0 {
		return false
	}
	for _, p := range c.SupportedIdentityProviders {
		if strings.EqualFold(p, ProviderCognito) {
			return false
		}
	}
	for _, f := range c.ExplicitAuthFlows {
		if f != types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth {
			return false
		}
	}
	return true
}
