"""Presigned download URLs, and what a presigned URL grants when it is used.

With the S3 backend (and no SSE-C key) a presigned download URL is S3's own, signed by the
backend after the access check, with the artifact's filename and type as response headers; it
never outlives the artifact. Other backends get Satchel's own URLs (:mod:`.signing`).
"""

from __future__ import annotations

from collections.abc import AsyncIterable

from satchel.blobs.base import PublicURLs
from satchel.core.access import Caller
from satchel.core.content import ArtifactContent
from satchel.core.digests import check_digest
from satchel.core.errors import AccessDeniedError, ArtifactExpiredError, ConflictError
from satchel.core.models import ArtifactRecord
from satchel.core.policies import PUBLIC, check_url_flavor
from satchel.core.ranges import ByteRange
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.core.signing import PresignedURL
from satchel.core.uploads import SignedUpload
from satchel.store.content import ContentService
from satchel.store.context import StoreContext
from satchel.store.direct import direct_transfers
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger
from satchel.store.multipart import MultipartService
from satchel.store.presigned_uploads import PresignedUploadService
from satchel.store.signing import Signer

__all__ = ["PresignService"]


class PresignService:
    def __init__(
        self,
        context: StoreContext,
        gate: AccessGate,
        ledger: BlobLedger,
        signer: Signer,
        content: ContentService,
        presigned_uploads: PresignedUploadService,
        multipart: MultipartService,
    ) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger
        self.signer = signer
        self.content = content
        self.presigned_uploads = presigned_uploads
        self.multipart = multipart

    async def presign(
        self,
        artifact_id: str,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        return await self.get_url(
            artifact_id, expires, policy="auto", user_id=user_id, session_id=session_id
        )

    async def get_url(
        self,
        artifact_id: str,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        policy: str = "auto",
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        flavor = check_url_flavor(policy)
        seconds = self.signer.check_expires(expires)
        record = await self.gate.load(artifact_id, await self.gate.caller(user_id, session_id))
        if flavor == "public" and record.policy != PUBLIC:
            raise ConflictError(
                f"artifact {artifact_id} is private: it has no public URL (make it public with "
                "set_policy, or ask for a presigned URL)"
            )
        if flavor != "presigned" and record.policy == PUBLIC:
            return PresignedURL(self._public_url(record), None)
        return await self._presigned(record, seconds)

    def _public_url(self, record: ArtifactRecord) -> str:
        """The permanent URL of a public artifact: its bytes in a public bucket when the backend
        has a public base URL (``SATCHEL_S3_PUBLIC_URL_BASE``), else Satchel's content route
        (which answers without a token while the artifact is public)."""
        blobs = self.ledger.blobs_for(record)
        found = blobs.public_url(record.sha256) if isinstance(blobs, PublicURLs) else None
        if found is not None:
            return found
        base = self.context.settings.resolved_public_url().rstrip("/")
        return f"{base}/v1/artifacts/{record.artifact_id}/content"

    async def _presigned(self, record: ArtifactRecord, seconds: int) -> PresignedURL:
        artifact_id = record.artifact_id
        now = self.context.now()
        transfers = direct_transfers(self.ledger.blobs_for(record))
        if transfers is not None:
            # The backend serves the URL without asking Satchel: it must not outlive the artifact.
            if record.expires_at is not None and not record.is_retained(now):
                seconds = max(1, min(seconds, int(record.expires_at - now)))
            url = await transfers.presign_get(
                record.sha256, seconds, filename=record.filename, content_type=record.mime
            )
            return PresignedURL(url, now + seconds)
        grant = self.signer.grant(
            "GET", "download", now + seconds, artifact_id=artifact_id, content=_version(record)
        )
        return self.signer.url(grant)

    async def open_signed_content(
        self,
        token: str,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
        local_file: bool = False,
    ) -> ArtifactContent:
        grant = self.signer.verify(token, "GET")
        if grant.kind != "download" or grant.artifact_id is None:
            raise AccessDeniedError("this signed URL is not a download URL")
        await self.context.ensure_open()
        record = await self.gate.load(grant.artifact_id, Caller())
        if grant.content is not None and grant.content != _version(record):
            raise ArtifactExpiredError(
                "this URL was made for content the artifact no longer has (it was replaced)"
            )
        return await self.content.open_record(
            record,
            byte_range=byte_range,
            if_range=if_range,
            if_none_match=if_none_match,
            head=head,
            local_file=local_file,
        )

    async def signed_put(
        self,
        token: str,
        data: bytes | AsyncIterable[bytes],
        *,
        length: int | None = None,
        sha256: str | None = None,
    ) -> SignedUpload:
        grant = self.signer.verify(token, "PUT")
        await self.context.ensure_open()
        digest = None if sha256 is None else check_digest(sha256)
        if grant.kind == "upload" and grant.upload_id is not None:
            size = await self.presigned_uploads.receive(
                grant.upload_id, data, length=length, sha256=digest
            )
            return SignedUpload(kind="upload", size=size)
        if grant.kind == "part" and grant.upload_id is not None and grant.part_number is not None:
            etag, size = await self.multipart.receive_part(
                grant.upload_id, grant.part_number, data, length=length, sha256=digest
            )
            return SignedUpload(kind="part", size=size, etag=etag, part_number=grant.part_number)
        raise AccessDeniedError("this signed URL does not allow uploads")


def _version(record: ArtifactRecord) -> str:
    """What a download URL is tied to: the start of the content's sha256 (metadata changes
    keep it working; replaced content does not)."""
    return record.sha256.split(":", 1)[1][:16]
