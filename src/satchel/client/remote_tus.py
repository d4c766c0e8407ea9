"""Remote resumable uploads: the tus 1.0 protocol of ``/v1/tus/`` spoken by the client."""

from __future__ import annotations

import base64
import email.utils
from collections.abc import AsyncIterable

import httpx

from satchel.client.transport import RemoteBase, _checked_body, _params, _path, _surfacing
from satchel.core.errors import InvalidRequestError, ProviderError
from satchel.core.progress import ProgressCallback
from satchel.core.streams import as_chunks, byte_length
from satchel.core.uploads import UploadKind, UploadState, UploadStatus

__all__ = ["TUS_VERSION", "RemoteTusMixin"]

TUS_VERSION = "1.0.0"
_OFFSET_TYPE = "application/offset+octet-stream"


def _metadata_header(metadata: dict[str, str]) -> str:
    parts = []
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or " " in key or "," in key:
            raise InvalidRequestError(f"tus metadata key {key!r} is not a plain word")
        if not isinstance(value, str):
            raise InvalidRequestError(f"tus metadata value of {key!r} must be text")
        parts.append(f"{key} {base64.b64encode(value.encode()).decode()}")
    return ",".join(parts)


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ProviderError(f"the server sent a malformed {name} header")
    return int(value.strip())


def _status(response: httpx.Response, upload_id: str, length: int | None) -> UploadStatus:
    """Where an upload stands, from a tus answer's headers."""
    offset = _header_int(response, "Upload-Offset")
    artifact_id = response.headers.get("Satchel-Artifact-Id")
    expires = response.headers.get("Upload-Expires")
    complete = (
        artifact_id is not None and response.headers.get("Satchel-Upload-State") == "completed"
    )
    if offset is None or artifact_id is None:
        raise ProviderError("the tus answer lacks Upload-Offset or Satchel-Artifact-Id")
    if expires is None:
        raise ProviderError("the tus answer lacks Upload-Expires")
    expires_at = email.utils.parsedate_to_datetime(expires).timestamp()
    return UploadStatus(
        upload_id=upload_id,
        kind=UploadKind.TUS,
        state=UploadState.COMPLETED if complete else UploadState.OPEN,
        artifact_id=artifact_id,
        offset=offset,
        length=declared
        if (declared := _header_int(response, "Upload-Length")) is not None
        else length,
        expires_at=expires_at,
    )


class RemoteTusMixin(RemoteBase):
    def _tus_headers(self, **extra: str) -> dict[str, str]:
        return {"Tus-Resumable": TUS_VERSION, **extra}

    async def tus_create(
        self,
        *,
        length: int,
        metadata: dict[str, str] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> UploadStatus:
        """Start a resumable upload of *length* bytes (tus creation)."""
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise InvalidRequestError("Upload-Length must be a non-negative whole number")
        headers = self._tus_headers(**{"Upload-Length": str(length)})
        if metadata:
            headers["Upload-Metadata"] = _metadata_header(metadata)
        response = await self._request(
            "POST",
            "/v1/tus/",
            params=_params(user_id=user_id, session_id=session_id),
            headers=headers,
        )
        location = response.headers.get("Location", "")
        upload_id = location.rstrip("/").rsplit("/", 1)[-1]
        if not upload_id:
            raise ProviderError("the tus creation answer has no Location")
        return _status(response, upload_id, length)

    async def tus_info(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> UploadStatus:
        """Where a resumable upload stands (tus HEAD)."""
        response = await self._request(
            "HEAD",
            _path("/v1/tus/{upload_id}", upload_id=upload_id),
            params=_params(user_id=user_id, session_id=session_id),
            headers=self._tus_headers(),
        )
        return _status(response, upload_id, None)

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
        """Append *data* at *offset* (tus PATCH, streamed); *progress_callback* follows the
        body's bytes, and one that raises cuts the body short there."""
        headers = self._tus_headers(**{"Upload-Offset": str(offset), "Content-Type": _OFFSET_TYPE})
        if checksum is not None:
            algorithm, digest = checksum
            headers["Upload-Checksum"] = f"{algorithm} {base64.b64encode(digest).decode()}"
        problem: list[BaseException] = []
        body = _checked_body(as_chunks(data), byte_length(data), progress_callback, problem)
        sent = self._request(
            "PATCH",
            _path("/v1/tus/{upload_id}", upload_id=upload_id),
            params=_params(user_id=user_id, session_id=session_id),
            headers=headers,
            content=body,
        )
        return _status(await _surfacing(problem, sent), upload_id, None)

    async def tus_terminate(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> None:
        """Abandon an unfinished resumable upload (tus termination)."""
        await self._request(
            "DELETE",
            _path("/v1/tus/{upload_id}", upload_id=upload_id),
            params=_params(user_id=user_id, session_id=session_id),
            headers=self._tus_headers(),
        )
