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
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from satchel.core.content import ArtifactContent
from satchel.core.errors import ArtifactStoreError
from satchel.core.proxy import ProxyAnswer
from satchel.server.content import content_headers, proxy_headers
from satchel.server.deps import ids_for, principal_for
from satchel.server.errors import error_response

__all__ = ["ContentFastPath"]

CONTENT_PATH = "/v1/artifacts/{artifact_id}/content"
PROXY_PATH = "/api/{remote}/{path}"
_PATH = re.compile(r"/v1/artifacts/([^/]+)/content")
_PROXY = re.compile(r"/api/([^/]+)/(.+)", re.DOTALL)
_CONDITIONAL = frozenset((b"range", b"if-range", b"if-none-match", b"if-match"))
_QUERY_NAMES = frozenset(("user_id", "session_id"))


class _Fallback(Exception):
    """The request is not one the fast path answers: hand it to the full app."""


def _query(raw: bytes) -> dict[str, str]:
    if not raw:
        return {}
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= _QUERY_NAMES or "" in params.values():
        raise _Fallback
    return params


class ContentFastPath:
    """ASGI middleware: answers plain content GETs itself, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
        try:
            content, headers = await self._open(scope, match.group(1))
        except (_Fallback, ArtifactStoreError, ValueError):
            await self.app(scope, receive, send)
            return
        # from here on a failure cannot become another response: it ends this one
        try:
            scope["satchel_route"] = CONTENT_PATH  # the metrics label of the routed endpoint
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            first = content.first_chunk
            sent, size = len(first), content.length
            await send({"type": "http.response.body", "body": first, "more_body": sent < size})
            if sent < size and content.rest is not None:
                async for chunk in content.rest:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await content.aclose()

    async def _proxy(
        self, scope: Scope, receive: Receive, send: Send, remote: str, path: str
    ) -> None:
        try:
            authorization = _authorization(scope)
            state = scope["app"].state
            principal = await principal_for(authorization or "", state.store, state.tokens)
            if principal.anonymous and not state.settings.anon_read:
                raise _Fallback  # the route's guard words the 401
        except (_Fallback, ArtifactStoreError, ValueError):
            await self.app(scope, receive, send)
            return
        scope["satchel_route"] = PROXY_PATH  # errors are counted under the route too
        try:
            answer: ProxyAnswer = await state.store.open_remote_file(remote, path)
        except ArtifactStoreError as exc:
            await error_response(Request(scope, receive), exc)(scope, receive, send)
            return
        try:
            headers = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in proxy_headers(answer).items()
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async for chunk in answer:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await answer.aclose()

    async def _open(
        self, scope: Scope, artifact_id: str
    ) -> tuple[ArtifactContent, list[tuple[bytes, bytes]]]:
        """The opened content (its first chunk read) and the answer's headers; or raise, having
        sent nothing (the full app then answers)."""
        authorization = _authorization(scope)
        params = _query(scope["query_string"])
        state = scope["app"].state
        store = state.store
        principal = await principal_for(authorization or "", store, state.tokens)
        # anyone may ask: the store answers public artifacts (and sandbox ones when anonymous
        # reads are on) and refuses the rest, as the route does (Access.ARTIFACT_READ)
        ids = ids_for(principal, anon_read=True, read=True, **params)
        content: ArtifactContent = await store.open_content(artifact_id, **ids)
        try:
            headers = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in content_headers(content).items()
            ]
        except BaseException:
            await content.aclose()
            raise
        return content, headers


def _authorization(scope: Scope) -> str | None:
    """The request's one Authorization header; _Fallback for conditional or range headers
    (the full app answers those) and for several Authorization headers (it refuses them)."""
    authorization = None
    for name, value in scope["headers"]:
        if name in _CONDITIONAL:
            raise _Fallback
        if name == b"authorization":
            if authorization is not None:
                raise _Fallback
            authorization = value.decode("latin-1")
    return authorization
