"""Cognito user pools as Cognito runs them, around moto 5.2.1.

Each patch below says what Cognito does (with the AWS document it follows)
and how moto differs. Everything that still differs is listed in
docs/local-stack.md, "What differs from AWS".

AWS references (Amazon Cognito Developer Guide and API Reference):
  [API]      https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/
  [Triggers] https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html
  [Revoke]   https://docs.aws.amazon.com/cognito/latest/developerguide/token-revocation.html
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from moto.cognitoidp import models as m
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult


class CognitoError(JsonRESTError):
    """An error as Cognito's JSON protocol returns it: __type and message."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = 400


def _patch(cls: type, name: str | None = None):
    """Replaces cls.<name> with the decorated function, which receives the
    original as its first argument."""

    def wrap(fn):
        attr = name or fn.__name__
        original = getattr(cls, attr, None)

        def patched(*args, **kwargs):
            return fn(original, *args, **kwargs)

        patched.__name__ = attr
        patched.__doc__ = fn.__doc__
        setattr(cls, attr, patched)
        return fn

    return wrap


def _action(fn):
    """Adds (or replaces) an action of moto's Cognito responder: the method
    named after the operation (RevokeToken -> revoke_token)."""
    setattr(CognitoIdpResponse, fn.__name__, fn)
    return fn


def _all_backends():
    for account in m.cognitoidp_backends.values():
        for region, backend in account.items():
            if region != "global":
                yield backend


def _pool_of_client(client_id: str):
    """The pool (and its backend) an app client id belongs to: Cognito's
    client ids are unique, and unauthenticated calls name no region."""
    for backend in _all_backends():
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                return backend, pool
    return None, None


def _jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT moto issued, unverified (moto keeps every token it
    issued, so a token it knows is genuine)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None


# ------------------------------------------------------------ token state
#
# moto keeps each pool's live access tokens in pool.access_tokens and its
# refresh tokens in pool.refresh_tokens (None once signed out). It forgets
# an access token when it is signed out, never checks expiry, and answers
# "Invalid token" (or the token itself) for all of those. Cognito tells
# them apart: "Invalid Access Token", "Access Token has been revoked",
# "Access Token has expired" (NotAuthorizedException).

_REVOKED_ACCESS = "_ext_revoked_access"  # pool attribute: jti of revoked access tokens
_BY_ORIGIN = "_ext_by_origin"  # pool attribute: origin_jti -> access tokens issued from one refresh token


def _pool_state(pool, attr: str, factory):
    value = getattr(pool, attr, None)
    if value is None:
        value = factory()
        setattr(pool, attr, value)
    return value


@_patch(m.CognitoIdpUserPool)
def create_access_token(original, pool, client_id, username, origin_jti):
    token, expires_in = original(pool, client_id, username, origin_jti)
    _pool_state(pool, _BY_ORIGIN, dict).setdefault(origin_jti, set()).add(token)
    return token, expires_in


def _revoke_access_token(pool, token: str) -> None:
    pool.access_tokens.pop(token, None)
    claims = _jwt_claims(token) or {}
    if claims.get("jti"):
        _pool_state(pool, _REVOKED_ACCESS, set).add(claims["jti"])


@_patch(m.CognitoIdpUserPool)
def sign_out(original, pool, username):
    """GlobalSignOut and AdminUserGlobalSignOut: moto drops the user's
    tokens; the access tokens are remembered as revoked, not unknown."""
    for token, (_, user) in list(pool.access_tokens.items()):
        if user == username:
            _revoke_access_token(pool, token)
    return original(pool, username)


def _check_access_token(token: str):
    """The pool, client and user of a live access token, or Cognito's
    NotAuthorizedException for a token it would refuse."""
    claims = _jwt_claims(token or "")
    for backend in _all_backends():
        for pool in backend.user_pools.values():
            if token in pool.access_tokens:
                client_id, username = pool.access_tokens[token]
                if claims and claims.get("exp", 0) < time.time():
                    raise CognitoError("NotAuthorizedException", "Access Token has expired")
                return backend, pool, client_id, username
            if claims and claims.get("jti") in getattr(pool, _REVOKED_ACCESS, ()):
                raise CognitoError("NotAuthorizedException", "Access Token has been revoked")
    raise CognitoError("NotAuthorizedException", "Invalid Access Token")


def _user_of_access_token(token: str):
    """As Cognito's user APIs that take an access token check it: a live
    token of an existing, enabled user."""
    backend, pool, client_id, username = _check_access_token(token)
    user = pool._get_user(username)
    if user is None:
        raise CognitoError("UserNotFoundException", "User does not exist.")
    if not user.enabled:
        raise CognitoError("NotAuthorizedException", "User is disabled.")
    return backend, pool, client_id, user


# The user APIs that take an access token, checked as Cognito checks it
# before moto's own handling (which knows none of the distinctions above).
for _name in ("get_user", "global_sign_out", "update_user_attributes", "change_password", "set_user_mfa_preference"):

    def _checked(original, self, _name=_name):
        _user_of_access_token(self._get_param("AccessToken"))
        return original(self)

    _patch(CognitoIdpResponse, _name)(_checked)


# ------------------------------------------------------------ RevokeToken
#
# [API] RevokeToken, [Revoke]: revokes a refresh token and every access
# token issued from it ("generated by, and at the same time as"); the
# client must have token revocation enabled (EnableTokenRevocation, on by
# default for clients created since 2021), and a client with a secret must
# send it. moto 5.2.1 has no RevokeToken (HTTP 500).


@_action
def revoke_token(self):
    token = self._get_param("Token") or ""
    client_id = self._get_param("ClientId") or ""
    _, pool = _pool_of_client(client_id)
    if pool is None:
        raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
    client = pool.clients[client_id]
    if client.generate_secret and self._get_param("ClientSecret") != client.secret:
        raise CognitoError("UnauthorizedException", "Client authentication failed.")
    if not client.extended_config.get("EnableTokenRevocation", True):
        raise CognitoError("UnsupportedOperationException", "Token revocation is not enabled for this app client.")
    claims = _jwt_claims(token)
    if claims and claims.get("token_use") in ("access", "id"):
        raise CognitoError("UnsupportedTokenTypeException", "Only refresh tokens can be revoked.")
    issued = pool.refresh_tokens.get(token)
    if issued is None:
        # Unknown or already revoked: nothing to do, as RFC 7009 says.
        return EmptyResult()
    issued_to, _, origin_jti = issued
    if issued_to != client_id:
        raise CognitoError("UnauthorizedException", "The token was not issued to this client.")
    pool.refresh_tokens[token] = None
    for access in _pool_state(pool, _BY_ORIGIN, dict).pop(origin_jti, set()):
        _revoke_access_token(pool, access)
    return EmptyResult()


# Refreshing with a revoked or unknown refresh token, or one of another
# client: moto answers the token itself as the message (AdminInitiateAuth),
# fails with a KeyError (HTTP 500), or refreshes for whichever client the
# token names; Cognito answers NotAuthorizedException. A disabled or
# deleted user's refresh token no longer refreshes.
def _check_refresh_token(pool, client_id: str | None, refresh_token: str) -> None:
    if refresh_token not in pool.refresh_tokens:
        raise CognitoError("NotAuthorizedException", "Invalid Refresh Token")
    issued = pool.refresh_tokens[refresh_token]
    if issued is None:
        raise CognitoError("NotAuthorizedException", "Refresh Token has been revoked")
    if client_id is not None and issued[0] != client_id:
        raise CognitoError("NotAuthorizedException", "Invalid Refresh Token")
    user = pool._get_user(issued[1])
    if user is None:
        raise CognitoError("NotAuthorizedException", "Refresh Token has been revoked")
    if not user.enabled:
        raise CognitoError("NotAuthorizedException", "User is disabled.")


@_patch(m.CognitoIdpUserPool)
def create_tokens_from_refresh_token(original, pool, refresh_token):
    _check_refresh_token(pool, None, refresh_token)
    return original(pool, refresh_token)


_REFRESH_FLOWS = ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")


@_patch(m.CognitoIdpBackend)
def initiate_auth(original, backend, client_id, auth_flow, auth_parameters):
    if auth_flow in _REFRESH_FLOWS:
        _, pool = _pool_of_client(client_id)
        if pool is not None:
            _check_refresh_token(pool, client_id, (auth_parameters or {}).get("REFRESH_TOKEN") or "")
    return original(backend, client_id, auth_flow, auth_parameters)


@_patch(m.CognitoIdpBackend)
def admin_initiate_auth(original, backend, user_pool_id, client_id, auth_flow, auth_parameters):
    if auth_flow in _REFRESH_FLOWS:
        pool = backend.describe_user_pool(user_pool_id)
        _check_refresh_token(pool, client_id, (auth_parameters or {}).get("REFRESH_TOKEN") or "")
    return original(backend, user_pool_id, client_id, auth_flow, auth_parameters)


# ------------------------------------------------------------- DeleteUser
#
# [API] DeleteUser: a signed-in user deletes itself with its access token.
# moto 5.2.1 has no DeleteUser (HTTP 500).


@_action
def delete_user(self):
    backend, pool, _, user = _user_of_access_token(self._get_param("AccessToken"))
    pool.sign_out(user.username)
    backend.admin_delete_user(pool.id, user.username)
    return EmptyResult()
