"""Cognito identity pools as Cognito runs them, around moto 5.2.1.

moto's Cognito Identity answers GetId with a new random identity id on
every call, ignores the Logins map (any caller gets an identity, whatever
the pool allows), answers GetCredentialsForIdentity with the same fixed
fake credentials for anyone, and has no SetIdentityPoolRoles. Cognito
maps each login (a user pool's ID token: pool and sub) to one identity
for good, checks the token, refuses guests unless the pool allows them,
and returns temporary credentials of the role attached for authenticated
identities. Each patch below says what Cognito does, with the AWS
document it follows. What still differs is listed in docs/local-stack.md,
"What differs from AWS".

AWS references (Amazon Cognito Identity API Reference and Developer Guide):
  [API]     https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/
  [Flow]    https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flow.html
  [UserPool] https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-integrating-user-pools-with-identity-pools.html
  [Roles]   https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html
"""

from __future__ import annotations

import json
import re
import time

from joserfc import jwt
from joserfc.errors import JoseError
from moto.cognitoidentity import models as ci
from moto.cognitoidentity.responses import CognitoIdentityResponse
from moto.cognitoidp import models as idp
from moto.core.exceptions import JsonRESTError
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition


class IdentityError(JsonRESTError):
    """An error as Cognito Identity's JSON protocol returns it."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = 400


def _action(fn):
    """Adds (or replaces) an operation of moto's Cognito Identity
    responder (GetId -> get_id)."""
    setattr(CognitoIdentityResponse, fn.__name__, fn)
    return fn


# Per identity pool, kept on moto's pool object (so a reset drops it):
_LOGINS = "_ext_logins"  # (provider name, sub) -> identity id
_IDENTITIES = "_ext_identities"  # identity id -> {"logins": set of (provider, sub)}
_ROLES = "_ext_roles"  # SetIdentityPoolRoles' Roles

# A user pool provider's name: cognito-idp.<region>.amazonaws.com/<pool id>.
_USER_POOL_PROVIDER = re.compile(r"^cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([\w-]+_[0-9A-Za-z]+)$")

# GetCredentialsForIdentity's credentials last an hour [API].
_CREDENTIALS_SECONDS = 3600


def _state(pool, attr: str, factory):
    value = getattr(pool, attr, None)
    if value is None:
        value = factory()
        setattr(pool, attr, value)
    return value


def _pool(backend, identity_pool_id: str):
    pool = backend.identity_pools.get(identity_pool_id)
    if pool is None:
        raise IdentityError("ResourceNotFoundException", f"IdentityPool '{identity_pool_id}' not found.")
    return pool


def _backend_of(responder: CognitoIdentityResponse, identity_pool_id: str):
    """The backend that holds a pool: its id starts with its region, and
    the unsigned calls (GetId, GetCredentialsForIdentity) name no region."""
    region = identity_pool_id.split(":")[0] or responder.region
    return ci.cognitoidentity_backends[responder.current_account][region]


def _identity(responder: CognitoIdentityResponse, identity_id: str):
    """The pool an identity id belongs to, and the identity."""
    region = identity_id.split(":")[0]
    backend = ci.cognitoidentity_backends[responder.current_account][region]
    for pool in backend.identity_pools.values():
        found = _state(pool, _IDENTITIES, dict).get(identity_id)
        if found is not None:
            return pool, found
    raise IdentityError("ResourceNotFoundException", f"Identity '{identity_id}' not found.")


def _not_authorized(message: str) -> IdentityError:
    return IdentityError("NotAuthorizedException", message)


def _check_login(account: str, pool, provider: str, token: str) -> str:
    """The sub of a user pool ID token the identity pool accepts for
    provider, or NotAuthorizedException [UserPool]: the provider is one of
    the pool's, the token is an ID token signed by that user pool, issued
    to one of the provider's app clients, not expired; with
    ServerSideTokenCheck the user still exists, is enabled, and the token's
    session has not been signed out or revoked."""
    configured = [p for p in (pool.cognito_identity_providers or []) if p.get("ProviderName") == provider]
    match = _USER_POOL_PROVIDER.match(provider)
    if not configured or match is None:
        raise _not_authorized("Invalid login token. Issuer doesn't match providerName")
    region, user_pool_id = match.groups()
    user_pool = idp.cognitoidp_backends[account][region].user_pools.get(user_pool_id)
    if user_pool is None:
        raise _not_authorized("Invalid login token. Issuer doesn't match providerName")
    try:
        claims = jwt.decode(token, user_pool.json_web_key, algorithms=["RS256"]).claims
    except (JoseError, ValueError, TypeError):
        raise _not_authorized("Invalid login token. Not a valid OpenId Connect identity token.") from None
    if claims.get("iss") != "https://" + provider:
        raise _not_authorized("Invalid login token. Issuer doesn't match providerName")
    if claims.get("token_use") != "id":
        raise _not_authorized("Invalid login token. Token is not an ID token.")
    entry = next((p for p in configured if p.get("ClientId") == claims.get("aud")), None)
    if entry is None:
        raise _not_authorized("Invalid login token. Incorrect token audience.")
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
        raise _not_authorized("Invalid login token. Token expired.")
    if entry.get("ServerSideTokenCheck"):
        # The user pool vouches for the token still: the user exists and is
        # enabled, and the session the token came from (its origin_jti, kept
        # by its refresh token) was neither signed out nor revoked.
        user = user_pool.users.get(claims.get("cognito:username", ""))
        if user is None or not user.enabled:
            raise _not_authorized("Invalid login token. User does not exist or is disabled.")
        live = any(
            issued is not None and issued[2] == claims.get("origin_jti")
            for issued in user_pool.refresh_tokens.values()
        )
        if not live:
            raise _not_authorized("Invalid login token. Token has been revoked.")
    return str(claims["sub"])


def _logins(responder: CognitoIdentityResponse, pool) -> set[tuple[str, str]]:
    logins = responder._get_param("Logins") or {}
    if not isinstance(logins, dict):
        raise IdentityError("InvalidParameterException", "Logins must be a map.")
    return {(provider, _check_login(responder.current_account, pool, provider, token)) for provider, token in logins.items()}


@_action
def get_id(self):
    """GetId [API]: the identity of the logins given, the same one every
    time (created on first use); without logins a guest identity, only if
    the pool allows unauthenticated identities."""
    pool_id = self._get_param("IdentityPoolId") or ""
    backend = _backend_of(self, pool_id)
    pool = _pool(backend, pool_id)
    logins = _logins(self, pool)
    identities = _state(pool, _IDENTITIES, dict)
    if not logins:
        if not pool.allow_unauthenticated_identities:
            raise _not_authorized("Unauthenticated access is not supported for this identity pool.")
        identity_id = ci.get_random_identity_id(pool_id.split(":")[0])
        identities[identity_id] = {"logins": set()}
        backend.pools_identities[pool_id]["Identities"].append({"IdentityId": identity_id})
    else:
        known = _state(pool, _LOGINS, dict)
        found = {known[login] for login in logins if login in known}
        if len(found) > 1:
            raise IdentityError("ResourceConflictException", "Logins belong to different identities.")
        identity_id = found.pop() if found else ci.get_random_identity_id(pool_id.split(":")[0])
        if identity_id not in identities:
            identities[identity_id] = {"logins": set()}
            backend.pools_identities[pool_id]["Identities"].append({"IdentityId": identity_id})
        identities[identity_id]["logins"].update(logins)
        for login in logins:
            known[login] = identity_id
    return json.dumps({"IdentityId": identity_id})


@_action
def get_credentials_for_identity(self):
    """GetCredentialsForIdentity [API]: an authenticated identity needs a
    valid token of one of its own logins; the credentials are the role
    attached for authenticated identities, assumed as Cognito does
    (session CognitoIdentityCredentials), for an hour [Flow]."""
    identity_id = self._get_param("IdentityId") or ""
    pool, identity = _identity(self, identity_id)
    logins = _logins(self, pool)
    if identity["logins"]:
        if not logins or not logins <= identity["logins"]:
            raise _not_authorized("Logins don't match. Please include at least one valid login for this identity or identity pool.")
        kind = "authenticated"
    else:
        if logins:
            raise _not_authorized("Logins don't match. Please include at least one valid login for this identity or identity pool.")
        kind = "unauthenticated"
    role_arn = _state(pool, _ROLES, dict).get(kind)
    if not role_arn:
        raise IdentityError("InvalidIdentityPoolConfigurationException", "Invalid identity pool configuration. Check assigned IAM roles for this pool.")
    region = identity_id.split(":")[0]
    sts = sts_backends[self.current_account][get_partition(region)]
    role = sts.assume_role_with_web_identity(
        region_name=region,
        role_session_name="CognitoIdentityCredentials",
        role_arn=role_arn,
        policy=None,
        duration=_CREDENTIALS_SECONDS,
        external_id=None,
    )
    return json.dumps(
        {
            "IdentityId": identity_id,
            "Credentials": {
                "AccessKeyId": role.access_key_id,
                "SecretKey": role.secret_access_key,
                "SessionToken": role.session_token,
                "Expiration": role.expiration.timestamp(),
            },
        }
    )


@_action
def set_identity_pool_roles(self):
    """SetIdentityPoolRoles [API] (moto lacks it): the authenticated and
    unauthenticated roles, as IAM role ARNs."""
    pool_id = self._get_param("IdentityPoolId") or ""
    pool = _pool(_backend_of(self, pool_id), pool_id)
    roles = self._get_param("Roles") or {}
    if not isinstance(roles, dict) or not set(roles) <= {"authenticated", "unauthenticated"} or not all(
        isinstance(v, str) and v.startswith("arn:") and ":role/" in v for v in roles.values()
    ):
        raise IdentityError("InvalidParameterException", "Roles must map authenticated and unauthenticated to IAM role ARNs.")
    setattr(pool, _ROLES, dict(roles))
    return ""


@_action
def get_identity_pool_roles(self):
    """GetIdentityPoolRoles [API] (moto lacks it)."""
    pool_id = self._get_param("IdentityPoolId") or ""
    pool = _pool(_backend_of(self, pool_id), pool_id)
    return json.dumps({"IdentityPoolId": pool_id, "Roles": dict(_state(pool, _ROLES, dict))})
