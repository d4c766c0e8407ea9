"""What every route shares: the store, the request's principal, and the access rule each route
declares (a test walks the route table and fails on a route without one)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from satchel.core.errors import AccessDeniedError, UnauthorizedError
from satchel.server.auth import ANONYMOUS, Principal
from satchel.store import ArtifactStore

__all__ = [
    "ANONYMOUS_USER",
    "Access",
    "CallerIds",
    "access",
    "caller_ids",
    "get_principal",
    "get_store",
]

ANONYMOUS_USER = "anonymous"
"""The user id anonymous readers act as (reserved: no token may name it)."""

_F = TypeVar("_F", bound=Callable[..., Any])


class Access(enum.StrEnum):
    """Who may call a route."""

    PUBLIC = "public"  # anyone: health, metrics, docs
    READ = "read"  # a principal, or anyone when SATCHEL_ANON_READ is on (sandbox scope only)
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


def get_store(request: Request) -> ArtifactStore:
    store: ArtifactStore = request.app.state.store
    return store


def get_principal(request: Request) -> Principal:
    """The principal of the request's bearer token; ANONYMOUS without one."""
    header = request.headers.get("authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("use 'Authorization: Bearer <token>'")
    principal: Principal | None = request.app.state.tokens.lookup(token.strip())
    if principal is None:
        raise UnauthorizedError("unknown or revoked token")
    store = get_store(request)
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
    """The ``user_id`` / ``session_id`` a request acts with in the store.

    A user token is pinned to its user; an admin token acts as the trusted application, or for
    any user or session it names; an anonymous request may only read, and only when
    ``SATCHEL_ANON_READ`` is on (as a user who owns nothing: sandbox scope alone).
    """
    if principal.is_admin:
        return {"user_id": user_id, "session_id": session_id}
    if principal.anonymous:
        if not (read and request.app.state.settings.anon_read):
            raise UnauthorizedError("this request needs a bearer token")
        return {"user_id": ANONYMOUS_USER, "session_id": None}
    if user_id is not None and user_id != principal.user_id:
        raise AccessDeniedError("a user token acts only as its own user")
    return {"user_id": principal.user_id, "session_id": session_id}
