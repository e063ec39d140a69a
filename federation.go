package kakaoauth

import "context"

// The hosted-UI flow (optional, stack parameter HostedUi): Kakao is also
// registered in the user pool as an OpenID Connect identity provider, so a
// web app can sign in through Cognito's hosted UI (a browser redirect). Its
// PreSignUp trigger links each Kakao identity to the broker's kakao_<id>
// user, so both flows sign in as one Cognito user with one sub.

// HostedUIProvider is the name of the pool's Kakao identity provider
// (template.yaml's KakaoIdentityProvider). Cognito names the federated
// identities it signs up "<provider>_<IdP sub>", and Kakao's sub is the
// Kakao user id: "Kakao_4242".
const HostedUIProvider = "Kakao"

// KakaoAccounts asks Kakao about an account by its id, with the app's
// admin key (no user token): the profile, with the email only when Kakao
// says it is valid and verified (EmailChecked is always true). A Kakao
// account that is not linked to the app (it never logged in, or unlinked
// since) is *AccountUnlinked.
type KakaoAccounts interface {
	Lookup(ctx context.Context, kakaoID int64) (KakaoIdentity, error)
	// Unlink unlinks the account from the app at Kakao (Kakao's unlink
	// API with the admin key), as Kakao asks of a service whose user
	// leaves it. An account Kakao no longer has linked is no error.
	Unlink(ctx context.Context, kakaoID int64) error
}

// FederatedLinks manages the link between the pool's Kakao identity
// provider and the broker's users (AdminLinkProviderForUser,
// AdminDisableProviderForUser).
type FederatedLinks interface {
	// Link makes a hosted-UI sign-in of Kakao account kakaoID sign in as
	// username. Linking an identity already linked to username is not an
	// error.
	Link(ctx context.Context, kakaoID int64, username string) error
	// Unlink removes that link, so the next hosted-UI sign-in is a sign-up
	// again (and runs the PreSignUp trigger). No link, or no user, is not
	// an error.
	Unlink(ctx context.Context, kakaoID int64, username string) error
}

// AppClients describes the pool's app clients.
type AppClients interface {
	// FederatedOnly reports whether the app client signs users in only
	// through external identity providers: no Cognito (password) provider
	// on its hosted UI, and no sign-in flow of its own but refreshing
	// tokens. A sign-in through such a client cannot be a password or SRP
	// sign-in.
	FederatedOnly(ctx context.Context, userPoolID, clientID string) (bool, error)
	// Name is the app client's name: the CUSTOM_AUTH triggers know the
	// broker's client by it (the pool names its triggers, so a trigger's
	// configuration cannot name the pool's clients without a cycle).
	Name(ctx context.Context, userPoolID, clientID string) (string, error)
}

// Audit event types of the hosted-UI flow, written by its PreSignUp
// trigger: a Kakao identity linked to its user (the sign-in then restarts
// once), or a hosted-UI sign-up refused (the error names why).
const (
	EventFederatedLinked  = "federated_linked"
	EventFederatedRefused = "federated_refused"
)
