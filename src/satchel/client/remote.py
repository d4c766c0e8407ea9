"""``RemoteArtifactStore``: the ArtifactStore API over Satchel's HTTP service (docs/http-api.md).

Same method names, same parameters, same return types and the same errors: every error response's
JSON ``error`` code is raised as the matching class of :mod:`satchel.core.errors` with the
server's message, so code written against the embedded store runs against a server unchanged.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import Any

import httpx

from satchel.core.errors import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    ConflictError,
    InvalidRequestError,
    NotSupportedError,
    PreconditionFailedError,
    ProviderError,
    ProviderUnavailableError,
    SessionError,
    TooLargeError,
    UnauthorizedError,
    error_for_code,
)
from satchel.core.grid import parse_grid_key
from satchel.core.models import ArtifactMetadata, GridKeyComponents
from satchel.core.requests import (
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    ProgressCallback,
    StreamDownloadRequest,
    StreamUploadRequest,
)
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES, Scope
from satchel.core.signing import PresignedURL
from satchel.store.base import UNSET
from satchel.store.listing import ArtifactList

__all__ = ["RemoteArtifactStore", "raise_for_response"]

_BY_STATUS: dict[int, type[ArtifactStoreError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    403: AccessDeniedError,
    404: ArtifactNotFoundError,
    409: ConflictError,
    410: ArtifactExpiredError,
    412: PreconditionFailedError,
    413: TooLargeError,
    500: SessionError,
    501: NotSupportedError,
    502: ProviderError,
    503: ProviderUnavailableError,
}
_BATCH_KEYS = {"data", "mime", "summary", "meta", "filename", "ttl", "scope"}


def raise_for_response(response: httpx.Response) -> None:
    """Raise the error class named by an error response's JSON ``error`` code (read body first)."""
    if response.status_code < 400:
        return
    code: str | None = None
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = body.get("error") if isinstance(body.get("error"), str) else None
        message = str(body.get("message") or "")
    cls = error_for_code(code) if code else ArtifactStoreError
    if cls is ArtifactStoreError and code != ArtifactStoreError.code:
        # an unknown code (internal_error, method_not_allowed, …): fall back on the status
        cls = _BY_STATUS.get(response.status_code, ProviderError)
        if response.status_code == 500:
            cls = ProviderError
    raise cls(message or f"HTTP {response.status_code} from {response.request.url.path}")


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left out (None)."""
    return {k: (str(v) if isinstance(v, Scope) else v) for k, v in values.items() if v is not None}


def _json_body(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _etag_header(if_match: str | None) -> dict[str, str]:
    if if_match is None:
        return {}
    return {"If-Match": if_match if if_match.startswith('"') else f'"{if_match}"'}


async def _report(callback: ProgressCallback | None, done: int, total: int | None) -> None:
    if callback is None:
        return
    result = callback(done, total)
    if inspect.isawaitable(result):
        await result


class RemoteArtifactStore:
    """An ArtifactStore-compatible client of ``satchel serve``.

    Args:
        url: base URL of the service (e.g. ``http://127.0.0.1:8000``).
        token: bearer token (``SATCHEL_AUTH_TOKENS``, an API key or the admin token).
        timeout: per-request timeout in seconds (``None``: no timeout).
        transport: an httpx transport (tests: ``httpx.ASGITransport(app)``).
        headers: extra headers sent with every request.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float | None = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=self.url, headers=all_headers, timeout=timeout, transport=transport
        )
        self._closed = False

    def __repr__(self) -> str:
        return f"RemoteArtifactStore(url={self.url!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Nothing to do: the connection pool opens on first use (kept for API symmetry)."""

    async def close(self) -> None:
        self._closed = True
        await self._client.aclose()

    async def __aenter__(self) -> RemoteArtifactStore:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- plumbing ----------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: Any = None,
        headers: dict[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        if self._closed:
            raise ArtifactStoreError("this RemoteArtifactStore is closed")
        try:
            response = await self._client.request(
                method, path, params=params, json=json_body, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"{method} {path}: timed out ({exc})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"cannot reach {self.url}: {exc}") from exc
        if response.status_code not in ok_statuses:
            raise_for_response(response)
        return response

    @staticmethod
    def _metadata(response: httpx.Response) -> ArtifactMetadata:
        return ArtifactMetadata.model_validate(response.json())

    @staticmethod
    def _list(response: httpx.Response) -> ArtifactList:
        body = response.json()
        items = [ArtifactMetadata.model_validate(item) for item in body.get("items", [])]
        return ArtifactList(items, body.get("next_cursor"))

    @staticmethod
    def _ttl_param(ttl: Any) -> Any:
        if ttl is UNSET:
            return None
        return "none" if ttl is None else ttl

    # -- artifacts ---------------------------------------------------------------------------

    async def store(
        self,
        data: bytes,
        *,
        mime: str,
        summary: str = "",
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl: int | None = UNSET,
        scope: Scope | str = Scope.SESSION,
    ) -> str:
        """Store *data* as a new artifact and return its id."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidRequestError(f"data must be bytes, not {type(data).__name__}")
        record = await self._upload(
            bytes(data),
            mime=mime,
            summary=summary,
            meta=meta,
            filename=filename,
            session_id=session_id,
            user_id=user_id,
            ttl=ttl,
            scope=scope,
        )
        return record.artifact_id

    async def _upload(
        self,
        content: Any,
        *,
        mime: str,
        summary: str,
        meta: dict[str, Any] | None,
        filename: str | None,
        session_id: str | None,
        user_id: str | None,
        ttl: Any,
        scope: Scope | str,
    ) -> ArtifactMetadata:
        params = _params(
            filename=filename,
            mime=mime,
            summary=summary or None,
            scope=str(scope.value if isinstance(scope, Scope) else scope),
            session_id=session_id,
            user_id=user_id,
            ttl=self._ttl_param(ttl),
            meta=None if meta is None else json.dumps(meta),
        )
        response = await self._request(
            "POST",
            "/v1/artifacts",
            params=params,
            content=content,
            headers={"Content-Type": mime or "application/octet-stream"},
        )
        return self._metadata(response)

    async def write_file(
        self,
        content: str | bytes,
        *,
        filename: str,
        mime: str = "text/plain",
        summary: str = "",
        session_id: str | None = None,
        user_id: str | None = None,
        meta: dict[str, Any] | None = None,
        encoding: str = "utf-8",
        scope: Scope | str = Scope.SESSION,
        ttl: int | None = UNSET,
    ) -> str:
        """Store text or bytes under *filename* (text is encoded with *encoding*)."""
        try:
            data = content.encode(encoding) if isinstance(content, str) else content
        except LookupError as exc:
            raise InvalidRequestError(f"unknown text encoding {encoding!r}") from exc
        except UnicodeError as exc:
            raise InvalidRequestError(f"content cannot be encoded as {encoding}: {exc}") from exc
        return await self.store(
            data,
            mime=mime,
            summary=summary or f"File: {filename}",
            filename=filename,
            session_id=session_id,
            user_id=user_id,
            meta=meta,
            scope=scope,
            ttl=ttl,
        )

    async def retrieve(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bytes:
        """Return the whole content of an artifact."""
        response = await self._request(
            "GET",
            f"/v1/artifacts/{artifact_id}/content",
            params=_params(user_id=user_id, session_id=session_id),
        )
        return response.content

    async def read_file(
        self,
        artifact_id: str,
        *,
        encoding: str = "utf-8",
        as_text: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str | bytes:
        """Return an artifact's content as bytes, or decoded text with ``as_text=True``."""
        data = await self.retrieve(artifact_id, user_id=user_id, session_id=session_id)
        if not as_text:
            return data
        try:
            return data.decode(encoding)
        except LookupError as exc:
            raise InvalidRequestError(f"unknown text encoding {encoding!r}") from exc
        except UnicodeError as exc:
            raise InvalidRequestError(f"artifact {artifact_id} is not {encoding} text") from exc

    async def metadata(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> ArtifactMetadata:
        """Return an artifact's metadata."""
        response = await self._request(
            "GET",
            f"/v1/artifacts/{artifact_id}",
            params=_params(user_id=user_id, session_id=session_id),
        )
        return self._metadata(response)

    async def exists(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bool:
        """True when the artifact exists and has not expired (AccessDeniedError if not yours)."""
        try:
            await self.metadata(artifact_id, user_id=user_id, session_id=session_id)
        except (ArtifactNotFoundError, ArtifactExpiredError):
            return False
        return True

    async def update_file(
        self,
        artifact_id: str,
        *,
        data: bytes | None = None,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        summary: str | None = None,
        mime: str | None = None,
        ttl: int | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Replace content (``PUT …/content``) and/or metadata (``PATCH``, ``meta`` replaced).

        Both changes are conditional: the metadata change is made against the etag the
        content replacement produced, so a concurrent writer makes it fail rather than mix.
        """
        changes = _json_body(meta=meta, filename=filename, summary=summary, mime=mime)
        if ttl is not UNSET:
            changes["ttl"] = ttl
        if data is None and not changes:
            raise InvalidRequestError("update_file needs data or at least one field to change")
        ids = _params(user_id=user_id, session_id=session_id)
        result: ArtifactMetadata | None = None
        if data is not None:
            response = await self._request(
                "PUT",
                f"/v1/artifacts/{artifact_id}/content",
                params=ids,
                content=bytes(data),
                headers=_etag_header(if_match),
            )
            result = self._metadata(response)
            if_match = result.etag
        if changes:
            changes["merge"] = False
            response = await self._request(
                "PATCH",
                f"/v1/artifacts/{artifact_id}",
                params=ids,
                json_body=changes,
                headers=_etag_header(if_match),
            )
            result = self._metadata(response)
        assert result is not None
        return result

    async def update_metadata(
        self,
        artifact_id: str,
        *,
        summary: str | None = None,
        meta: dict[str, Any] | None = None,
        merge: bool = True,
        filename: str | None = None,
        mime: str | None = None,
        ttl: int | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
        **unknown: Any,
    ) -> ArtifactMetadata:
        """Change metadata without touching content; ``merge=True`` merges ``meta`` key by key."""
        if unknown:
            raise InvalidRequestError(f"unknown metadata fields: {', '.join(sorted(unknown))}")
        body = _json_body(summary=summary, meta=meta, filename=filename, mime=mime)
        if ttl is not UNSET:
            body["ttl"] = ttl
        if not body:
            raise InvalidRequestError("update_metadata needs at least one field to change")
        body["merge"] = merge
        response = await self._request(
            "PATCH",
            f"/v1/artifacts/{artifact_id}",
            params=_params(user_id=user_id, session_id=session_id),
            json_body=body,
            headers=_etag_header(if_match),
        )
        return self._metadata(response)

    async def delete(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> bool:
        """Delete an artifact the caller may write."""
        await self._request(
            "DELETE",
            f"/v1/artifacts/{artifact_id}",
            params=_params(user_id=user_id, session_id=session_id),
            headers=_etag_header(if_match),
        )
        return True

    # -- files -------------------------------------------------------------------------------

    async def copy_file(
        self,
        artifact_id: str,
        *,
        new_filename: str | None = None,
        target_session_id: str | None = None,
        new_meta: dict[str, Any] | None = None,
        summary: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """Copy an artifact within its own session; returns the copy's id."""
        response = await self._request(
            "POST",
            f"/v1/artifacts/{artifact_id}/copy",
            params=_params(user_id=user_id, session_id=session_id),
            json_body=_json_body(
                new_filename=new_filename,
                target_session_id=target_session_id,
                new_meta=new_meta,
                summary=summary,
            ),
        )
        return self._metadata(response).artifact_id

    async def move_file(
        self,
        artifact_id: str,
        *,
        new_filename: str | None = None,
        new_session_id: str | None = None,
        new_meta: dict[str, Any] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Rename an artifact (and merge *new_meta*) within its session."""
        response = await self._request(
            "POST",
            f"/v1/artifacts/{artifact_id}/move",
            params=_params(user_id=user_id, session_id=session_id),
            json_body=_json_body(
                new_filename=new_filename, new_session_id=new_session_id, new_meta=new_meta
            ),
            headers=_etag_header(if_match),
        )
        return self._metadata(response)

    # -- listing -----------------------------------------------------------------------------

    async def list_by_session(
        self,
        session_id: str,
        limit: int = 100,
        *,
        cursor: str | None = None,
        user_id: str | None = None,
    ) -> ArtifactList:
        """The live artifacts of one session, oldest first; pass ``next_cursor`` for more."""
        response = await self._request(
            "GET",
            "/v1/artifacts",
            params=_params(session_id=session_id, limit=limit, cursor=cursor, user_id=user_id),
        )
        return self._list(response)

    async def get_directory_contents(
        self,
        session_id: str,
        directory_prefix: str = "",
        limit: int = 100,
        *,
        user_id: str | None = None,
    ) -> ArtifactList:
        """Artifacts of a session whose filename starts with *directory_prefix*."""
        response = await self._request(
            "GET",
            "/v1/artifacts",
            params=_params(
                session_id=session_id,
                prefix=directory_prefix,
                limit=limit,
                user_id=user_id,
            ),
        )
        return self._list(response)

    async def list_files(
        self, session_id: str, prefix: str = "", limit: int = 100, *, user_id: str | None = None
    ) -> ArtifactList:
        """Alias of :meth:`get_directory_contents`."""
        return await self.get_directory_contents(session_id, prefix, limit, user_id=user_id)

    async def search(
        self,
        *,
        user_id: str | None = None,
        scope: Scope | str | None = None,
        mime_prefix: str | None = None,
        meta_filter: dict[str, Any] | None = None,
        limit: int = 100,
        session_id: str | None = None,
        cursor: str | None = None,
    ) -> ArtifactList:
        """Find live artifacts by owner, scope, MIME prefix and exact custom-metadata matches."""
        response = await self._request(
            "GET",
            "/v1/artifacts",
            params=_params(
                user_id=user_id,
                scope=scope,
                mime_prefix=mime_prefix,
                meta_filter=None if meta_filter is None else json.dumps(meta_filter),
                limit=limit,
                session_id=session_id,
                cursor=cursor,
            ),
        )
        return self._list(response)

    # -- batch -------------------------------------------------------------------------------

    async def store_batch(
        self,
        items: list[dict[str, Any]],
        session_id: str | None = None,
        ttl: int | None = UNSET,
        *,
        user_id: str | None = None,
        scope: Scope | str = Scope.SESSION,
    ) -> list[str]:
        """Store every item in one session; on a failure the items stored so far are deleted.

        The service has no batch route, so this is one upload per item (the first one picks the
        session when *session_id* is left out).
        """
        if not isinstance(items, list) or not items:
            raise InvalidRequestError("store_batch needs a non-empty list of items")
        for index, item in enumerate(items):
            if not isinstance(item, dict) or set(item) - _BATCH_KEYS:
                raise InvalidRequestError(f"batch item {index} must be a dict of {_BATCH_KEYS}")
            if not isinstance(item.get("data"), bytes | bytearray) or not item.get("data"):
                raise InvalidRequestError(f"batch item {index}: data must be non-empty bytes")
        stored: list[str] = []
        try:
            for index, item in enumerate(items):
                try:
                    record = await self._upload(
                        bytes(item["data"]),
                        mime=item.get("mime", "application/octet-stream"),
                        summary=item.get("summary", ""),
                        meta=item.get("meta"),
                        filename=item.get("filename"),
                        session_id=session_id,
                        user_id=user_id,
                        ttl=item.get("ttl", ttl),
                        scope=item.get("scope", scope),
                    )
                except ArtifactStoreError as exc:
                    raise type(exc)(f"batch item {index}: {exc.message}") from exc
                session_id = record.session_id
                stored.append(record.artifact_id)
        except BaseException:
            for artifact_id in stored:
                with contextlib.suppress(ArtifactStoreError):
                    await self.delete(artifact_id, user_id=user_id)
            raise
        return stored

    # -- streaming ---------------------------------------------------------------------------

    async def stream_upload(self, request: StreamUploadRequest) -> str:
        """Upload ``request.data_stream`` as the request body, chunk by chunk (constant memory).

        Nothing is stored if the stream fails, is empty, or disagrees with ``content_length``:
        the body is then cut off before its end, and the server discards it.
        """
        if not isinstance(request, StreamUploadRequest):
            raise InvalidRequestError("stream_upload takes a StreamUploadRequest")
        total = request.content_length
        if total is not None and total <= 0:
            raise InvalidRequestError(f"content_length {total} is out of range")
        problem: list[BaseException] = []
        body = _checked_body(request.data_stream, total, request.progress_callback, problem)
        try:
            record = await self._upload(
                body,
                mime=request.mime,
                summary=request.summary,
                meta=request.meta,
                filename=request.filename,
                session_id=request.session_id,
                user_id=request.user_id,
                ttl=request.ttl if request.ttl_given() else UNSET,
                scope=request.scope,
            )
        except BaseException as exc:
            if problem and problem[0] is not exc:
                raise problem[0] from None
            raise
        return record.artifact_id

    async def stream_download(self, request: StreamDownloadRequest) -> AsyncIterator[bytes]:
        """Yield an artifact's bytes in ``request.chunk_size`` pieces, reporting progress."""
        if not isinstance(request, StreamDownloadRequest):
            raise InvalidRequestError("stream_download takes a StreamDownloadRequest")
        params = _params(user_id=request.user_id, session_id=request.session_id)
        path = f"/v1/artifacts/{request.artifact_id}/content"
        try:
            async with self._client.stream("GET", path, params=params) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise_for_response(response)
                length = response.headers.get("content-length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                async for chunk in response.aiter_bytes(request.chunk_size):
                    done += len(chunk)
                    yield chunk
                    await _report(request.progress_callback, done, total)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"GET {path}: timed out ({exc})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"cannot reach {self.url}: {exc}") from exc

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
            f"/v1/artifacts/{artifact_id}/presign",
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
            mime=mime, summary=summary, meta=meta, filename=filename, session_id=session_id
        )
        if ttl is not UNSET:
            body["ttl"] = ttl
        await self._request(
            "POST",
            f"/v1/artifacts/{artifact_id}/register",
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
            f"/v1/uploads/{upload_id}/parts/{part_number}/url",
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
            f"/v1/uploads/{upload_id}/parts/{part_number}",
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
            f"/v1/uploads/{request.upload_id}/complete",
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
            f"/v1/uploads/{upload_id}",
            params=_params(user_id=user_id, session_id=session_id),
        )
        return True

    # -- admin -------------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """The service's ``GET /health`` body (``status`` ``ok`` or ``degraded``)."""
        response = await self._request("GET", "/health", ok_statuses=(200, 503))
        body: dict[str, Any] = response.json()
        return body

    async def validate_configuration(self) -> dict[str, Any]:
        """The service's backend checks: ``{"storage": …, "session": …, "catalog": …}``."""
        checks: dict[str, Any] = (await self.health()).get("checks", {})
        return checks

    async def get_stats(self) -> dict[str, Any]:
        """Counts and sizes from the service's ``/metrics`` (and ``/health``)."""
        health = await self.health()
        response = await self._request("GET", "/metrics")
        values: dict[str, float] = {}
        for line in response.text.splitlines():
            if line.startswith("#") or " " not in line:
                continue
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                continue
        storage = health.get("checks", {}).get("storage", {})
        return {
            "storage_provider": storage.get("provider"),
            "sandbox_id": health.get("sandbox_id"),
            "total_artifacts": int(values.get("satchel_artifacts", 0)),
            "total_bytes": int(values.get("satchel_artifact_bytes", 0)),
            "stored_bytes": int(values.get("satchel_stored_bytes", 0)),
        }

    def parse_grid_key(self, grid_key: str) -> GridKeyComponents | None:
        """Split a grid key into sandbox, scope, session/user and artifact id (None if not one)."""
        return parse_grid_key(grid_key)


async def _checked_body(
    source: AsyncIterable[bytes],
    total: int | None,
    callback: ProgressCallback | None,
    problem: list[BaseException],
) -> AsyncIterator[bytes]:
    """Pass chunks to httpx, checking types and length; on a problem, stop before the body's end
    (so the server never sees a complete upload) and keep the error for the caller."""
    done = 0
    try:
        async for chunk in source:
            if isinstance(chunk, bytearray | memoryview):
                chunk = bytes(chunk)
            if not isinstance(chunk, bytes):
                raise InvalidRequestError(f"data_stream yielded {type(chunk).__name__}, not bytes")
            if not chunk:
                continue
            done += len(chunk)
            if total is not None and done > total:
                raise InvalidRequestError(
                    f"data_stream sent more than content_length={total} bytes"
                )
            yield chunk
            await _report(callback, done, total)
        if done == 0:
            raise InvalidRequestError("data_stream produced no data")
        if total is not None and done != total:
            raise InvalidRequestError(f"data_stream sent {done} bytes, not content_length={total}")
    except BaseException as exc:
        problem.append(exc)
        raise
