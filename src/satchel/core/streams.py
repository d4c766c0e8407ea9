"""Byte-stream checks shared by every face: chunk types, declared length, progress reports."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator

from satchel.core.errors import InvalidRequestError
from satchel.core.progress import ProgressCallback, ProgressReporter

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "as_chunks",
    "byte_length",
    "checked_stream",
    "close_stream",
    "first_chunk",
    "gathered",
    "iter_bytes",
    "reported_stream",
]

DEFAULT_CHUNK_SIZE = 1024 * 1024


async def iter_bytes(data: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
    """An async stream over in-memory *data* (itself when it fits in one chunk)."""
    if len(data) <= chunk_size:
        if data:
            yield data
        return
    view = memoryview(data)
    for offset in range(0, len(view), chunk_size):
        yield bytes(view[offset : offset + chunk_size])


async def gathered(
    chunks: AsyncIterable[bytes], size: int = DEFAULT_CHUNK_SIZE
) -> AsyncGenerator[bytes, None]:
    """*chunks* regrouped into pieces of at least *size* bytes (the last may be shorter): what
    a server receives arrives in socket-sized pieces, and each piece handed to a worker thread
    costs a hop. A chunk already that big passes through uncopied."""
    pieces: list[bytes] = []
    held = 0
    async for chunk in chunks:
        if not pieces and len(chunk) >= size:
            yield chunk
            continue
        pieces.append(chunk)
        held += len(chunk)
        if held >= size:
            yield b"".join(pieces)
            pieces, held = [], 0
    if pieces:
        yield b"".join(pieces)


def as_chunks(data: object) -> AsyncIterable[bytes]:
    """*data* as an async byte stream: bytes-like objects are wrapped, async iterables passed on.

    Raises:
        InvalidRequestError: *data* is neither.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        return iter_bytes(bytes(data))
    if isinstance(data, AsyncIterable):
        return data
    raise InvalidRequestError(
        f"data must be bytes or an async iterable of bytes, not {type(data).__name__}"
    )


def byte_length(data: object) -> int | None:
    """The size of bytes-like *data*; None for a stream (its size is known at its end)."""
    if isinstance(data, bytes | bytearray):
        return len(data)
    if isinstance(data, memoryview):
        return data.nbytes
    return None


async def first_chunk(stream: AsyncIterator[bytes]) -> bytes:
    """The first chunk of *stream* (b"" when empty), read now so that a missing blob fails at
    open; *stream* is closed if that read fails."""
    try:
        return await anext(stream, b"")
    except BaseException:
        await close_stream(stream)
        raise


async def close_stream(stream: object) -> None:
    """Close an async iterator that has an ``aclose`` (an async generator); else nothing."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


async def reported_stream(
    source: AsyncIterable[bytes], total: int | None, callback: ProgressCallback | None
) -> AsyncIterator[bytes]:
    """Pass a download's chunks through, reporting progress by the contract of
    :mod:`satchel.core.progress` (the last call comes once the stream has ended whole)."""
    progress = ProgressReporter(callback, total)
    async for chunk in source:
        yield chunk
        await progress.advance(len(chunk))
    await progress.finish()


async def checked_stream(
    source: AsyncIterable[bytes], total: int | None, callback: ProgressCallback | None
) -> AsyncIterator[bytes]:
    """Pass chunks through, checking types and the declared length, reporting progress (by the
    contract of :mod:`satchel.core.progress`).

    Raises InvalidRequestError for a non-bytes chunk or a length other than *total*; a stream
    that runs past *total* fails before its extra bytes are passed on. An empty stream is
    content like any other (zero bytes). A callback's exception ends the stream with it. However
    it ends, *source* is closed (a file it reads is closed then, not when it is collected).
    """
    checked = _checked(source, total, callback)
    try:
        async for chunk in checked:
            yield chunk
    finally:
        await checked.aclose()
        await close_stream(source)


async def _checked(
    source: AsyncIterable[bytes], total: int | None, callback: ProgressCallback | None
) -> AsyncGenerator[bytes, None]:
    progress = ProgressReporter(callback, total)
    async for chunk in source:
        if isinstance(chunk, bytearray | memoryview):
            chunk = bytes(chunk)
        if not isinstance(chunk, bytes):
            raise InvalidRequestError(f"data_stream yielded {type(chunk).__name__}, not bytes")
        if not chunk:
            continue
        if total is not None and progress.done + len(chunk) > total:
            raise InvalidRequestError(f"data_stream sent more than content_length={total} bytes")
        yield chunk
        await progress.advance(len(chunk))
    if total is not None and progress.done != total:
        raise InvalidRequestError(
            f"data_stream sent {progress.done} bytes, not content_length={total}"
        )
    await progress.finish()
