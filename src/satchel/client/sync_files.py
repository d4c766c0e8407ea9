"""The synchronous facade's file conveniences: local files and file objects in and out.

:meth:`~SyncFilesMixin.upload_file` takes a path or a binary file object (client-side sha256
and reuse of an identical artifact when it can read the source twice);
:meth:`~SyncFilesMixin.open` is a seekable file whose bytes are fetched by range as they are
read; :meth:`~SyncFilesMixin.as_local_file` writes a kept file at once when given a path, or is
a ``with`` block around a temporary one (seed 002's two patterns).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from satchel.client.localfiles import file_chunks, file_sha256, fresh_file
from satchel.client.range_reader import RangeReader
from satchel.client.safepath import SafePath
from satchel.core.dedup import reusable
from satchel.core.errors import InvalidRequestError
from satchel.core.models import ArtifactMetadata
from satchel.core.ranges import ByteRange
from satchel.core.requests import ProgressCallback, StreamDownloadRequest, StreamUploadRequest
from satchel.core.scopes import Scope
from satchel.core.streams import checked_stream
from satchel.core.unset import UNSET, Unset

if TYPE_CHECKING:
    from satchel.client.sync import SyncArtifactStore

__all__ = ["SyncFilesMixin", "TemporaryArtifactFile"]

_CHUNK = 1024 * 1024
_OPEN_BUFFER = 256 * 1024


class TemporaryArtifactFile:
    """``with store.as_local_file(artifact_id) as path``: the artifact downloaded into a
    temporary directory on entry (keeping its filename), removed on exit."""

    def __init__(self, store: SyncArtifactStore, artifact_id: str, **options: Any) -> None:
        self._store = store
        self._artifact_id = artifact_id
        self._options = options
        self._directory: str | None = None

    def __enter__(self) -> Path:
        ids = {k: self._options.get(k) for k in ("user_id", "session_id")}
        meta = self._store.metadata(self._artifact_id, **ids)
        name = (meta.filename or meta.artifact_id).rsplit("/", 1)[-1] or meta.artifact_id
        self._directory = tempfile.mkdtemp(prefix="satchel-")
        try:
            return self._store.download_file(
                self._artifact_id, Path(self._directory) / name, **self._options
            )
        except BaseException:
            self._remove()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._remove()

    def _remove(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None


def _stream_size(stream: BinaryIO) -> int | None:
    """The bytes left in a seekable *stream* (None when it cannot seek)."""
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (OSError, ValueError):
        return None
    return end - here


def _stream_sha256(stream: BinaryIO, progress: ProgressCallback | None) -> str:
    """The sha256 of the rest of a seekable *stream*, which is left where it was."""
    here = stream.tell()
    total = stream.seek(0, io.SEEK_END) - here
    stream.seek(here)
    digest, done = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    stream.seek(here)
    return f"sha256:{digest.hexdigest()}"


async def _stream_chunks(stream: BinaryIO) -> AsyncIterator[bytes]:
    while chunk := stream.read(_CHUNK):
        if not isinstance(chunk, bytes):  # a text file
            raise InvalidRequestError("upload_file reads binary files (open them with 'rb')")
        yield chunk


def _store(mixin: SyncFilesMixin) -> SyncArtifactStore:
    return cast("SyncArtifactStore", mixin)


class SyncFilesMixin:
    """File conveniences of :class:`~satchel.client.sync.SyncArtifactStore`."""

    def open(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> io.BufferedReader:
        """A readable, seekable binary file of the artifact's content: each buffer refill (256
        KiB) is one range read of the version opened (a later version makes a read fail with
        PreconditionFailedError rather than mix the two), ``read()`` to the end streams.
        Errors (not found, denied) raise here."""
        meta = _store(self).metadata(artifact_id, user_id=user_id, session_id=session_id)

        def stream_from(start: int, end: int | None = None) -> Iterator[bytes]:
            if start >= meta.bytes:
                return iter(())
            last = None if end is None else end - 1
            content = _store(self).open_content(
                meta.artifact_id,
                byte_range=ByteRange(start, last),
                if_match=meta.etag,
                user_id=user_id,
                session_id=session_id,
            )
            return iter(content)

        def fetch(start: int, length: int) -> bytes:
            if length <= 0 or start >= meta.bytes:
                return b""
            return b"".join(stream_from(start, min(start + length, meta.bytes)))

        raw = RangeReader(meta.bytes, fetch, stream_from, name=meta.filename)
        return io.BufferedReader(raw, buffer_size=_OPEN_BUFFER)

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
        return _store(self).stream_download(request)

    def download_file(
        self,
        artifact_id: str,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> SafePath:
        """Write the artifact's content to *path* (replaced only once the download completes)
        and return it."""
        target = SafePath(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = fresh_file(target)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in _store(self).iter_chunks(
                    artifact_id, _CHUNK, progress, user_id=user_id, session_id=session_id
                ):
                    handle.write(chunk)
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return target

    def as_local_file(
        self,
        artifact_id: str,
        path: str | os.PathLike[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> SafePath | TemporaryArtifactFile:
        """The artifact as a local file, both ways seed 002 uses it.

        ``as_local_file(id, path)`` downloads to *path* now and returns it (a ``SafePath``,
        also usable in a ``with``, after which the file is kept). ``as_local_file(id)`` is for
        a ``with``: the content in a temporary file keeping the artifact's filename (so tools
        that look at extensions work), removed when the ``with`` ends.
        """
        ids = {"user_id": user_id, "session_id": session_id}
        if path is not None:
            return _store(self).download_file(artifact_id, path, progress=progress, **ids)
        return TemporaryArtifactFile(_store(self), artifact_id, progress=progress, **ids)

    def find_reusable(
        self,
        sha256: str,
        *,
        filename: str | None,
        mime: str | None = None,
        summary: str = "",
        meta: dict[str, Any] | None = None,
        scope: Scope | str = Scope.SESSION,
        user_id: str | None = None,
        session_id: str | None = None,
        ttl: int | Unset | None = UNSET,
    ) -> ArtifactMetadata | None:
        """A live artifact the caller can read that is exactly what storing content *sha256*
        with these arguments would create (:func:`satchel.core.dedup.reusable`), if any."""
        cursor: str | None = None
        while True:
            page = _store(self).search(
                user_id=user_id,
                scope=scope,
                session_id=session_id,
                sha256=sha256,
                limit=100,
                cursor=cursor,
            )
            for item in page:
                if reusable(
                    item,
                    filename=filename,
                    mime=mime,
                    summary=summary,
                    meta=meta,
                    scope=scope,
                    user_id=user_id,
                    session_id=session_id,
                    ttl=ttl,
                ):
                    return item
            cursor = page.next_cursor
            if cursor is None:
                return None

    def upload_file(
        self,
        path: str | os.PathLike[str] | BinaryIO,
        *,
        mime: str | None = None,
        summary: str = "",
        scope: Scope | str = Scope.SESSION,
        user_id: str | None = None,
        session_id: str | None = None,
        meta: dict[str, Any] | None = None,
        dedup: bool = True,
        filename: str | None = None,
        ttl: int | Unset | None = UNSET,
        progress: ProgressCallback | None = None,
        hashing: ProgressCallback | None = None,
    ) -> str:
        """Upload a local file, or a binary file object read from where it stands (both
        streamed, constant memory), and return the artifact id. *hashing* follows the first
        pass (the digest), *progress* the upload.

        The source's sha256 is computed here first when it can be read twice (a path, a
        seekable file object). With ``dedup`` (the default), an artifact the caller can read
        that is exactly what this upload would create (same content, filename, type, summary,
        metadata, scope and owner, and neither expires) is returned instead; otherwise a new
        artifact is made (the server stores the bytes once either way). The filename is
        *filename*, else the path's (or the file object's ``name``) last part; a missing
        *mime* is guessed from it.
        """
        stream: BinaryIO | None = None
        if isinstance(path, (str, os.PathLike)):
            source = Path(path)
            if not source.is_file():
                raise InvalidRequestError(f"{source} is not a file")
            name: str | None = filename or source.name
            digest, size = file_sha256(source, hashing)
            chunks = file_chunks(source)
        elif hasattr(path, "read"):
            if isinstance(path, io.TextIOBase):
                raise InvalidRequestError("upload_file reads binary files (open them with 'rb')")
            stream = path
            given = getattr(stream, "name", None)
            name = filename or (Path(given).name if isinstance(given, str) and given else None)
            size_or_none = _stream_size(stream)
            seekable = size_or_none is not None
            digest = _stream_sha256(stream, hashing) if seekable else ""
            size = size_or_none or 0
            chunks = _stream_chunks(stream)
        else:
            raise InvalidRequestError(
                f"upload_file takes a path or a binary file object, not {type(path).__name__}"
            )
        if dedup and digest:
            found = _store(self).find_reusable(
                digest,
                filename=name,
                mime=mime,
                summary=summary,
                meta=meta,
                scope=scope,
                user_id=user_id,
                session_id=session_id,
                ttl=ttl,
            )
            if found is not None:
                if progress is not None:
                    progress(size, size)
                return found.artifact_id
        fields: dict[str, Any] = {
            "data_stream": chunks,
            "mime": mime,
            "summary": summary,
            "filename": name,
            "meta": meta,
            "session_id": session_id,
            "user_id": user_id,
            "scope": scope,
            "content_length": size if (stream is None or digest) else None,
            "progress_callback": progress,
        }
        if ttl is not UNSET:
            fields["ttl"] = ttl
        return _store(self).stream_upload(StreamUploadRequest(**fields))

    def update_from_file(
        self,
        artifact_id: str,
        path: str | os.PathLike[str],
        *,
        if_match: str | None = None,
        progress: ProgressCallback | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        """Replace an artifact's content with a local file's (streamed; same id, a new version;
        with *if_match*, only if it is still at that etag)."""
        source = Path(path)
        if not source.is_file():
            raise InvalidRequestError(f"{source} is not a file")
        total = source.stat().st_size
        chunks = checked_stream(file_chunks(source), total, progress)  # a file that changed
        return _store(self).update_file_stream(  # size meanwhile fails, changing nothing
            artifact_id, chunks, if_match=if_match, user_id=user_id, session_id=session_id
        )
