"""What every route shares: the store, the request's principal, and the access rule each route
declares (a test walks the route table and fails on a route without one)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from satchel.core.access import ANONYMOUS_USER
from satchel.core.api import ArtifactStoreAPI
from satchel.core.errors import (
    AccessDeniedError,
    InvalidRequestError,
    TooLargeError,
    UnauthorizedError,
)
from satchel.core.validation import check_optional_id
from satchel.server.auth import ANONYMOUS, Principal, TokenTable

__all__ = [
    "ANONYMOUS_USER",
    "Access",
    "CallerIds",
    "GuardedRoute",
    "access",
    "caller_ids",
    "get_principal",
    "get_store",
    "ids_for",
    "principal_for",
    "walk_routes",
]


_F = TypeVar("_F", bound=Callable[..., Any])


class Access(enum.StrEnum):
    """Who may call a route."""

    PUBLIC = "public"  # anyone: health, metrics, docs
    READ = "read"  # a principal, or anyone when SATCHEL_ANON_READ is on (sandbox scope only)
    ARTIFACT_READ = "artifact-read"  # as READ, and anyone may read a public artifact
    PRINCIPAL = "principal"  # a valid bearer token; the store's rules decide the rest
    SIGNED = "signed"  # a presigned URL's signature is the capability
    ADMIN = "admin"  # a token with the admin role


ACCESS_ATTRIBUTE = "__satchel_access__"


def access(rule: Access) -> Callable[[_F], _F]:
    """Declare the access rule of a route's endpoint."""

    def mark(endpoint: _F) -> _F:
        setattr(endpoint, ACCESS_ATTRIBUTE, rule)
        return endpoint

    return mark


def get_store(request: Request) -> ArtifactStoreAPI:
    """The store behind the service, as the contract every face speaks (routes call nothing
    else)."""
    store: ArtifactStoreAPI = request.app.state.store
    return store


def get_principal(request: Request) -> Principal:
    """The principal of the request's bearer token (ANONYMOUS without one), as resolved by the
    route's guard before the endpoint ran."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise RuntimeError("the principal is resolved by GuardedRoute before the endpoint runs")
    return principal


async def resolve_principal(request: Request) -> Principal:
    """Find the principal of the request's bearer token: a static token first, then an API key
    from the catalog. 401 for a malformed header or an unknown, expired or revoked token."""
    values = request.headers.getlist("authorization")
    if len(values) > 1:
        raise UnauthorizedError("send one Authorization header, not several")
    header = values[0] if values else ""
    return await principal_for(header, get_store(request), request.app.state.tokens)


async def principal_for(header: str, store: ArtifactStoreAPI, tokens: TokenTable) -> Principal:
    """The principal of an ``Authorization`` *header* value (ANONYMOUS when empty)."""
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("use 'Authorization: Bearer <token>'")
    principal = tokens.lookup(token)
    if principal is None:
        key = await store.authenticate_api_key(token)
        if key is not None:
            principal = Principal(
                user_id=key.user_id,
                sandbox_id=key.sandbox_id,
                is_admin=key.is_admin,
                name=key.name or key.key_id,
                key=key,
            )
    if principal is None:
        raise UnauthorizedError("unknown, expired or revoked token")
    if principal.sandbox_id is not None and principal.sandbox_id != store.sandbox_id:
        raise AccessDeniedError(f"this token is for sandbox {principal.sandbox_id}")
    return principal


CallerIds = dict[str, str | None]


def caller_ids(
    request: Request,
    principal: Principal,
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    read: bool = False,
) -> CallerIds:
    """The ``user_id`` / ``session_id`` a request acts with in the store (see :func:`ids_for`)."""
    public_read = getattr(request.state, "public_read", False)
    return ids_for(
        principal,
        anon_read=request.app.state.settings.anon_read or public_read,
        user_id=user_id,
        session_id=session_id,
        read=read,
    )


def ids_for(
    principal: Principal,
    *,
    anon_read: bool,
    user_id: str | None = None,
    session_id: str | None = None,
    read: bool = False,
) -> CallerIds:
    """The ``user_id`` / ``session_id`` *principal* acts with in the store.

    A user token is pinned to its user; an admin token acts as the trusted application, or for
    any user or session it names; an anonymous request may only read, and only when
    ``SATCHEL_ANON_READ`` is on (as a user who owns nothing: sandbox scope alone).
    """
    # checked whoever asks: an id the request names is well formed even where it is not used
    check_optional_id("user_id", user_id)
    check_optional_id("session_id", session_id)
    if principal.is_admin:
        if user_id == ANONYMOUS_USER:
            raise InvalidRequestError(f"{ANONYMOUS_USER!r} is reserved for anonymous readers")
        return {"user_id": user_id, "session_id": session_id}
    if principal.anonymous:
        if not (read and anon_read):
            raise UnauthorizedError("this request needs a bearer token")
        return {"user_id": ANONYMOUS_USER, "session_id": None}
    if user_id is not None and user_id != principal.user_id:
        raise AccessDeniedError("a user token acts only as its own user")
    return {"user_id": principal.user_id, "session_id": session_id}


async def enforce(request: Request, rule: Access) -> None:
    """Resolve the request's principal and refuse a request its route's rule does not admit
    (before the endpoint runs)."""
    if rule in (Access.PUBLIC, Access.SIGNED):
        return  # a signed route checks its signature itself
    principal = await resolve_principal(request)
    request.state.principal = principal
    if principal.anonymous:
        if rule is Access.ARTIFACT_READ:
            # the store decides: public artifacts, and sandbox ones when anonymous reads are on
            request.state.public_read = True
            return
        if rule is Access.READ and request.app.state.settings.anon_read:
            return
        raise UnauthorizedError("this request needs a bearer token")
    if rule is Access.ADMIN and not principal.is_admin:
        raise AccessDeniedError("this request needs a token with the admin role")


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def check_query(request: Request, allowed: frozenset[str]) -> None:
    """Refuse a query parameter the route does not take (a typo such as ``filname=`` would
    otherwise be ignored silently)."""
    for name in request.query_params:
        if name not in allowed:
            takes = ", ".join(sorted(allowed)) or "no query parameters"
            raise InvalidRequestError(
                f"unknown query parameter {name!r} (this route takes {takes})"
            )


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route (and its dependencies) declare."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class GuardedRoute(APIRoute):
    """A route that refuses query parameters it does not declare and enforces the access rule
    its endpoint declares with :func:`access`; a route that declares none fails when the app
    is built (closed by default)."""

    def get_route_handler(self) -> Handler:
        rule = getattr(self.endpoint, ACCESS_ATTRIBUTE, None)
        if not isinstance(rule, Access):
            raise RuntimeError(f"route {self.path} declares no access rule (@access(...))")
        handler = super().get_route_handler()
        allowed = frozenset(_query_names(self.dependant))
        parses_body = bool(self.dependant.body_params)

        async def guarded(request: Request) -> Response:
            check_query(request, allowed)
            await enforce(request, rule)
            if parses_body:  # FastAPI reads and parses it whole: bound it first
                await read_bounded_body(request, MAX_JSON_BODY)
            return await handler(request)

        return guarded


MAX_JSON_BODY = 1024 * 1024
"""The largest JSON body a route parses (schemas are at most 256 KiB, metadata 64 KiB)."""


async def read_bounded_body(request: Request, limit: int) -> None:
    """Read the body now, refusing it (413) as soon as it is over *limit* bytes, declared or
    not; what FastAPI then parses is this copy (Starlette caches a read body)."""
    raw = request.headers.get("content-length")
    if raw is not None and raw.strip().isdigit() and int(raw) > limit:
        raise TooLargeError(f"a JSON body is at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"a JSON body is at most {limit} bytes")
        chunks.append(chunk)
    request._body = b"".join(chunks)


def walk_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    """(full path, route) of every route, descending into included routers (newer FastAPI
    keeps an ``include_router`` as one entry wrapping the original router)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from walk_routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            yield prefix + str(getattr(route, "path", repr(route))), route
