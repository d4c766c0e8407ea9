"""Streaming upload and download with progress callbacks, in constant memory."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator

from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.core.requests import ProgressCallback, StreamDownloadRequest, StreamUploadRequest
from satchel.store.base import UNSET
from satchel.store.creating import CreatingMixin

__all__ = ["StreamingMixin"]


async def _report(callback: ProgressCallback | None, done: int, total: int | None) -> None:
    if callback is None:
        return
    result = callback(done, total)
    if inspect.isawaitable(result):
        await result


async def _checked_upload(
    source: AsyncIterable[bytes], total: int | None, callback: ProgressCallback | None
) -> AsyncIterator[bytes]:
    """Pass chunks through, checking types and the declared length, reporting progress."""
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
        await _report(callback, done, total)
    if done == 0:
        raise InvalidRequestError("data_stream produced no data")
    if total is not None and done != total:
        raise InvalidRequestError(f"data_stream sent {done} bytes, not content_length={total}")


class StreamingMixin(CreatingMixin):
    async def stream_upload(self, request: StreamUploadRequest) -> str:
        """Store an artifact from ``request.data_stream`` without holding it in memory.

        Nothing is stored if the stream fails, is empty, or disagrees with ``content_length``.
        """
        if not isinstance(request, StreamUploadRequest):
            raise InvalidRequestError("stream_upload takes a StreamUploadRequest")
        await self._ensure_open()
        total = request.content_length
        if total is not None and total <= 0:
            raise InvalidRequestError(f"content_length {total} is out of range")
        if total is not None and total > self.settings.max_upload_bytes:
            limit = self.settings.max_upload_bytes
            raise TooLargeError(f"content_length {total} exceeds the limit of {limit} bytes")
        spec = self._new_artifact(
            mime=request.mime,
            summary=request.summary,
            meta=request.meta,
            filename=request.filename,
            ttl=request.ttl if request.ttl_given() else UNSET,
            scope=request.scope,
            user_id=request.user_id,
            session_id=request.session_id,
        )
        chunks = _checked_upload(request.data_stream, total, request.progress_callback)
        record = await self._create(spec, chunks)
        return record.artifact_id

    async def stream_download(self, request: StreamDownloadRequest) -> AsyncIterator[bytes]:
        """Yield an artifact's bytes in ``request.chunk_size`` pieces, reporting progress."""
        if not isinstance(request, StreamDownloadRequest):
            raise InvalidRequestError("stream_download takes a StreamDownloadRequest")
        caller = await self._caller(request.user_id, request.session_id)
        record = await self._load(request.artifact_id, caller)
        done = 0
        async for chunk in self.blobs.open_range(record.sha256, chunk_size=request.chunk_size):
            done += len(chunk)
            yield chunk
            await _report(request.progress_callback, done, record.bytes)
