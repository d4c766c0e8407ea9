"""A raw-ASGI path for the commonest write, ``POST /v1/artifacts`` (an upload of the raw body),
ahead of FastAPI's routing, dependency and response machinery, as
:mod:`satchel.server.fastpath` is for content GETs.

It makes the same calls as the routed endpoint (:func:`principal_for`, :func:`ids_for`, the
route's own query helpers, ``store.stream_upload`` with the same :class:`StreamUploadRequest`,
``store.metadata``) and builds the same answer (:func:`created_response`), so the answer is the
same byte for byte; only the framework work is skipped. Everything is checked before the first
byte of the body is read, and any request it does not take exactly as the route would goes to
the full app, which produces the one canonical answer: a query parameter the route does not
take, or one given twice or empty; no token, or one the app refuses; several Authorization,
Content-Type, Content-Length or Transfer-Encoding headers, a Content-Length that is not plain
digits, a Transfer-Encoding other than ``chunked`` or together with a Content-Length; an
``Expect`` header; and whatever the route's own helpers refuse (bad metadata JSON, a bad ttl,
ids that are malformed or not the token's to use).

Once the store has been called, the request is not handed on (its body may be half read, and
the store must not be called twice): a failure is answered here as the app's handlers answer it
(:func:`error_response` for the store's errors and a library model's refusals, 499 when the
client went away, and for anything unforeseen the app's 500, logged and raised on). It gives
the request its id and counts it in the metrics as :class:`ContentFastPath` does.
"""

from __future__ import annotations

import re
import time
from typing import Any

from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from satchel.core.errors import ArtifactStoreError
from satchel.core.requests import StreamUploadRequest
from satchel.core.unset import UNSET
from satchel.server.bodies import received_body
from satchel.server.deps import ids_for, principal_for
from satchel.server.errors import (
    error_response,
    gone_response,
    model_error,
    sane_request_id,
    unexpected_response,
)
from satchel.server.fastpath import Fallback, query_params
from satchel.server.routes.artifacts import created_response, json_query, mime_for, ttl_query

__all__ = ["UPLOAD_PATH", "UploadFastPath"]

UPLOAD_PATH = "/v1/artifacts"
_QUERY_NAMES = frozenset(
    ("filename", "mime", "summary", "scope", "session_id", "user_id", "ttl", "meta")
)
_LENGTH = re.compile(rb"[0-9]{1,19}")
_ONCE = frozenset((b"authorization", b"content-type", b"content-length", b"transfer-encoding"))


def _request_headers(scope: Scope) -> tuple[dict[bytes, bytes], str]:
    """The headers the upload reads (each at most once) and the request's id (the client's sane
    ``X-Request-ID``, its last one as RequestIdMiddleware reads it, or a new one); Fallback
    for an ``Expect`` header or any of them given twice."""
    found: dict[bytes, bytes] = {}
    given = b""
    for name, value in scope["headers"]:
        if name in _ONCE:
            if name in found:
                raise Fallback
            found[name] = value
        elif name == b"x-request-id":
            given = value
        elif name == b"expect":
            raise Fallback
    return found, sane_request_id(given.decode("latin-1"))


def _declared(headers: dict[bytes, bytes]) -> int | None:
    """The body's declared length: plain digits, or None for a chunked body (or none at all)."""
    length = headers.get(b"content-length")
    encoding = headers.get(b"transfer-encoding")
    if length is not None:
        if encoding is not None or _LENGTH.fullmatch(length) is None:
            raise Fallback
        return int(length)
    if encoding is not None and encoding.strip().lower() != b"chunked":
        raise Fallback
    return None


class UploadFastPath:
    """ASGI wrapper: answers plain uploads itself, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._counted: dict[int, tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            upload, ids, request_id = await self._prepare(scope, receive)
        except (Fallback, ArtifactStoreError, ValueError):
            await self.app(scope, receive, send)  # nothing of the body has been read
            return
        scope["satchel_route"] = UPLOAD_PATH
        scope["satchel_request_id"] = request_id
        status = 500  # as the metrics middleware counts a failure that escapes
        try:
            store = scope["app"].state.store
            response: Response
            try:
                artifact_id = await store.stream_upload(upload)
                response = created_response(artifact_id, await store.metadata(artifact_id, **ids))
            except ClientDisconnect:
                response = gone_response(Request(scope, receive))
            except (ArtifactStoreError, ValidationError) as exc:
                error = exc if isinstance(exc, ArtifactStoreError) else model_error(exc)
                response = error_response(Request(scope, receive), error)
            except Exception:
                # the app's outermost layer answers these: no X-Request-ID, and raised on
                await unexpected_response(Request(scope, receive))(scope, receive, send)
                raise
            status = response.status_code
            headers = [*response.raw_headers, (b"x-request-id", request_id.encode("latin-1"))]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": response.body})
        finally:
            self._count(scope, status, started)

    async def _prepare(
        self, scope: Scope, receive: Receive
    ) -> tuple[StreamUploadRequest, dict[str, str | None], str]:
        """What the route would hand the store, the caller's ids and the request's id; or
        raise, having read nothing of the body (the full app then answers)."""
        headers, request_id = _request_headers(scope)
        authorization = headers.get(b"authorization")
        if not authorization:
            raise Fallback  # the route's guard words the 401
        declared = _declared(headers)
        params = query_params(scope["query_string"], _QUERY_NAMES)
        state = scope["app"].state
        settings = state.settings
        principal = await principal_for(authorization.decode("latin-1"), state.store, state.tokens)
        if principal.anonymous:
            raise Fallback
        get = params.get
        ids = ids_for(
            principal,
            anon_read=settings.anon_read,
            user_id=get("user_id"),
            session_id=get("session_id"),
        )
        content_type = headers.get(b"content-type")
        fields: dict[str, Any] = {
            "data_stream": received_body(receive, settings.max_upload_bytes, declared),
            "mime": mime_for(
                None if content_type is None else content_type.decode("latin-1"), get("mime")
            ),
            "summary": get("summary", ""),
            "filename": get("filename"),
            "meta": json_query("meta", get("meta")),
            "scope": get("scope", "session"),
            "content_length": declared,
            **ids,
        }
        ttl_value = ttl_query(get("ttl"))
        if ttl_value is not UNSET:
            fields["ttl"] = ttl_value
        return StreamUploadRequest(**fields), ids, request_id

    def _count(self, scope: Scope, status: int, started: float) -> None:
        """Count an answered request as the metrics middleware would (its children cached)."""
        children = self._counted.get(status)
        if children is None:
            metrics = scope["app"].state.metrics
            children = (
                metrics.requests.labels("POST", UPLOAD_PATH, str(status)),
                metrics.latency.labels("POST", UPLOAD_PATH),
            )
            self._counted[status] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)
