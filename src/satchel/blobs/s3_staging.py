"""Upload staging in the S3 bucket, so any replica can continue or complete an upload.

A staging key (an upload id, or ``{upload id}.{part}``) is a chain of *segment* objects::

    {prefix}uploads/staged/{staging key}/{start offset, 15 digits}

Each write appends segments of at most ``segment_bytes`` (one segment in memory at a time), so
a tus PATCH of any size, or a multipart part, never needs S3's 5 MiB minimum part size and
nothing touches local disk. The staged size is the length of the contiguous chain from offset
0: a segment past a gap (left by a truncation that crashed half-way) is garbage, ignored and
deleted by the next append. A write at offset 0 replaces the key; an empty segment at offset 0
marks a key that exists with no bytes (a freshly created tus upload).

Two writers appending to the same key at the same time are not arbitrated here (nor are they
for files): the store serialises them (a tus upload takes one PATCH at a time through a lease in
its catalog row; a multipart part's bytes are checked against the ETag accepted for it).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.blobs.base import DEFAULT_CHUNK_SIZE
from satchel.blobs.s3_client import S3Connection
from satchel.blobs.s3_transfer import S3Writer
from satchel.blobs.staging import check_staging_key
from satchel.core.errors import ConflictError, TooLargeError

__all__ = ["DEFAULT_SEGMENT_BYTES", "S3Staging"]

DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024
_DIGITS = 15  # offsets up to ~1 PB; fixed width makes S3's key order the numeric order
_DELETE_BATCH = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class _Segment:
    key: str
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclasses.dataclass(frozen=True, slots=True)
class _Chain:
    """The segments of one staging key: the live chain from offset 0, and garbage."""

    live: list[_Segment]
    garbage: list[_Segment]

    @property
    def size(self) -> int | None:
        return self.live[-1].end if self.live else None


class S3Staging:
    """The :class:`~satchel.blobs.staging.Staging` protocol on an S3 bucket.

    Made by :meth:`satchel.blobs.s3.S3BlobStore.upload_staging`; it shares the backend's
    connection, key prefix and encryption settings (staged segments are encrypted as blobs are).
    """

    def __init__(
        self,
        connection: S3Connection,
        writer: S3Writer,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
    ) -> None:
        self._s3 = connection
        self._writer = writer
        self.segment_bytes = segment_bytes

    def __repr__(self) -> str:
        return f"S3Staging(bucket={self._s3.bucket!r}, root={self.root!r})"

    @property
    def root(self) -> str:
        return f"{self._s3.uploads_root}staged/"

    def _prefix(self, key: str) -> str:
        return f"{self.root}{check_staging_key(key)}/"

    # -- the protocol ------------------------------------------------------------------------

    async def write(
        self, key: str, offset: int, chunks: AsyncIterable[bytes], *, max_bytes: int
    ) -> int:
        """Write *chunks* at *offset* (0 replaces, else must equal the size); return the size.

        When *chunks* fails part-way, the bytes received so far are kept (staged) before the
        error propagates, as a file would keep them; if they cannot be kept, the storage error
        is raised instead, so the caller knows they are not there.
        """
        chain = await self._chain(key)
        if offset == 0:
            await self._delete(chain.live + chain.garbage)
        elif chain.size != offset:
            raise ConflictError(f"upload is at offset {chain.size or 0}, not {offset}")
        else:
            await self._delete(chain.garbage)
        position = offset
        buffer = bytearray()
        stream = aiter(chunks)
        while True:
            try:
                chunk = await anext(stream, None)
            except BaseException:
                await self._flush_received(key, position, buffer)
                raise
            if chunk is None:
                break
            if position + len(buffer) + len(chunk) > max_bytes:
                raise TooLargeError(f"upload exceeds {max_bytes} bytes")
            buffer += chunk
            while len(buffer) >= self.segment_bytes:
                segment = bytes(memoryview(buffer)[: self.segment_bytes])
                del buffer[: self.segment_bytes]
                await self._put(key, position, segment)
                position += len(segment)
        if buffer or position == 0:
            await self._put(key, position, bytes(buffer))
            position += len(buffer)
        return position

    async def size(self, key: str) -> int | None:
        """Bytes staged under *key*, or None."""
        return (await self._chain(key)).size

    async def truncate(self, key: str, size: int) -> None:
        """Cut *key* back to *size* bytes (a segment across the cut is rewritten shorter)."""
        chain = await self._chain(key)
        doomed: list[_Segment] = []
        for segment in chain.live:
            if segment.start >= size and segment.start > 0:
                doomed.append(segment)
            elif segment.end > size:
                kept = await self._read_bytes(segment, size - segment.start)
                await self._put(key, segment.start, kept)
        # Later segments go after the rewrite: a crash in between leaves a gap, never a chain
        # longer than *size*.
        await self._delete(doomed + chain.garbage)

    async def read(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Stream the staged bytes of *key*; ConflictError when nothing is staged."""
        chain = await self._chain(key)
        if not chain.live:
            raise ConflictError("nothing has been uploaded")
        for segment in chain.live:
            if segment.size == 0:
                continue
            what = f"cannot read staged upload {key}"
            async for chunk in self._s3.read(segment.key, what, 0, segment.size, chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        """Forget *key* and every segment under it (no error when absent)."""
        chain = await self._chain(key)
        await self._delete(chain.live + chain.garbage)

    # -- segments ----------------------------------------------------------------------------

    async def _chain(self, key: str) -> _Chain:
        prefix = self._prefix(key)
        segments: list[_Segment] = []
        params: dict[str, Any] = {"Prefix": prefix}
        while True:
            page = await self._s3.call("list_objects_v2", f"cannot list staged {key}", **params)
            for item in page.get("Contents", []):
                name = item["Key"][len(prefix) :]
                if len(name) == _DIGITS and name.isdigit():
                    segments.append(_Segment(item["Key"], int(name), int(item["Size"])))
            if not page.get("IsTruncated"):
                break
            params["ContinuationToken"] = page["NextContinuationToken"]
        segments.sort(key=lambda segment: segment.start)
        live: list[_Segment] = []
        garbage: list[_Segment] = []
        expected, gap = 0, False
        for segment in segments:
            if segment.start == expected and not gap:
                live.append(segment)
                expected = segment.end
            else:
                gap = gap or segment.start > expected
                garbage.append(segment)  # past a gap, or overlapping what precedes it
        return _Chain(live, garbage)

    def _segment_key(self, key: str, start: int) -> str:
        return f"{self._prefix(key)}{start:0{_DIGITS}d}"

    async def _put(self, key: str, start: int, data: bytes) -> None:
        what = f"cannot stage bytes of upload {key}"
        await self._writer.put_object(self._segment_key(key, start), data, what, content=False)

    async def _flush_received(self, key: str, position: int, buffer: bytearray) -> None:
        """Keep what a failing stream delivered before it failed (see :meth:`write`)."""
        if not buffer:
            return
        # If this fails, its storage error replaces the stream's: those bytes are not staged.
        await asyncio.shield(self._put(key, position, bytes(buffer)))

    async def _read_bytes(self, segment: _Segment, size: int) -> bytes:
        if size <= 0:
            return b""
        what = f"cannot read staged segment {segment.key}"
        pieces = [
            chunk async for chunk in self._s3.read(segment.key, what, 0, size, DEFAULT_CHUNK_SIZE)
        ]
        return b"".join(pieces)

    async def _delete(self, segments: list[_Segment]) -> None:
        for start in range(0, len(segments), _DELETE_BATCH):
            batch = segments[start : start + _DELETE_BATCH]
            if len(batch) == 1:
                await self._s3.delete_key(batch[0].key)
                continue
            await self._s3.call(
                "delete_objects",
                "cannot delete staged segments",
                Delete={"Objects": [{"Key": segment.key} for segment in batch], "Quiet": True},
            )
