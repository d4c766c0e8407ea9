"""Remote listings, search and streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from satchel.client.transport import (
    RemoteBase,
    _checked_body,
    _meta,
    _params,
    _path,
    raise_for_response,
)
from satchel.core.errors import (
    InvalidRequestError,
    ProviderUnavailableError,
)
from satchel.core.requests import (
    StreamDownloadRequest,
    StreamUploadRequest,
)
from satchel.core.scopes import Scope
from satchel.core.streams import report_progress
from satchel.core.validation import check_limit
from satchel.store.base import UNSET
from satchel.store.listing import ArtifactList

__all__ = ["RemoteListingMixin"]


class RemoteListingMixin(RemoteBase):
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
            params=_params(
                view="session",
                session_id=session_id,
                limit=check_limit(limit),
                cursor=cursor,
                user_id=user_id,
            ),
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
                view="directory",
                session_id=session_id,
                prefix=directory_prefix,
                limit=check_limit(limit),
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
                view="search",
                user_id=user_id,
                scope=scope,
                mime_prefix=mime_prefix,
                meta_filter=_meta("meta_filter", meta_filter),
                limit=check_limit(limit),
                session_id=session_id,
                cursor=cursor,
            ),
        )
        return self._list(response)

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
        path = _path("/v1/artifacts/{artifact_id}/content", artifact_id=request.artifact_id)
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
                    await report_progress(request.progress_callback, done, total)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"GET {path}: timed out ({exc})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"cannot reach {self.url}: {exc}") from exc
