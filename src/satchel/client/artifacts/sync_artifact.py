"""``Artifact``: an artifact as the blocking IVCAP-style client (:class:`Satchel`) returns it."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from satchel.client.artifacts.aspect import Aspect
from satchel.client.artifacts.async_artifact import DOWNLOAD_CHUNK, AsyncArtifact
from satchel.client.range_reader import RangeReader
from satchel.client.safepath import SafePath
from satchel.core.requests import ProgressCallback

if TYPE_CHECKING:
    from satchel.client.artifacts.sync_client import Satchel

__all__ = ["Artifact", "TemporaryLocalFile"]

_OPEN_BUFFER = 256 * 1024


class TemporaryLocalFile:
    """``with artifact.as_local_file() as path:`` a temporary copy, removed when the ``with``
    ends (its name is the artifact's, so tools that look at extensions work)."""

    def __init__(self, artifact: Artifact) -> None:
        self._artifact = artifact
        self._directory: str | None = None

    def __enter__(self) -> Path:
        self._directory = tempfile.mkdtemp(prefix="satchel-")
        try:
            target = Path(self._directory) / self._artifact.handle.basename
            return Path(self._artifact.download(target))
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
        directory, self._directory = self._directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


class Artifact:
    """An artifact of the store: ``id`` (``urn:satchel:artifact:<id>``), ``artifact_id``,
    ``name``, ``size``, ``mime_type``, ``status`` (``ready``), ``policy`` (``public`` or None),
    ``metadata`` (its aspects), and its content: :meth:`as_local_file`, :meth:`open`,
    :meth:`as_stream`."""

    status = "ready"

    def __init__(self, client: Satchel, handle: AsyncArtifact) -> None:
        self._client = client
        self.handle = handle
        self.info = handle.info
        self.id = handle.id
        self.artifact_id = handle.artifact_id
        self.name = handle.name
        self.size = handle.size
        self.mime_type = handle.mime_type
        self.policy = handle.policy
        self.sha256 = handle.sha256
        self.etag = handle.etag

    def __repr__(self) -> str:
        return repr(self.handle)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Artifact) and self.handle == other.handle

    def __hash__(self) -> int:
        return hash(self.handle)

    @property
    def metadata(self) -> list[Aspect]:
        """Its active aspects, oldest first."""
        return self._client.list_aspects(entity=self.id, limit=1000)

    def add_metadata(self, record: dict[str, Any], *, policy: str | None = None) -> Aspect:
        """Add an aspect about this artifact; its schema is ``record["$schema"]`` (a registered
        schema's slug, or a built-in provenance schema)."""
        return self._client.run(self.handle.add_metadata(record, policy=policy))

    def download(self, path: str | os.PathLike[str]) -> SafePath:
        """Write the content to *path* (which takes the name once complete) and return it."""
        return self._client.run(self.handle.download(path))

    def as_local_file(
        self, path: str | os.PathLike[str] | None = None
    ) -> SafePath | TemporaryLocalFile:
        """The content as a local file.

        ``as_local_file(path)`` downloads to *path* now and returns it (a ``SafePath``: also
        usable in a ``with``, after which the file is kept). ``as_local_file()`` is for a
        ``with``: a temporary file, removed when the ``with`` ends.
        """
        if path is None:
            return TemporaryLocalFile(self)
        return self.download(path)

    def open(self) -> io.BufferedReader:
        """A seekable binary file of the content whose bytes are fetched as they are read (a
        range read per buffer of 256 KiB; ``read()`` to the end streams), never all at once.
        ``file.raw.requests`` and ``file.raw.bytes_fetched`` count what it asked for."""
        handle = self.handle

        def fetch(start: int, length: int) -> bytes:
            return self._client.run(handle.read_range(start, length))

        def stream_from(start: int) -> Iterator[bytes]:
            return self._client.iterate(handle.range_chunks(start))

        raw = RangeReader(self.size, fetch, stream_from, name=self.name)
        return io.BufferedReader(raw, buffer_size=_OPEN_BUFFER)

    def as_stream(
        self, chunk_size: int = DOWNLOAD_CHUNK, progress: ProgressCallback | None = None
    ) -> Iterator[bytes]:
        """The content in *chunk_size* pieces; ``progress(done, total)`` after each."""
        return self._client.iterate(self.handle.as_stream(chunk_size, progress))
