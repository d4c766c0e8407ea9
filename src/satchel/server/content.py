"""Opened content as an HTTP answer (200, 206, 304 and HEAD), shared by
``/v1/artifacts/{id}/content``, ``/v1/signed/{token}`` and the fast path.

The store decides (access, If-Match, If-None-Match, If-Range, the range); this module only
reads the request's headers into the store's arguments and writes the answer's headers. Bytes
stream from the opened content, never buffered whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from satchel.core.content import ArtifactContent
from satchel.core.headers import content_disposition, quote_etag, repr_digest
from satchel.core.proxy import ProxyAnswer
from satchel.core.ranges import ByteRange

__all__ = [
    "content_headers",
    "content_response",
    "proxy_headers",
    "read_conditions",
    "validator_headers",
]


def read_conditions(request: Request) -> dict[str, Any]:
    """The ``open_content`` arguments a request's headers ask for (HEAD opens no stream)."""
    headers = request.headers
    return {
        "byte_range": ByteRange.parse(headers.get("range")),
        "if_range": headers.get("if-range"),
        "if_none_match": headers.get("if-none-match"),
        "head": request.method == "HEAD",
    }


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
    headers = content_headers(content)
    if request.method == "HEAD":
        return Response(status_code=content.status, headers=headers)
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
