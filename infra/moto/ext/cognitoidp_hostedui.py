"""Cognito's hosted UI (the user pool endpoints) for a pool's OpenID Connect
identity providers, on moto's address: what a web app's redirect sign-in
runs (Amplify's signInWithRedirect).

A pool's domain https://<prefix>.auth.<region>.amazoncognito.com is
http://<moto>/<prefix> here. Endpoints, as Cognito serves them
(https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-userpools-server-contract-reference.html):

  GET  /oauth2/authorize    identity_provider=<IdP> (or the client's one
                            external IdP), the code flow, PKCE (S256), to
                            the IdP's authorize_url
  GET  /oauth2/idpresponse  the IdP's code exchanged at its token_url (the
                            client secret posted), its ID token verified
                            (RS256 against jwks_uri, iss, aud, exp, the
                            nonce Cognito sent); then the identity's user:
                            the user it is linked to, the user it signed
                            up as (<IdP>_<sub>), or a sign-up
                            (PreSignUp_ExternalProvider first);
                            PreAuthentication; back to the app with a code
  POST /oauth2/token        authorization_code (PKCE checked),
                            refresh_token
  GET  /oauth2/userInfo     the access token's user's attributes
  POST /oauth2/revoke       a refresh token revoked (as RevokeToken)
  GET  /logout              back to a LogoutURLs address

The tokens are moto's, so everything the API does with tokens works on
them. There is no Cognito login page: a client whose sign-in would show
one (no identity_provider and not exactly one external provider) is told
so. Loaded by cognitoidp_ext.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from werkzeug.wrappers import Request, Response

import cognitoidp_ext as ext
import motoext
from moto.cognitoidp import models as m

# Validity of what the hosted UI hands out (Cognito: an authorization code
# is valid for 5 minutes; an unfinished sign-in for the same).
CODE_SECONDS = 300
PENDING_SECONDS = 300
# How long the local hosted UI waits for the identity provider.
IDP_TIMEOUT = 5.0

_lock = threading.Lock()
_pending: dict[str, dict[str, Any]] = {}  # Cognito's state at the IdP -> the app's authorize request
_codes: dict[str, dict[str, Any]] = {}  # authorization code -> what it redeems
_jwks: dict[str, KeySet] = {}  # jwks_uri -> keys


@motoext.on_reset
def _forget() -> None:
    with _lock:
        _pending.clear()
        _codes.clear()
        _jwks.clear()


def _pool_of_domain(domain: str):
    for backend in ext._all_backends():
        d = backend.user_pool_domains.get(domain)
        if d is not None and d.user_pool_id in backend.user_pools:
            return backend, backend.user_pools[d.user_pool_id]
    return None, None


def _error_page(status: int, error: str, description: str) -> Response:
    # Cognito shows an error page when it cannot trust the redirect URI.
    return Response(f"{error}: {description}\n", status=status, content_type="text/plain; charset=utf-8")


def _back(redirect_uri: str, params: dict[str, str]) -> Response:
    parts = urllib.parse.urlsplit(redirect_uri)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    location = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _app_error(req_state: dict[str, Any], error: str, description: str) -> Response:
    return _back(req_state["redirect_uri"], {"error_description": description, "error": error, "state": req_state.get("state")})


@motoext.route(r"/(?P<domain>[a-z0-9-]+)/(?P<endpoint>oauth2/authorize|oauth2/idpresponse|oauth2/token|oauth2/userInfo|oauth2/revoke|logout)",
               methods=("GET", "POST"))
def _hosted_ui(req: Request, domain: str, endpoint: str) -> Response | None:
    backend, pool = _pool_of_domain(domain)
    if pool is None:
        return None  # not a pool's domain: moto's (an S3 path, say)
    handler = {
        "oauth2/authorize": _authorize,
        "oauth2/idpresponse": _idp_response,
        "oauth2/token": _token,
        "oauth2/userInfo": _user_info,
        "oauth2/revoke": _revoke,
        "logout": _logout,
    }[endpoint]
    return handler(req, backend, pool, domain)


def _base(req: Request, domain: str) -> str:
    return req.host_url.rstrip("/") + "/" + domain


def _oauth_client(pool, client_id: str):
    client = pool.clients.get(client_id or "")
    if client is None:
        return None
    return client


# ---------------------------------------------------------- /authorize

def _authorize(req: Request, backend, pool, domain: str) -> Response:
    q = req.args
    client = _oauth_client(pool, q.get("client_id", ""))
    if client is None:
        return _error_page(400, "invalid_request", "unknown client_id")
    cfg = client.extended_config
    redirect_uri = q.get("redirect_uri", "")
    if redirect_uri not in (cfg.get("CallbackURLs") or []):
        return _error_page(400, "redirect_mismatch", "redirect_uri is not one of the client's CallbackURLs")
    app = {"redirect_uri": redirect_uri, "state": q.get("state")}
    if not cfg.get("AllowedOAuthFlowsUserPoolClient") or q.get("response_type") not in (cfg.get("AllowedOAuthFlows") or []):
        return _app_error(app, "unauthorized_client", "the client may not use this response_type")
    if q.get("response_type") != "code":
        return _app_error(app, "unsupported_response_type", "the local hosted UI runs the code flow only")
    allowed_scopes = cfg.get("AllowedOAuthScopes") or []
    scopes = (q.get("scope") or " ".join(allowed_scopes)).split()
    if not scopes or any(s not in allowed_scopes for s in scopes):
        return _app_error(app, "invalid_scope", "a scope the client may not ask for")
    challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
    if challenge and method != "S256":
        return _app_error(app, "invalid_request", "code_challenge_method must be S256")
    providers = [p for p in cfg.get("SupportedIdentityProviders") or [] if p != "COGNITO"]
    wanted = q.get("identity_provider")
    if not wanted:
        if len(providers) != 1 or "COGNITO" in (cfg.get("SupportedIdentityProviders") or []):
            return _error_page(400, "invalid_request",
                               "the local hosted UI has no sign-in page: name the provider with identity_provider")
        wanted = providers[0]
    if wanted not in providers:
        return _app_error(app, "invalid_request", f"{wanted} is not an identity provider of this client")
    idp = pool.identity_providers.get(wanted)
    if idp is None or idp.extended_config.get("ProviderType") != "OIDC":
        return _app_error(app, "invalid_request", f"{wanted} is not an OpenID Connect provider of this pool")
    details = idp.extended_config.get("ProviderDetails") or {}
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with _lock:
        _pending[state] = {
            **app,
            "client_id": client.id,
            "provider": wanted,
            "scopes": scopes,
            "challenge": challenge,
            "nonce": nonce,
            "app_nonce": q.get("nonce"),
            "expires": motoext.now() + PENDING_SECONDS,
        }
    to_idp = {
        "client_id": details.get("client_id", ""),
        "redirect_uri": _base(req, domain) + "/oauth2/idpresponse",
        "response_type": "code",
        "scope": details.get("authorize_scopes", "openid"),
        "state": state,
        "nonce": nonce,
    }
    url = details.get("authorize_url", "")
    return Response(status=302, headers={"Location": url + ("&" if "?" in url else "?") + urllib.parse.urlencode(to_idp)})


# -------------------------------------------------------- /idpresponse

def _post_form(url: str, form: dict[str, str]) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    try:
        with motoext._opener.open(req, timeout=IDP_TIMEOUT) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}


def _get_json(url: str, bearer: str | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    with motoext._opener.open(urllib.request.Request(url, headers=headers), timeout=IDP_TIMEOUT) as resp:
        return json.loads(resp.read())


def _keys(jwks_uri: str, kid: str | None, refresh: bool = False) -> KeySet:
    with _lock:
        keys = _jwks.get(jwks_uri)
    if keys is None or refresh:
        keys = KeySet.import_key_set(_get_json(jwks_uri))
        with _lock:
            _jwks[jwks_uri] = keys
    return keys


def _verify_id_token(details: dict[str, str], token: str, nonce: str) -> dict[str, Any]:
    """The IdP's ID token, as Cognito checks it: RS256 with the IdP's keys
    (fetched again for an unknown kid), its issuer, our client id as aud,
    not expired, the nonce Cognito sent."""
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    jwks_uri = details.get("jwks_uri") or ""
    try:
        decoded = jose_jwt.decode(token, _keys(jwks_uri, header.get("kid")), algorithms=["RS256"])
    except Exception:  # noqa: BLE001 - an unknown kid, or a bad signature: try fresh keys once
        decoded = jose_jwt.decode(token, _keys(jwks_uri, header.get("kid"), refresh=True), algorithms=["RS256"])
    claims = decoded.claims
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if claims.get("iss") != details.get("oidc_issuer"):
        raise ValueError("Bad id_token issuer")
    if details.get("client_id") not in auds:
        raise ValueError("Bad id_token audience")
    if float(claims.get("exp", 0)) < motoext.now():
        raise ValueError("id_token has expired")
    if claims.get("nonce") != nonce:
        raise ValueError("Bad id_token nonce")
    return claims


def _mapped_attributes(idp, claims: dict[str, Any]) -> dict[str, str]:
    """The identity provider's AttributeMapping (pool attribute -> claim)
    applied to the provider's claims."""
    out: dict[str, str] = {}
    for attr, claim in (idp.extended_config.get("AttributeMapping") or {}).items():
        if attr == "username" or claim not in claims:
            continue
        value = claims[claim]
        out[attr] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def _idp_response(req: Request, backend, pool, domain: str) -> Response:
    state = req.args.get("state", "")
    with _lock:
        pending = _pending.pop(state, None)
    if pending is None or pending["expires"] < motoext.now():
        return _error_page(400, "invalid_request", "unknown or expired sign-in (state)")
    if req.args.get("error"):
        return _app_error(pending, "invalid_request", f"{pending['provider']}: {req.args.get('error')} {req.args.get('error_description', '')}".strip())
    client = pool.clients.get(pending["client_id"])
    idp = pool.identity_providers.get(pending["provider"])
    if client is None or idp is None:
        return _app_error(pending, "invalid_request", "the client or the identity provider is gone")
    details = idp.extended_config.get("ProviderDetails") or {}
    try:
        status, tokens = _post_form(details.get("token_url", ""), {
            "grant_type": "authorization_code",
            "client_id": details.get("client_id", ""),
            "client_secret": details.get("client_secret", ""),
            "redirect_uri": _base(req, domain) + "/oauth2/idpresponse",
            "code": req.args.get("code", ""),
        })
    except (OSError, ValueError) as e:
        return _app_error(pending, "invalid_request", f"the identity provider's token endpoint failed: {e}")
    if status != 200 or not tokens.get("id_token"):
        return _app_error(pending, "invalid_request", f"the identity provider refused the code: {tokens.get('error', status)}")
    try:
        claims = _verify_id_token(details, tokens["id_token"], pending["nonce"])
    except Exception as e:  # noqa: BLE001 - every failure is the same refusal
        return _app_error(pending, "invalid_request", f"Invalid id_token: {e}")
    if details.get("attributes_url") and tokens.get("access_token"):
        try:
            info = _get_json(details["attributes_url"], tokens["access_token"])
            if isinstance(info, dict) and info.get("sub") in (None, claims.get("sub")):
                claims = {**info, **claims}
        except (OSError, ValueError):
            pass  # the ID token's claims are what there is
    try:
        user = _federated_user(pool, client, idp, pending["provider"], str(claims.get("sub")), _mapped_attributes(idp, claims))
    except ext.CognitoError as e:
        return _app_error(pending, "invalid_request", e.message + " ")
    code = secrets.token_urlsafe(32)
    with _lock:
        _codes[code] = {
            "pool": pool, "backend": backend, "client_id": client.id, "username": user.username,
            "redirect_uri": pending["redirect_uri"], "challenge": pending["challenge"], "scopes": pending["scopes"],
            "nonce": pending["app_nonce"], "expires": motoext.now() + CODE_SECONDS,
        }
    return _back(pending["redirect_uri"], {"code": code, "state": pending.get("state")})


def _federated_user(pool, client, idp, provider: str, subject: str, attrs: dict[str, str]):
    """The user a federated sign-in signs in as, signing it up first when
    the identity is new (PreSignUp_ExternalProvider, then <IdP>_<sub> with
    status EXTERNAL_PROVIDER); the provider's mapped attributes are
    written to it at every sign-in. PreAuthentication runs, as for any
    sign-in."""
    ext._check_writable(client, attrs)
    user, _ = ext._holder(pool, provider, subject)
    if user is None:
        username = f"{provider}_{subject}"
        ext._trigger(pool, "PreSignUp", "PreSignUp_ExternalProvider", username,
                     {"userAttributes": dict(attrs), "validationData": None}, client.id)
        # The trigger may have linked the identity (AdminLinkProviderForUser):
        # the sign-in then goes on as the linked user, as Cognito has done
        # since it fixed the "Already found an entry for username" failure
        # of the first sign-in after such a link (reported 2023).
        user, _ = ext._holder(pool, provider, subject)
        if user is None:
            if pool._get_user(username) is not None:
                raise ext.CognitoError("InvalidParameterException", f"Already found an entry for username {username}")
            ext._claim_aliases(pool, None, attrs)
            user = m.CognitoIdpUser(pool.id, username, None, "EXTERNAL_PROVIDER", [{"Name": k, "Value": v} for k, v in attrs.items()])
            ext._set_identities(user, [ext._identity(provider, idp.extended_config.get("ProviderType") or "OIDC", subject, primary=True)])
            pool.users[user.username] = user
            attrs = {}
    if not user.enabled:
        raise ext.CognitoError("NotAuthorizedException", "User is disabled.")
    if attrs:
        ext._update_attributes(pool, user, attrs)
    ext._pre_authentication(pool, client.id, user, user.username, None)
    return user


# -------------------------------------------------------------- /token

def _token_error(status: int, error: str) -> Response:
    return motoext.json_response(status, {"error": error})


def _posted_by_client(req: Request, pool):
    """The client of a token or revoke request (a POST), or the error
    response to give instead."""
    if req.method != "POST":
        return None, _token_error(405, "invalid_request")
    client = _client_auth(req, pool)
    if client is None:
        return None, _token_error(400, "invalid_client")
    return client, None


def _client_auth(req: Request, pool):
    """The client of a token request: client_id in the form, or HTTP Basic
    for a client with a secret (which must then be right)."""
    client_id, secret = req.form.get("client_id"), req.form.get("client_secret")
    auth = req.authorization
    if auth is not None and auth.type == "basic":
        client_id, secret = auth.username, auth.password
    client = pool.clients.get(client_id or "")
    if client is None or (client.generate_secret and secret != client.secret):
        return None
    return client


def _mint(backend, pool, client, username: str, scopes: list[str], nonce: str | None) -> dict[str, Any]:
    refresh, origin = pool.create_refresh_token(client.id, username)
    ext._pool_state(pool, ext._SCOPES, dict)[origin] = " ".join(scopes)
    access, expires_in = pool.create_access_token(client.id, username, origin)
    id_token = ext._id_token(pool, client.id, username, origin, nonce=nonce) if "openid" in scopes else None
    out = {"access_token": access, "refresh_token": refresh, "expires_in": expires_in, "token_type": "Bearer"}
    if id_token:
        out["id_token"] = id_token
    return out


def _token(req: Request, backend, pool, domain: str) -> Response:
    client, refused = _posted_by_client(req, pool)
    if refused is not None:
        return refused
    grant = req.form.get("grant_type")
    if grant == "authorization_code":
        with _lock:
            issued = _codes.pop(req.form.get("code", ""), None)  # one use
        if issued is None or issued["expires"] < motoext.now() or issued["client_id"] != client.id or issued["pool"] is not pool:
            return _token_error(400, "invalid_grant")
        if issued["redirect_uri"] != req.form.get("redirect_uri"):
            return _token_error(400, "invalid_grant")
        if issued["challenge"]:
            verifier = req.form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not verifier or digest != issued["challenge"]:
                return _token_error(400, "invalid_grant")
        user = pool._get_user(issued["username"])
        if user is None or not user.enabled:
            return _token_error(400, "invalid_grant")
        return motoext.json_response(200, _mint(backend, pool, client, user.username, issued["scopes"], issued["nonce"]),
                                     {"Cache-Control": "no-store"})
    if grant == "refresh_token":
        if "ALLOW_REFRESH_TOKEN_AUTH" not in ext._client_flows(client):
            return _token_error(400, "unauthorized_client")
        try:
            ext._check_refresh_token(pool, client.id, req.form.get("refresh_token", ""))
            access, id_token, expires_in = pool.create_tokens_from_refresh_token(req.form.get("refresh_token", ""))
        except ext.CognitoError:
            return _token_error(400, "invalid_grant")
        return motoext.json_response(200, {"access_token": access, "id_token": id_token, "expires_in": expires_in, "token_type": "Bearer"},
                                     {"Cache-Control": "no-store"})
    return _token_error(400, "unsupported_grant_type")


# --------------------------------------------------- userInfo, revoke, logout

def _user_info(req: Request, backend, pool, domain: str) -> Response:
    auth = req.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return motoext.json_response(401, {"error": "invalid_token"})
    try:
        _, token_pool, _, user = ext._user_of_access_token(auth[len("Bearer "):])
    except ext.CognitoError:
        return motoext.json_response(401, {"error": "invalid_token"})
    if token_pool is not pool:
        return motoext.json_response(401, {"error": "invalid_token"})
    info = {k: v for k, v in user.attribute_lookup.items()}
    info["username"] = user.username
    return motoext.json_response(200, info)


def _revoke(req: Request, backend, pool, domain: str) -> Response:
    client, refused = _posted_by_client(req, pool)
    if refused is not None:
        return refused
    if not client.extended_config.get("EnableTokenRevocation", True):
        return _token_error(400, "unsupported_token_type")
    token = req.form.get("token", "")
    issued = pool.refresh_tokens.get(token)
    if issued is not None:
        if issued[0] != client.id:
            return _token_error(400, "invalid_request")
        ext._revoke_refresh_token(pool, token)
    return Response(status=200)


def _logout(req: Request, backend, pool, domain: str) -> Response:
    client = _oauth_client(pool, req.args.get("client_id", ""))
    if client is None:
        return _error_page(400, "invalid_request", "unknown client_id")
    logout_uri = req.args.get("logout_uri")
    if logout_uri:
        if logout_uri not in (client.extended_config.get("LogoutURLs") or []):
            return _error_page(400, "invalid_request", "logout_uri is not one of the client's LogoutURLs")
        return Response(status=302, headers={"Location": logout_uri})
    # logout then sign in again: /logout with the authorize parameters.
    query = urllib.parse.urlencode({k: v for k, v in req.args.items()})
    return Response(status=302, headers={"Location": _base(req, domain) + "/oauth2/authorize?" + query})
