"""Remote reads: opened content (ranges, conditions), streaming downloads, listings, search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from satchel.client.transport import RemoteBase, _meta, _params, _path
from satchel.core.content import ArtifactContent
from satchel.core.errors import InvalidRequestError
from satchel.core.headers import quote_etag
from satchel.core.models import ArtifactList
from satchel.core.queries import search_query, session_query
from satchel.core.ranges import ByteRange, plan_read
from satchel.core.requests import StreamDownloadRequest
from satchel.core.scopes import Scope
from satchel.core.streams import close_stream, reported_stream
from satchel.core.validation import check_limit

__all__ = ["RemoteReadingMixin"]


class RemoteReadingMixin(RemoteBase):
    async def open_content(
        self,
        artifact_id: str,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
        local_file: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactContent:
        """Open an artifact's content: its metadata (one request), then its bytes pinned to
        that version with ``If-Match`` (a second request, streamed; none with ``head``). The
        server's files are not on this host: *local_file* changes nothing."""
        metadata = await self.metadata(artifact_id, user_id=user_id, session_id=session_id)
        plan = plan_read(
            metadata.etag,
            metadata.bytes,
            byte_range=byte_range,
            if_range=if_range,
            if_match=if_match,
            if_none_match=if_none_match,
        )
        if head or plan.not_modified:
            return ArtifactContent.of(metadata, plan)
        headers = {"If-Match": quote_etag(metadata.etag)}
        if plan.partial:
            headers["Range"] = f"bytes={plan.start}-{plan.end - 1}"
        path = _path("/v1/artifacts/{artifact_id}/content", artifact_id=artifact_id)
        chunks = self._pinned_chunks(
            path,
            _params(user_id=user_id, session_id=session_id),
            headers,
            status=206 if plan.partial else 200,
            length=plan.end - plan.start,
        )
        first = await anext(chunks, b"")
        return ArtifactContent.of(metadata, plan, first_chunk=first, rest=chunks)

    async def stream_download(self, request: StreamDownloadRequest) -> AsyncIterator[bytes]:
        """Yield an artifact's bytes in ``request.chunk_size`` pieces, reporting progress."""
        if not isinstance(request, StreamDownloadRequest):
            raise InvalidRequestError("stream_download takes a StreamDownloadRequest")
        params = _params(user_id=request.user_id, session_id=request.session_id)
        path = _path("/v1/artifacts/{artifact_id}/content", artifact_id=request.artifact_id)
        async with self._streaming(path, params) as answer:
            length = answer.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            chunks = answer.aiter_bytes(request.chunk_size)
            reported = reported_stream(chunks, total, request.progress_callback)
            try:
                async for chunk in reported:
                    yield chunk
            finally:
                await close_stream(reported)

    # -- listing -----------------------------------------------------------------------------

    async def list_by_session(
        self,
        session_id: str,
        limit: int = 100,
        *,
        cursor: str | None = None,
        user_id: str | None = None,
        order: str = "stored_at",
    ) -> ArtifactList:
        """The live artifacts of one session, oldest first (or in *order*); pass
        ``next_cursor`` for more."""
        params = session_query(
            session_id, limit=check_limit(limit), cursor=cursor, user_id=user_id, order=order
        )
        return self._list(await self._request("GET", "/v1/artifacts", params=params))

    async def get_directory_contents(
        self,
        session_id: str,
        directory_prefix: str = "",
        limit: int = 100,
        *,
        user_id: str | None = None,
    ) -> ArtifactList:
        """Artifacts of a session whose filename starts with *directory_prefix*."""
        params = _params(
            view="directory",
            session_id=session_id,
            prefix=directory_prefix,
            limit=check_limit(limit),
            user_id=user_id,
        )
        return self._list(await self._request("GET", "/v1/artifacts", params=params))

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
        sha256: str | None = None,
        filename_glob: str | None = None,
        order: str = "stored_at",
        collection: str | None = None,
    ) -> ArtifactList:
        """Find live artifacts by owner, scope, MIME prefix, digest, filename glob, collection
        and custom metadata, in *order*."""
        params = search_query(
            user_id=user_id,
            scope=scope,
            mime_prefix=mime_prefix,
            meta_filter=_meta("meta_filter", meta_filter),
            limit=check_limit(limit),
            session_id=session_id,
            cursor=cursor,
            sha256=sha256,
            filename_glob=filename_glob,
            order=order,
            collection=collection,
        )
        return self._list(await self._request("GET", "/v1/artifacts", params=params))
