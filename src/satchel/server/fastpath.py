"""A raw-ASGI path for the commonest requests, ``GET /v1/artifacts/{id}/content`` and the
pull-through cache's ``GET /api/{remote}/{path}`` without query, conditional or range headers,
ahead of FastAPI's routing, dependency and response machinery.

It makes the same calls as the routed endpoint (:func:`principal_for`, :func:`ids_for`,
``store.open_content``) and sends the same headers (:func:`content_headers`), so the answer is
the same; only the framework work is skipped. Anything else, and any failure before the first
byte is sent (an unknown token, a missing artifact, a query parameter it does not know), goes to
the full app, which produces the one canonical answer (the error JSON included). A read
through the cache is not repeated that way (it may have asked upstream already): its errors are
answered here, by the same ``error_response`` the app uses. Metrics count both under their
routes' templates (``scope["satchel_route"]``).

It wraps the whole app, ahead of Starlette's middleware stack, so a request it answers pays for
none of those layers: it gives the request its id (the client's sane ``X-Request-ID`` or a new
one, as :class:`~satchel.server.errors.RequestIdMiddleware` does) and counts it in the metrics
itself. Header lists are kept per version of an artifact (they depend on nothing else). In
the nginx mode it answers as the route does too: Satchel's headers, an empty body and
``X-Accel-Redirect`` for a blob kept as a file.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from satchel.core.content import ArtifactContent
from satchel.core.errors import ArtifactStoreError
from satchel.core.proxy import ProxyAnswer
from satchel.server.content import (
    accel_headers,
    content_headers,
    nginx_answers_alike,
    proxy_headers,
)
from satchel.server.deps import ids_for, principal_for
from satchel.server.errors import error_response, sane_request_id

__all__ = ["ContentFastPath", "Fallback", "query_params"]

CONTENT_PATH = "/v1/artifacts/{artifact_id}/content"
PROXY_PATH = "/api/{remote}/{path}"
_PATH = re.compile(r"/v1/artifacts/([^/]+)/content")
_PROXY = re.compile(r"/api/([^/]+)/(.+)", re.DOTALL)
_CONDITIONAL = frozenset((b"range", b"if-range", b"if-none-match", b"if-match"))
_QUERY_NAMES = frozenset(("user_id", "session_id"))
_HEADER_LISTS = 4096  # header lists kept at most (one per artifact version read)


class Fallback(Exception):
    """The request is not one the fast path answers: hand it to the full app."""


def query_params(raw: bytes, names: frozenset[str]) -> dict[str, str]:
    """A fast path's query parameters: each given once, not empty and one of *names*, else
    Fallback (the full app answers what the route makes of it)."""
    if not raw:
        return {}
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= names or "" in params.values():
        raise Fallback
    return params


class ContentFastPath:
    """ASGI wrapper: answers plain content GETs itself, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # per version: the header list, and whether it hands the file to nginx
        self._headers: dict[tuple[Any, ...], tuple[list[tuple[bytes, bytes]], bool]] = {}
        self._counted: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        match = _PATH.fullmatch(scope["path"])
        if match is None:
            proxied = _PROXY.fullmatch(scope["path"])
            if proxied is None or scope["query_string"]:
                await self.app(scope, receive, send)
                return
            await self._proxy(scope, receive, send, proxied.group(1), proxied.group(2))
            return
        started = time.perf_counter()
        try:
            content, headers, redirected = await self._open(scope, match.group(1))
        except (Fallback, ArtifactStoreError, ValueError):
            await self.app(scope, receive, send)
            return
        # from here on a failure cannot become another response: it ends this one
        try:
            scope["satchel_route"] = CONTENT_PATH
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            if redirected:  # nginx sends the file
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            first = content.first_chunk
            sent, size = len(first), content.length
            await send({"type": "http.response.body", "body": first, "more_body": sent < size})
            if sent < size:  # the rest, if any (bytes short of the length fail the response)
                if content.rest is not None:
                    async for chunk in content.rest:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await content.aclose()
            self._count(scope, CONTENT_PATH, 200, started)

    def _count(self, scope: Scope, route: str, status: int, started: float) -> None:
        """Count an answered request as the metrics middleware would (its children cached)."""
        children = self._counted.get((route, status))
        if children is None:
            metrics = scope["app"].state.metrics
            children = (
                metrics.requests.labels("GET", route, str(status)),
                metrics.latency.labels("GET", route),
            )
            self._counted[(route, status)] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

    async def _proxy(
        self, scope: Scope, receive: Receive, send: Send, remote: str, path: str
    ) -> None:
        started = time.perf_counter()
        try:
            authorization, request_id = _request_headers(scope)
            state = scope["app"].state
            principal = await principal_for(authorization or "", state.store, state.tokens)
            if principal.anonymous and not state.settings.anon_read:
                raise Fallback  # the route's guard words the 401
        except (Fallback, ArtifactStoreError, ValueError):
            await self.app(scope, receive, send)
            return
        scope["satchel_route"] = PROXY_PATH
        scope["satchel_request_id"] = request_id
        status = 200
        try:
            try:
                answer: ProxyAnswer = await state.store.open_remote_file(remote, path)
            except ArtifactStoreError as exc:
                response = error_response(Request(scope, receive), exc)
                status = response.status_code
                response.headers["X-Request-ID"] = request_id
                await response(scope, receive, send)
                return
            try:
                headers = _header_list(proxy_headers(answer))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                async for chunk in answer:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                await answer.aclose()
        finally:
            self._count(scope, PROXY_PATH, status, started)

    async def _open(
        self, scope: Scope, artifact_id: str
    ) -> tuple[ArtifactContent, list[tuple[bytes, bytes]], bool]:
        """The opened content (its first chunk read, or its file named), the answer's headers
        and whether they hand the file to nginx; or raise, having sent nothing (the full app
        then answers)."""
        authorization, request_id = _request_headers(scope)
        params = query_params(scope["query_string"], _QUERY_NAMES)
        state = scope["app"].state
        store = state.store
        principal = await principal_for(authorization or "", store, state.tokens)
        # anyone may ask: the store answers public artifacts (and sandbox ones when anonymous
        # reads are on) and refuses the rest, as the route does (Access.ARTIFACT_READ)
        ids = ids_for(principal, anon_read=True, read=True, **params)
        prefix = state.settings.accel_redirect_prefix
        local_file = bool(prefix) and nginx_answers_alike(Headers(scope=scope))
        content: ArtifactContent = await store.open_content(
            artifact_id, local_file=local_file, **ids
        )
        try:
            version = (
                content.artifact_id,
                content.etag,
                content.sha256,
                content.mime,
                content.filename,
                content.length,
                content.local_file,
            )
            cached = self._headers.get(version)
            if cached is None:
                if len(self._headers) >= _HEADER_LISTS:
                    self._headers.clear()
                redirect = accel_headers(content, prefix, ranged=False)
                fields = content_headers(content) if redirect is None else redirect
                cached = self._headers[version] = (_header_list(fields), redirect is not None)
        except BaseException:
            await content.aclose()
            raise
        headers, redirected = cached
        scope["satchel_request_id"] = request_id
        return content, [*headers, (b"x-request-id", request_id.encode("latin-1"))], redirected


def _header_list(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


def _request_headers(scope: Scope) -> tuple[str | None, str]:
    """The request's one Authorization header and its request id (the client's sane
    ``X-Request-ID`` or a new one); Fallback for conditional or range headers (the full app
    answers those) and for several Authorization headers (it refuses them)."""
    authorization = None
    given = ""
    for name, value in scope["headers"]:
        if name in _CONDITIONAL:
            raise Fallback
        if name == b"authorization":
            if authorization is not None:
                raise Fallback
            authorization = value.decode("latin-1")
        elif name == b"x-request-id":
            given = value.decode("latin-1")
    return authorization, sane_request_id(given)
