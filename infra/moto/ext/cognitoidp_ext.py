"""Cognito user pools as Cognito runs them, around moto 5.2.1.

Each patch below says what Cognito does (with the AWS document it follows)
and how moto differs. Everything that still differs is listed in
docs/local-stack.md, "What differs from AWS".

AWS references (Amazon Cognito Developer Guide and API Reference):
  [API]      https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/
  [Triggers] https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html
  [PreAuth]  https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-authentication.html
  [PreSign]  https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-sign-up.html
  [Custom]   https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-challenge.html
  [Flows]    https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-authentication-flow.html
  [Exist]    https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-managing-errors.html
  [Alias]    https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html
  [Revoke]   https://docs.aws.amazon.com/cognito/latest/developerguide/token-revocation.html
  [Link]     https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminLinkProviderForUser.html
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from typing import Any

import motoext

from moto.cognitoidp import models as m
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.cognitoidp.utils import check_secret_hash
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


def _app_client(client_id: str):
    """The backend, pool and app client of a client id, or Cognito's
    ResourceNotFoundException."""
    backend, pool = _pool_of_client(client_id or "")
    if pool is None:
        raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
    return backend, pool, pool.clients[client_id]


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


_SCOPES = "_ext_scopes"  # pool attribute: origin_jti -> the scopes of the sign-in (hosted UI)
ADMIN_SCOPE = "aws.cognito.signin.user.admin"


@_patch(m.CognitoIdpUserPool)
def create_access_token(original, pool, client_id, username, origin_jti):
    """moto's access token, with the sign-in's scopes (the API's sign-ins:
    aws.cognito.signin.user.admin; the hosted UI's: what was asked), and
    indexed by the refresh token it comes from (RevokeToken)."""
    user = pool._get_user(username)
    extra: dict[str, Any] = {
        "origin_jti": origin_jti,
        "scope": _pool_state(pool, _SCOPES, dict).get(origin_jti, ADMIN_SCOPE),
        "event_id": str(m.random.uuid4()),
    }
    if user.groups:
        extra["cognito:groups"] = [g.group_name for g in user.groups]
    token, expires_in = pool.create_jwt(client_id, user.username, "access", extra_data=extra)
    pool.access_tokens[token] = (client_id, user.username)
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
                if claims and claims.get("exp", 0) < motoext.now():
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
for _name in ("global_sign_out", "change_password", "set_user_mfa_preference"):

    def _checked(original, self, _name=_name):
        _user_of_access_token(self._get_param("AccessToken"))
        return original(self)

    _patch(CognitoIdpResponse, _name)(_checked)


@_patch(CognitoIdpResponse)
def get_user(original, self):
    """GetUser of any user a live token names; moto refuses users whose
    status is not CONFIRMED (a federated user's is EXTERNAL_PROVIDER)."""
    _, pool, client_id, user = _user_of_access_token(self._get_param("AccessToken"))
    return ActionResult(user.to_json(extended=True, attributes_key="UserAttributes"))


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
    _, pool, client = _app_client(client_id)
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
    if issued[0] != client_id:
        raise CognitoError("UnauthorizedException", "The token was not issued to this client.")
    _revoke_refresh_token(pool, token)
    return EmptyResult()


def _revoke_refresh_token(pool, token: str) -> None:
    """The refresh token and every access token issued from it."""
    issued = pool.refresh_tokens.get(token)
    if issued is None:
        return
    pool.refresh_tokens[token] = None
    for access in _pool_state(pool, _BY_ORIGIN, dict).pop(issued[2], set()):
        _revoke_access_token(pool, access)


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


# ============================================================ the pool
#
# [API] UpdateUserPool: a pool's sign-in names (AliasAttributes,
# UsernameAttributes, UsernameConfiguration) are fixed at creation, and
# UpdateUserPool does not take them; every other setting the request
# leaves out is reset to its default (as in moto). moto resets those too.

_FIXED_AT_CREATION = ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration")


@_patch(m.CognitoIdpBackend)
def update_user_pool(original, backend, user_pool_id, extended_config):
    pool = backend.describe_user_pool(user_pool_id)
    kept = {k: pool.extended_config[k] for k in _FIXED_AT_CREATION if k in pool.extended_config}
    original(backend, user_pool_id, {k: v for k, v in (extended_config or {}).items() if k not in _FIXED_AT_CREATION})
    pool.extended_config.update(kept)


# ================================================================ users
#
# moto finds a user by its exact username only. Cognito also finds it by a
# verified alias (AliasAttributes: email, phone_number; preferred_username)
# and, in a pool whose UsernameConfiguration says CaseSensitive false, by
# the username in any case [Alias].

_VERIFIED = {"email": "email_verified", "phone_number": "phone_number_verified"}


def _case_insensitive(pool) -> bool:
    return (pool.extended_config.get("UsernameConfiguration") or {}).get("CaseSensitive") is False


def _alias_attributes(pool) -> list[str]:
    return [a for a in pool.extended_config.get("AliasAttributes") or [] if a in ("email", "phone_number", "preferred_username")]


def _same_alias(attr: str, a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return a.lower() == b.lower() if attr in ("email", "preferred_username") else a == b


@_patch(m.CognitoIdpUserPool)
def _get_user(original, pool, username):
    user = original(pool, username)
    if user is not None or not username:
        return user
    if _case_insensitive(pool):
        folded = username.lower()
        for u in pool.users.values():
            if u.username.lower() == folded:
                return u
    for attr in _alias_attributes(pool):
        for u in pool.users.values():
            if _same_alias(attr, u.attribute_lookup.get(attr), username) and (
                attr not in _VERIFIED or u.attribute_lookup.get(_VERIFIED[attr]) == "true"
            ):
                return u
    return None


def _attr_map(attrs) -> dict[str, str]:
    """Cognito's [{"Name", "Value"}] list as a dict (later names win)."""
    return {a["Name"]: a.get("Value", "") for a in attrs or [] if isinstance(a, dict) and "Name" in a}


def _user_attributes(user, with_status: bool = False) -> dict[str, str]:
    """A user's attributes as triggers receive them (request.userAttributes):
    every attribute, sub included; the authentication triggers also get
    cognito:user_status."""
    attrs = dict(user.attribute_lookup)
    if with_status:
        attrs["cognito:user_status"] = str(getattr(user.status, "value", user.status))
    return attrs


# --------------------------------------------------------------- schema
#
# Cognito refuses an attribute the pool's schema does not have, a change
# to an immutable attribute (Mutable false: set once, at creation), and,
# through an app client's own APIs (SignUp, UpdateUserAttributes), an
# attribute the client may not write (WriteAttributes) [API]
# AdminUpdateUserAttributes, UpdateUserAttributes. moto checks none.

_ALWAYS = {"email_verified", "phone_number_verified"}


def _schema(pool) -> dict[str, Any]:
    """Attribute name -> mutable, for every attribute the pool has: the
    standard ones (moto keeps only those a Schema named) and its own."""
    names = {n: spec["Mutable"] for n, spec in m.CognitoIdpUserPoolAttribute.STANDARD_SCHEMA.items()}
    for name, attr in pool.schema_attributes.items():
        names[name] = attr.mutable
    for name in _ALWAYS:
        names.setdefault(name, True)
    return names


def _check_schema(pool, names, updating: bool) -> None:
    schema = _schema(pool)
    unknown = [n for n in names if n not in schema]
    if unknown:
        raise CognitoError(
            "InvalidParameterException",
            "Invalid user attributes: " + " ".join(f"user.{n}: Attribute does not exist in the schema." for n in unknown),
        )
    if updating:
        fixed = [n for n in names if not schema[n]]
        if fixed:
            raise CognitoError(
                "InvalidParameterException",
                "Invalid user attributes: "
                + " ".join(f"user.{n}: Attribute cannot be updated. (changing an immutable attribute)" for n in fixed),
            )


def _check_writable(client, names) -> None:
    """An app client's WriteAttributes (empty: every attribute)."""
    allowed = client.extended_config.get("WriteAttributes")
    if allowed and any(n not in allowed for n in names):
        raise CognitoError("NotAuthorizedException", "A client attempted to write unauthorized attribute")


# ------------------------------------------------------------- aliases
#
# [Alias]: with email (or phone_number) among AliasAttributes, a verified
# email is a second name of its user, so no two users may hold it
# verified: AdminCreateUser, AdminUpdateUserAttributes, UpdateUserAttributes
# and ConfirmSignUp answer AliasExistsException ("An account with the given
# email already exists."), compared case-insensitively; AdminCreateUser and
# ConfirmSignUp with ForceAliasCreation move the alias instead (the other
# user's attribute becomes unverified). moto enforces nothing of it for
# alias pools.


def _alias_owner(pool, attr: str, value: str, exclude=None):
    for u in pool.users.values():
        if u is exclude:
            continue
        if _same_alias(attr, u.attribute_lookup.get(attr), value) and u.attribute_lookup.get(_VERIFIED[attr]) == "true":
            return u
    return None


def _claim_aliases(pool, user, merged: dict[str, str], force: bool = False) -> None:
    """Refuses (or, forced, moves) a verified alias in merged that another
    user holds; user is the one being created or changed (None: new)."""
    for attr in _alias_attributes(pool):
        if attr not in _VERIFIED:
            continue
        value = merged.get(attr)
        if not value or merged.get(_VERIFIED[attr]) != "true":
            continue
        owner = _alias_owner(pool, attr, value, exclude=user)
        if owner is None:
            continue
        if not force:
            raise CognitoError("AliasExistsException", f"An account with the given {attr} already exists.")
        owner.update_attributes([{"Name": _VERIFIED[attr], "Value": "false"}])


# ============================================================= triggers
#
# [Triggers]: Cognito invokes the pool's LambdaConfig functions
# synchronously with an event of the trigger's source, waits up to 5 s,
# and answers a function error as UserLambdaValidationException
# "<Trigger> failed with error <errorMessage>." (the period is added even
# after one the message ends with); a function it cannot run
# as UnexpectedLambdaException, and an answer it cannot read as
# InvalidLambdaResponseException. The layer invokes them through Lambda's
# Invoke API at the endpoint registered for each ARN (motoext.invoke).

TRIGGER_TIMEOUT = 5.0

# What Cognito puts in event.response before the function sees it.
_EMPTY_RESPONSE = {
    "PreSignUp": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    "DefineAuthChallenge": {"challengeName": None, "issueTokens": False, "failAuthentication": False},
    "CreateAuthChallenge": {"publicChallengeParameters": {}, "privateChallengeParameters": {}, "challengeMetadata": None},
    "VerifyAuthChallengeResponse": {"answerCorrect": False},
}

NOT_APPLICABLE = "CLIENT_ID_NOT_APPLICABLE"


def _trigger(pool, slot: str, source: str, username: str, request: dict[str, Any], client_id: str | None = None):
    """Runs the pool's <slot> trigger; returns its event.response, or None
    when the pool has no such trigger."""
    arn = (pool.extended_config.get("LambdaConfig") or {}).get(slot)
    if not arn:
        return None
    event = {
        "version": "1",
        "triggerSource": source,
        "region": pool.region,
        "userPoolId": pool.id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id or NOT_APPLICABLE},
        "request": request,
        "response": dict(_EMPTY_RESPONSE.get(slot, {})),
    }
    try:
        out = motoext.invoke(arn, event, TRIGGER_TIMEOUT)
    except motoext.FunctionError as e:
        raise CognitoError("UserLambdaValidationException", f"{slot} failed with error {e.message}.") from None
    except motoext.InvokeTimeout:
        raise CognitoError(
            "UnexpectedLambdaException", f"{slot} invocation failed due to error Socket timeout while invoking Lambda function."
        ) from None
    except motoext.InvalidOutput:
        raise CognitoError("InvalidLambdaResponseException", "Unrecognizable lambda output") from None
    except motoext.InvokeError as e:
        raise CognitoError("UnexpectedLambdaException", f"{slot} invocation failed due to error {e.error}.") from None
    if not isinstance(out, dict) or not isinstance(out.get("response", {}), (dict, type(None))):
        raise CognitoError("InvalidLambdaResponseException", "Unrecognizable lambda output")
    return out.get("response") or {}


def _pre_authentication(pool, client_id: str, user, username: str, metadata, not_found: bool = False) -> None:
    """[PreAuth]: before a sign-in (not a refresh), with the ClientMetadata
    of (Admin)InitiateAuth as validationData; for a missing user only when
    the client has PreventUserExistenceErrors ENABLED (userNotFound)."""
    request: dict[str, Any] = {
        "userAttributes": _user_attributes(user, with_status=True) if user else {},
        "validationData": metadata or None,
    }
    if not_found:
        request["userNotFound"] = True
    _trigger(pool, "PreAuthentication", "PreAuthentication_Authentication", user.username if user else username, request, client_id)


def _post_authentication(backend, pool, client_id: str, user, result: dict[str, Any], metadata) -> dict[str, Any]:
    """Post authentication, once tokens are issued; a function error fails
    the sign-in (the tokens just minted are revoked)."""
    if not (pool.extended_config.get("LambdaConfig") or {}).get("PostAuthentication") or "AuthenticationResult" not in result:
        return result
    request = {"userAttributes": _user_attributes(user, with_status=True), "newDeviceUsed": False, "clientMetadata": metadata or None}
    try:
        _trigger(pool, "PostAuthentication", "PostAuthentication_Authentication", user.username, request, client_id)
    except CognitoError:
        auth = result["AuthenticationResult"]
        if auth.get("RefreshToken") in pool.refresh_tokens:
            pool.refresh_tokens[auth["RefreshToken"]] = None
        _revoke_access_token(pool, auth.get("AccessToken", ""))
        raise
    return result


# ==================================================== app client rules
#
# [API] CreateUserPoolClient ExplicitAuthFlows: a client signs in only
# through the flows it lists; none listed means USER_SRP_AUTH, CUSTOM_AUTH
# and refresh. The legacy names still count (ADMIN_NO_SRP_AUTH,
# USER_PASSWORD_AUTH, CUSTOM_AUTH_FLOW_ONLY: custom auth only). moto lets
# every client use every flow.

_DEFAULT_FLOWS = {"ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
_LEGACY = {"ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH"}
_FLOW_NEEDS = {
    "ADMIN_USER_PASSWORD_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
    "USER_AUTH": "ALLOW_USER_AUTH",
}
# The refusals as Cognito words them (USER_PASSWORD_AUTH's and the admin
# flows' are quoted in AWS knowledge-center articles; the others follow).
_FLOW_REFUSAL = {
    "USER_PASSWORD_AUTH": "USER_PASSWORD_AUTH flow not enabled for this client",
    "USER_SRP_AUTH": "USER_SRP_AUTH is not enabled for the client.",
}


def _client_flows(client) -> set[str]:
    listed = client.extended_config.get("ExplicitAuthFlows") or []
    if not listed:
        return set(_DEFAULT_FLOWS)
    if "CUSTOM_AUTH_FLOW_ONLY" in listed:
        return {"ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    return {_LEGACY.get(f, f) for f in listed}


def _require_flow(client, flow: str) -> None:
    needed = _FLOW_NEEDS.get(flow)
    if needed is None or needed in _client_flows(client):
        return
    listed = client.extended_config.get("ExplicitAuthFlows") or []
    if "CUSTOM_AUTH_FLOW_ONLY" in listed:
        raise CognitoError("InvalidParameterException", "Only custom auth (lambda driven) is enabled for this client.")
    raise CognitoError("InvalidParameterException", _FLOW_REFUSAL.get(flow, "Auth flow not enabled for this client"))


def _prevents_existence_errors(client) -> bool:
    return client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"


def _check_client_secret(client, username: str, given: str | None) -> None:
    if client.generate_secret and not check_secret_hash(client.secret, client.id, username, given):
        raise CognitoError("NotAuthorizedException", f"Unable to verify secret hash for client {client.id}")


INCORRECT = "Incorrect username or password."


def _user_missing(client):
    """[Exist]: a missing user is UserNotFoundException, or with
    PreventUserExistenceErrors ENABLED the same answer as a wrong password."""
    if _prevents_existence_errors(client):
        return CognitoError("NotAuthorizedException", INCORRECT)
    return CognitoError("UserNotFoundException", "User does not exist.")


# ======================================================= sign-in flows
#
# [Flows]: (Admin)InitiateAuth checks the client's flows, finds the user
# (by alias too), refuses a disabled one, runs PreAuthentication with the
# request's ClientMetadata as validationData, then checks the password;
# refreshing runs no trigger. moto runs no trigger, and answers a missing
# user the same whatever PreventUserExistenceErrors says.

_PASSWORD_FLOWS = ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH")
_ADMIN_FLOWS = {"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN", "CUSTOM_AUTH", "USER_AUTH"}
_PUBLIC_FLOWS = {"USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN", "CUSTOM_AUTH", "USER_PASSWORD_AUTH", "USER_AUTH"}


def _check_flow_name(flow: str, allowed: set[str]) -> None:
    if flow not in m.AuthFlow.list() and flow != "USER_AUTH":
        raise CognitoError(
            "InvalidParameterException",
            f"1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: "
            f"Member must satisfy enum value set: {sorted(_ADMIN_FLOWS | _PUBLIC_FLOWS)}",
        )
    if flow not in allowed:
        raise CognitoError("InvalidParameterException", "Initiate Auth method not supported")


def _sign_in(backend, pool, client, flow: str, params: dict[str, str], metadata, admin: bool):
    """Everything Cognito does before moto's own sign-in code runs; returns
    the response, or None to let moto answer (with USERNAME made the
    user's real username)."""
    _check_flow_name(flow, _ADMIN_FLOWS if admin else _PUBLIC_FLOWS)
    _require_flow(client, flow)
    if flow in _REFRESH_FLOWS:
        return None
    if flow == "USER_AUTH":
        raise CognitoError("InvalidParameterException", "USER_AUTH (choice-based sign-in) is not supported by the local Cognito")
    username = params.get("USERNAME") or ""
    if not username:
        raise CognitoError("InvalidParameterException", "Missing required parameter USERNAME")
    _check_client_secret(client, username, params.get("SECRET_HASH"))
    user = pool._get_user(username)
    if flow == "CUSTOM_AUTH":
        return _custom_start(backend, pool, client, user, username, metadata)
    if user is None:
        if _prevents_existence_errors(client):
            _pre_authentication(pool, client.id, None, username, metadata, not_found=True)
        raise _user_missing(client)
    if not user.enabled:
        raise CognitoError("NotAuthorizedException", "User is disabled.")
    _pre_authentication(pool, client.id, user, username, metadata)
    if flow in _PASSWORD_FLOWS:
        if user.password != params.get("PASSWORD"):
            raise CognitoError("NotAuthorizedException", INCORRECT)
        if user.status == m.UserStatus.UNCONFIRMED:
            raise CognitoError("UserNotConfirmedException", "User is not confirmed.")
    params["USERNAME"] = user.username
    return None


def _finish_sign_in(backend, pool, client_id: str, result: dict[str, Any], username: str, metadata) -> dict[str, Any]:
    user = pool._get_user(username)
    if user is None:
        return result
    return _post_authentication(backend, pool, client_id, user, result, metadata)


@_patch(CognitoIdpResponse)
def admin_initiate_auth(original, self):
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    client_id = self._get_param("ClientId")
    client = pool.clients.get(client_id)
    if client is None:
        raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
    flow = self._get_param("AuthFlow")
    params = self._get_param("AuthParameters") or {}
    answer = _sign_in(self.backend, pool, client, flow, params, self._get_param("ClientMetadata"), admin=True)
    if answer is not None:
        return ActionResult(answer)
    result = self.backend.admin_initiate_auth(pool.id, client_id, flow, params)
    if flow in _PASSWORD_FLOWS:
        # Refreshing runs no trigger; a password sign-in's post
        # authentication gets no ClientMetadata from InitiateAuth.
        result = _finish_sign_in(self.backend, pool, client_id, result, params["USERNAME"], None)
    return ActionResult(result)


@_patch(CognitoIdpResponse)
def initiate_auth(original, self):
    client_id = self._get_param("ClientId")
    backend, pool, client = _app_client(client_id)
    flow = self._get_param("AuthFlow")
    params = self._get_param("AuthParameters") or {}
    answer = _sign_in(backend, pool, client, flow, params, self._get_param("ClientMetadata"), admin=False)
    if answer is not None:
        return ActionResult(answer)
    result = backend.initiate_auth(client_id, flow, params)
    if flow in _PASSWORD_FLOWS:
        result = _finish_sign_in(backend, pool, client_id, result, params["USERNAME"], None)
    return ActionResult(result)


def _respond(backend, pool_id: str | None, self) -> ActionResult:
    client_id = self._get_param("ClientId")
    challenge = self._get_param("ChallengeName")
    responses = self._get_param("ChallengeResponses") or {}
    session = self._get_param("Session")
    metadata = self._get_param("ClientMetadata")
    if challenge == "CUSTOM_CHALLENGE":
        return ActionResult(_custom_respond(pool_id, client_id, session, responses, metadata))
    if session in _custom_sessions:
        raise CognitoError("InvalidParameterException", f"The session is a custom authentication's: ChallengeName must be CUSTOM_CHALLENGE, not {challenge}")
    if session not in backend.sessions and challenge != "PASSWORD_VERIFIER":
        raise CognitoError("NotAuthorizedException", "Invalid session for the user.")
    _, pool = backend.sessions.get(session, (None, None))
    result = backend.respond_to_auth_challenge(session, client_id, challenge, responses)
    if pool is not None and result and "AuthenticationResult" in result:
        result = _finish_sign_in(backend, pool, client_id, result, responses.get("USERNAME", ""), metadata)
    return ActionResult(result)


@_patch(CognitoIdpResponse)
def admin_respond_to_auth_challenge(original, self):
    return _respond(self.backend, self._get_param("UserPoolId"), self)


@_patch(CognitoIdpResponse)
def respond_to_auth_challenge(original, self):
    _backend, _ = _pool_of_client(self._get_param("ClientId") or "")
    return _respond(_backend or self.backend, None, self)


# ======================================================== custom auth
#
# [Custom], [Flows]: CUSTOM_AUTH runs DefineAuthChallenge with the
# challenges so far (none at first), which either issues tokens, fails the
# sign-in, or names the next challenge; CreateAuthChallenge makes it
# (publicChallengeParameters go to the caller, with USERNAME; the private
# ones and challengeMetadata stay with Cognito); RespondToAuthChallenge's
# ANSWER goes to VerifyAuthChallengeResponse, whose answerCorrect joins
# the session, and DefineAuthChallenge decides again. Each answer gets a
# new session (one use), valid for the client's AuthSessionValidity
# minutes (default 3). ClientMetadata reaches Define and Create only from
# RespondToAuthChallenge, never from InitiateAuth ([API] InitiateAuth,
# ClientMetadata). With PreventUserExistenceErrors ENABLED a missing user
# still runs the triggers (userNotFound) and fails like a wrong answer.
# The tokens are moto's own (_log_user_in), so refresh, GetUser, sign-out
# and RevokeToken work on them. moto has no CUSTOM_AUTH in
# AdminInitiateAuth, and answers it in InitiateAuth as if it were
# USER_SRP_AUTH.

_CUSTOM_TRIGGERS = ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse")

_custom_sessions: dict[str, dict[str, Any]] = {}
_custom_lock = threading.Lock()


@motoext.on_reset
def _forget_custom_sessions() -> None:
    with _custom_lock:
        _custom_sessions.clear()


def _session_minutes(client) -> int:
    return int(client.extended_config.get("AuthSessionValidity") or 3)


def _custom_start(backend, pool, client, user, username: str, metadata):
    config = pool.extended_config.get("LambdaConfig") or {}
    if not all(config.get(t) for t in _CUSTOM_TRIGGERS):
        raise CognitoError("InvalidParameterException", "Custom auth lambda trigger is not configured for the user pool.")
    not_found = user is None
    if not_found and not _prevents_existence_errors(client):
        raise _user_missing(client)
    if user is not None and not user.enabled:
        raise CognitoError("NotAuthorizedException", "User is disabled.")
    if user is not None and user.status == m.UserStatus.UNCONFIRMED:
        raise CognitoError("UserNotConfirmedException", "User is not confirmed.")
    _pre_authentication(pool, client.id, user, username, metadata, not_found=not_found)
    state = {
        "backend": backend,
        "pool": pool,
        "client_id": client.id,
        "username": user.username if user else username,
        "not_found": not_found,
        "session": [],
    }
    # InitiateAuth's ClientMetadata is not passed to Define or Create.
    return _custom_next(state, None)


def _custom_request(state, user, metadata, **extra) -> dict[str, Any]:
    request: dict[str, Any] = {
        "userAttributes": _user_attributes(user, with_status=True) if user else {},
        "session": [dict(c) for c in state["session"]],
    }
    if metadata:
        request["clientMetadata"] = metadata
    if state["not_found"]:
        request["userNotFound"] = True
    request.update(extra)
    return request


def _custom_next(state, metadata) -> dict[str, Any]:
    """Asks DefineAuthChallenge what comes next and does it."""
    pool, username = state["pool"], state["username"]
    user = None if state["not_found"] else pool._get_user(username)
    if not state["not_found"] and user is None:
        raise _user_missing(pool.clients[state["client_id"]])
    decision = _trigger(pool, "DefineAuthChallenge", "DefineAuthChallenge_Authentication", username,
                        _custom_request(state, user, metadata), state["client_id"])
    if decision.get("failAuthentication"):
        raise CognitoError("NotAuthorizedException", INCORRECT)
    if decision.get("issueTokens"):
        if user is None:
            raise CognitoError("NotAuthorizedException", INCORRECT)
        if not user.enabled:
            raise CognitoError("NotAuthorizedException", "User is disabled.")
        client = pool.clients[state["client_id"]]
        result = state["backend"]._log_user_in(pool, client, user.username)
        return _post_authentication(state["backend"], pool, client.id, user, result, metadata)
    name = decision.get("challengeName")
    if name != "CUSTOM_CHALLENGE":
        raise CognitoError(
            "InvalidLambdaResponseException",
            f"Invalid lambda response: DefineAuthChallenge named challenge {name!r}; the local Cognito runs CUSTOM_CHALLENGE only",
        )
    created = _trigger(pool, "CreateAuthChallenge", "CreateAuthChallenge_Authentication", username,
                       _custom_request(state, user, metadata, challengeName=name), state["client_id"])
    public = created.get("publicChallengeParameters") or {}
    state["challenge"] = {
        "name": name,
        "private": created.get("privateChallengeParameters") or {},
        "metadata": created.get("challengeMetadata"),
    }
    token = secrets.token_urlsafe(96)
    state["expires"] = motoext.now() + 60 * _session_minutes(pool.clients[state["client_id"]])
    with _custom_lock:
        _custom_sessions[token] = state
    params = {str(k): str(v) for k, v in public.items()}
    params["USERNAME"] = username
    return {"ChallengeName": name, "Session": token, "ChallengeParameters": params}


def _custom_respond(pool_id: str | None, client_id: str, token: str | None, responses: dict[str, str], metadata):
    with _custom_lock:
        # One use: taken out whatever the answer.
        state = _custom_sessions.pop(token or "", None)
    if state is None:
        raise CognitoError("NotAuthorizedException", "Invalid session for the user.")
    pool = state["pool"]
    if motoext.now() > state["expires"]:
        raise CognitoError("NotAuthorizedException", "Invalid session for the user, session is expired.")
    if state["client_id"] != client_id or (pool_id is not None and pool.id != pool_id):
        raise CognitoError("NotAuthorizedException", "Invalid session for the user.")
    client = pool.clients.get(client_id)
    if client is None:
        raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
    given = responses.get("USERNAME") or ""
    if not given:
        raise CognitoError("InvalidParameterException", "Missing required parameter USERNAME")
    _check_client_secret(client, given, responses.get("SECRET_HASH"))
    user = None
    if not state["not_found"]:
        user = pool._get_user(given)
        if user is None or user.username != state["username"]:
            if pool._get_user(state["username"]) is None:
                raise _user_missing(client)
            raise CognitoError("NotAuthorizedException", "Invalid session for the user.")
        if not user.enabled:
            raise CognitoError("NotAuthorizedException", "User is disabled.")
    elif given != state["username"]:
        raise CognitoError("NotAuthorizedException", "Invalid session for the user.")
    if "ANSWER" not in responses:
        raise CognitoError("InvalidParameterException", "Missing required parameter ANSWER")
    challenge = state["challenge"]
    verdict = _trigger(pool, "VerifyAuthChallengeResponse", "VerifyAuthChallengeResponse_Authentication", state["username"],
                       _custom_request(state, user, metadata, privateChallengeParameters=challenge["private"],
                                       challengeAnswer=responses["ANSWER"]), client_id)
    state["session"].append({
        "challengeName": challenge["name"],
        "challengeResult": bool(verdict.get("answerCorrect")) and not state["not_found"],
        "challengeMetadata": challenge["metadata"],
    })
    return _custom_next(state, metadata)


# ====================================================== creating users
#
# [PreSign]: PreSignUp runs for SignUp (PreSignUp_SignUp: ValidationData
# as validationData, ClientMetadata as clientMetadata; autoConfirmUser and
# autoVerifyEmail/Phone honoured), for AdminCreateUser
# (PreSignUp_AdminCreateUser) and for a federated first sign-in
# (PreSignUp_ExternalProvider, in the hosted UI). Cognito also refuses
# SignUp in a pool that only administrators may fill
# (AllowAdminCreateUserOnly), an email-shaped username in a pool with an
# email alias, and a taken verified alias. moto runs no trigger and
# checks none of these.


def _refuse_alias_shaped_username(pool, username: str) -> None:
    if "email" in _alias_attributes(pool) and m.validate_username_format(username, _format="email"):
        raise CognitoError("InvalidParameterException", "Username cannot be of email format, since user pool is configured for email alias.")
    if "phone_number" in _alias_attributes(pool) and m.validate_username_format(username, _format="phone_number"):
        raise CognitoError("InvalidParameterException", "Username cannot be of phone format, since user pool is configured for phone_number alias.")


@_patch(CognitoIdpResponse)
def admin_create_user(original, self):
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    username = self._get_param("Username") or ""
    attrs = _attr_map(self._get_param("UserAttributes"))
    if self._get_param("MessageAction") != "RESEND":
        if pool._get_user(username) is not None:
            raise CognitoError("UsernameExistsException", "User account already exists")
        _refuse_alias_shaped_username(pool, username)
        _check_schema(pool, attrs, updating=False)
        temporary = self._get_param("TemporaryPassword")
        if temporary:
            self.backend._validate_password(pool.id, temporary)
        _trigger(pool, "PreSignUp", "PreSignUp_AdminCreateUser", username, {
            "userAttributes": attrs,
            "validationData": _attr_map(self._get_param("ValidationData")) or None,
            "clientMetadata": self._get_param("ClientMetadata") or None,
        })
        # After the trigger, which may have created the user meanwhile.
        if pool._get_user(username) is not None:
            raise CognitoError("UsernameExistsException", "User account already exists")
        _claim_aliases(pool, None, attrs, force=bool(self._get_param("ForceAliasCreation")))
    return original(self)


@_patch(CognitoIdpResponse)
def sign_up(original, self):
    client_id = self._get_param("ClientId")
    backend, pool, client = _app_client(client_id)
    username = self._get_param("Username") or ""
    attrs = _attr_map(self._get_param("UserAttributes"))
    _check_client_secret(client, username, self._get_param("SecretHash"))
    if (pool.extended_config.get("AdminCreateUserConfig") or {}).get("AllowAdminCreateUserOnly"):
        raise CognitoError("NotAuthorizedException", "SignUp is not permitted for this user pool")
    if pool._get_user(username) is not None:
        raise CognitoError("UsernameExistsException", "User already exists")
    _refuse_alias_shaped_username(pool, username)
    _check_schema(pool, attrs, updating=False)
    _check_writable(client, attrs)
    backend._validate_password(pool.id, self._get_param("Password") or "")
    decision = _trigger(pool, "PreSignUp", "PreSignUp_SignUp", username, {
        "userAttributes": attrs,
        "validationData": _attr_map(self._get_param("ValidationData")) or None,
        "clientMetadata": self._get_param("ClientMetadata") or None,
    }, client_id) or {}
    result = original(self)
    user = pool._get_user(username)
    if user is not None:
        verify = []
        if decision.get("autoVerifyEmail") and "email" in user.attribute_lookup:
            verify.append({"Name": "email_verified", "Value": "true"})
        if decision.get("autoVerifyPhone") and "phone_number" in user.attribute_lookup:
            verify.append({"Name": "phone_number_verified", "Value": "true"})
        if verify:
            merged = dict(user.attribute_lookup)
            merged.update(_attr_map(verify))
            _claim_aliases(pool, user, merged)
            user.update_attributes(verify)
        if decision.get("autoConfirmUser"):
            user.status = m.UserStatus.CONFIRMED
            _post_confirmation(pool, user, client_id, self._get_param("ClientMetadata"))
            return ActionResult({"UserConfirmed": True, "UserSub": user.id})
    return result


def _post_confirmation(pool, user, client_id, metadata, source: str = "PostConfirmation_ConfirmSignUp") -> None:
    _trigger(pool, "PostConfirmation", source, user.username,
             {"userAttributes": _user_attributes(user, with_status=True), "clientMetadata": metadata or None}, client_id)


@_patch(CognitoIdpResponse)
def confirm_sign_up(original, self):
    """Confirming a sign-up verifies the attribute the code went to (an
    AutoVerifiedAttributes one), which then must not be another user's
    alias; [Exist]: a missing user is CodeMismatchException when the
    client prevents existence errors."""
    client_id = self._get_param("ClientId")
    _, pool, client = _app_client(client_id)
    user = pool._get_user(self._get_param("Username") or "")
    if user is None:
        if _prevents_existence_errors(client):
            raise CognitoError("CodeMismatchException", CODE_MISMATCH)
        raise CognitoError("UserNotFoundException", "Username/client id combination not found.")
    auto = pool.extended_config.get("AutoVerifiedAttributes") or []
    verify = {_VERIFIED[a]: "true" for a in ("email", "phone_number") if a in auto and a in user.attribute_lookup}
    if verify:
        merged = dict(user.attribute_lookup)
        merged.update(verify)
        _claim_aliases(pool, user, merged, force=bool(self._get_param("ForceAliasCreation")))
    user.status = m.UserStatus.CONFIRMED
    if verify:
        user.update_attributes([{"Name": k, "Value": v} for k, v in verify.items()])
    _post_confirmation(pool, user, client_id, self._get_param("ClientMetadata"))
    return EmptyResult()


@_patch(CognitoIdpResponse)
def admin_confirm_sign_up(original, self):
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    user = self.backend.admin_get_user(pool.id, self._get_param("Username"))
    user.status = m.UserStatus.CONFIRMED
    _post_confirmation(pool, user, None, self._get_param("ClientMetadata"))
    return EmptyResult()


# ==================================================== changing users

def _update_attributes(pool, user, attrs: dict[str, str]) -> None:
    _check_schema(pool, attrs, updating=True)
    merged = dict(user.attribute_lookup)
    merged.update(attrs)
    # A new email (or phone) is unverified until said otherwise.
    for attr, verified in _VERIFIED.items():
        if attr in attrs and attrs[attr] != user.attribute_lookup.get(attr) and verified not in attrs:
            merged[verified] = "false"
    _claim_aliases(pool, user, merged)
    user.update_attributes([{"Name": k, "Value": v} for k, v in merged.items() if k in attrs or k in _VERIFIED.values()])


@_patch(CognitoIdpResponse)
def admin_update_user_attributes(original, self):
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    user = self.backend.admin_get_user(pool.id, self._get_param("Username"))
    _update_attributes(pool, user, _attr_map(self._get_param("UserAttributes")))
    return EmptyResult()


@_patch(CognitoIdpResponse)
def update_user_attributes(original, self):
    _, pool, client_id, user = _user_of_access_token(self._get_param("AccessToken"))
    attrs = _attr_map(self._get_param("UserAttributes"))
    client = pool.clients.get(client_id)
    if client is not None:
        _check_writable(client, attrs)
    _update_attributes(pool, user, attrs)
    return ActionResult({"CodeDeliveryDetailsList": []})


@_patch(CognitoIdpResponse)
def admin_delete_user_attributes(original, self):
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    self.backend.admin_get_user(pool.id, self._get_param("Username"))
    _check_schema(pool, self._get_param("UserAttributeNames") or [], updating=True)
    return original(self)


# [Exist]: password recovery for a missing user, with existence errors
# prevented: ForgotPassword answers as if it had sent a code,
# ConfirmForgotPassword a code mismatch.
CODE_MISMATCH = "Invalid verification code provided, please try again."


def _recovery_of_missing_user(self, prevented) -> ActionResult | None:
    """What a password-recovery call answers for a user the client's pool
    lacks: prevented() when the client hides existence, else
    UserNotFoundException; None when the user exists."""
    client_id = self._get_param("ClientId") or ""
    _, pool = _pool_of_client(client_id)
    if pool is None or pool._get_user(self._get_param("Username") or "") is not None:
        return None
    if _prevents_existence_errors(pool.clients[client_id]):
        return prevented()
    raise CognitoError("UserNotFoundException", "Username/client id combination not found.")


def _pretend_sent() -> ActionResult:
    return ActionResult({"CodeDeliveryDetails": {"Destination": "u***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}})


def _code_mismatch() -> ActionResult:
    raise CognitoError("CodeMismatchException", CODE_MISMATCH)


@_patch(CognitoIdpResponse)
def forgot_password(original, self):
    return _recovery_of_missing_user(self, _pretend_sent) or original(self)


@_patch(CognitoIdpResponse)
def confirm_forgot_password(original, self):
    return _recovery_of_missing_user(self, _code_mismatch) or original(self)


# ======================================================= linked identities
#
# [Link] AdminLinkProviderForUser: an external identity (SourceUser: the
# pool's identity provider, Cognito_Subject, the provider's sub) signs in
# as an existing user (DestinationUser: ProviderName Cognito, the
# username). Cognito's rules: the destination exists; it holds no value of
# an immutable attribute; at most 5 identities per user
# (LimitExceededException); an identity that already signed up as a user
# of its own must be deleted first ("Merging is not currently supported"),
# and one already linked is refused as an invalid SourceUser. The link
# shows in the destination's identities attribute (a JSON list) and in its
# ID tokens. AdminDisableProviderForUser removes it (or, for an identity
# that signed up as a user of its own, stops that user signing in).
# moto 5.2.1 has neither operation (HTTP 500).

MAX_LINKS = 5


def _identities(user) -> list[dict[str, Any]]:
    raw = user.attribute_lookup.get("identities")
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _set_identities(user, identities: list[dict[str, Any]]) -> None:
    if identities:
        user.update_attributes([{"Name": "identities", "Value": json.dumps(identities, separators=(",", ":"))}])
    elif "identities" in user.attribute_lookup:
        user.delete_attributes(["identities"])


def _identity(provider_name: str, provider_type: str, subject: str, primary: bool) -> dict[str, Any]:
    return {
        "dateCreated": str(int(motoext.now() * 1000)),
        "userId": subject,
        "providerName": provider_name,
        "providerType": provider_type,
        "issuer": None,
        "primary": "true" if primary else "false",
    }


def _holder(pool, provider_name: str, subject: str):
    """The user an identity signs in as: the one it is linked to, or the
    user it signed up as (<Provider>_<sub>)."""
    for u in pool.users.values():
        for ident in _identities(u):
            if ident.get("providerName", "").lower() == provider_name.lower() and ident.get("userId") == subject:
                return u, ident.get("primary") == "true"
    return None, False


def _provider(pool, name: str):
    for provider_name, idp in pool.identity_providers.items():
        if provider_name.lower() == (name or "").lower():
            return provider_name, idp
    raise CognitoError("InvalidParameterException", f"Invalid SourceUser: the user pool has no identity provider {name!r}.")


def _source(pool, ident: dict[str, str] | None):
    ident = ident or {}
    provider_name, idp = _provider(pool, ident.get("ProviderName", ""))
    attribute = ident.get("ProviderAttributeName") or "Cognito_Subject"
    subject = ident.get("ProviderAttributeValue") or ""
    if not subject:
        raise CognitoError("InvalidParameterException", "Invalid SourceUser: ProviderAttributeValue is required.")
    if attribute != "Cognito_Subject":
        raise CognitoError("InvalidParameterException", "Invalid SourceUser: the local Cognito links by Cognito_Subject only.")
    return provider_name, idp.extended_config.get("ProviderType") or "OIDC", subject


@_action
def admin_link_provider_for_user(self):
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    dest = self._get_param("DestinationUser") or {}
    if (dest.get("ProviderName") or "").lower() != "cognito":
        raise CognitoError("InvalidParameterException", "Invalid DestinationUser: ProviderName must be Cognito.")
    user = pool._get_user(dest.get("ProviderAttributeValue") or "")
    if user is None:
        raise CognitoError("UserNotFoundException", "User does not exist.")
    provider_name, provider_type, subject = _source(pool, self._get_param("SourceUser"))
    holder, primary = _holder(pool, provider_name, subject)
    if holder is not None and primary:
        raise CognitoError("InvalidParameterException", "Merging is not currently supported, provide a SourceUser that has not been signed up in order to link")
    if holder is not None:
        raise CognitoError("InvalidParameterException", "Invalid SourceUser: the identity is already linked to a user.")
    schema = _schema(pool)
    fixed = [n for n in user.attribute_lookup if n != "sub" and n in schema and not schema[n]]
    if fixed:
        raise CognitoError("InvalidParameterException", f"Invalid DestinationUser: it has immutable attributes ({', '.join(sorted(fixed))}), which a linked identity could not update.")
    identities = _identities(user)
    if len(identities) >= MAX_LINKS:
        raise CognitoError("LimitExceededException", f"A user can have at most {MAX_LINKS} linked identities.")
    identities.append(_identity(provider_name, provider_type, subject, primary=False))
    _set_identities(user, identities)
    return EmptyResult()


@_action
def admin_disable_provider_for_user(self):
    pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
    provider_name, _, subject = _source(pool, self._get_param("User"))
    holder, primary = _holder(pool, provider_name, subject)
    if holder is None:
        raise CognitoError("UserNotFoundException", "User does not exist.")
    if primary:
        holder.enabled = False
        pool.sign_out(holder.username)
        return EmptyResult()
    _set_identities(holder, [i for i in _identities(holder)
                             if not (i.get("providerName", "").lower() == provider_name.lower() and i.get("userId") == subject)])
    return EmptyResult()


# ========================================================= ID tokens
#
# Cognito's ID token holds the attributes the client may read
# (ReadAttributes; none listed: all), email_verified and
# phone_number_verified as JSON booleans, and identities as a JSON list.
# moto puts in only the ReadAttributes it was given (none listed: none
# but custom ones, which it always adds), every value as a string.

_BOOLEAN_CLAIMS = ("email_verified", "phone_number_verified")


@_patch(m.CognitoIdpUserPool)
def get_user_extra_data_by_client_id(original, pool, client_id, username):
    user = pool._get_user(username)
    client = pool.clients.get(client_id)
    readable = client.extended_config.get("ReadAttributes") if client else None
    data: dict[str, Any] = {}
    for name, value in user.attribute_lookup.items():
        if name in ("sub", "identities") or (readable and name not in readable):
            continue
        data[name] = (value == "true") if name in _BOOLEAN_CLAIMS else value
    identities = _identities(user)
    if identities:
        data["identities"] = identities
    return data


def _id_token(pool, client_id: str, username: str, origin_jti: str, nonce: str | None = None) -> str:
    user = pool._get_user(username)
    extra = pool.get_user_extra_data_by_client_id(client_id, user.username)
    extra["origin_jti"] = origin_jti
    extra["event_id"] = str(m.random.uuid4())
    if nonce:
        extra["nonce"] = nonce
    if user.groups:
        extra["cognito:groups"] = [g.group_name for g in user.groups]
    token, _ = pool.create_jwt(client_id, user.username, "id", extra_data=extra)
    pool.id_tokens[token] = (client_id, user.username)
    return token


@_patch(m.CognitoIdpUserPool)
def create_id_token(original, pool, client_id, username, origin_jti):
    # moto's adds every custom attribute after the readable ones; the
    # readable ones, as Cognito gives them, are all there is.
    return _id_token(pool, client_id, username, origin_jti), 3600


# The hosted UI (its endpoints on moto's address) uses the above.
import cognitoidp_hostedui  # noqa: E402,F401
