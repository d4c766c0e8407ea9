"""Upload sessions shared by presigned, multipart and tus uploads.

An upload reserves its artifact id when it starts and lives in the catalog (so any replica can
continue it); its bytes wait in the staging area, or on the blob backend itself for a direct
upload (S3 presigned PUTs). Finishing streams them into the blob store and inserts the artifact
in the same transaction that marks the upload completed.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from satchel.blobs.direct import DirectTransfers
from satchel.catalog import CatalogWriter
from satchel.core.access import Caller, check_upload
from satchel.core.errors import (
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    ChecksumMismatchError,
    ConflictError,
    InvalidRequestError,
    PreconditionFailedError,
    QuotaExceededError,
)
from satchel.core.events import Audience
from satchel.core.ids import new_artifact_id
from satchel.core.models import ArtifactRecord, BlobInfo, SessionRecord
from satchel.core.streams import as_chunks
from satchel.core.uploads import UploadKind, UploadRecord, UploadState
from satchel.core.validation import check_id
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator, NewArtifact
from satchel.store.direct import (
    direct_transfers,
    direct_upload_of,
    staged_part_numbers,
    with_direct_upload,
    without_direct,
)
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger

if TYPE_CHECKING:
    from satchel.blobs.s3_uploads import DirectUpload

__all__ = ["ACCEPTED_BODY", "Uploads"]

ACCEPTED_BODY = "accepted"
"""The entry of a presigned upload's ``parts`` naming the one body its URL accepted: the
staging key it was written under, its size and its sha256."""

_MAX_CAS_ATTEMPTS = 50


class Uploads:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        creator: ArtifactCreator,
    ) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger
        self.creator = creator

    async def start(
        self, kind: UploadKind, spec: NewArtifact, *, length: int | None = None
    ) -> UploadRecord:
        """Check the caller may create *spec*, persist its session and a new upload row."""
        context = self.context
        caller, owner = await self.creator.prepare_owner(spec)
        session = await self.gate.resolve_session(caller, spec.session_id)
        now = context.now()
        upload = UploadRecord(
            upload_id=new_artifact_id(),
            kind=kind,
            state=UploadState.OPEN,
            sandbox_id=context.sandbox_id,
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
            expires_at=now + context.settings.upload_expiry_seconds,
        )
        async with context.catalog.write() as writer:
            if caller.user_id is not None:
                await self._check_upload_quota(writer, caller.user_id, now)
            session = await self.gate.persist_session(writer, session, caller)
            await writer.insert_upload(upload)
            await writer.append_event(
                type="v1.upload.started",
                subject=upload.upload_id,
                payload={"kind": kind.value, "artifact_id": upload.artifact_id},
                actor=caller.user_id,
                time=now,
                audience=Audience.of(upload),
            )
        await context.sessions.put(session)
        return upload

    async def _check_upload_quota(self, writer: CatalogWriter, user_id: str, now: float) -> None:
        limit = self.context.settings.max_open_uploads_per_user
        held = await writer.count_open_uploads(user_id, self.context.sandbox_id, now)
        if held >= limit:
            raise QuotaExceededError(
                f"user {user_id} has {held} unfinished uploads, the limit; finish or abort some"
            )

    async def stage_body(
        self,
        key: str,
        data: bytes | AsyncIterable[bytes],
        *,
        max_bytes: int,
        length: int | None = None,
        sha256: str | None = None,
    ) -> tuple[int, str]:
        """Write a request body to staging under *key*; return its size and ``sha256:<hex>``.

        A body that fails, or differs from its declared *length* or *sha256*, leaves nothing
        under *key* and raises (InvalidRequestError, ChecksumMismatchError, TooLargeError).
        """
        digest = hashlib.sha256()
        staging = self.context.staging
        try:
            size = await staging.write(
                key, 0, _hashing(as_chunks(data), digest), max_bytes=max_bytes
            )
            found = "sha256:" + digest.hexdigest()
            if length is not None and size != length:
                raise InvalidRequestError(f"the body is {size} bytes, not the {length} declared")
            if sha256 is not None and found != sha256:
                raise ChecksumMismatchError("the body does not hash to its declared sha-256")
        except BaseException:
            await staging.delete(key)
            raise
        return size, found

    async def find(self, upload_id: str) -> UploadRecord | None:
        check_id("upload_id", upload_id)
        async with self.context.catalog.read() as reader:
            return await reader.get_upload(upload_id, self.context.sandbox_id)

    async def find_by_artifact(self, artifact_id: str) -> UploadRecord | None:
        check_id("artifact_id", artifact_id)
        async with self.context.catalog.read() as reader:
            return await reader.get_upload_by_artifact(artifact_id, self.context.sandbox_id)

    async def open(
        self, upload_id: str, caller: Caller | None, *, states: tuple[UploadState, ...]
    ) -> UploadRecord:
        """A live upload in one of *states* that *caller* (None: a signed URL) may continue."""
        upload = await self.find(upload_id)
        if upload is None:
            raise ArtifactNotFoundError(f"upload {upload_id} not found")
        if caller is not None:
            check_upload(upload.actor_id, upload.session_id, caller)
        if upload.state is UploadState.COMPLETED:
            raise ConflictError(f"upload {upload_id} is already complete")
        if upload.state is UploadState.ABORTED:
            raise ArtifactNotFoundError(f"upload {upload_id} was aborted")
        if upload.is_expired(self.context.now()):
            raise ArtifactExpiredError(f"upload {upload_id} has expired")
        if upload.state not in states:
            raise ConflictError(f"upload {upload_id} is {upload.state.value}")
        return upload

    async def change(
        self,
        upload_id: str,
        change: Callable[[UploadRecord], UploadRecord],
        *,
        event: str = "v1.upload.progressed",
    ) -> UploadRecord:
        """Apply *change* with compare-and-swap on (state, offset), retrying lost races, and
        log *event* (every change of an upload's row is one: replay rebuilds it)."""
        context = self.context
        for _ in range(_MAX_CAS_ATTEMPTS):
            async with context.catalog.write() as writer:
                current = await writer.lock_upload(upload_id, context.sandbox_id)
                if current is None:
                    raise ArtifactNotFoundError(f"upload {upload_id} not found")
                updated = change(current)
                if not await writer.replace_upload(
                    updated, expected_state=current.state, expected_offset=current.offset
                ):
                    continue
                await writer.append_event(
                    type=event,
                    subject=upload_id,
                    payload={"state": updated.state.value, "offset": updated.offset},
                    actor=updated.actor_id,
                    time=context.now(),
                    audience=Audience.of(updated),
                )
                return updated
        raise PreconditionFailedError(f"upload {upload_id} is changing too fast; retry")

    def spec_of(self, upload: UploadRecord, overrides: dict[str, Any] | None = None) -> NewArtifact:
        """The artifact *upload* becomes (with *overrides* decided when it is finished)."""
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
        return dataclasses.replace(spec, **overrides) if overrides else spec

    async def finish(
        self,
        upload: UploadRecord,
        chunks: AsyncIterable[bytes],
        *,
        expected_states: tuple[UploadState, ...],
        overrides: dict[str, Any] | None = None,
        expected_digest: str | None = None,
    ) -> ArtifactRecord:
        """Stream *chunks* into the blob store and create the upload's artifact (refused when
        they do not hash to *expected_digest*, the digest accepted for them)."""
        spec = self.spec_of(upload, overrides)
        session = await self._session_of(upload)  # an expired session fails before any byte
        backend = self.ledger.route(spec.meta, upload.owner_id, upload.session_id)
        info = await self.ledger.put(chunks, backend=backend, expected_digest=expected_digest)
        return await self._commit(upload, spec, session, info, expected_states, backend)

    async def finish_direct(
        self,
        upload: UploadRecord,
        direct: DirectUpload,
        *,
        parts: Sequence[tuple[int, str]] | None = None,
        expected_states: tuple[UploadState, ...],
        overrides: dict[str, Any] | None = None,
    ) -> ArtifactRecord:
        """Create the upload's artifact from what the client sent straight to the backend.

        The backend reads the bytes back through sha256 (the client is not trusted) and
        publishes them; the artifact is created as for any other upload.
        """
        context = self.context
        transfers = direct_transfers(context.blob_backend())
        if transfers is None:
            raise ConflictError("the blob backend no longer accepts direct uploads")
        spec = self.spec_of(upload, overrides)
        session = await self._session_of(upload)
        try:
            info = await transfers.complete_direct_upload(
                direct, parts=parts, max_bytes=context.settings.max_upload_bytes
            )
        except ArtifactStoreError:
            # A failed completion uses an S3 multipart upload up: forget it, so new part URLs
            # start a fresh one. (A single PUT's URL stays usable: the client may PUT again.)
            if direct.multipart_id is not None:
                await self.change(upload.upload_id, without_direct)
            raise
        return await self._commit(
            upload, spec, session, info, expected_states, context.default_backend
        )

    async def attach_direct(self, upload: UploadRecord, *, multipart: bool) -> DirectUpload:
        """The upload's direct upload on the backend, started now if it has none yet.

        Two replicas may start one at once: the first recorded wins, the other is aborted.
        """
        transfers = direct_transfers(self.context.blob_backend())
        if transfers is None:
            raise ConflictError("the blob backend does not accept direct uploads")
        existing = direct_upload_of(transfers, upload)
        if existing is not None:
            return existing
        created = await transfers.create_direct_upload(multipart=multipart)

        def attach(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN:
                raise ConflictError(f"upload {current.upload_id} is {current.state.value}")
            if direct_upload_of(transfers, current) is not None:
                return current
            return with_direct_upload(current, created)

        try:
            updated = await self.change(upload.upload_id, attach)
        except BaseException:
            await transfers.abort_direct_upload(created)
            raise
        winner = direct_upload_of(transfers, updated)
        assert winner is not None
        if winner.upload_id != created.upload_id:
            await transfers.abort_direct_upload(created)
        return winner

    async def _session_of(self, upload: UploadRecord) -> SessionRecord:
        """The session the upload's artifact goes into (ArtifactExpiredError once expired)."""
        return await self.gate.resolve_session(Caller(user_id=upload.actor_id), upload.session_id)

    async def _commit(
        self,
        upload: UploadRecord,
        spec: NewArtifact,
        session: SessionRecord,
        info: BlobInfo,
        expected_states: tuple[UploadState, ...],
        backend: str,
    ) -> ArtifactRecord:
        """Insert the artifact of a finished upload and mark the upload completed, at once."""
        caller = Caller(user_id=upload.actor_id, session_id=upload.session_id)

        async def mark_completed(writer: CatalogWriter) -> None:
            done = dataclasses.replace(upload, state=UploadState.COMPLETED, offset=info.size)
            for state in expected_states:
                if await writer.replace_upload(
                    done, expected_state=state, expected_offset=upload.offset
                ):
                    return
            raise ConflictError(f"upload {upload.upload_id} was finished or changed meanwhile")

        try:
            return await self.creator.commit(
                spec,
                caller,
                upload.owner_id,
                session,
                info,
                "v1.artifact.stored",
                backend,
                {"upload_id": upload.upload_id, "upload_kind": upload.kind.value},
                artifact_id=upload.artifact_id,
                in_transaction=mark_completed,
            )
        except BaseException:
            await self.ledger.discard(info, backend)
            raise

    async def drop_staged(self, upload: UploadRecord) -> None:
        """Delete whatever *upload* staged (its file, its parts, its direct upload)."""
        staging = self.context.staging
        await staging.delete(upload.upload_id)
        accepted = upload.parts.get(ACCEPTED_BODY)
        if isinstance(accepted, dict):
            await staging.delete(str(accepted["key"]))
        for number in staged_part_numbers(upload):
            await staging.delete(f"{upload.upload_id}.{number}")
        # Not direct_transfers(): a backend that no longer hands out URLs (an SSE-C key was
        # configured since) still holds the direct uploads begun before, and must abort them.
        blobs = self.context.blob_backend()
        direct = direct_upload_of(blobs, upload)
        if direct is not None and isinstance(blobs, DirectTransfers):
            await blobs.abort_direct_upload(direct)

    async def abort(self, upload: UploadRecord, event: str) -> None:
        def aborted(current: UploadRecord) -> UploadRecord:
            if current.state is UploadState.COMPLETED:
                raise ConflictError(f"upload {upload.upload_id} is already complete")
            return dataclasses.replace(current, state=UploadState.ABORTED)

        final = await self.change(upload.upload_id, aborted, event=event)
        await self.drop_staged(final)

    async def purge_expired(self) -> int:
        """Abort uploads past their expiry and reclaim their staged bytes; return how many.

        Claimed and aborted in one transaction (as the artifact purge does), so replicas purging
        at once count and announce each expired upload once.
        """
        context = self.context
        await context.ensure_open()
        aborted: list[UploadRecord] = []
        async with context.catalog.write() as writer:
            now = context.now()
            for upload in await writer.claim_expired_uploads(context.sandbox_id, now, 10_000):
                final = dataclasses.replace(upload, state=UploadState.ABORTED)
                if not await writer.replace_upload(
                    final, expected_state=upload.state, expected_offset=upload.offset
                ):
                    continue  # finished or changed meanwhile
                await writer.append_event(
                    type="v1.upload.expired",
                    subject=upload.upload_id,
                    payload={"state": final.state.value, "offset": final.offset},
                    actor=final.actor_id,
                    time=now,
                    audience=Audience.of(final),
                )
                aborted.append(final)
        for upload in aborted:
            await self.drop_staged(upload)
        return len(aborted)


async def _hashing(chunks: AsyncIterable[bytes], digest: Any) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        digest.update(chunk)
        yield chunk
