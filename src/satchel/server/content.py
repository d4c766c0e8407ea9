"""Artifact content as an HTTP response: Range (206/416), ETag, If-None-Match (304), If-Range,
Content-Type and Content-Disposition; shared by ``/v1/artifacts/{id}/content`` and
``/v1/signed/{token}``. Bytes stream from the blob store, never buffered whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from satchel.server.errors import error_response
from satchel.server.ranges import (
    RangeNotSatisfiableError,
    content_disposition,
    etag_matches,
    if_range_allows,
    parse_range,
    quote_etag,
)
from satchel.store import ArtifactStore

__all__ = ["Downloadable", "content_response", "validator_headers"]


class Downloadable(Protocol):
    """What a download needs (an ``ArtifactMetadata`` or an ``ArtifactRecord``)."""

    @property
    def etag(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def bytes(self) -> int: ...
    @property
    def mime(self) -> str: ...
    @property
    def filename(self) -> str | None: ...
    @property
    def storage_provider(self) -> str: ...


async def _prefetched(source: AsyncIterator[bytes], first: bytes) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in source:
        yield chunk


def validator_headers(artifact: Downloadable) -> dict[str, str]:
    """The headers of every answer about *artifact*'s bytes (200, 206, 304 and HEAD)."""
    headers = {
        "ETag": quote_etag(artifact.etag),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
    }
    disposition = content_disposition(artifact.filename)
    if disposition != "attachment":
        headers["Content-Disposition"] = disposition
    return headers


async def content_response(
    request: Request, store: ArtifactStore, artifact: Downloadable
) -> Response:
    """The response to a GET or HEAD of *artifact*'s bytes."""
    size = artifact.bytes
    headers = validator_headers(artifact)
    if etag_matches(request.headers.get("if-none-match"), artifact.etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Type"] = artifact.mime
    status = 200
    start, end = 0, size
    range_header = request.headers.get("range")
    if range_header is not None and if_range_allows(request.headers.get("if-range"), artifact.etag):
        try:
            wanted = parse_range(range_header, size)
        except RangeNotSatisfiableError:
            response = error_response(
                request, 416, "range_not_satisfiable", f"the artifact has {size} bytes"
            )
            response.headers["Content-Range"] = f"bytes */{size}"
            response.headers["Accept-Ranges"] = "bytes"
            response.headers["ETag"] = headers["ETag"]
            return response
        if wanted is not None:
            start, end = wanted
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    source = store.blobs_for(artifact).open_range(artifact.sha256, start, end)
    # read the first chunk now, so a missing blob is a JSON error, not a truncated body
    first = b""
    async for chunk in source:
        first = chunk
        break
    return StreamingResponse(_prefetched(source, first), status_code=status, headers=headers)
