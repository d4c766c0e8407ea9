"""File-like operations: copy and move/rename. Never across a session boundary."""

from __future__ import annotations

from typing import Any

from satchel.core.errors import AccessDeniedError
from satchel.core.models import ArtifactMetadata, BlobInfo
from satchel.core.scopes import iso_utc
from satchel.core.unset import UNSET
from satchel.core.validation import check_meta, check_optional_id
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger
from satchel.store.versions import Versions

__all__ = ["FileService"]


class FileService:
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

    async def copy_file(
        self,
        artifact_id: str,
        *,
        new_filename: str | None = None,
        target_session_id: str | None = None,
        new_meta: dict[str, Any] | None = None,
        summary: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """The copy shares the source's bytes, unless the routing rules send it to another
        backend: then the bytes are copied there."""
        check_optional_id("target_session_id", target_session_id)
        caller = await self.gate.caller(user_id, session_id)
        source = await self.gate.load(artifact_id, caller, write=True)
        if target_session_id is not None and target_session_id != source.session_id:
            raise AccessDeniedError(
                f"cross-session copies are not permitted: artifact {artifact_id} belongs to "
                f"session {source.session_id}, not {target_session_id}"
            )
        limit = self.context.settings.max_meta_bytes
        meta = {**source.meta, **check_meta(new_meta, max_bytes=limit)}
        meta["copied_from"] = artifact_id
        meta["copy_timestamp"] = iso_utc(self.context.now())
        spec = self.creator.spec(
            mime=source.mime,
            summary=summary if summary is not None else f"Copy of {source.summary}",
            meta=meta,
            filename=new_filename or f"{source.filename or 'file'}_copy",
            ttl=source.ttl if source.expires_at is not None else None,
            scope=source.scope,
            user_id=user_id,
            session_id=source.session_id,
        )
        session = await self.gate.session_record(source.session_id)
        if session is None:
            session = await self.gate.resolve_session(caller, source.session_id)
        backend = self.ledger.route(spec.meta, source.owner_id, source.session_id)
        info = BlobInfo(digest=source.sha256, size=source.bytes)
        copied = backend != source.storage_provider
        await self.context.quarantine.check(
            source.storage_provider, source.sha256, f"artifact {source.artifact_id}"
        )
        if copied:  # routed elsewhere: the bytes go there too
            chunks = self.ledger.blobs_for(source).open_range(source.sha256)
            info = await self.ledger.put(chunks, backend=backend)
        try:
            record = await self.creator.commit(
                spec,
                caller,
                source.owner_id,
                session,
                info,
                "v1.artifact.copied",
                backend,
                {"copied_from": artifact_id},
            )
        except BaseException:
            if copied:
                await self.ledger.discard(info, backend)
            raise
        return record.artifact_id

    async def move_file(
        self,
        artifact_id: str,
        *,
        new_filename: str | None = None,
        new_session_id: str | None = None,
        new_meta: dict[str, Any] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Rename (and merge *new_meta*) within the artifact's session; the change persists."""
        check_optional_id("new_session_id", new_session_id)
        caller = await self.gate.caller(user_id, session_id)
        current = await self.gate.load(artifact_id, caller, write=True)
        if new_session_id is not None and new_session_id != current.session_id:
            raise AccessDeniedError(
                f"cross-session moves are not permitted: artifact {artifact_id} belongs to "
                f"session {current.session_id}, not {new_session_id}"
            )
        changes = self.versions.changes(
            meta=new_meta, filename=new_filename, summary=None, mime=None, ttl=UNSET
        )
        if not changes:
            return self.context.to_metadata(current)
        record = await self.versions.apply(
            artifact_id, caller, if_match, "v1.artifact.moved", changes, merge=True
        )
        return self.context.to_metadata(record)
