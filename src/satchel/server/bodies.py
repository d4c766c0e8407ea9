"""Request bodies as async byte streams, never buffered whole, bounded by the upload limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from starlette.requests import ClientDisconnect
from starlette.types import Receive

from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.core.headers import parse_repr_digest

__all__ = ["declared_length", "declared_sha256", "received_body", "request_body"]


def declared_length(request: Request) -> int | None:
    """The request's ``Content-Length`` as an int (None when absent); 400 when malformed."""
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise InvalidRequestError(f"Content-Length {raw!r} is not a number") from exc
    if value < 0:
        raise InvalidRequestError(f"Content-Length {raw!r} is negative")
    return value


def declared_sha256(request: Request) -> str | None:
    """The body's sha256 a client declared (``Repr-Digest`` or ``Content-Digest``, RFC 9530;
    for an unencoded body they are the same), as ``sha256:<hex>``; 400 when malformed."""
    for name in ("repr-digest", "content-digest"):
        value = request.headers.get(name)
        if value is None:
            continue
        digest = parse_repr_digest(value)
        if digest is None and "sha-256" in value.lower():
            raise InvalidRequestError(f"{name} carries a malformed sha-256")
        if digest is not None:
            return digest
    return None


async def request_body(request: Request, *, max_bytes: int | None = None) -> AsyncIterator[bytes]:
    """Yield the raw request body chunk by chunk (constant memory).

    Raises TooLargeError (413) as soon as the declared length or the bytes received exceed
    *max_bytes* (default: the store's ``max_upload_bytes``); the store checks again.
    """
    limit = max_bytes if max_bytes is not None else request.app.state.settings.max_upload_bytes
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise TooLargeError(f"the body of {declared} bytes exceeds the limit of {limit} bytes")
    received = 0
    async for chunk in request.stream():
        if not chunk:
            continue
        received += len(chunk)
        if received > limit:
            raise TooLargeError(f"the body exceeds the limit of {limit} bytes")
        yield chunk


async def received_body(receive: Receive, limit: int, declared: int | None) -> AsyncIterator[bytes]:
    """:func:`request_body` read from the ASGI *receive* channel itself, for a raw-ASGI path
    that has no Request (*declared*: the body's ``Content-Length``, None when absent): the
    same chunks, the same refusals, and ClientDisconnect when the client goes away."""
    if declared is not None and declared > limit:
        raise TooLargeError(f"the body of {declared} bytes exceeds the limit of {limit} bytes")
    received = 0
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                received += len(chunk)
                if received > limit:
                    raise TooLargeError(f"the body exceeds the limit of {limit} bytes")
                yield chunk
            if not message.get("more_body", False):
                return
        elif kind == "http.disconnect":
            raise ClientDisconnect()
