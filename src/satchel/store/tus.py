"""Resumable uploads (tus 1.0): create, append at an offset, inspect, terminate.

The upload's offset lives in the catalog and its bytes in the staging area (files for the
filesystem and sqlite backends), so an upload interrupted by a server restart resumes where the
last acknowledged PATCH ended. When the offset reaches the declared length the upload becomes an
ordinary artifact (sha256 computed) with the id reserved when it was created.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.catalog import uploads as upload_rows
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
from satchel.core.uploads import UploadKind, UploadRecord, UploadState
from satchel.core.validation import check_id
from satchel.store.base import UNSET
from satchel.store.uploads import UploadsMixin

__all__ = ["TUS_CHECKSUM_ALGORITHMS", "TusMixin"]

TUS_CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")


_LEASE = "patch"  # the entry of a tus upload's ``parts`` naming the PATCH that holds it
_LEASE_SECONDS = 900.0


def _without_lease(parts: dict[str, Any]) -> dict[str, Any]:
    return {name: part for name, part in parts.items() if name != _LEASE}


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _counting(
    chunks: AsyncIterable[bytes], digest: Any | None, seen: list[int]
) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if digest is not None:
            digest.update(chunk)
        seen[0] += len(chunk)
        yield chunk


def _ttl_from_metadata(value: str | None) -> Any:
    if value is None:
        return UNSET
    if value.lower() in ("none", "null", ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidRequestError(f"tus metadata ttl {value!r} is not a number") from exc


class TusMixin(UploadsMixin):
    _tus_locks: dict[str, asyncio.Lock]

    def _tus_lock(self, upload_id: str) -> asyncio.Lock:
        locks = self.__dict__.setdefault("_tus_locks", {})
        lock: asyncio.Lock = locks.setdefault(upload_id, asyncio.Lock())
        return lock

    async def tus_create(
        self,
        *,
        length: int,
        metadata: dict[str, str] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> UploadRecord:
        """Start a tus upload of *length* bytes described by tus ``Upload-Metadata``.

        Metadata keys: ``filename``, ``mime`` (or ``filetype`` / ``content-type``), ``scope``,
        ``session_id``, ``summary``, ``meta`` (a JSON object) and ``ttl`` (seconds or ``none``).
        """
        if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
            raise InvalidRequestError("Upload-Length must be a positive whole number")
        if length > self.settings.max_upload_bytes:
            raise TooLargeError(f"Upload-Length exceeds {self.settings.max_upload_bytes} bytes")
        await self._ensure_open()
        md = dict(metadata or {})
        meta: Any = None
        if md.get("meta"):
            try:
                meta = json.loads(md["meta"])
            except ValueError as exc:
                raise InvalidRequestError("tus metadata 'meta' must be a JSON object") from exc
        if md.get("session_id") and session_id and md["session_id"] != session_id:
            raise InvalidRequestError("metadata session_id differs from the caller's session")
        spec = self._new_artifact(
            mime=md.get("mime")
            or md.get("filetype")
            or md.get("content-type")
            or "application/octet-stream",
            summary=md.get("summary", ""),
            meta=meta,
            filename=md.get("filename") or None,
            ttl=_ttl_from_metadata(md.get("ttl")),
            scope=md.get("scope", "session"),
            user_id=user_id,
            session_id=md.get("session_id") or session_id,
        )
        upload = await self._start_upload(UploadKind.TUS, spec, length=length)
        await self.staging.write(upload.upload_id, 0, _nothing(), max_bytes=length)
        return upload

    async def tus_info(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> UploadRecord:
        """The upload's state for a HEAD request (completed uploads included)."""
        check_id("upload_id", upload_id)
        caller = await self._caller(user_id, session_id)
        async with self.catalog.read() as reader:
            upload = await upload_rows.get_upload(reader.conn, upload_id, self.sandbox_id)
        if upload is None or upload.kind is not UploadKind.TUS:
            raise ArtifactNotFoundError(f"upload {upload_id} not found")
        check_upload(upload.actor_id, upload.session_id, caller)
        if upload.state is UploadState.ABORTED:
            raise ArtifactNotFoundError(f"upload {upload_id} was terminated")
        if upload.state is UploadState.OPEN and upload.is_expired(self._now()):
            raise ArtifactExpiredError(f"upload {upload_id} has expired")
        return upload

    async def tus_append(
        self,
        upload_id: str,
        offset: int,
        chunks: AsyncIterable[bytes],
        *,
        checksum: tuple[str, bytes] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> UploadRecord:
        """Append a PATCH body at *offset*; finish the artifact when the length is reached.

        Raises ConflictError when *offset* is not the upload's offset, TooLargeError past the
        declared length, ChecksumMismatchError when *checksum* ``(algorithm, digest)`` differs
        (the bytes are then discarded). Without a checksum, the bytes of a body cut short are
        kept and the offset moves past them, as tus expects.
        """
        if checksum is not None and checksum[0] not in TUS_CHECKSUM_ALGORITHMS:
            raise InvalidRequestError(f"unsupported checksum algorithm {checksum[0]!r}")
        caller = await self._caller(user_id, session_id)
        async with self._tus_lock(upload_id):
            upload = await self._open_upload(upload_id, caller, states=(UploadState.OPEN,))
            if upload.kind is not UploadKind.TUS or upload.length is None:
                raise ArtifactNotFoundError(f"upload {upload_id} is not a tus upload")
            if offset != upload.offset:
                raise ConflictError(f"Upload-Offset is {upload.offset}, not {offset}")
            upload, lease = await self._take_patch_lease(upload)
            try:
                return await self._append(upload, lease, offset, chunks, checksum)
            except BaseException:
                await self._drop_patch_lease(upload_id, lease)  # advancing drops it otherwise
                raise

    async def _append(
        self,
        upload: UploadRecord,
        lease: str,
        offset: int,
        chunks: AsyncIterable[bytes],
        checksum: tuple[str, bytes] | None,
    ) -> UploadRecord:
        """The body of one PATCH, under this process's lock and the upload's lease."""
        upload_id = upload.upload_id
        assert upload.length is not None
        await self.staging.truncate(upload_id, upload.offset)  # drop unacknowledged bytes
        digest = hashlib.new(checksum[0]) if checksum is not None else None
        seen = [0]
        try:
            size = await self.staging.write(
                upload_id,
                offset,
                _counting(chunks, digest, seen),
                max_bytes=upload.length,
            )
        except ArtifactStoreError:
            await self.staging.truncate(upload_id, upload.offset)
            raise
        except BaseException:
            if checksum is None and seen[0]:
                with contextlib.suppress(ArtifactStoreError):
                    await self._advance(upload, upload.offset + seen[0], lease)
            raise
        if digest is not None and checksum is not None and digest.digest() != checksum[1]:
            await self.staging.truncate(upload_id, upload.offset)
            raise ChecksumMismatchError(f"the PATCH body does not match its {checksum[0]}")
        updated = await self._advance(upload, size, lease)
        if size < upload.length:
            return updated
        record = await self._finish_upload(
            updated, self.staging.read(upload_id), expected_states=(UploadState.OPEN,)
        )
        await self._drop_staged(updated)
        return dataclasses.replace(
            updated, state=UploadState.COMPLETED, artifact_id=record.artifact_id
        )

    async def _advance(self, upload: UploadRecord, size: int, lease: str) -> UploadRecord:
        """Move the upload's offset to *size* and end this PATCH's *lease* (one write)."""

        def moved(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN or current.offset != upload.offset:
                raise ConflictError(f"upload {upload.upload_id} moved on meanwhile")
            held = current.parts.get(_LEASE)
            if not isinstance(held, dict) or held.get("token") != lease:
                raise ConflictError(f"upload {upload.upload_id}: another PATCH took it over")
            return dataclasses.replace(current, offset=size, parts=_without_lease(current.parts))

        return await self._change_upload(upload.upload_id, moved)

    async def _take_patch_lease(self, upload: UploadRecord) -> tuple[UploadRecord, str]:
        """Claim the upload for one PATCH, across processes and replicas (the catalog row is
        locked while claiming): a second PATCH of the same upload meanwhile gets a 409, so two
        bodies are never staged over each other. A lease outlives a crashed process by at most
        ``_LEASE_SECONDS``."""
        token = secrets.token_hex(8)
        now = self._now()

        def claim(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN or current.offset != upload.offset:
                raise ConflictError(f"upload {upload.upload_id} moved on meanwhile")
            held = current.parts.get(_LEASE)
            if isinstance(held, dict) and float(held.get("until", 0)) > now:
                raise ConflictError(
                    f"upload {upload.upload_id} is being written by another request"
                )
            lease = {"token": token, "until": now + _LEASE_SECONDS}
            return dataclasses.replace(current, parts={**current.parts, _LEASE: lease})

        return await self._change_upload(upload.upload_id, claim), token

    async def _drop_patch_lease(self, upload_id: str, token: str) -> None:
        def release(current: UploadRecord) -> UploadRecord:
            held = current.parts.get(_LEASE)
            if not isinstance(held, dict) or held.get("token") != token:
                return current
            return dataclasses.replace(current, parts=_without_lease(current.parts))

        with contextlib.suppress(ArtifactStoreError):  # best effort: the lease expires anyway
            await self._change_upload(upload_id, release)

    async def tus_terminate(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> None:
        """Abandon an unfinished tus upload and reclaim its bytes."""
        caller = await self._caller(user_id, session_id)
        async with self._tus_lock(upload_id):
            upload = await self._open_upload(upload_id, caller, states=(UploadState.OPEN,))
            await self._abort_upload(upload, "upload.terminated")
