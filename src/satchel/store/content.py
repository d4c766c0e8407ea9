"""Reading content: the one path every download takes (library, routed GET, fast path, signed
URL). It applies the access rules, conditions (If-Match, If-None-Match, If-Range) and byte
ranges, then opens the blob on the backend recorded on the artifact's row."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

from satchel.blobs.base import BlobStore, LocalFiles
from satchel.core.content import ArtifactContent
from satchel.core.errors import InvalidRequestError
from satchel.core.models import ArtifactRecord
from satchel.core.ranges import ByteRange, ReadPlan, plan_read
from satchel.core.requests import StreamDownloadRequest
from satchel.core.streams import close_stream, first_chunk, reported_stream
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.inline import InlineBlobs
from satchel.store.ledger import BlobLedger

__all__ = ["ContentService", "open_bytes"]


class ContentService:
    def __init__(self, context: StoreContext, gate: AccessGate, ledger: BlobLedger) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger

    async def open_content(
        self,
        artifact_id: str,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
        local_file: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactContent:
        caller = await self.gate.caller(user_id, session_id)
        record = await self.gate.load(artifact_id, caller)
        return await self.open_record(
            record,
            byte_range=byte_range,
            if_range=if_range,
            if_match=if_match,
            if_none_match=if_none_match,
            head=head,
            local_file=local_file,
        )

    async def open_record(
        self,
        record: ArtifactRecord,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
        local_file: bool = False,
    ) -> ArtifactContent:
        """Open the content of *record*, which the caller was found allowed to read."""
        plan = plan_read(
            record.etag,
            record.bytes,
            byte_range=byte_range,
            if_range=if_range,
            if_match=if_match,
            if_none_match=if_none_match,
        )
        describe = functools.partial(self.context.to_metadata, record)
        if head or plan.not_modified:
            return ArtifactContent.of_record(record, plan, describe)
        await self.context.quarantine.check(
            record.storage_provider, record.sha256, f"artifact {record.artifact_id}"
        )
        blobs = self.ledger.blobs_for(record)
        opened = await open_bytes(blobs, record.sha256, plan, local_file=local_file)
        return ArtifactContent.of_record(record, plan, describe, **opened)

    async def stream_download(self, request: StreamDownloadRequest) -> AsyncIterator[bytes]:
        if not isinstance(request, StreamDownloadRequest):
            raise InvalidRequestError("stream_download takes a StreamDownloadRequest")
        caller = await self.gate.caller(request.user_id, request.session_id)
        record = await self.gate.load(request.artifact_id, caller)
        await self.context.quarantine.check(
            record.storage_provider, record.sha256, f"artifact {record.artifact_id}"
        )
        chunks = self.ledger.blobs_for(record).open_range(
            record.sha256, chunk_size=request.chunk_size
        )
        reported = reported_stream(chunks, record.bytes, request.progress_callback)
        try:
            async for chunk in reported:
                yield chunk
        finally:  # a reader that stops early (or a callback that raised) releases the blob
            await close_stream(reported)
            await close_stream(chunks)


async def open_bytes(
    blobs: BlobStore, digest: str, plan: ReadPlan, *, local_file: bool = False
) -> dict[str, Any]:
    """Bytes ``[start, end)`` of the blob *digest* as ``ArtifactContent``'s stream fields: the
    first chunk, read now so that a missing blob fails here, and the rest. With *local_file*,
    a blob that is a plain file on this host is looked up instead: its name (``local_file``)
    and a stream that opens only if it is read. Bytes the catalog keeps (a small blob) are
    all in the first chunk, with no stream."""
    if isinstance(blobs, InlineBlobs):
        kept = await blobs.kept(digest)
        if kept is not None:
            return {"first_chunk": kept[plan.start : plan.end]}
        blobs = blobs.inner  # a file, if anything: not asked of the catalog twice
    if local_file and isinstance(blobs, LocalFiles):
        found = await blobs.local_file(digest)
        if found is not None:
            return {"local_file": found, "rest": blobs.open_range(digest, plan.start, plan.end)}
    stream = blobs.open_range(digest, plan.start, plan.end)
    return {"first_chunk": await first_chunk(stream), "rest": stream}
