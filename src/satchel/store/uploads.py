"""Upload sessions shared by presigned, multipart and tus uploads.

An upload reserves its artifact id when it starts and lives in the catalog (so any replica can
continue it); its bytes wait in the staging area. Finishing streams them into the blob store and
inserts the artifact in the same transaction that marks the upload completed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, Callable
from typing import Any

from satchel.catalog import CatalogWriter
from satchel.catalog import uploads as upload_rows
from satchel.core.access import Caller, check_upload
from satchel.core.errors import (
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ConflictError,
    PreconditionFailedError,
)
from satchel.core.ids import new_artifact_id
from satchel.core.models import ArtifactRecord
from satchel.core.uploads import UploadKind, UploadRecord, UploadState
from satchel.core.validation import check_id
from satchel.store.creating import CreatingMixin, NewArtifact

__all__ = ["UploadsMixin"]

_MAX_CAS_ATTEMPTS = 50


class UploadsMixin(CreatingMixin):
    async def _start_upload(
        self,
        kind: UploadKind,
        spec: NewArtifact,
        *,
        length: int | None = None,
    ) -> UploadRecord:
        """Check the caller may create *spec*, persist its session and a new upload row."""
        caller, owner = await self._prepare_owner(spec)
        session = await self._resolve_session(caller, spec.session_id)
        now = self._now()
        upload = UploadRecord(
            upload_id=new_artifact_id(),
            kind=kind,
            state=UploadState.OPEN,
            sandbox_id=self.sandbox_id,
            artifact_id=new_artifact_id(),
            session_id=session.session_id,
            owner_id=owner,
            actor_id=caller.user_id,
            scope=spec.scope,
            filename=spec.filename,
            mime=spec.mime,
            summary=spec.summary,
            meta=spec.meta,
            ttl=spec.ttl,
            length=length,
            offset=0,
            parts={},
            created_at=now,
            expires_at=now + self.settings.upload_expiry_seconds,
        )
        async with self.catalog.write() as writer:
            session = await self._persist_session(writer, session, caller)
            await upload_rows.insert_upload(writer.conn, upload)
            await writer.append_event(
                type="upload.started",
                subject=upload.upload_id,
                payload={"kind": kind.value, "artifact_id": upload.artifact_id},
                actor=caller.user_id,
                time=now,
            )
        await self.sessions.put(session)
        return upload

    async def _open_upload(
        self, upload_id: str, caller: Caller | None, *, states: tuple[UploadState, ...]
    ) -> UploadRecord:
        """A live upload in one of *states* that *caller* (None: a signed URL) may continue."""
        check_id("upload_id", upload_id)
        async with self.catalog.read() as reader:
            upload = await upload_rows.get_upload(reader.conn, upload_id, self.sandbox_id)
        if upload is None:
            raise ArtifactNotFoundError(f"upload {upload_id} not found")
        if caller is not None:
            check_upload(upload.actor_id, upload.session_id, caller)
        if upload.state is UploadState.COMPLETED:
            raise ConflictError(f"upload {upload_id} is already complete")
        if upload.state is UploadState.ABORTED:
            raise ArtifactNotFoundError(f"upload {upload_id} was aborted")
        if upload.is_expired(self._now()):
            raise ArtifactExpiredError(f"upload {upload_id} has expired")
        if upload.state not in states:
            raise ConflictError(f"upload {upload_id} is {upload.state.value}")
        return upload

    async def _change_upload(
        self,
        upload_id: str,
        change: Callable[[UploadRecord], UploadRecord],
        *,
        event: str | None = None,
    ) -> UploadRecord:
        """Apply *change* with compare-and-swap on (state, offset), retrying lost races."""
        for _ in range(_MAX_CAS_ATTEMPTS):
            async with self.catalog.write() as writer:
                current = await upload_rows.get_upload(writer.conn, upload_id, self.sandbox_id)
                if current is None:
                    raise ArtifactNotFoundError(f"upload {upload_id} not found")
                updated = change(current)
                swapped = await upload_rows.replace_upload(
                    writer.conn,
                    updated,
                    expected_state=current.state,
                    expected_offset=current.offset,
                )
                if not swapped:
                    continue
                if event is not None:
                    await writer.append_event(
                        type=event,
                        subject=upload_id,
                        payload={"state": updated.state.value, "offset": updated.offset},
                        actor=updated.actor_id,
                        time=self._now(),
                    )
                return updated
        raise PreconditionFailedError(f"upload {upload_id} is changing too fast; retry")

    async def _finish_upload(
        self,
        upload: UploadRecord,
        chunks: AsyncIterable[bytes],
        *,
        expected_states: tuple[UploadState, ...],
        overrides: dict[str, Any] | None = None,
    ) -> ArtifactRecord:
        """Stream *chunks* into the blob store and create the upload's artifact."""
        spec = NewArtifact(
            scope=upload.scope,
            mime=upload.mime,
            summary=upload.summary,
            meta=upload.meta,
            filename=upload.filename,
            ttl=upload.ttl,
            user_id=upload.actor_id,
            session_id=upload.session_id,
        )
        if overrides:
            spec = dataclasses.replace(spec, **overrides)
        caller = Caller(user_id=upload.actor_id, session_id=upload.session_id)
        session = await self._resolve_session(Caller(user_id=upload.actor_id), upload.session_id)
        info = await self._put_blob(chunks)

        async def mark_completed(writer: CatalogWriter) -> None:
            done = dataclasses.replace(upload, state=UploadState.COMPLETED, offset=info.size)
            for state in expected_states:
                if await upload_rows.replace_upload(
                    writer.conn, done, expected_state=state, expected_offset=upload.offset
                ):
                    return
            raise ConflictError(f"upload {upload.upload_id} was finished or changed meanwhile")

        try:
            return await self._commit_new(
                spec,
                caller,
                upload.owner_id,
                session,
                info,
                "artifact.stored",
                {"upload_id": upload.upload_id, "upload_kind": upload.kind.value},
                artifact_id=upload.artifact_id,
                in_transaction=mark_completed,
            )
        except BaseException:
            await self._discard(info)
            raise

    async def _drop_staged(self, upload: UploadRecord) -> None:
        await self.staging.delete(upload.upload_id)
        for part in upload.parts:
            await self.staging.delete(f"{upload.upload_id}.{int(part)}")

    async def _abort_upload(self, upload: UploadRecord, event: str) -> None:
        def aborted(current: UploadRecord) -> UploadRecord:
            if current.state is UploadState.COMPLETED:
                raise ConflictError(f"upload {upload.upload_id} is already complete")
            return dataclasses.replace(current, state=UploadState.ABORTED)

        final = await self._change_upload(upload.upload_id, aborted, event=event)
        await self._drop_staged(final)

    async def purge_expired_uploads(self) -> int:
        """Abort uploads past their expiry and reclaim their staged bytes; return how many."""
        await self._ensure_open()
        async with self.catalog.read() as reader:
            expired = await upload_rows.expired_uploads(
                reader.conn, self.sandbox_id, self._now(), 10_000
            )
        for upload in expired:
            try:
                await self._abort_upload(upload, "upload.expired")
            except ConflictError:
                continue  # finished meanwhile
        return len(expired)
