"""Remote presigned URLs, presigned uploads and multipart uploads."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

from satchel.client.transport import (
    RemoteBase,
    _checked_meta,
    _json_body,
    _params,
    _path,
)
from satchel.core.errors import (
    InvalidRequestError,
)
from satchel.core.requests import (
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
)
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.core.signing import PresignedURL
from satchel.core.validation import check_ttl
from satchel.store.base import UNSET

__all__ = ["RemoteUploadsMixin"]


class RemoteUploadsMixin(RemoteBase):
    # -- presigned URLs ----------------------------------------------------------------------

    async def presign(
        self,
        artifact_id: str,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        """A URL that lets anyone holding it GET the artifact's content until it expires."""
        response = await self._request(
            "POST",
            _path("/v1/artifacts/{artifact_id}/presign", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            json_body={"expires": expires},
        )
        return PresignedURL(response.json()["url"])

    async def presign_short(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 15 minutes."""
        return await self.presign(artifact_id, 900, user_id=user_id, session_id=session_id)

    async def presign_medium(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 1 hour."""
        return await self.presign(artifact_id, 3600, user_id=user_id, session_id=session_id)

    async def presign_long(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
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
    ) -> tuple[PresignedURL, str]:
        """A URL a client PUTs a file to, and the artifact id it will have once registered."""
        response = await self._request(
            "POST",
            "/v1/presign-upload",
            params=_params(user_id=user_id, session_id=session_id),
            json_body=_json_body(
                session_id=session_id, filename=filename, mime_type=mime_type, expires=expires
            ),
        )
        body = response.json()
        return PresignedURL(body["upload_url"]), str(body["artifact_id"])

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
        """Turn the bytes PUT to a presign_upload URL into the artifact *artifact_id*."""
        body = _json_body(
            mime=mime,
            summary=summary,
            meta=_checked_meta(meta),
            filename=filename,
            session_id=session_id,
        )
        if ttl is not UNSET:
            body["ttl"] = check_ttl(ttl)
        await self._request(
            "POST",
            _path("/v1/artifacts/{artifact_id}/register", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            json_body=body,
        )
        return True

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
        body = request.model_dump(mode="json", exclude_unset=True)
        body.setdefault("filename", request.filename)
        response = await self._request(
            "POST",
            "/v1/uploads",
            params=_params(user_id=request.user_id, session_id=request.session_id),
            json_body=body,
        )
        result: dict[str, Any] = response.json()
        return result

    async def get_part_upload_url(
        self,
        upload_id: str,
        part_number: int,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        """A URL a client PUTs part *part_number* to; the response carries its ETag."""
        response = await self._request(
            "POST",
            _path(
                "/v1/uploads/{upload_id}/parts/{part_number}/url",
                upload_id=upload_id,
                part_number=part_number,
            ),
            params=_params(user_id=user_id, session_id=session_id),
            json_body={"expires": expires},
        )
        return PresignedURL(response.json()["url"])

    async def upload_part(
        self,
        upload_id: str,
        part_number: int,
        chunks: AsyncIterable[bytes] | bytes,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """Upload part *part_number* (bytes or an async byte stream); return its ETag."""
        response = await self._request(
            "PUT",
            _path(
                "/v1/uploads/{upload_id}/parts/{part_number}",
                upload_id=upload_id,
                part_number=part_number,
            ),
            params=_params(user_id=user_id, session_id=session_id),
            content=chunks,
        )
        try:
            return str(response.json()["etag"])
        except (ValueError, KeyError):
            return str(response.headers.get("etag", "")).strip('"')

    async def complete_multipart_upload(self, request: MultipartUploadCompleteRequest) -> str:
        """Assemble the uploaded parts into the artifact; returns its id."""
        if not isinstance(request, MultipartUploadCompleteRequest):
            raise InvalidRequestError(
                "complete_multipart_upload takes a MultipartUploadCompleteRequest"
            )
        response = await self._request(
            "POST",
            _path("/v1/uploads/{upload_id}/complete", upload_id=request.upload_id),
            json_body={
                "parts": [part.model_dump(mode="json") for part in request.parts],
                "summary": request.summary,
            },
        )
        return self._metadata(response).artifact_id

    async def abort_multipart_upload(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bool:
        """Abandon a multipart upload and reclaim its parts."""
        await self._request(
            "DELETE",
            _path("/v1/uploads/{upload_id}", upload_id=upload_id),
            params=_params(user_id=user_id, session_id=session_id),
        )
        return True
