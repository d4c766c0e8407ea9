"""Artifact operations: create from a stream, read metadata, update, extend, delete (one or
many: a bulk delete runs the single delete path per item)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterable
from typing import Any

from satchel.core.access import Caller
from satchel.core.bulk import DeleteResult, check_delete_ids
from satchel.core.errors import (
    ArtifactStoreError,
    InternalError,
    InvalidRequestError,
    TooLargeError,
)
from satchel.core.events import Audience
from satchel.core.models import ArtifactMetadata
from satchel.core.requests import StreamUploadRequest
from satchel.core.streams import checked_stream
from satchel.core.unset import UNSET, Unset
from satchel.core.validation import check_id, check_ttl
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger
from satchel.store.versions import Versions

__all__ = ["ArtifactService"]

logger = logging.getLogger("satchel.store")


class ArtifactService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        creator: ArtifactCreator,
        versions: Versions,
    ) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger
        self.creator = creator
        self.versions = versions

    async def stream_upload(self, request: StreamUploadRequest) -> str:
        if not isinstance(request, StreamUploadRequest):
            raise InvalidRequestError("stream_upload takes a StreamUploadRequest")
        await self.context.ensure_open()
        total = request.content_length
        limit = self.context.settings.max_upload_bytes
        if total is not None and total < 0:
            raise InvalidRequestError(f"content_length {total} is out of range")
        if total is not None and total > limit:
            raise TooLargeError(f"content_length {total} exceeds the limit of {limit} bytes")
        spec = self.creator.spec(
            mime=request.mime,
            summary=request.summary,
            meta=request.meta,
            filename=request.filename,
            ttl=request.ttl if request.ttl_given() else UNSET,
            scope=request.scope,
            user_id=request.user_id,
            session_id=request.session_id,
        )
        chunks = checked_stream(request.data_stream, total, request.progress_callback)
        record = await self.creator.create(spec, chunks)
        return record.artifact_id

    async def metadata(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> ArtifactMetadata:
        record = await self.gate.load(artifact_id, await self.gate.caller(user_id, session_id))
        return self.context.to_metadata(record)

    async def update_file_stream(
        self,
        artifact_id: str,
        chunks: AsyncIterable[bytes],
        *,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        summary: str | None = None,
        mime: str | None = None,
        ttl: int | Unset | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        changes = self.versions.changes(
            meta=meta, filename=filename, summary=summary, mime=mime, ttl=ttl
        )
        caller = await self.gate.caller(user_id, session_id)
        current = await self.gate.load(artifact_id, caller, write=True)  # fail fast, then route
        backend = self.versions.route_update(current, changes)
        info = await self.ledger.put(checked_stream(chunks, None, None), backend=backend)
        try:
            record = await self.versions.apply(
                artifact_id,
                caller,
                if_match,
                "v1.artifact.updated",
                changes,
                merge=False,
                blob=info,
                backend=backend,
            )
        except BaseException:  # e.g. a stale if_match: the new bytes must not linger untracked
            await self.ledger.discard(info, backend)
            raise
        return self.context.to_metadata(record)

    async def update_metadata(
        self,
        artifact_id: str,
        *,
        summary: str | None = None,
        meta: dict[str, Any] | None = None,
        merge: bool = True,
        filename: str | None = None,
        mime: str | None = None,
        ttl: int | Unset | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
        **unknown: Any,
    ) -> ArtifactMetadata:
        if unknown:
            raise InvalidRequestError(f"unknown metadata fields: {', '.join(sorted(unknown))}")
        changes = self.versions.changes(
            meta=meta, filename=filename, summary=summary, mime=mime, ttl=ttl
        )
        if not changes:
            raise InvalidRequestError("update_metadata needs at least one field to change")
        caller = await self.gate.caller(user_id, session_id)
        record = await self.versions.apply(
            artifact_id, caller, if_match, "v1.artifact.metadata_updated", changes, merge=merge
        )
        return self.context.to_metadata(record)

    async def extend_ttl(
        self,
        artifact_id: str,
        additional_seconds: int,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        extra = check_ttl(additional_seconds)
        caller = await self.gate.caller(user_id, session_id)
        current = await self.gate.load(artifact_id, caller, write=True)
        if current.expires_at is None:
            return self.context.to_metadata(current)  # never expires: nothing to extend
        record = await self.versions.apply(
            artifact_id, caller, None, "v1.artifact.ttl_extended", {"extend": extra}, merge=False
        )
        return self.context.to_metadata(record)

    async def delete(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> bool:
        caller = await self.gate.caller(user_id, session_id)
        check_id("artifact_id", artifact_id)
        await self.delete_one(artifact_id, caller, if_match)
        await self.ledger.collect_if_eager()
        return True

    async def delete_many(
        self,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> list[DeleteResult]:
        wanted = check_delete_ids(artifact_ids)  # one bad id refuses all, before any delete
        caller = await self.gate.caller(user_id, session_id)
        results = [await self.try_delete(artifact_id, caller) for artifact_id in wanted]
        with contextlib.suppress(ArtifactStoreError):  # never hide the results: GC retries
            await self.ledger.collect_if_eager()
        return results

    async def try_delete(self, artifact_id: str, caller: Caller) -> DeleteResult:
        """Delete one artifact of a bulk delete as :meth:`delete` would; its failure becomes
        its result and never stops the others."""
        try:
            await self.delete_one(artifact_id, caller, None)
        except ArtifactStoreError as exc:
            return DeleteResult.of_error(artifact_id, exc)
        except Exception as exc:  # unforeseen: this item fails, the others go on
            logger.exception("deleting %s failed", artifact_id)
            return DeleteResult.of_error(artifact_id, InternalError(f"{type(exc).__name__}"))
        return DeleteResult(artifact_id, "deleted")

    async def delete_one(self, artifact_id: str, caller: Caller, if_match: str | None) -> None:
        """The one delete path: access, if_match, holds and retention, the blob reference and
        the event, in one transaction (garbage is collected by the caller)."""
        context = self.context
        now = context.now()
        async with context.catalog.write() as writer:
            record = await self.gate.load_for_update(
                writer, artifact_id, caller, if_match, allow_expired=True
            )
            await self.gate.guard_removal(writer, record, what="delete")
            await writer.delete_artifact(artifact_id)
            await self.ledger.release(writer, record.sha256, now, record.storage_provider)
            await writer.append_event(
                type="v1.artifact.deleted",
                subject=artifact_id,
                payload={"sha256": record.sha256},
                actor=caller.user_id,
                time=now,
                audience=Audience.of(record),
            )
