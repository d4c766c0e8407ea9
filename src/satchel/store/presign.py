"""Presigned URLs and multipart uploads.

These hand out URLs that a client fetches or PUTs to over HTTP. For memory and filesystem
backends the URLs are served by ``satchel serve`` (HMAC-signed routes); S3 signs directly. Until
the HTTP service exists in this version, every method raises NotSupportedError rather than
returning a URL nothing would answer.
"""

from __future__ import annotations

from typing import Any

from satchel.core.errors import NotSupportedError
from satchel.core.requests import MultipartUploadCompleteRequest, MultipartUploadInitRequest
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.store.base import UNSET, StoreBase

__all__ = ["PresignMixin"]

_NEEDS_SERVICE = (
    "{what} needs the Satchel HTTP service (`satchel serve`), which serves presigned and "
    "multipart URLs; this version ships the embedded library only"
)


class PresignMixin(StoreBase):
    def _needs_service(self, what: str) -> NotSupportedError:
        return NotSupportedError(_NEEDS_SERVICE.format(what=what))

    async def presign(
        self,
        artifact_id: str,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """A presigned download URL (raises NotSupportedError without the HTTP service)."""
        await self._load(artifact_id, await self._caller(user_id, session_id))
        raise self._needs_service("presign")

    async def presign_short(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> str:
        """A presigned download URL valid for 15 minutes."""
        return await self.presign(artifact_id, 900, user_id=user_id, session_id=session_id)

    async def presign_medium(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> str:
        """A presigned download URL valid for 1 hour."""
        return await self.presign(artifact_id, 3600, user_id=user_id, session_id=session_id)

    async def presign_long(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> str:
        """A presigned download URL valid for 24 hours."""
        return await self.presign(artifact_id, 86400, user_id=user_id, session_id=session_id)

    async def presign_upload(
        self,
        session_id: str | None = None,
        filename: str | None = None,
        mime_type: str = "application/octet-stream",
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
    ) -> tuple[str, str]:
        """A presigned upload URL and the artifact id it will register as."""
        raise self._needs_service("presign_upload")

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
        """Register bytes uploaded to a presigned URL as an artifact."""
        raise self._needs_service("register_uploaded_artifact")

    async def initiate_multipart_upload(
        self, request: MultipartUploadInitRequest
    ) -> dict[str, Any]:
        """Start a multipart upload."""
        raise self._needs_service("initiate_multipart_upload")

    async def get_part_upload_url(
        self, upload_id: str, part_number: int, expires: int = DEFAULT_PRESIGN_EXPIRES
    ) -> str:
        """A presigned URL for one part of a multipart upload."""
        raise self._needs_service("get_part_upload_url")

    async def complete_multipart_upload(self, request: MultipartUploadCompleteRequest) -> str:
        """Finish a multipart upload and register its artifact."""
        raise self._needs_service("complete_multipart_upload")

    async def abort_multipart_upload(self, upload_id: str) -> bool:
        """Abandon a multipart upload and reclaim its parts."""
        raise self._needs_service("abort_multipart_upload")
