"""``ArtifactContent``: what ``open_content`` answers, which bytes of which version, and them."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

from satchel.core.models import ArtifactMetadata, ArtifactRecord
from satchel.core.ranges import ReadPlan
from satchel.core.streams import close_stream

__all__ = ["ArtifactContent"]


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


@dataclasses.dataclass(slots=True, eq=False)
class ArtifactContent:
    """An opened read of one version of an artifact, and which of its bytes are served.

    Iterate it (``async for chunk in content``) to receive bytes ``[start, end)``; close it
    (``await content.aclose()``, or ``async with``) when you stop early. ``not_modified``
    means an ``if_none_match`` matched: there are no bytes to send; an answer opened with
    ``head=True`` has none either. ``metadata`` is the artifact's full metadata when the face
    had it (a presigned download seen from a remote client knows only what its headers say);
    the store builds it when it is first asked for (most reads never ask).
    """

    artifact_id: str
    etag: str
    sha256: str
    size: int
    """Bytes of the whole artifact."""
    mime: str
    filename: str | None
    start: int
    end: int
    partial: bool = False
    """True when a byte range was honoured (HTTP 206)."""
    not_modified: bool = False
    """True when ``if_none_match`` matched the current etag (HTTP 304)."""
    _metadata: ArtifactMetadata | None = dataclasses.field(default=None, repr=False)
    first_chunk: bytes = b""
    """The first chunk, read when the content was opened (a missing blob fails there)."""
    rest: AsyncIterator[bytes] | None = None
    local_file: str | None = None
    """The blob's file, relative to its backend's root (``sha256/ab/cd/<hex>``), when the read
    was opened with ``local_file=True`` and the bytes are a plain file on this host; its
    stream then opens only when it is read (``first_chunk`` is empty)."""
    _describe: Callable[[], ArtifactMetadata] | None = dataclasses.field(default=None, repr=False)

    @property
    def metadata(self) -> ArtifactMetadata | None:
        """The artifact's metadata, or None when the face does not know it."""
        if self._metadata is None and self._describe is not None:
            self._metadata = self._describe()
        return self._metadata

    @classmethod
    def of(cls, metadata: ArtifactMetadata, plan: ReadPlan, **stream: Any) -> ArtifactContent:
        """The read *plan* of the artifact *metadata* describes (*stream*: ``first_chunk``,
        ``rest`` and ``local_file`` when bytes were opened)."""
        return cls._planned(metadata, plan, _metadata=metadata, **stream)

    @classmethod
    def of_record(
        cls,
        record: ArtifactRecord,
        plan: ReadPlan,
        describe: Callable[[], ArtifactMetadata],
        **stream: Any,
    ) -> ArtifactContent:
        """The read *plan* of the version *record* is, its metadata built by *describe* when
        first asked for (*stream* as for :meth:`of`)."""
        return cls._planned(record, plan, _describe=describe, **stream)

    @classmethod
    def _planned(
        cls, version: ArtifactMetadata | ArtifactRecord, plan: ReadPlan, **fields: Any
    ) -> ArtifactContent:
        return cls(
            artifact_id=version.artifact_id,
            etag=version.etag,
            sha256=version.sha256,
            size=version.bytes,
            mime=version.mime,
            filename=version.filename,
            start=plan.start,
            end=plan.end,
            partial=plan.partial,
            not_modified=plan.not_modified,
            **fields,
        )

    @property
    def length(self) -> int:
        """Bytes this answer carries."""
        return 0 if self.not_modified else self.end - self.start

    @property
    def status(self) -> int:
        """The HTTP status of this answer: 304, 206 or 200."""
        if self.not_modified:
            return 304
        return 206 if self.partial else 200

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            if self.first_chunk:
                yield self.first_chunk
            rest = self.rest if self.rest is not None else _nothing()
            async for chunk in rest:
                yield chunk
        finally:  # whether read to the end, failed or closed early by its reader
            await self.aclose()

    async def read(self) -> bytes:
        """All the bytes of this answer at once (for small content)."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        """Release the stream (idempotent)."""
        rest, self.rest = self.rest, None
        await close_stream(rest)

    async def __aenter__(self) -> ArtifactContent:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
