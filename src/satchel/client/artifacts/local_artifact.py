"""Local-file artifacts (seed 002's ``LocalFileArtifact``): a file named by ``file:///abs/path``
or ``urn:file:///abs/path``, read where it is. Nothing is copied into the store; its aspects
are kept by the store under its ``urn:file://`` URN."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from satchel.client.artifacts.aspect import Aspect
from satchel.client.artifacts.async_artifact import DOWNLOAD_CHUNK, check_schema_record
from satchel.client.artifacts.references import file_urn
from satchel.client.safepath import SafePath
from satchel.core.mime import guess_mime
from satchel.core.requests import ProgressCallback

if TYPE_CHECKING:
    from satchel.client.artifacts.async_client import AsyncSatchel
    from satchel.client.artifacts.sync_client import Satchel

__all__ = ["AsyncLocalFileArtifact", "LocalFileArtifact"]


class _LocalFile:
    status = "ready"

    def __init__(self, path: Path) -> None:
        self.path = path.absolute()
        self.id = file_urn(self.path)
        self.artifact_id: str | None = None
        self.name = self.path.name
        self.mime_type = guess_mime(self.name)

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def __repr__(self) -> str:
        return f"<LocalFileArtifact id={self.id}, size={self.size}, status={self.status}>"

    def _copy(self, path: str | os.PathLike[str] | None) -> SafePath:
        """The file itself (never removed), or a copy at *path* (kept)."""
        if path is None or Path(path).absolute() == self.path:
            return SafePath(self.path)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path, target)
        return SafePath(target)

    def _chunks(
        self, chunk_size: int, progress: ProgressCallback | None
    ) -> Generator[bytes, None, None]:
        with open(self.path, "rb") as handle:
            total = os.fstat(handle.fileno()).st_size
            done = 0
            while chunk := handle.read(chunk_size):
                done += len(chunk)
                yield chunk
                if progress is not None:
                    progress(done, total)


class LocalFileArtifact(_LocalFile):
    """A local file as an artifact: ``open()``, ``as_local_file()`` and ``as_stream()`` read
    the file in place; ``as_local_file()`` never deletes it, even in a ``with``."""

    def __init__(self, client: Satchel, path: Path) -> None:
        super().__init__(path)
        self._client = client

    @property
    def metadata(self) -> list[Aspect]:
        return self._client.list_aspects(entity=self.id, limit=1000)

    def add_metadata(self, record: dict[str, Any], *, policy: str | None = None) -> Aspect:
        check_schema_record(record)
        return self._client.add_aspect(self.id, record, policy=policy)

    def as_local_file(self, path: str | os.PathLike[str] | None = None) -> SafePath:
        return self._copy(path)

    def open(self) -> io.BufferedReader:
        return open(self.path, "rb")

    def as_stream(
        self, chunk_size: int = DOWNLOAD_CHUNK, progress: ProgressCallback | None = None
    ) -> Iterator[bytes]:
        return self._chunks(chunk_size, progress)


class _InPlace:
    def __init__(self, artifact: _LocalFile, path: str | os.PathLike[str] | None) -> None:
        self._artifact = artifact
        self._path = path

    def __await__(self) -> Generator[Any, None, SafePath]:
        return asyncio.to_thread(self._artifact._copy, self._path).__await__()

    async def __aenter__(self) -> SafePath:
        return await self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class AsyncLocalFileArtifact(_LocalFile):
    """:class:`LocalFileArtifact` for the async client (its methods are awaited)."""

    def __init__(self, client: AsyncSatchel, path: Path) -> None:
        super().__init__(path)
        self._client = client

    @property
    def metadata(self) -> Awaitable[list[Aspect]]:
        return self._client.list_aspects(entity=self.id, limit=1000)

    async def add_metadata(self, record: dict[str, Any], *, policy: str | None = None) -> Aspect:
        check_schema_record(record)
        return await self._client.add_aspect(self.id, record, policy=policy)

    def as_local_file(self, path: str | os.PathLike[str] | None = None) -> _InPlace:
        """``await`` it or use it in ``async with``: the file itself (never removed), or a
        copy at *path* (kept)."""
        return _InPlace(self, path)

    async def as_stream(
        self, chunk_size: int = DOWNLOAD_CHUNK, progress: ProgressCallback | None = None
    ) -> AsyncIterator[bytes]:
        chunks = self._chunks(chunk_size, progress)
        try:
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                yield chunk
        finally:
            await asyncio.to_thread(chunks.close)
