"""``AsyncArtifact``: an artifact as the async IVCAP-style client returns it. Its reads are
pinned to the version it describes (``If-Match`` its etag): a replaced artifact raises
PreconditionFailedError rather than mixing versions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Generator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from satchel.client.artifacts.aspect import Aspect
from satchel.client.artifacts.references import artifact_urn
from satchel.client.localfiles import fresh_file
from satchel.client.safepath import SafePath
from satchel.core.errors import InvalidRequestError
from satchel.core.models import ArtifactMetadata
from satchel.core.ranges import ByteRange
from satchel.core.requests import ProgressCallback, StreamDownloadRequest

if TYPE_CHECKING:
    from satchel.client.artifacts.async_client import AsyncSatchel

__all__ = ["AsyncArtifact", "AsyncLocalFile", "check_schema_record", "write_chunks"]

DOWNLOAD_CHUNK = 1024 * 1024


def check_schema_record(record: object) -> dict[str, Any]:
    """*record* as ``add_metadata`` takes it: a dict naming its schema in ``$schema``."""
    if not isinstance(record, dict):
        raise InvalidRequestError("metadata is a dict with a '$schema' key")
    schema = record.get("$schema")
    if not isinstance(schema, str) or not schema:
        raise InvalidRequestError("metadata needs a '$schema' key naming a registered schema")
    return record


async def write_chunks(chunks: AsyncIterator[bytes], target: Path) -> SafePath:
    """Write *chunks* to *target*, which takes the name only once they are all written."""
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    fd, temp = await asyncio.to_thread(fresh_file, target)
    try:
        with os.fdopen(fd, "wb") as handle:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
        await asyncio.to_thread(os.replace, temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return SafePath(target)


class AsyncLocalFile:
    """What ``as_local_file`` answers: ``await`` it for the kept file at the path given, or use
    it in ``async with`` for a temporary copy removed on exit (a given path is kept)."""

    def __init__(self, artifact: AsyncArtifact, path: str | os.PathLike[str] | None) -> None:
        self._artifact = artifact
        self._path = path
        self._directory: str | None = None

    def __await__(self) -> Generator[Any, None, SafePath]:
        if self._path is None:
            raise InvalidRequestError(
                "as_local_file() without a path is a temporary file: use it in 'async with'"
            )
        return self._artifact.download(self._path).__await__()

    async def __aenter__(self) -> Path:
        if self._path is not None:
            return await self._artifact.download(self._path)
        self._directory = await asyncio.to_thread(tempfile.mkdtemp, prefix="satchel-")
        try:
            return Path(
                await self._artifact.download(Path(self._directory) / self._artifact.basename)
            )
        except BaseException:
            await self._remove()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._remove()

    async def _remove(self) -> None:
        directory, self._directory = self._directory, None
        if directory is not None:
            await asyncio.to_thread(shutil.rmtree, directory, True)


class AsyncArtifact:
    """An artifact of the store: ``id`` (``urn:satchel:artifact:<id>``), ``artifact_id``,
    ``name``, ``size``, ``mime_type``, ``status`` (``ready``: a stored artifact is complete),
    and its content and aspects through the client that found it."""

    status = "ready"

    def __init__(self, client: AsyncSatchel, metadata: ArtifactMetadata) -> None:
        self._client = client
        self.info = metadata
        self.artifact_id = metadata.artifact_id
        self.id = artifact_urn(metadata.artifact_id)
        self.name = metadata.filename
        self.policy = metadata.policy
        self.size = metadata.bytes
        self.mime_type = metadata.mime
        self.sha256 = metadata.sha256
        self.etag = metadata.etag

    def __repr__(self) -> str:
        return f"<Artifact id={self.id}, name={self.name}, size={self.size}, status={self.status}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AsyncArtifact) and (self.id, self.etag) == (other.id, other.etag)

    def __hash__(self) -> int:
        return hash((self.id, self.etag))

    @property
    def basename(self) -> str:
        return (self.name or self.artifact_id).rsplit("/", 1)[-1] or self.artifact_id

    @property
    def metadata(self) -> Awaitable[list[Aspect]]:
        """``await artifact.metadata``: its active aspects, oldest first."""
        return self._client.list_aspects(entity=self.id, limit=1000)

    async def add_metadata(self, record: dict[str, Any], *, policy: str | None = None) -> Aspect:
        """Add an aspect about this artifact; its schema is ``record["$schema"]``."""
        check_schema_record(record)
        return await self._client.add_aspect(self.id, record, policy=policy)

    # -- content -----------------------------------------------------------------------------

    def as_stream(
        self, chunk_size: int = DOWNLOAD_CHUNK, progress: ProgressCallback | None = None
    ) -> AsyncIterator[bytes]:
        """The content in *chunk_size* pieces; ``progress(done, total)`` after each."""
        caller = self._client.ids
        request = StreamDownloadRequest(
            artifact_id=self.artifact_id,
            chunk_size=chunk_size,
            progress_callback=progress,
            **caller,
        )
        return self._client.store.stream_download(request)

    async def download(self, path: str | os.PathLike[str]) -> SafePath:
        """Write the content to *path* (replaced only once complete) and return it."""
        return await write_chunks(self.as_stream(), Path(path))

    def as_local_file(self, path: str | os.PathLike[str] | None = None) -> AsyncLocalFile:
        """``path = await artifact.as_local_file(path)`` (kept), or
        ``async with artifact.as_local_file() as path:`` (a temporary file, removed on exit)."""
        return AsyncLocalFile(self, path)

    async def read_range(self, start: int, length: int) -> bytes:
        """*length* bytes from *start* (fewer at the end), of this version."""
        if length <= 0 or start >= self.size:
            return b""
        chunks = self.range_chunks(start, min(start + length, self.size))
        return b"".join([chunk async for chunk in chunks])

    async def range_chunks(self, start: int, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes ``start…end`` (exclusive; None: to the end) of this version, streamed."""
        last = None if end is None else end - 1
        content = await self._client.store.open_content(
            self.artifact_id,
            byte_range=ByteRange(start, last),
            if_match=self.etag,
            user_id=self._client.user_id,
            session_id=self._client.session_id,
        )
        async with content:
            async for chunk in content:
                yield chunk
