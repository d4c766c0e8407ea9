"""Streaming upload and download with progress callbacks, in constant memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.core.requests import StreamDownloadRequest, StreamUploadRequest
from satchel.core.streams import checked_stream, report_progress
from satchel.store.base import UNSET
from satchel.store.creating import CreatingMixin

__all__ = ["StreamingMixin"]


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
        chunks = checked_stream(request.data_stream, total, request.progress_callback)
        record = await self._create(spec, chunks)
        return record.artifact_id

    async def stream_download(self, request: StreamDownloadRequest) -> AsyncIterator[bytes]:
        """Yield an artifact's bytes in ``request.chunk_size`` pieces, reporting progress."""
        if not isinstance(request, StreamDownloadRequest):
            raise InvalidRequestError("stream_download takes a StreamDownloadRequest")
        caller = await self._caller(request.user_id, request.session_id)
        record = await self._load(request.artifact_id, caller)
        done = 0
        async for chunk in self.blobs_for(record).open_range(
            record.sha256, chunk_size=request.chunk_size
        ):
            done += len(chunk)
            yield chunk
            await report_progress(request.progress_callback, done, record.bytes)
