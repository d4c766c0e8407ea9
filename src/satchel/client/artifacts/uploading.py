"""How ``upload_artifact`` stores a source: reuse of an identical artifact (the dedup rule),
one streamed upload for small or unsized sources, tus in ``chunk_size`` pieces for large ones,
resumed from the store's offset after a failure, ``retries`` times, ``retry_delay`` apart."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from satchel.client.artifacts.sources import GENERATED_NAME, UploadSource
from satchel.core.api import ArtifactStoreAPI
from satchel.core.dedup import reusable
from satchel.core.errors import ConflictError, InvalidRequestError, ProviderError
from satchel.core.models import ArtifactMetadata
from satchel.core.requests import StreamUploadRequest
from satchel.core.uploads import UploadStatus

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_CHUNK_SIZE",
    "MIN_CHUNK_SIZE",
    "Caller",
    "UploadOptions",
    "Uploader",
]

MiB = 1024 * 1024
DEFAULT_CHUNK_SIZE = 8 * MiB
"""Sources larger than this (or than ``chunk_size`` when smaller) go through tus."""
MIN_CHUNK_SIZE = 64 * 1024
MAX_CHUNK_SIZE = 256 * MiB
"""A tus piece is held in memory while it is sent (so it can be resent after a failure)."""
_READ = MiB

_RETRYABLE = (ProviderError, ConflictError)
"""Failures worth another try: the store or the connection failed (ProviderError), or the
upload was still held by the PATCH the dropped connection started (ConflictError)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """Whom the client acts as, and the scope its uploads get."""

    user_id: str | None
    session_id: str | None
    scope: str


@dataclasses.dataclass(frozen=True, slots=True)
class UploadOptions:
    """``chunk_size``, ``retries`` and ``retry_delay`` of one upload, checked."""

    chunk_size: int = DEFAULT_CHUNK_SIZE
    retries: int = 3
    retry_delay: float = 1.0

    @classmethod
    def checked(cls, chunk_size: object, retries: object, retry_delay: object) -> UploadOptions:
        size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
        if isinstance(size, bool) or not isinstance(size, int):
            raise InvalidRequestError("chunk_size is a whole number of bytes")
        if not MIN_CHUNK_SIZE <= size <= MAX_CHUNK_SIZE:
            raise InvalidRequestError(
                f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes"
            )
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidRequestError("retries is a whole number, 0 or more")
        if (
            isinstance(retry_delay, bool)
            or not isinstance(retry_delay, (int, float))
            or not 0 <= retry_delay <= 3600
        ):
            raise InvalidRequestError("retry_delay is a number of seconds between 0 and 3600")
        return cls(size, retries, float(retry_delay))

    @property
    def resumable_above(self) -> int:
        """Sources of more bytes than this go through tus."""
        return min(self.chunk_size, DEFAULT_CHUNK_SIZE)


class Uploader:
    """Stores sources into *store* as *caller*."""

    def __init__(
        self,
        store: ArtifactStoreAPI,
        caller: Caller,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.caller = caller
        self._sleep = sleep

    async def find_reusable(self, source: UploadSource, sha256: str) -> ArtifactMetadata | None:
        """The newest artifact the caller can read that is what uploading *source* (of content
        *sha256*) would create (:func:`satchel.core.dedup.reusable`). A made-up name stands for
        any made-up name with the same extension: the caller did not choose one."""
        caller = self.caller
        cursor: str | None = None
        while True:
            page = await self.store.search(
                user_id=caller.user_id,
                scope=caller.scope,
                session_id=caller.session_id,
                sha256=sha256,
                limit=100,
                cursor=cursor,
                order="-stored_at",
            )
            for item in page:
                filename: str | None = source.filename
                if source.generated and _same_made_up_name(item.filename, source.filename):
                    filename = item.filename
                if reusable(
                    item,
                    filename=filename,
                    mime=source.mime,
                    summary="",
                    meta=None,
                    scope=caller.scope,
                    user_id=caller.user_id,
                    session_id=caller.session_id,
                    ttl=None,
                ):
                    return item
            cursor = page.next_cursor
            if cursor is None:
                return None

    async def upload(self, source: UploadSource, options: UploadOptions) -> str:
        """Store *source* and return the new artifact's id."""
        handle = await asyncio.to_thread(source.open)
        try:
            if source.size is not None and source.size > options.resumable_above:
                return await self._resumable(source, handle, source.size, options)
            return await self._streamed(source, handle, options)
        finally:
            await asyncio.to_thread(source.close, handle)

    # -- one streamed upload -----------------------------------------------------------------

    async def _streamed(self, source: UploadSource, handle: IO[Any], options: UploadOptions) -> str:
        failures = 0
        while True:
            try:
                return await self.store.stream_upload(self._request(source, handle))
            except ProviderError:
                failures += 1
                if not source.rereadable or failures > options.retries:
                    raise
            await self._sleep(options.retry_delay)
            await asyncio.to_thread(source.close, handle)
            handle = await asyncio.to_thread(source.open)

    def _request(self, source: UploadSource, handle: IO[Any]) -> StreamUploadRequest:
        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await asyncio.to_thread(source.read, handle, _READ):
                yield chunk

        return StreamUploadRequest(
            data_stream=chunks(),
            mime=source.mime,
            filename=source.filename,
            user_id=self.caller.user_id,
            session_id=self.caller.session_id,
            scope=self.caller.scope,
            content_length=source.size,
        )

    # -- tus, in pieces ----------------------------------------------------------------------

    async def _resumable(
        self, source: UploadSource, handle: IO[Any], size: int, options: UploadOptions
    ) -> str:
        ids: dict[str, Any] = {"user_id": self.caller.user_id, "session_id": self.caller.session_id}
        metadata = {"filename": source.filename, "mime": source.mime, "scope": self.caller.scope}
        if self.caller.session_id is not None:
            metadata["session_id"] = self.caller.session_id
        status = await self.store.tus_create(length=size, metadata=metadata, **ids)
        try:
            offset = status.offset
            while offset < size:
                piece = await asyncio.to_thread(
                    source.read, handle, min(options.chunk_size, size - offset)
                )
                if not piece:
                    raise InvalidRequestError(
                        f"the source ended at byte {offset} of the {size} announced"
                    )
                status = await self._send_piece(status, offset, piece, options)
                offset = status.offset
        except BaseException:
            with contextlib.suppress(Exception):
                await self.store.tus_terminate(status.upload_id, **ids)
            raise
        return status.artifact_id

    async def _send_piece(
        self, status: UploadStatus, start: int, piece: bytes, options: UploadOptions
    ) -> UploadStatus:
        """Append *piece* (bytes ``start…``) completely: after a failure, ask the store where
        the upload stands and send the rest of the piece from there."""
        ids: dict[str, Any] = {"user_id": self.caller.user_id, "session_id": self.caller.session_id}
        upload_id, offset, end = status.upload_id, start, start + len(piece)
        failures, lost = 0, False
        while offset < end:
            try:
                if lost:
                    status = await self.store.tus_info(upload_id, **ids)
                    lost = False
                else:
                    status = await self.store.tus_append(
                        upload_id, offset, piece[offset - start :], **ids
                    )
                    failures = 0
            except _RETRYABLE:
                failures += 1
                if failures > options.retries:
                    raise
                await self._sleep(options.retry_delay)
                lost = True
                continue
            offset = status.offset
            if not start <= offset <= end:
                raise ProviderError(
                    f"upload {upload_id} is at byte {offset}, outside the piece {start}-{end} sent"
                )
        return status


def _same_made_up_name(existing: str | None, wanted: str) -> bool:
    """Whether *existing* is a made-up name with the extension *wanted* (made up too) has."""
    return (
        existing is not None
        and GENERATED_NAME.fullmatch(existing) is not None
        and existing[32:] == wanted[32:]
    )
