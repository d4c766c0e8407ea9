"""Presigned uploads (seed 000's presign_upload + register) and multipart uploads."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.catalog import uploads as upload_rows
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ConflictError,
    InvalidRequestError,
)
from satchel.core.grid import build_grid_key
from satchel.core.requests import MultipartUploadCompleteRequest, MultipartUploadInitRequest
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES, Scope
from satchel.core.signing import PresignedURL, SignedGrant
from satchel.core.uploads import UploadKind, UploadRecord, UploadState
from satchel.core.validation import check_id
from satchel.store.base import UNSET
from satchel.store.direct import direct_transfers, direct_upload_of
from satchel.store.presign import PresignMixin
from satchel.store.uploads import UploadsMixin

__all__ = ["MultipartMixin"]

MAX_PART_BYTES = 5 * 1024**3
MAX_PARTS = 10_000


async def _hashing(chunks: AsyncIterable[bytes], digest: Any) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        digest.update(chunk)
        yield chunk


class MultipartMixin(UploadsMixin, PresignMixin):
    # -- presigned single uploads ------------------------------------------------------------

    async def presign_upload(
        self,
        session_id: str | None = None,
        filename: str | None = None,
        mime_type: str = "application/octet-stream",
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
    ) -> tuple[PresignedURL, str]:
        """A URL a client PUTs a file to, and the artifact id it will have once registered."""
        seconds = self._check_expires(expires)
        await self._ensure_open()
        spec = self._new_artifact(
            mime=mime_type,
            summary="",
            meta=None,
            filename=filename,
            ttl=UNSET,
            scope=Scope.SESSION,
            user_id=user_id,
            session_id=session_id,
        )
        upload = await self._start_upload(UploadKind.PRESIGNED, spec)
        if direct_transfers(self.blobs) is not None:
            return await self._direct_put_url(upload, seconds), upload.artifact_id
        url = self._signed_url(
            SignedGrant(
                method="PUT",
                kind="upload",
                sandbox_id=self.sandbox_id,
                expires_at=int(min(self._now() + seconds, upload.expires_at)),
                upload_id=upload.upload_id,
            )
        )
        return url, upload.artifact_id

    async def signed_upload(self, token: str, chunks: AsyncIterable[bytes]) -> int:
        """Receive the body PUT to a presigned upload URL; return its size."""
        grant = self.verify_signed(token, "PUT")
        if grant.kind != "upload" or grant.upload_id is None:
            raise AccessDeniedError("this signed URL is not an upload URL")
        states = (UploadState.OPEN, UploadState.UPLOADED)
        upload = await self._open_upload(grant.upload_id, None, states=states)
        size = await self.staging.write(
            upload.upload_id, 0, chunks, max_bytes=self.settings.max_upload_bytes
        )
        if size == 0:
            raise InvalidRequestError("the uploaded body is empty")

        def uploaded(current: UploadRecord) -> UploadRecord:
            if current.state not in states:
                raise ConflictError(f"upload {current.upload_id} is {current.state.value}")
            return dataclasses.replace(current, state=UploadState.UPLOADED, offset=size)

        await self._change_upload(upload.upload_id, uploaded, event="upload.received")
        return size

    async def register_uploaded_artifact(
        self,
        artifact_id: str,
        *,
        mime: str,
        summary: str,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl: int | None = UNSET,
    ) -> bool:
        """Turn the bytes PUT to a presign_upload URL into the artifact *artifact_id*.

        Raises ConflictError before anything was uploaded or when registered already,
        ArtifactExpiredError after the upload expired, ArtifactNotFoundError for an unknown id.
        """
        check_id("artifact_id", artifact_id)
        caller = await self._caller(user_id, session_id)
        async with self.catalog.read() as reader:
            found = await upload_rows.get_upload_by_artifact(
                reader.conn, artifact_id, self.sandbox_id
            )
        if found is None or found.kind is not UploadKind.PRESIGNED:
            raise ArtifactNotFoundError(f"no presigned upload reserved artifact {artifact_id}")
        if found.state is UploadState.COMPLETED:
            raise ConflictError(f"artifact {artifact_id} is registered already")
        direct = direct_upload_of(self.blobs, found)
        if direct is None and found.state is UploadState.OPEN and not found.is_expired(self._now()):
            raise ConflictError(f"nothing has been uploaded for artifact {artifact_id} yet")
        states = (UploadState.OPEN,) if direct is not None else (UploadState.UPLOADED,)
        upload = await self._open_upload(found.upload_id, caller, states=states)
        if session_id is not None and session_id != upload.session_id:
            raise AccessDeniedError("the upload belongs to another session")
        spec = self._new_artifact(
            mime=mime,
            summary=summary,
            meta=meta,
            filename=filename if filename is not None else upload.filename,
            ttl=ttl if ttl is not UNSET else (upload.ttl if upload.ttl else UNSET),
            scope=upload.scope,
            user_id=upload.actor_id,
            session_id=upload.session_id,
        )
        overrides = {
            "mime": spec.mime,
            "summary": spec.summary,
            "meta": spec.meta,
            "filename": spec.filename,
            "ttl": spec.ttl,
        }
        if direct is not None:
            await self._finish_direct_upload(
                upload, direct, expected_states=states, overrides=overrides
            )
        else:
            await self._finish_upload(
                upload,
                self.staging.read(upload.upload_id),
                expected_states=states,
                overrides=overrides,
            )
        await self._drop_staged(upload)
        return True

    async def _direct_put_url(self, upload: UploadRecord, seconds: int) -> PresignedURL:
        transfers = direct_transfers(self.blobs)
        assert transfers is not None
        direct = await self._attach_direct_upload(upload, multipart=False)
        lifetime = self._direct_lifetime(upload, seconds)
        return PresignedURL(await transfers.presign_put(direct, lifetime))

    def _direct_lifetime(self, upload: UploadRecord, seconds: int) -> int:
        """A backend URL's lifetime: what was asked, but never past the upload's expiry."""
        return max(1, min(seconds, int(upload.expires_at - self._now())))

    # -- multipart ---------------------------------------------------------------------------

    async def initiate_multipart_upload(
        self, request: MultipartUploadInitRequest
    ) -> dict[str, Any]:
        """Start a multipart upload; returns ``upload_id``, ``artifact_id``, ``session_id``,
        ``key`` and ``expires_at``."""
        if not isinstance(request, MultipartUploadInitRequest):
            raise InvalidRequestError(
                "initiate_multipart_upload takes a MultipartUploadInitRequest"
            )
        await self._ensure_open()
        spec = self._new_artifact(
            mime=request.mime_type,
            summary="",
            meta=request.meta,
            filename=request.filename,
            ttl=request.ttl if request.ttl_given() else UNSET,
            scope=request.scope,
            user_id=request.user_id,
            session_id=request.session_id,
        )
        upload = await self._start_upload(UploadKind.MULTIPART, spec)
        return {
            "upload_id": upload.upload_id,
            "artifact_id": upload.artifact_id,
            "session_id": upload.session_id,
            "key": build_grid_key(
                sandbox_id=self.sandbox_id,
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
        """A URL a client PUTs part *part_number* (1-10000) to; the response carries its ETag."""
        _check_part_number(part_number)
        seconds = self._check_expires(expires)
        caller = await self._caller(user_id, session_id)
        upload = await self._open_upload(upload_id, caller, states=(UploadState.OPEN,))
        transfers = direct_transfers(self.blobs)
        if transfers is not None:
            direct = await self._attach_direct_upload(upload, multipart=True)
            lifetime = self._direct_lifetime(upload, seconds)
            return PresignedURL(await transfers.presign_put_part(direct, part_number, lifetime))
        return self._signed_url(
            SignedGrant(
                method="PUT",
                kind="part",
                sandbox_id=self.sandbox_id,
                expires_at=int(min(self._now() + seconds, upload.expires_at)),
                upload_id=upload.upload_id,
                part_number=part_number,
            )
        )

    async def upload_part(
        self,
        upload_id: str,
        part_number: int,
        chunks: AsyncIterable[bytes],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """Store one part (replacing an earlier upload of the same number); return its ETag."""
        _check_part_number(part_number)
        caller = await self._caller(user_id, session_id)
        upload = await self._open_upload(upload_id, caller, states=(UploadState.OPEN,))
        return await self._store_part(upload, part_number, chunks)

    async def signed_part_upload(self, token: str, chunks: AsyncIterable[bytes]) -> str:
        """Receive a part PUT to a presigned part URL; return its ETag."""
        grant = self.verify_signed(token, "PUT")
        if grant.kind != "part" or grant.upload_id is None or grant.part_number is None:
            raise AccessDeniedError("this signed URL is not a part upload URL")
        upload = await self._open_upload(grant.upload_id, None, states=(UploadState.OPEN,))
        return await self._store_part(upload, grant.part_number, chunks)

    async def _store_part(
        self, upload: UploadRecord, number: int, chunks: AsyncIterable[bytes]
    ) -> str:
        digest = hashlib.sha256()
        key = f"{upload.upload_id}.{number}"
        size = await self.staging.write(key, 0, _hashing(chunks, digest), max_bytes=MAX_PART_BYTES)
        if size == 0:
            raise InvalidRequestError(f"part {number} is empty")
        etag = digest.hexdigest()[:32]

        def record_part(current: UploadRecord) -> UploadRecord:
            if current.state is not UploadState.OPEN:
                raise ConflictError(f"upload {current.upload_id} is {current.state.value}")
            parts = {**current.parts, str(number): {"etag": etag, "size": size}}
            # offset counts part writes: the compare-and-swap version of the parts map
            return dataclasses.replace(current, parts=parts, offset=current.offset + 1)

        await self._change_upload(upload.upload_id, record_part)
        return etag

    async def complete_multipart_upload(
        self,
        request: MultipartUploadCompleteRequest,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """Assemble the listed parts, in order, into the upload's artifact; return its id.

        Refuses an empty list, part numbers out of order or repeated, a part never uploaded,
        an ETag that does not match, and a part other than the last smaller than the minimum.
        """
        if not isinstance(request, MultipartUploadCompleteRequest):
            raise InvalidRequestError("complete_multipart_upload takes a request model")
        caller = await self._caller(user_id, session_id)
        upload = await self._open_upload(request.upload_id, caller, states=(UploadState.OPEN,))
        numbers = [part.PartNumber for part in request.parts]
        if not numbers:
            raise InvalidRequestError("complete_multipart_upload needs at least one part")
        if numbers != sorted(set(numbers)):
            raise InvalidRequestError("parts must be listed once each, in ascending order")
        direct = direct_upload_of(self.blobs, upload)
        if direct is not None and not _all_staged(upload, request):
            # Parts PUT to the backend's own URLs: the backend checks them and their ETags.
            record = await self._finish_direct_upload(
                upload,
                direct,
                parts=[(part.PartNumber, part.ETag) for part in request.parts],
                expected_states=(UploadState.OPEN,),
                overrides={"summary": request.summary},
            )
            await self._drop_staged(upload)
            return record.artifact_id
        minimum = self.settings.multipart_min_part_bytes
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

        async def assembled() -> AsyncIterator[bytes]:
            # Each part is checked against what the catalog accepted for it: a retried PUT of
            # a part that failed half-way may have left other bytes staged under its key.
            for number in numbers:
                accepted = upload.parts[str(number)]
                digest, size = hashlib.sha256(), 0
                async for chunk in self.staging.read(f"{upload.upload_id}.{number}"):
                    digest.update(chunk)
                    size += len(chunk)
                    yield chunk
                if size != accepted["size"] or digest.hexdigest()[:32] != accepted["etag"]:
                    raise ConflictError(
                        f"part {number}'s staged bytes are not the ones accepted for it (a "
                        "retried upload of it failed); upload the part again"
                    )

        record = await self._finish_upload(
            upload,
            assembled(),
            expected_states=(UploadState.OPEN,),
            overrides={"summary": request.summary},
        )
        await self._drop_staged(upload)
        return record.artifact_id

    async def abort_multipart_upload(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bool:
        """Abandon a multipart upload and reclaim its parts."""
        caller = await self._caller(user_id, session_id)
        upload = await self._open_upload(upload_id, caller, states=(UploadState.OPEN,))
        await self._abort_upload(upload, "upload.aborted")
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


def _check_part_number(number: object) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
        raise InvalidRequestError(f"part_number must be a whole number from 1 to {MAX_PARTS}")
    return number
