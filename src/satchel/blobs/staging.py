"""Staging areas: mutable, append-only byte buffers for uploads in progress.

Multipart parts, presigned uploads and tus uploads land here until they are complete; only then
are they streamed into the content-addressed blob store. ``FileStaging`` keeps them as files
(so a tus upload resumes after a restart); ``MemoryStaging`` serves the zero-config store.
Keys are upload ids (validated ids, optionally ``.{part}``): never caller-chosen paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from satchel._threads import in_thread
from satchel.blobs.base import DEFAULT_CHUNK_SIZE
from satchel.core.errors import (
    ConflictError,
    InsufficientStorageError,
    InvalidRequestError,
    ProviderError,
    TooLargeError,
    is_disk_full,
)

__all__ = [
    "FileStaging",
    "ListableStaging",
    "MemoryStaging",
    "StagedEntry",
    "Staging",
    "StagingProvider",
    "check_staging_key",
]

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}(\.[0-9]{1,5})?$")


def check_staging_key(key: str) -> str:
    """*key* if it is a valid staging key (an id, optionally ``.{part}``); else InvalidRequest."""
    if not _KEY.match(key):
        raise InvalidRequestError(f"invalid staging key {key!r}")
    return key


class Staging(Protocol):
    async def write(
        self, key: str, offset: int, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> int:
        """Write *chunks* at *offset* (0 replaces, else must equal the size); return the size."""

    async def size(self, key: str) -> int | None:
        """Bytes staged under *key*, or None."""

    async def truncate(self, key: str, size: int) -> None:
        """Cut *key* back to *size* bytes (undo a rejected append)."""

    def read(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Stream the staged bytes of *key*."""

    async def delete(self, key: str) -> None:
        """Forget *key* (no error when absent)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StagedEntry:
    """One key of a staging area: its size and when it was last written (epoch seconds)."""

    key: str
    size: int
    modified: float


@runtime_checkable
class ListableStaging(Protocol):
    """A staging area that can list what it holds (for ``storage check``)."""

    async def entries(self) -> list[StagedEntry]:
        """Every staged key."""


@runtime_checkable
class StagingProvider(Protocol):
    """A blob backend that keeps upload staging itself (S3: in the bucket, for replicas)."""

    def upload_staging(self) -> Staging:
        """The staging area of uploads on this backend."""


class MemoryStaging:
    """Staging in process memory."""

    def __init__(self) -> None:
        self._buffers: dict[str, bytearray] = {}

    async def write(
        self, key: str, offset: int, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> int:
        check_staging_key(key)
        current = self._buffers.get(key)
        if offset == 0:
            buffer = bytearray()
        elif current is None or len(current) != offset:
            raise ConflictError(f"upload is at offset {len(current or b'')}, not {offset}")
        else:
            buffer = current
        async for chunk in chunks:
            if len(buffer) + len(chunk) > max_bytes:
                raise TooLargeError(f"upload exceeds {max_bytes} bytes")
            buffer += chunk
        self._buffers[key] = buffer
        return len(buffer)

    async def size(self, key: str) -> int | None:
        buffer = self._buffers.get(check_staging_key(key))
        return None if buffer is None else len(buffer)

    async def truncate(self, key: str, size: int) -> None:
        buffer = self._buffers.get(check_staging_key(key))
        if buffer is not None:
            del buffer[size:]

    async def read(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        buffer = self._buffers.get(check_staging_key(key))
        if buffer is None:
            raise ConflictError("nothing has been uploaded")
        for start in range(0, len(buffer), chunk_size):
            yield bytes(buffer[start : start + chunk_size])

    async def delete(self, key: str) -> None:
        self._buffers.pop(check_staging_key(key), None)


class FileStaging:
    """Staging as files under a directory; each append is fsynced before it is acknowledged."""

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root)
        self._fsync = fsync
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProviderError(f"cannot create staging directory {self.root}: {exc}") from exc

    def _path(self, key: str) -> Path:
        return self.root / check_staging_key(key)

    async def write(
        self, key: str, offset: int, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> int:
        path = self._path(key)
        try:
            if offset == 0:
                handle = await asyncio.to_thread(open, path, "wb")
            else:
                current = await self.size(key)
                if current != offset:
                    raise ConflictError(f"upload is at offset {current or 0}, not {offset}")
                handle = await asyncio.to_thread(open, path, "ab")
        except OSError as exc:
            if is_disk_full(exc):
                raise InsufficientStorageError(f"cannot stage the upload: {exc.strerror}") from exc
            raise ProviderError(f"cannot open staging file: {exc}") from exc
        size = offset
        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLargeError(f"upload exceeds {max_bytes} bytes")
                await in_thread(handle.write, chunk)
            await asyncio.to_thread(handle.flush)
            if self._fsync:
                await asyncio.to_thread(os.fsync, handle.fileno())
        except OSError as exc:
            if is_disk_full(exc):
                raise InsufficientStorageError(f"cannot stage the upload: {exc.strerror}") from exc
            raise ProviderError(f"cannot write staging file: {exc}") from exc
        finally:
            handle.close()
        return size

    async def size(self, key: str) -> int | None:
        try:
            return os.stat(self._path(key)).st_size
        except FileNotFoundError:
            return None

    async def entries(self) -> list[StagedEntry]:
        def scan() -> list[StagedEntry]:
            found = []
            for entry in os.scandir(self.root):
                with contextlib.suppress(OSError):
                    info = entry.stat()
                    found.append(StagedEntry(entry.name, info.st_size, info.st_mtime))
            return found

        return await asyncio.to_thread(scan)

    async def truncate(self, key: str, size: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.truncate, self._path(key), size)

    async def read(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(open, self._path(key), "rb")
        except FileNotFoundError as exc:
            raise ConflictError("nothing has been uploaded") from exc
        try:
            while chunk := await in_thread(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self._path(key))
