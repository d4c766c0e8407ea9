"""Byte-stream checks shared by every face: chunk types, declared length, progress reports."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator

from satchel.core.errors import InvalidRequestError
from satchel.core.requests import ProgressCallback

__all__ = ["checked_stream", "report_progress"]


async def report_progress(callback: ProgressCallback | None, done: int, total: int | None) -> None:
    """Call a sync or async progress callback, if there is one."""
    if callback is None:
        return
    result = callback(done, total)
    if inspect.isawaitable(result):
        await result


async def checked_stream(
    source: AsyncIterable[bytes], total: int | None, callback: ProgressCallback | None
) -> AsyncIterator[bytes]:
    """Pass chunks through, checking types and the declared length, reporting progress.

    Raises InvalidRequestError for a non-bytes chunk, an empty stream, or a length other than
    *total*; a stream that runs past *total* fails before its extra bytes are passed on.
    """
    done = 0
    async for chunk in source:
        if isinstance(chunk, bytearray | memoryview):
            chunk = bytes(chunk)
        if not isinstance(chunk, bytes):
            raise InvalidRequestError(f"data_stream yielded {type(chunk).__name__}, not bytes")
        if not chunk:
            continue
        done += len(chunk)
        if total is not None and done > total:
            raise InvalidRequestError(f"data_stream sent more than content_length={total} bytes")
        yield chunk
        await report_progress(callback, done, total)
    if done == 0:
        raise InvalidRequestError("data_stream produced no data")
    if total is not None and done != total:
        raise InvalidRequestError(f"data_stream sent {done} bytes, not content_length={total}")
