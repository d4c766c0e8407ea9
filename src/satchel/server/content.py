"""Opened content as an HTTP answer (200, 206, 304 and HEAD), shared by
``/v1/artifacts/{id}/content``, ``/v1/signed/{token}``, package files and the fast path.

The store decides (access, If-Match, If-None-Match, If-Range, the range); this module only
reads the request's headers into the store's arguments and writes the answer's headers. Bytes
stream from the opened content, never buffered whole.

In the nginx mode (``SATCHEL_ACCEL_REDIRECT_PREFIX``) a GET nginx can answer exactly as Satchel
would (no conditions, at most one plain byte range) asks the store for the blob's file; when
it is one, the answer is Satchel's headers, an empty body and ``X-Accel-Redirect`` naming the
file under the prefix, and nginx sends the bytes (and applies the range) itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import Headers

from satchel.core.content import ArtifactContent
from satchel.core.headers import content_disposition, quote_etag, repr_digest
from satchel.core.proxy import ProxyAnswer
from satchel.core.ranges import ByteRange

__all__ = [
    "accel_headers",
    "content_headers",
    "content_response",
    "nginx_answers_alike",
    "proxy_headers",
    "read_conditions",
    "validator_headers",
    "wants_file",
]

# Conditions nginx would test again, against the file's validators rather than the version's:
# such GETs stream from Satchel, which has already decided them.
_CONDITIONS = ("if-match", "if-none-match", "if-range", "if-modified-since", "if-unmodified-since")
# The one range both Satchel and nginx read the same way.
_ONE_RANGE = re.compile(r"bytes=(?:[0-9]{1,19}-[0-9]{0,19}|-[0-9]{1,19})")
# A blob file as a backend names it: relative, no empty, dot or dot-dot segment.
_BLOB_FILE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


def read_conditions(request: Request) -> dict[str, Any]:
    """The ``open_content`` arguments a request's headers ask for (HEAD opens no stream)."""
    headers = request.headers
    return {
        "byte_range": ByteRange.parse(headers.get("range")),
        "if_range": headers.get("if-range"),
        "if_none_match": headers.get("if-none-match"),
        "head": request.method == "HEAD",
    }


def wants_file(request: Request) -> bool:
    """Whether to ask the store for the blob's file (``local_file``): the nginx mode is on and
    the request is a GET without conditions and with at most one plain byte range."""
    if request.method != "GET" or not request.app.state.settings.accel_redirect_prefix:
        return False
    return nginx_answers_alike(request.headers)


def nginx_answers_alike(headers: Headers) -> bool:
    """True when nginx, sending the file itself, answers a request with these headers as
    Satchel does: no condition it would test against the file's own validators, and no range
    it would read otherwise (several, or spelt oddly)."""
    if any(name in headers for name in _CONDITIONS):
        return False
    ranges = headers.getlist("range")
    return not ranges or (len(ranges) == 1 and _ONE_RANGE.fullmatch(ranges[0]) is not None)


def accel_headers(content: ArtifactContent, prefix: str, ranged: bool) -> dict[str, str] | None:
    """The headers of the nginx mode's answer (an empty 200 naming the file to send), or None
    when *content* must stream: its blob is no plain local file, or Satchel did not honour the
    range the request carries (*ranged*). nginx keeps Content-Type, Content-Disposition and
    Cache-Control (and Accept-Ranges); its internal location adds the rest back
    (docs/operations.md); it states Content-Length and Content-Range for what it sends."""
    name = content.local_file
    if not prefix or name is None or content.partial != ranged:
        return None
    if not _BLOB_FILE.fullmatch(name):
        return None
    headers = validator_headers(content)
    if not content.partial:
        del headers["Accept-Ranges"]  # nginx states it on a 200 it sends (not on a 206)
    headers["Content-Type"] = content.mime
    headers["Content-Length"] = "0"  # this answer's own body; nginx sends the file's length
    headers["X-Accel-Redirect"] = prefix + name
    return headers


def validator_headers(content: ArtifactContent) -> dict[str, str]:
    """The headers of every answer about a version's bytes (200, 206, 304 and HEAD)."""
    headers = {
        "ETag": quote_etag(content.etag),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "Repr-Digest": repr_digest(content.sha256),
        "Satchel-Artifact-Id": content.artifact_id,
        # stored bytes are never rendered as the service's own page: always a download, and
        # the declared type is the only one a browser may take
        "Content-Disposition": content_disposition(content.filename),
        "X-Content-Type-Options": "nosniff",
    }
    return headers


def content_headers(content: ArtifactContent) -> dict[str, str]:
    """The headers of an answer carrying (or, for HEAD, describing) bytes."""
    headers = validator_headers(content)
    headers["Content-Type"] = content.mime
    headers["Content-Length"] = str(content.length)
    if content.partial:
        headers["Content-Range"] = f"bytes {content.start}-{content.end - 1}/{content.size}"
    return headers


def content_response(request: Request, content: ArtifactContent) -> Response:
    """The answer to a GET or HEAD of opened *content*."""
    if content.not_modified:
        return Response(status_code=304, headers=validator_headers(content))
    if request.method == "HEAD":
        return Response(status_code=content.status, headers=content_headers(content))
    prefix = request.app.state.settings.accel_redirect_prefix
    redirect = accel_headers(content, prefix, "range" in request.headers)
    if redirect is not None:  # the stream was never opened: closing it costs nothing
        return Response(headers=redirect, background=BackgroundTask(content.aclose))
    headers = content_headers(content)
    return StreamingResponse(_closing(content), status_code=content.status, headers=headers)


async def _closing(content: ArtifactContent) -> AsyncIterator[bytes]:
    """*content*'s bytes, its stream closed however the response ends (a client that goes
    away mid-body included): the blob's file or S3 body is not left to the garbage collector."""
    try:
        async for chunk in content:
            yield chunk
    finally:
        await content.aclose()


def proxy_headers(answer: ProxyAnswer) -> dict[str, str]:
    """The headers of a read through the pull-through cache (a 200, or HEAD): a cached copy's
    content headers, or a download's media type, name and declared size; then where it came
    from (``X-Artifact-Source``) and, for a copy served past its freshness, how old it is."""
    if answer.content is not None:
        headers = content_headers(answer.content)
    else:
        headers = {
            "Content-Type": answer.mime,
            "Content-Disposition": content_disposition(answer.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        }
        if answer.size is not None:
            headers["Content-Length"] = str(answer.size)
    headers.update(stale_headers(answer))
    return headers


def stale_headers(answer: ProxyAnswer) -> dict[str, str]:
    headers = {"X-Artifact-Source": answer.source}
    if answer.stale_age is not None:
        headers["X-Artifact-Stale"] = "true"
        headers["Age"] = str(int(answer.stale_age))
        headers["Warning"] = '110 - "Response is Stale"'
    return headers
