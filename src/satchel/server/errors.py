"""The error tree mapped to HTTP, in one place: status and headers from the error class, body
``{error, message, request_id}``; every response carries ``X-Request-ID``. Failures raised by
the framework (an unknown route, a method the route lacks, a malformed body) and unforeseen
ones are first turned into errors of the tree, so every answer has a code the client knows."""

from __future__ import annotations

import itertools
import logging
import os
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satchel.core.errors import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    InternalError,
    InvalidRequestError,
    MethodNotAllowedError,
    UnauthorizedError,
    error_for_status,
)

__all__ = [
    "RequestIdMiddleware",
    "error_response",
    "gone_response",
    "install_error_handlers",
    "model_error",
    "new_request_id",
    "sane_request_id",
    "unexpected_response",
]

logger = logging.getLogger("satchel.server")

CLIENT_CLOSED_REQUEST = 499
"""The status recorded for a request whose client went away before it was answered."""

# Request ids: a random per-process prefix and a counter (unique across processes and replicas
# without reading the OS's random source per request, which cost ~20 µs under load).
_ID_PREFIX = secrets.token_hex(10)
_ID_COUNTER = itertools.count(1)


def _new_prefix() -> None:  # a forked worker must not repeat its parent's ids
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX = secrets.token_hex(10)
    _ID_COUNTER = itertools.count(1)


os.register_at_fork(after_in_child=_new_prefix)


def new_request_id() -> str:
    """A 32-hex-digit id, unique in this process and (by its random prefix) across processes."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"


def sane_request_id(given: str) -> str:
    """The client's ``X-Request-ID`` when it is sane (1-64 printable characters), else a new id."""
    return given if 0 < len(given) <= 64 and given.isprintable() else new_request_id()


def _request_id(request: Request) -> str:
    return str(request.scope.get("satchel_request_id") or "")


def error_response(request: Request, exc: ArtifactStoreError) -> JSONResponse:
    """The answer carrying *exc*: its status, its headers, and the JSON error body."""
    exc = _for_public_reader(request, exc)
    return JSONResponse(
        {"error": exc.code, "message": exc.message, "request_id": _request_id(request)},
        status_code=exc.status_code,
        headers=exc.headers or None,
    )


def _for_public_reader(request: Request, exc: ArtifactStoreError) -> ArtifactStoreError:
    """A request without a token that may read public artifacts alone learns only that it needs
    a token: 401 whether what it named is private, missing or expired (never which)."""
    if not getattr(request.state, "public_read", False):
        return exc
    if request.app.state.settings.anon_read:
        return exc
    if isinstance(exc, (AccessDeniedError, ArtifactNotFoundError, ArtifactExpiredError)):
        return UnauthorizedError(
            "this request needs a bearer token (only public artifacts are read without one)"
        )
    return exc


def model_error(exc: ValidationError) -> InvalidRequestError:
    """A request model of the library (seed 000's) refused what a route built from input: 400,
    naming each problem."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
    return InvalidRequestError(problems)


def _framework_error(request: Request, exc: StarletteHTTPException) -> ArtifactStoreError:
    if exc.status_code == 404:
        return ArtifactNotFoundError(str(exc.detail))
    if exc.status_code == 405:
        allow = _allowed_methods(request) or (exc.headers or {}).get("Allow", "")
        return MethodNotAllowedError(f"{exc.detail}; allowed: {allow}", allow=allow)
    return error_for_status(exc.status_code)(str(exc.detail))


def _allowed_methods(request: Request) -> str:
    """Every method some route answers on this path (Starlette names only the first route's,
    and a path served by one route per method has several)."""
    from satchel.server.deps import walk_routes

    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    for _, route in walk_routes(request.app.router.routes):
        if route.matches(scope)[0] is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ArtifactStoreError)
    async def _store_error(request: Request, exc: ArtifactStoreError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        return error_response(request, InvalidRequestError(problems))

    @app.exception_handler(ValidationError)
    async def _model_error(request: Request, exc: ValidationError) -> JSONResponse:
        return error_response(request, model_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(request, _framework_error(request, exc))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        return gone_response(request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_response(request)


def gone_response(request: Request) -> Response:
    """The client went away mid-request (an upload cut off): nothing failed here, and no one is
    left to answer. Counted as 499, as proxies do, not as a server error."""
    logger.info("client disconnected: %s %s", request.method, request.url.path)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


def unexpected_response(request: Request) -> JSONResponse:
    """The 500 answering an unforeseen failure (logged here, with its traceback, from within
    the ``except`` that caught it). Starlette's outermost layer sends it, so it carries no
    ``X-Request-ID`` header (its body names the request)."""
    logger.exception("unhandled error in %s %s", request.method, request.url.path)
    return error_response(request, InternalError("internal server error"))


class RequestIdMiddleware:
    """Give every request an id (the client's ``X-Request-ID`` if sane) and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = sane_request_id(given)
        scope["satchel_request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
