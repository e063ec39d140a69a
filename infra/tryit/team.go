package tryit

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// The team's own app: on the local stack, the pool also has an app where
// people sign in with an email and a password (a team adopting kakaoauth
// has one), and a person already in it, the demo native user. The page
// then walks the linking story: sign in with the email and password
// (POST /tryit/api/password), link Kakao (the page calls POST
// /auth/kakao/link itself, with the access token it got), sign out, log
// in with Kakao (the same sub), unlink (DELETE /auth/kakao/link).

// TeamApp is the team's app client and the demo person.
type TeamApp struct {
	// ClientID is the team's app client (USER_PASSWORD_AUTH, no secret).
	ClientID string
	// Username and Password are the demo person's, which the page offers
	// (the local stack's demo only).
	Username string
	Password string
}

// WithTeamApp offers the team's app's password sign-in beside Kakao's.
func WithTeamApp(a TeamApp) Option { return func(p *Page) { p.team = a } }

// teamConfig is what the page's script knows of the team's app.
type teamConfig struct {
	ClientID string `json:"clientID"`
	Username string `json:"username"`
	Password string `json:"password"`
	// LinkURL is the linking endpoints, on the login API.
	LinkURL string `json:"linkURL"`
}

func (p *Page) teamConfig() *teamConfig {
	if p.team.ClientID == "" {
		return nil
	}
	return &teamConfig{ClientID: p.team.ClientID, Username: p.team.Username, Password: p.team.Password, LinkURL: p.apiURL + "/auth/kakao/link"}
}

type passwordRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// password signs the person in with their own email (or username) and
// password, as the team's app does: InitiateAuth USER_PASSWORD_AUTH with
// its public client, no AWS credentials. Cognito's refusal (a wrong
// password, a user kakaoauth created, whose password sign-in the
// PreAuthentication trigger refuses) is passed on as Cognito says it.
func (p *Page) password(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if !p.decode(w, r, &req) {
		return
	}
	switch {
	case p.team.ClientID == "":
		writeError(w, http.StatusNotFound, "NotAvailable", "This stack shows no app with a password sign-in.")
		return
	case !required(req.Username, req.Password):
		writeError(w, http.StatusBadRequest, "InvalidRequest", "No username or password.")
		return
	}
	ctx, cancel, elapsed := p.upstream(r.Context())
	defer cancel()
	out, err := p.pool.API.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow: types.AuthFlowTypeUserPasswordAuth, ClientId: aws.String(p.team.ClientID),
		AuthParameters: map[string]string{"USERNAME": req.Username, "PASSWORD": req.Password},
	})
	ms := elapsed()
	if err == nil && (out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "") {
		// A challenge (MFA, a new password) is the team app's business.
		writeError(w, http.StatusBadRequest, "NotAvailable", "Cognito asked for more than a password (MFA, a new password): the page signs in with a password only.")
		return
	}
	if err != nil {
		p.hop(ctx, "cognito password sign-in", errorCode(err), ms)
		writeCognitoError(w, err)
		return
	}
	p.hop(ctx, "cognito password sign-in", "ok", ms)
	res := out.AuthenticationResult
	// The pool's tokens, as the hosted UI's are answered.
	writeJSON(w, http.StatusOK, hostedTokenAnswer{
		IDToken: aws.ToString(res.IdToken), AccessToken: aws.ToString(res.AccessToken), RefreshToken: aws.ToString(res.RefreshToken),
		ExpiresIn: int64(res.ExpiresIn), TokenType: aws.ToString(res.TokenType), CognitoMS: ms,
	})
}
