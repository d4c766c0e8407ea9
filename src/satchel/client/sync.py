"""``SyncArtifactStore``: the store API without ``await``, for scripts, notebooks and the CLI.

It wraps an :class:`~satchel.ArtifactStore` or a :class:`RemoteArtifactStore` and runs every call
on an event loop of its own, in a background thread, so it works from plain synchronous code
(and from code that already runs an event loop in its own thread). Besides the store's methods it
offers file conveniences: :meth:`upload_file` (client-side sha256, optional de-duplication),
:meth:`download_file`, :meth:`as_local_file`, :meth:`open` and :meth:`iter_chunks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import io
import mimetypes
import os
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from satchel.client.connect import connect
from satchel.client.remote import RemoteArtifactStore
from satchel.core.errors import InvalidRequestError
from satchel.core.models import ArtifactMetadata
from satchel.core.requests import ProgressCallback, StreamDownloadRequest, StreamUploadRequest
from satchel.core.scopes import Scope
from satchel.store import ArtifactList, ArtifactStore
from satchel.store.base import UNSET

__all__ = ["SyncArtifactStore", "connect_sync", "file_sha256"]

_T = TypeVar("_T")
_CHUNK = 1024 * 1024
DEDUP_SCAN_LIMIT = 2000
"""How many of the caller's artifacts ``upload_file(dedup=True)`` looks at, at most."""

_END = object()


def file_sha256(path: str | os.PathLike[str]) -> tuple[str, int]:
    """The content address (``sha256:<hex>``) and size of a local file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return f"sha256:{digest.hexdigest()}", size


async def _file_chunks(path: Path, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(open, path, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_size):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


class _ChunkReader(io.RawIOBase):
    """A raw binary stream over an iterator of chunks."""

    def __init__(self, chunks: Iterator[bytes], first: bytes) -> None:
        super().__init__()
        self._chunks = chunks
        self._buffer = first

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._buffer))
        view[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        super().close()


class SyncArtifactStore:
    """A synchronous facade over an ArtifactStore or RemoteArtifactStore.

    ``SyncArtifactStore(store)`` wraps *store*; ``SyncArtifactStore()`` wraps ``connect()``.
    Every coroutine method of the wrapped store is available under the same name, returning its
    result directly; :meth:`stream_download` returns a plain iterator. Use it as a context
    manager or call :meth:`close`.
    """

    def __init__(
        self,
        store: ArtifactStore | RemoteArtifactStore | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.wrapped = store if store is not None else connect(url, token, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="satchel-sync", daemon=True
        )
        self._thread.start()
        self._closed = False

    def __repr__(self) -> str:
        return f"SyncArtifactStore({self.wrapped!r})"

    # -- running coroutines on the facade's loop ---------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._closed:
            coroutine.close()
            raise RuntimeError("this SyncArtifactStore is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "wrapped":
            raise AttributeError(name)
        attribute = getattr(self.wrapped, name)
        if not asyncio.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._run(attribute(*args, **kwargs))

        return call

    def call(self, function: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any) -> _T:
        """Run ``await function(*args, **kwargs)`` on the facade's loop."""

        async def run() -> _T:
            return await function(*args, **kwargs)

        return self._run(run())

    # -- lifecycle ---------------------------------------------------------------------------

    def open(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> io.BufferedReader:
        """A readable binary file object streaming the artifact's content (errors raise here)."""
        chunks = self.iter_chunks(artifact_id, _CHUNK, user_id=user_id, session_id=session_id)
        first = next(chunks, b"")
        return io.BufferedReader(_ChunkReader(chunks, first), buffer_size=_CHUNK)

    def close(self) -> None:
        """Close the wrapped store and stop the background loop. Idempotent."""
        if self._closed:
            return
        try:
            self._run(self.wrapped.close())
        finally:
            self._closed = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> SyncArtifactStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- typed shortcuts of the most used calls ----------------------------------------------

    def store(self, data: bytes, **kwargs: Any) -> str:
        return self._run(self.wrapped.store(data, **kwargs))

    def retrieve(self, artifact_id: str, **ids: str | None) -> bytes:
        return self._run(self.wrapped.retrieve(artifact_id, **ids))

    def metadata(self, artifact_id: str, **ids: str | None) -> ArtifactMetadata:
        return self._run(self.wrapped.metadata(artifact_id, **ids))

    def delete(self, artifact_id: str, **kwargs: Any) -> bool:
        return self._run(self.wrapped.delete(artifact_id, **kwargs))

    def search(self, **kwargs: Any) -> ArtifactList:
        return self._run(self.wrapped.search(**kwargs))

    def list_by_session(self, session_id: str, limit: int = 100, **kwargs: Any) -> ArtifactList:
        return self._run(self.wrapped.list_by_session(session_id, limit, **kwargs))

    def stream_upload(self, request: StreamUploadRequest) -> str:
        return self._run(self.wrapped.stream_upload(request))

    def stream_download(self, request: StreamDownloadRequest) -> Iterator[bytes]:
        """The artifact's chunks as a plain iterator (the download runs on the facade's loop)."""
        generator = self.wrapped.stream_download(request)

        async def step() -> Any:
            try:
                return await generator.__anext__()
            except StopAsyncIteration:
                return _END

        async def finish() -> None:
            aclose = getattr(generator, "aclose", None)
            if aclose is not None:
                await aclose()

        try:
            while True:
                chunk = self._run(step())
                if chunk is _END:
                    return
                yield chunk
        finally:
            if not self._closed:
                self._run(finish())

    # -- file conveniences -------------------------------------------------------------------

    def iter_chunks(
        self,
        artifact_id: str,
        chunk_size: int = 65536,
        progress: ProgressCallback | None = None,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> Iterator[bytes]:
        """Yield the artifact's content in *chunk_size* pieces; ``progress(done, total)``."""
        request = StreamDownloadRequest(
            artifact_id=artifact_id,
            chunk_size=chunk_size,
            progress_callback=progress,
            user_id=user_id,
            session_id=session_id,
        )
        return self.stream_download(request)

    def download_file(
        self,
        artifact_id: str,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> Path:
        """Write the artifact's content to *path* (replaced only once the download completes)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in self.iter_chunks(
                    artifact_id,
                    _CHUNK,
                    progress,
                    user_id=user_id,
                    session_id=session_id,
                ):
                    handle.write(chunk)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return target

    @contextlib.contextmanager
    def as_local_file(
        self,
        artifact_id: str,
        path: str | os.PathLike[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> Iterator[Path]:
        """The artifact as a local file: at *path* (kept), or a temporary file removed on exit.

        A temporary file keeps the artifact's filename (its last path segment) so tools that
        look at extensions work.
        """
        ids = {"user_id": user_id, "session_id": session_id}
        if path is not None:
            yield self.download_file(artifact_id, path, progress=progress, **ids)
            return
        meta = self.metadata(artifact_id, **ids)
        name = (meta.filename or artifact_id).rsplit("/", 1)[-1] or artifact_id
        with tempfile.TemporaryDirectory(prefix="satchel-") as directory:
            yield self.download_file(artifact_id, Path(directory) / name, progress=progress, **ids)

    def find_duplicate(
        self,
        sha256: str,
        filename: str,
        *,
        scope: Scope | str = Scope.SESSION,
        user_id: str | None = None,
        session_id: str | None = None,
        limit: int = DEDUP_SCAN_LIMIT,
    ) -> ArtifactMetadata | None:
        """A live artifact the caller can read with this content and filename, if any.

        Looks at the session's artifacts when *session_id* is given, else at the caller's
        artifacts of *scope*; at most *limit* of them (newest pages first as the server lists).
        """
        seen = 0
        cursor: str | None = None
        while seen < limit:
            page_size = min(1000, limit - seen)
            if session_id is not None:
                page = self._run(
                    self.wrapped.list_by_session(
                        session_id, page_size, cursor=cursor, user_id=user_id
                    )
                )
            else:
                page = self._run(
                    self.wrapped.search(
                        user_id=user_id, scope=scope, limit=page_size, cursor=cursor
                    )
                )
            for item in page:
                if item.sha256 == sha256 and item.filename == filename:
                    return item
            seen += page_size
            cursor = page.next_cursor
            if not cursor:
                break
        return None

    def upload_file(
        self,
        path: str | os.PathLike[str],
        *,
        mime: str | None = None,
        summary: str = "",
        scope: Scope | str = Scope.SESSION,
        user_id: str | None = None,
        session_id: str | None = None,
        meta: dict[str, Any] | None = None,
        dedup: bool = True,
        filename: str | None = None,
        ttl: int | None = UNSET,
        progress: ProgressCallback | None = None,
    ) -> str:
        """Upload a local file (streamed, constant memory) and return the artifact id.

        The file's sha256 is computed here first; with ``dedup`` (the default), an artifact the
        caller can read with the same sha256 and filename (see :meth:`find_duplicate`) is
        returned instead of uploading the bytes again.
        """
        source = Path(path)
        if not source.is_file():
            raise InvalidRequestError(f"{source} is not a file")
        name = filename or source.name
        digest, size = file_sha256(source)
        if size == 0:
            raise InvalidRequestError(f"{source} is empty; artifacts need at least one byte")
        if dedup:
            found = self.find_duplicate(
                digest, name, scope=scope, user_id=user_id, session_id=session_id
            )
            if found is not None:
                if progress is not None:
                    progress(size, size)
                return found.artifact_id
        fields: dict[str, Any] = {
            "data_stream": _file_chunks(source),
            "mime": mime or mimetypes.guess_type(name)[0] or "application/octet-stream",
            "summary": summary,
            "filename": name,
            "meta": meta,
            "session_id": session_id,
            "user_id": user_id,
            "scope": scope,
            "content_length": size,
            "progress_callback": progress,
        }
        if ttl is not UNSET:
            fields["ttl"] = ttl
        return self.stream_upload(StreamUploadRequest(**fields))


def connect_sync(
    url: str | None = None, token: str | None = None, **kwargs: Any
) -> SyncArtifactStore:
    """:func:`satchel.connect` wrapped in a :class:`SyncArtifactStore`."""
    return SyncArtifactStore(connect(url, token, **kwargs))
