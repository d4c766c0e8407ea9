"""Remote presigned URLs, presigned uploads and multipart uploads."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

from satchel.client.transport import (
    RemoteBase,
    _checked_body,
    _checked_meta,
    _json_body,
    _params,
    _path,
    _surfacing,
)
from satchel.core.content import ArtifactContent
from satchel.core.digests import check_digest
from satchel.core.errors import InvalidRequestError
from satchel.core.headers import repr_digest
from satchel.core.policies import check_url_flavor
from satchel.core.progress import ProgressCallback
from satchel.core.ranges import ByteRange
from satchel.core.requests import MultipartUploadCompleteRequest, MultipartUploadInitRequest
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES, Scope
from satchel.core.signing import PresignedURL
from satchel.core.streams import as_chunks, byte_length
from satchel.core.unset import UNSET, Unset
from satchel.core.uploads import SignedUpload
from satchel.core.validation import check_ttl

__all__ = ["RemoteUploadsMixin"]


def _presigned(body: dict[str, Any], key: str = "url") -> PresignedURL:
    expires_at = body.get("expires_at")
    return PresignedURL(str(body[key]), float(expires_at) if expires_at is not None else None)


def _token(token: str) -> str:
    if not isinstance(token, str) or not token or "/" in token or "?" in token:
        raise InvalidRequestError("a signed URL token is the URL's last path segment")
    return token


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
        """A public or presigned URL of the artifact's content (see the contract)."""
        response = await self._request(
            "POST",
            _path("/v1/artifacts/{artifact_id}/presign", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            json_body={"expires": expires, "policy": check_url_flavor(policy)},
        )
        return _presigned(response.json())

    async def presign_upload(
        self,
        session_id: str | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        scope: Scope | str = Scope.SESSION,
    ) -> tuple[PresignedURL, str]:
        """A URL a client PUTs a file to, and the artifact id it will have once registered."""
        response = await self._request(
            "POST",
            "/v1/presign-upload",
            params=_params(user_id=user_id, session_id=session_id),
            json_body=_json_body(
                session_id=session_id,
                filename=filename,
                mime_type=mime_type,
                expires=expires,
                scope=str(getattr(scope, "value", scope)),
            ),
        )
        body = response.json()
        return _presigned(body, "upload_url"), str(body["artifact_id"])

    async def register_uploaded_artifact(
        self,
        artifact_id: str,
        *,
        mime: str | None = None,
        summary: str = "",
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl: int | Unset | None = UNSET,
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
        """Open what a presigned download URL of the server grants: a ``HEAD`` learns the
        version (etag, digest, size, type and download name; ``metadata`` stays None, as the
        URL grants the bytes only), then a ``GET`` pinned to it with ``If-Range`` reads
        (*local_file* changes nothing: the server's files are not on this host)."""
        return await self._open_described(
            f"/v1/signed/{_token(token)}",
            None,
            byte_range=byte_range,
            if_range=if_range,
            if_none_match=if_none_match,
            head=head,
        )

    async def signed_put(
        self,
        token: str,
        data: bytes | AsyncIterable[bytes],
        *,
        length: int | None = None,
        sha256: str | None = None,
    ) -> SignedUpload:
        """PUT *data* to a presigned upload or part URL of the server, declaring its length
        (``Content-Length``) and sha256 (``Repr-Digest``) when given."""
        headers = {} if sha256 is None else {"Repr-Digest": repr_digest(check_digest(sha256))}
        if length is not None:
            headers["Content-Length"] = str(length)
        response = await self._request(
            "PUT", f"/v1/signed/{_token(token)}", content=as_chunks(data), headers=headers
        )
        body = response.json()
        return SignedUpload(
            kind=str(body["kind"]),
            size=int(body["size"]),
            etag=body.get("etag"),
            part_number=body.get("part_number"),
        )

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
        return _presigned(response.json())

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
        """Upload part *part_number* (bytes or an async byte stream); return its ETag.
        *progress_callback* follows the part's bytes; one that raises cuts the body off and
        the part is not stored."""
        problem: list[BaseException] = []
        body = _checked_body(as_chunks(data), byte_length(data), progress_callback, problem)
        path = _path(
            "/v1/uploads/{upload_id}/parts/{part_number}",
            upload_id=upload_id,
            part_number=part_number,
        )
        params = _params(user_id=user_id, session_id=session_id)
        response = await _surfacing(
            problem, self._request("PUT", path, params=params, content=body)
        )
        return str(response.json()["etag"])

    async def complete_multipart_upload(
        self,
        request: MultipartUploadCompleteRequest,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """Assemble the uploaded parts into the artifact; returns its id."""
        if not isinstance(request, MultipartUploadCompleteRequest):
            raise InvalidRequestError(
                "complete_multipart_upload takes a MultipartUploadCompleteRequest"
            )
        response = await self._request(
            "POST",
            _path("/v1/uploads/{upload_id}/complete", upload_id=request.upload_id),
            params=_params(user_id=user_id, session_id=session_id),
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
