"""What the layer's modules share: HTTP routes of the layer's own in front
of moto's, hooks on moto's reset, and Lambda's Invoke API as a client.

moto cannot run Lambda functions without Docker, and the stack's functions
are Go handlers anyway: the local stack serves Lambda's Invoke API for
them (infra/lambdaapi) and tells the layer, per function ARN, where that
API is (PUT /_ext/lambda/functions). A patch that must run a function (a
Cognito trigger) calls invoke(arn, payload).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

# The *_ext modules the runner loaded (GET /_ext/status).
MODULES: list[str] = []

_routes: list[tuple[frozenset[str], re.Pattern[str], Callable[..., Response]]] = []
_reset_hooks: list[Callable[[], None]] = []


def route(pattern: str, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Serves requests whose path fully matches pattern (a regex; named
    groups become keyword arguments) before moto sees them. A handler that
    returns None passes the request on (to later routes, then moto)."""

    def register(fn: Callable[..., Response]) -> Callable[..., Response]:
        _routes.append((frozenset(methods), re.compile(pattern), fn))
        return fn

    return register


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    """Runs fn when moto is reset (POST /moto-api/reset): state a module
    keeps outside moto's backends goes with them."""
    _reset_hooks.append(fn)
    return fn


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


# ------------------------------------------------------------ this machine
#
# moto answers every request, signed or not, and moto_server allows any
# origin (CORS *): without a guard, any web page the developer opens could
# read the local Secrets Manager (the pepper, a Kakao admin key configured
# for the local stack) with a fetch to 127.0.0.1:5000, or through DNS
# rebinding. As the other local tools (infra/localonly), the layer answers
# only requests addressed to this machine (Host) and, from a browser, only
# pages of this machine (Origin): the try-it page and the JS client's
# Cognito calls, the local hosted UI. sam local invoke's containers reach
# moto as host.docker.internal; KAKAOAUTH_LOCAL_HOSTS (comma-separated)
# names more hosts.


def _extra_names() -> set[str]:
    names = {"localhost", "host.docker.internal"}
    names.update(n.strip().lower().rstrip(".") for n in os.environ.get("KAKAOAUTH_LOCAL_HOSTS", "").split(",") if n.strip())
    return names


def _bare_host(hostport: str) -> str:
    host = hostport.strip()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.lower().rstrip(".")


def _named_here(host: str) -> bool:
    if host in _extra_names() or host.endswith(".localhost"):
        return True
    me = socket.gethostname().lower()
    return bool(me) and host in (me, me.split(".", 1)[0] + ".local")


def host_allowed(hostport: str) -> bool:
    """The Host header names this machine: an IP address (a rebinding page
    always uses a name), localhost, *.localhost, host.docker.internal, this
    machine's name, or a name in KAKAOAUTH_LOCAL_HOSTS."""
    host = _bare_host(hostport)
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return _named_here(host)


def origin_allowed(origin: str) -> bool:
    """A browser's Origin is a page of this machine or its network: a
    loopback or private address, or a name host_allowed takes. "null"
    (sandboxed, file:) and every public site are refused."""
    parts = urllib.parse.urlsplit(origin)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return _named_here(host)
    return ip.is_loopback or any(ip in net for net in _LOCAL_NETWORKS)


# A developer's own network (RFC 1918, unique local, link-local): a page
# served by the local stack bound beyond loopback (which warns).
_LOCAL_NETWORKS = [
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10")
]


def wrap_dispatcher(base: type) -> type:
    """moto's WSGI dispatcher with the layer's routes in front, answering
    requests addressed to this machine only (host_allowed, origin_allowed)."""

    class Dispatcher(base):  # type: ignore[misc, valid-type]
        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            host = environ.get("HTTP_HOST", "")
            origin = environ.get("HTTP_ORIGIN", "")
            if not host_allowed(host) or (origin and not origin_allowed(origin)):
                what = f"Host {host!r}" if not host_allowed(host) else f"Origin {origin!r}"
                resp = json_response(403, {"message": f"kakaoauth's local AWS answers this machine only, not {what}"})
                return resp(environ, start_response)
            path = environ.get("PATH_INFO", "")
            method = environ.get("REQUEST_METHOD", "GET")
            if path == "/moto-api/reset" and method == "POST":
                for hook in _reset_hooks:
                    hook()
            for methods, pattern, fn in _routes:
                match = pattern.fullmatch(path)
                if match is None:
                    continue
                if method not in methods:
                    resp = json_response(405, {"message": f"{method} not allowed on {path}"})
                else:
                    resp = fn(Request(environ), **match.groupdict())
                    if resp is None:
                        continue
                return resp(environ, start_response)
            return super().__call__(environ, start_response)

    return Dispatcher


@route(r"/_ext/status")
def _status(_: Request) -> Response:
    import moto

    layer = os.environ.get("KAKAOAUTH_MOTO_LAYER", "")
    return json_response(200, {"moto": moto.__version__, "layer": layer, "modules": MODULES})


# ------------------------------------------------------------------ clock
#
# Time as the layer's patches see it (session and token expiry): the real
# clock plus an offset that tests move forward (PUT /_ext/clock
# {"OffsetSeconds": n}) instead of waiting; moto's reset sets it back.

_clock_offset = 0.0


def now() -> float:
    return time.time() + _clock_offset


@route(r"/_ext/clock", methods=("GET", "PUT"))
def _clock(req: Request) -> Response:
    global _clock_offset
    if req.method == "PUT":
        try:
            _clock_offset = float(json.loads(req.get_data(as_text=True) or "{}").get("OffsetSeconds", 0))
        except (ValueError, TypeError, AttributeError):
            return json_response(400, {"message": 'want {"OffsetSeconds": <number>}'})
    return json_response(200, {"OffsetSeconds": _clock_offset, "Now": now()})


@on_reset
def _reset_clock() -> None:
    global _clock_offset
    _clock_offset = 0.0


# ------------------------------------------------------------ Lambda Invoke

_functions: dict[str, str] = {}
_functions_lock = threading.Lock()


@route(r"/_ext/lambda/functions", methods=("GET", "PUT", "DELETE"))
def _lambda_functions(req: Request) -> Response:
    """Where each function's Invoke API is.
    PUT {"Functions": {"<function ARN>": "<endpoint URL>"}} adds or replaces;
    DELETE {"FunctionArns": [...]} removes; GET lists."""
    if req.method == "GET":
        with _functions_lock:
            return json_response(200, {"Functions": dict(_functions)})
    try:
        body = json.loads(req.get_data(as_text=True) or "{}")
    except ValueError:
        return json_response(400, {"message": "the body is not JSON"})
    if req.method == "PUT":
        funcs = body.get("Functions")
        if not isinstance(funcs, dict) or not all(
            isinstance(k, str) and k.startswith("arn:") and isinstance(v, str) and v.startswith(("http://", "https://"))
            for k, v in funcs.items()
        ):
            return json_response(400, {"message": 'want {"Functions": {"<function ARN>": "<http endpoint>"}}'})
        with _functions_lock:
            _functions.update({k: v.rstrip("/") for k, v in funcs.items()})
        return Response(status=204)
    arns = body.get("FunctionArns")
    if not isinstance(arns, list):
        return json_response(400, {"message": 'want {"FunctionArns": ["<function ARN>", ...]}'})
    with _functions_lock:
        for arn in arns:
            _functions.pop(arn, None)
    return Response(status=204)


@on_reset
def _forget_functions() -> None:
    with _functions_lock:
        _functions.clear()


class InvokeError(Exception):
    """A function could not be run (error is the Lambda error code the
    caller would see: ResourceNotFoundException, ServiceException, ...)."""

    def __init__(self, error: str, detail: str):
        super().__init__(f"{error}: {detail}")
        self.error = error
        self.detail = detail


class InvokeTimeout(InvokeError):
    def __init__(self, detail: str):
        super().__init__("Timeout", detail)


class InvalidOutput(InvokeError):
    """The function answered something that is not JSON."""

    def __init__(self, detail: str):
        super().__init__("InvalidOutput", detail)


class FunctionError(Exception):
    """The function ran and failed (X-Amz-Function-Error): its errorMessage
    and errorType as Lambda reports them."""

    def __init__(self, message: str, error_type: str):
        super().__init__(message)
        self.message = message
        self.error_type = error_type


# No proxy: the functions are on this machine, whatever HTTP_PROXY says.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def invoke(function_arn: str, payload: Any, timeout: float) -> Any:
    """Lambda Invoke (RequestResponse) of function_arn with payload (JSON);
    returns the function's JSON result, or raises FunctionError,
    InvokeTimeout, InvalidOutput or InvokeError."""
    with _functions_lock:
        endpoint = _functions.get(function_arn)
    if endpoint is None:
        raise InvokeError("ResourceNotFoundException", f"no local endpoint is registered for {function_arn}")
    url = f"{endpoint}/2015-03-31/functions/{urllib.parse.quote(function_arn, safe='')}/invocations"
    req = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"},
    )
    try:
        with _opener.open(req, timeout=timeout) as resp:
            body = resp.read()
            function_error = resp.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as e:
        error = e.headers.get("X-Amzn-ErrorType") or f"HTTP {e.code}"
        raise InvokeError(error.split(":")[0], e.read().decode("utf-8", "replace")[:500]) from None
    except (TimeoutError, socket.timeout) as e:
        raise InvokeTimeout(str(e)) from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, (TimeoutError, socket.timeout)):
            raise InvokeTimeout(str(e.reason)) from None
        raise InvokeError("ServiceException", str(e.reason)) from None
    try:
        result = json.loads(body) if body else None
    except ValueError:
        if function_error:
            raise FunctionError(body.decode("utf-8", "replace"), "Unhandled") from None
        raise InvalidOutput(body[:200].decode("utf-8", "replace")) from None
    if function_error:
        if isinstance(result, dict):
            raise FunctionError(str(result.get("errorMessage", "")), str(result.get("errorType", function_error)))
        raise FunctionError(json.dumps(result), function_error)
    return result
