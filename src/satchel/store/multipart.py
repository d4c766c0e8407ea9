"""Multipart uploads (seed 000): initiate, part URLs, parts, complete, abort.

Parts are PUT through Satchel (staged, each with a sha256-derived ETag) or, on a backend that
hands out its own URLs (S3 without SSE-C), straight to the backend's part URLs; one upload uses
one kind or the other. Completing checks every listed part before the artifact exists.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.core.errors import ChecksumMismatchError, ConflictError, InvalidRequestError
from satchel.core.grid import build_grid_key
from satchel.core.progress import ProgressCallback
from satchel.core.requests import (
    MAX_PARTS,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
)
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.core.signing import PresignedURL
from satchel.core.streams import as_chunks, byte_length, checked_stream
from satchel.core.unset import UNSET
from satchel.core.uploads import UploadKind, UploadRecord, UploadState
from satchel.store.context import StoreContext
from satchel.store.creation import ArtifactCreator
from satchel.store.direct import direct_transfers, direct_upload_of
from satchel.store.gate import AccessGate
from satchel.store.presigned_uploads import direct_lifetime
from satchel.store.signing import Signer
from satchel.store.uploads import Uploads

__all__ = ["MAX_PART_BYTES", "MultipartService"]

MAX_PART_BYTES = 5 * 1024**3


async def _hashing(chunks: AsyncIterable[bytes], digest: Any) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        digest.update(chunk)
        yield chunk


def _check_part_number(number: object) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
        raise InvalidRequestError(f"part_number must be a whole number from 1 to {MAX_PARTS}")
    return number


class MultipartService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        creator: ArtifactCreator,
        uploads: Uploads,
        signer: Signer,
    ) -> None:
        self.context = context
        self.gate = gate
        self.creator = creator
        self.uploads = uploads
        self.signer = signer

    async def initiate_multipart_upload(
        self, request: MultipartUploadInitRequest
    ) -> dict[str, Any]:
        if not isinstance(request, MultipartUploadInitRequest):
            raise InvalidRequestError(
                "initiate_multipart_upload takes a MultipartUploadInitRequest"
            )
        context = self.context
        await context.ensure_open()
        spec = self.creator.spec(
            mime=request.mime_type,
            summary="",
            meta=request.meta,
            filename=request.filename,
            ttl=request.ttl if request.ttl_given() else UNSET,
            scope=request.scope,
            user_id=request.user_id,
            session_id=request.session_id,
        )
        upload = await self.uploads.start(UploadKind.MULTIPART, spec)
        return {
            "upload_id": upload.upload_id,
            "artifact_id": upload.artifact_id,
            "session_id": upload.session_id,
            "key": build_grid_key(
                sandbox_id=context.sandbox_id,
                scope=upload.scope,
                session_id=upload.session_id,
                owner_id=upload.owner_id,
                artifact_id=upload.artifact_id,
            ),
            "expires_at": upload.expires_at,
        }

    async def get_part_upload_url(
        self,
        upload_id: str,
        part_number: int,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        _check_part_number(part_number)
        seconds = self.signer.check_expires(expires)
        caller = await self.gate.caller(user_id, session_id)
        upload = await self.uploads.open(upload_id, caller, states=(UploadState.OPEN,))
        transfers = direct_transfers(self.context.blob_backend())
        if transfers is not None:
            direct = await self.uploads.attach_direct(upload, multipart=True)
            lifetime = direct_lifetime(self.context, upload, seconds)
            url = await transfers.presign_put_part(direct, part_number, lifetime)
            return PresignedURL(url, self.context.now() + lifetime)
        expires_at = min(self.context.now() + seconds, upload.expires_at)
        grant = self.signer.grant(
            "PUT", "part", expires_at, upload_id=upload.upload_id, part_number=part_number
        )
        return self.signer.url(grant)

    async def upload_part(
        self,
        upload_id: str,
        part_number: int,
        data: bytes | AsyncIterable[bytes],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> str:
        _check_part_number(part_number)
        chunks = checked_stream(as_chunks(data), byte_length(data), progress_callback)
        caller = await self.gate.caller(user_id, session_id)
        upload = await self.uploads.open(upload_id, caller, states=(UploadState.OPEN,))
        etag, _ = await self._store_part(upload, part_number, chunks)
        return etag

    async def receive_part(
        self,
        upload_id: str,
        part_number: int,
        data: bytes | AsyncIterable[bytes],
        *,
        length: int | None = None,
        sha256: str | None = None,
    ) -> tuple[str, int]:
        """Stage a part PUT to a presigned part URL; return its ETag and size. A part that
        differs from its declared *length* or *sha256* is not accepted."""
        _check_part_number(part_number)
        upload = await self.uploads.open(upload_id, None, states=(UploadState.OPEN,))
        return await self._store_part(
            upload, part_number, as_chunks(data), length=length, sha256=sha256
        )

    async def _store_part(
        self,
        upload: UploadRecord,
        number: int,
        chunks: AsyncIterable[bytes],
        *,
        length: int | None = None,
        sha256: str | None = None,
    ) -> tuple[str, int]:
        digest = hashlib.sha256()
        key = f"{upload.upload_id}.{number}"
        staging = self.context.staging
        size = await staging.write(key, 0, _hashing(chunks, digest), max_bytes=MAX_PART_BYTES)
        # A part that is not what it declared is not accepted; the catalog keeps any earlier
        # accepted copy's size and ETag, so completing refuses the bytes now staged.
        if length is not None and size != length:
            raise InvalidRequestError(f"part {number} is {size} bytes, not the {length} declared")
        if sha256 is not None and "sha256:" + digest.hexdigest() != sha256:
            raise ChecksumMismatchError(f"part {number} does not hash to its declared sha-256")
        etag = digest.hexdigest()[:32]

        def record_part(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN:
                raise ConflictError(f"upload {current.upload_id} is {current.state.value}")
            parts = {**current.parts, str(number): {"etag": etag, "size": size}}
            # offset counts part writes: the compare-and-swap version of the parts map
            return dataclasses.replace(current, parts=parts, offset=current.offset + 1)

        await self.uploads.change(upload.upload_id, record_part)
        return etag, size

    async def complete_multipart_upload(
        self,
        request: MultipartUploadCompleteRequest,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        if not isinstance(request, MultipartUploadCompleteRequest):
            raise InvalidRequestError("complete_multipart_upload takes a request model")
        caller = await self.gate.caller(user_id, session_id)
        states = (UploadState.OPEN,)
        upload = await self.uploads.open(request.upload_id, caller, states=states)
        numbers = [part.PartNumber for part in request.parts]
        if not numbers:
            raise InvalidRequestError("complete_multipart_upload needs at least one part")
        if numbers != sorted(set(numbers)):
            raise InvalidRequestError("parts must be listed once each, in ascending order")
        overrides = {"summary": request.summary}
        direct = direct_upload_of(self.context.blob_backend(), upload)
        if direct is not None and not _all_staged(upload, request):
            # Parts PUT to the backend's own URLs: the backend checks them and their ETags.
            record = await self.uploads.finish_direct(
                upload,
                direct,
                parts=[(part.PartNumber, part.ETag) for part in request.parts],
                expected_states=states,
                overrides=overrides,
            )
        else:
            self._check_staged(upload, request)
            record = await self.uploads.finish(
                upload,
                self._assembled(upload, numbers),
                expected_states=states,
                overrides=overrides,
            )
        await self.uploads.drop_staged(upload)
        return record.artifact_id

    def _check_staged(self, upload: UploadRecord, request: MultipartUploadCompleteRequest) -> None:
        minimum = self.context.settings.multipart_min_part_bytes
        for index, part in enumerate(request.parts):
            stored = upload.parts.get(str(part.PartNumber))
            if stored is None:
                raise InvalidRequestError(f"part {part.PartNumber} was never uploaded")
            if part.ETag.strip().strip('"') != stored["etag"]:
                raise InvalidRequestError(f"part {part.PartNumber}: ETag does not match")
            if index < len(request.parts) - 1 and stored["size"] < minimum:
                raise InvalidRequestError(
                    f"part {part.PartNumber} is {stored['size']} bytes; every part but the last "
                    f"must be at least {minimum} bytes"
                )

    async def _assembled(self, upload: UploadRecord, numbers: list[int]) -> AsyncIterator[bytes]:
        # Each part is checked against what the catalog accepted for it: a retried PUT of a
        # part that failed half-way may have left other bytes staged under its key.
        for number in numbers:
            accepted = upload.parts[str(number)]
            digest, size = hashlib.sha256(), 0
            async for chunk in self.context.staging.read(f"{upload.upload_id}.{number}"):
                digest.update(chunk)
                size += len(chunk)
                yield chunk
            if size != accepted["size"] or digest.hexdigest()[:32] != accepted["etag"]:
                raise ConflictError(
                    f"part {number}'s staged bytes are not the ones accepted for it (a retried "
                    "upload of it failed); upload the part again"
                )

    async def abort_multipart_upload(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bool:
        caller = await self.gate.caller(user_id, session_id)
        upload = await self.uploads.open(upload_id, caller, states=(UploadState.OPEN,))
        await self.uploads.abort(upload, "v1.upload.aborted")
        return True


def _all_staged(upload: UploadRecord, request: MultipartUploadCompleteRequest) -> bool:
    """Whether every listed part was PUT through Satchel (else: to the backend's URLs).

    A part counts as staged when Satchel holds it with the ETag the client lists. Mixing the
    two kinds in one upload is refused: the backend cannot splice Satchel's staged bytes in.
    """
    staged = [
        (stored := upload.parts.get(str(part.PartNumber))) is not None
        and part.ETag.strip().strip('"') == stored["etag"]
        for part in request.parts
    ]
    if all(staged):
        return True
    if any(staged):
        raise InvalidRequestError(
            "parts uploaded through Satchel and parts uploaded to presigned backend URLs "
            "cannot be combined in one upload"
        )
    return False
