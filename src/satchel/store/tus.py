"""Resumable uploads (tus 1.0): create, append at an offset, inspect, terminate.

The upload's offset lives in the catalog and its bytes in the staging area (files for the
filesystem and sqlite backends, the bucket on S3), so an upload interrupted by a server restart
resumes where the last acknowledged PATCH ended. When the offset reaches the declared length the
upload becomes an ordinary artifact (sha256 computed) with the id reserved when it was created.
One PATCH at a time holds an upload, across processes and replicas (a lease in its row).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import secrets
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel._locks import KeyedLocks
from satchel._process import holder_is_dead, process_identity
from satchel.core.access import check_upload
from satchel.core.errors import (
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    ChecksumMismatchError,
    ConflictError,
    InvalidRequestError,
    TooLargeError,
)
from satchel.core.progress import ProgressCallback
from satchel.core.streams import as_chunks, byte_length, checked_stream, iter_bytes
from satchel.core.unset import UNSET, Unset
from satchel.core.uploads import (
    TUS_CHECKSUM_ALGORITHMS,
    UploadKind,
    UploadRecord,
    UploadState,
    UploadStatus,
)
from satchel.core.validation import check_id, parse_json
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.gate import AccessGate
from satchel.store.uploads import Uploads

__all__ = ["TusService"]

_LEASE = "patch"  # the entry of a tus upload's ``parts`` naming the PATCH that holds it
_LEASE_SECONDS = 30.0
_CHECKPOINT_SECONDS = 10.0  # a slow body is checkpointed (and its lease renewed) this often


class _Segments:
    """A PATCH body cut into checkpoints: :meth:`next` yields the next run of chunks, up to
    *size* bytes or ``_CHECKPOINT_SECONDS``; ``exhausted`` once the body has ended."""

    def __init__(self, chunks: AsyncIterable[bytes], size: int) -> None:
        self._chunks = aiter(chunks)
        self._size = size
        self.exhausted = False

    async def next(self) -> AsyncIterator[bytes]:
        started, sent = time.monotonic(), 0
        while sent < self._size and time.monotonic() - started < _CHECKPOINT_SECONDS:
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self.exhausted = True
                return
            sent += len(chunk)
            yield chunk


def _without_lease(parts: dict[str, Any]) -> dict[str, Any]:
    return {name: part for name, part in parts.items() if name != _LEASE}


async def _counting(
    chunks: AsyncIterable[bytes], digest: Any | None, seen: list[int]
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if digest is not None:
            digest.update(chunk)
        seen[0] += len(chunk)
        yield chunk


def _ttl_from_metadata(value: str | None) -> int | Unset | None:
    if value is None:
        return UNSET
    if value.lower() in ("none", "null", ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidRequestError(f"tus metadata ttl {value!r} is not a number") from exc


class TusService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        creator: ArtifactCreator,
        uploads: Uploads,
    ) -> None:
        self.context = context
        self.gate = gate
        self.creator = creator
        self.uploads = uploads
        self._locks = KeyedLocks()  # one PATCH per upload in this process

    async def tus_create(
        self,
        *,
        length: int,
        metadata: dict[str, str] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> UploadStatus:
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise InvalidRequestError("Upload-Length must be a non-negative whole number")
        if length > self.context.settings.max_upload_bytes:
            limit = self.context.settings.max_upload_bytes
            raise TooLargeError(f"Upload-Length exceeds {limit} bytes")
        await self.context.ensure_open()
        md = dict(metadata or {})
        meta: Any = None
        if md.get("meta"):
            meta = parse_json(md["meta"], "tus metadata 'meta'")
        if md.get("session_id") and session_id and md["session_id"] != session_id:
            raise InvalidRequestError("metadata session_id differs from the caller's session")
        spec = self.creator.spec(
            mime=md.get("mime") or md.get("filetype") or md.get("content-type") or None,
            summary=md.get("summary", ""),
            meta=meta,
            filename=md.get("filename") or None,
            ttl=_ttl_from_metadata(md.get("ttl")),
            scope=md.get("scope", "session"),
            user_id=user_id,
            session_id=md.get("session_id") or session_id,
        )
        upload = await self.uploads.start(UploadKind.TUS, spec, length=length)
        if length == 0:  # nothing to wait for: the (empty) artifact exists at once
            await self.uploads.finish(upload, iter_bytes(b""), expected_states=(UploadState.OPEN,))
            completed = dataclasses.replace(upload, state=UploadState.COMPLETED)
            return UploadStatus.of(completed)
        await self.context.staging.write(upload.upload_id, 0, iter_bytes(b""), max_bytes=length)
        return UploadStatus.of(upload)

    async def tus_info(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> UploadStatus:
        check_id("upload_id", upload_id)
        caller = await self.gate.caller(user_id, session_id)
        upload = await self.uploads.find(upload_id)
        if upload is None or upload.kind is not UploadKind.TUS:
            raise ArtifactNotFoundError(f"upload {upload_id} not found")
        check_upload(upload.actor_id, upload.session_id, caller)
        if upload.state is UploadState.ABORTED:
            raise ArtifactNotFoundError(f"upload {upload_id} was terminated")
        if upload.state is UploadState.OPEN and upload.is_expired(self.context.now()):
            raise ArtifactExpiredError(f"upload {upload_id} has expired")
        return UploadStatus.of(upload)

    async def tus_append(
        self,
        upload_id: str,
        offset: int,
        data: bytes | AsyncIterable[bytes],
        *,
        checksum: tuple[str, bytes] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> UploadStatus:
        if checksum is not None and checksum[0] not in TUS_CHECKSUM_ALGORITHMS:
            raise InvalidRequestError(f"unsupported checksum algorithm {checksum[0]!r}")
        check_id("upload_id", upload_id)
        chunks = checked_stream(as_chunks(data), byte_length(data), progress_callback)
        caller = await self.gate.caller(user_id, session_id)
        async with self._locks.hold(upload_id):
            upload = await self.uploads.open(upload_id, caller, states=(UploadState.OPEN,))
            if upload.kind is not UploadKind.TUS or upload.length is None:
                raise ArtifactNotFoundError(f"upload {upload_id} is not a tus upload")
            if offset != upload.offset:
                raise ConflictError(f"Upload-Offset is {upload.offset}, not {offset}")
            upload, lease = await self._take_lease(upload)
            try:
                return await self._append(upload, lease, offset, chunks, checksum)
            except BaseException:
                await self._drop_lease(upload_id, lease)  # advancing drops it otherwise
                raise

    async def _append(
        self,
        upload: UploadRecord,
        lease: str,
        offset: int,
        chunks: AsyncIterable[bytes],
        checksum: tuple[str, bytes] | None,
    ) -> UploadStatus:
        """The body of one PATCH, under this process's lock and the upload's lease.

        Without a checksum the body is staged in checkpoints (every
        ``SATCHEL_TUS_CHECKPOINT_BYTES``, or every 10 s of a slow body): each is made durable
        and its offset committed, renewing the lease, so a server killed mid-PATCH resumes from
        the last checkpoint. A body with a checksum is staged whole and kept only if it
        matches, as tus's checksum extension requires.
        """
        upload_id = upload.upload_id
        staging = self.context.staging
        assert upload.length is not None
        await staging.truncate(upload_id, upload.offset)  # drop unacknowledged bytes
        if checksum is not None:
            updated, staged = await self._append_checked(upload, lease, chunks, checksum)
        else:
            updated, staged = await self._append_in_checkpoints(upload, lease, chunks)
        if staged < upload.length:
            return UploadStatus.of(updated)
        # Every byte is staged. The artifact and the upload's completion are one commit, made
        # from the last committed offset: a crash before it leaves the upload resumable there,
        # never at its full length with no artifact.
        updated = dataclasses.replace(updated, parts=_without_lease(updated.parts))
        await self.uploads.finish(
            updated, staging.read(upload_id), expected_states=(UploadState.OPEN,)
        )
        await self.uploads.drop_staged(updated)
        done = dataclasses.replace(updated, state=UploadState.COMPLETED, offset=upload.length)
        return UploadStatus.of(done)

    async def _append_checked(
        self,
        upload: UploadRecord,
        lease: str,
        chunks: AsyncIterable[bytes],
        checksum: tuple[str, bytes],
    ) -> tuple[UploadRecord, int]:
        """Stage the whole body; keep it only if it matches *checksum*. Returns the upload
        and how many bytes are staged (its offset is left for the completion to move when
        that is all of them)."""
        staging = self.context.staging
        assert upload.length is not None
        digest = hashlib.new(checksum[0])
        try:
            size = await staging.write(
                upload.upload_id,
                upload.offset,
                _counting(chunks, digest, [0]),
                max_bytes=upload.length,
            )
        except BaseException:
            await staging.truncate(upload.upload_id, upload.offset)
            raise
        if digest.digest() != checksum[1]:
            await staging.truncate(upload.upload_id, upload.offset)
            raise ChecksumMismatchError(f"the PATCH body does not match its {checksum[0]}")
        if size == upload.length:
            return upload, size
        return await self._advance(upload, size, lease, done=True), size

    async def _append_in_checkpoints(
        self, upload: UploadRecord, lease: str, chunks: AsyncIterable[bytes]
    ) -> tuple[UploadRecord, int]:
        """Stage the body checkpoint by checkpoint. Returns the upload and how many bytes are
        staged (the last checkpoint's offset is left for the completion when it is the end)."""
        staging = self.context.staging
        assert upload.length is not None
        segments = _Segments(chunks, self.context.settings.tus_checkpoint_bytes)
        current = upload
        while True:
            seen = [0]
            try:
                size = await staging.write(
                    upload.upload_id,
                    current.offset,
                    _counting(segments.next(), None, seen),
                    max_bytes=upload.length,
                )
            except ArtifactStoreError:
                await staging.truncate(upload.upload_id, current.offset)
                raise
            except BaseException:  # the client went away: keep what arrived, as tus expects
                kept = current.offset + seen[0]
                if seen[0] and kept < upload.length:
                    with contextlib.suppress(ArtifactStoreError):
                        await self._advance(current, kept, lease, done=True)
                raise
            if size == upload.length:
                return current, size
            current = await self._advance(current, size, lease, done=segments.exhausted)
            if segments.exhausted:
                return current, size

    async def _advance(
        self, upload: UploadRecord, size: int, lease: str, *, done: bool
    ) -> UploadRecord:
        """Move the upload's offset to *size* in one write, ending this PATCH's *lease* when
        it is *done*, else renewing it."""
        renewed = {
            "token": lease,
            "until": self.context.now() + _LEASE_SECONDS,
            "holder": process_identity(),
        }

        def moved(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN or current.offset != upload.offset:
                raise ConflictError(f"upload {upload.upload_id} moved on meanwhile")
            held = current.parts.get(_LEASE)
            if not isinstance(held, dict) or held.get("token") != lease:
                raise ConflictError(f"upload {upload.upload_id}: another PATCH took it over")
            parts = _without_lease(current.parts)
            if not done:
                parts[_LEASE] = renewed
            return dataclasses.replace(current, offset=size, parts=parts)

        return await self.uploads.change(upload.upload_id, moved)

    def _lease(self, token: str) -> dict[str, Any]:
        """The lease entry of the PATCH *token*, held by this process from now on."""
        until = self.context.now() + _LEASE_SECONDS
        return {"token": token, "until": until, "holder": process_identity()}

    async def _take_lease(self, upload: UploadRecord) -> tuple[UploadRecord, str]:
        """Claim the upload for one PATCH, across processes and replicas (the catalog row is
        locked while claiming): a second PATCH of the same upload meanwhile gets a 409, so two
        bodies are never staged over each other. A lease names its holder: one held by a
        process of this host that no longer runs (a server killed mid-PATCH) is taken over at
        once; another host's lasts until it expires (``_LEASE_SECONDS``, renewed at every
        checkpoint while its PATCH streams)."""
        token = secrets.token_hex(8)
        now = self.context.now()

        def claim(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN or current.offset != upload.offset:
                raise ConflictError(f"upload {upload.upload_id} moved on meanwhile")
            held = current.parts.get(_LEASE)
            live = isinstance(held, dict) and float(held.get("until", 0)) > now
            if live and not holder_is_dead(held.get("holder")):  # type: ignore[union-attr]
                raise ConflictError(
                    f"upload {upload.upload_id} is being written by another request"
                )
            return dataclasses.replace(current, parts={**current.parts, _LEASE: self._lease(token)})

        return await self.uploads.change(upload.upload_id, claim), token

    async def _drop_lease(self, upload_id: str, token: str) -> None:
        def release(current: UploadRecord) -> UploadRecord:
            held = current.parts.get(_LEASE)
            if not isinstance(held, dict) or held.get("token") != token:
                return current
            return dataclasses.replace(current, parts=_without_lease(current.parts))

        with contextlib.suppress(ArtifactStoreError):  # best effort: the lease expires anyway
            await self.uploads.change(upload_id, release)

    async def tus_terminate(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> None:
        check_id("upload_id", upload_id)
        caller = await self.gate.caller(user_id, session_id)
        async with self._locks.hold(upload_id):
            upload = await self.uploads.open(upload_id, caller, states=(UploadState.OPEN,))
            await self.uploads.abort(upload, "v1.upload.terminated")
