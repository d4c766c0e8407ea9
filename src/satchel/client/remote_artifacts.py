"""Remote artifact operations: upload, metadata, update, delete, copy, move, batch."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterable
from typing import Any

from satchel.client.transport import (
    _BATCH_KEYS,
    RemoteBase,
    _checked_body,
    _checked_meta,
    _etag_header,
    _json_body,
    _meta,
    _params,
    _path,
    _ttl,
)
from satchel.core.bulk import DeleteResult, check_delete_ids
from satchel.core.errors import InvalidRequestError
from satchel.core.models import ArtifactMetadata
from satchel.core.requests import StreamUploadRequest
from satchel.core.scopes import Scope, parse_scope
from satchel.core.unset import UNSET, Unset
from satchel.core.validation import check_filename, check_mime, check_summary, check_ttl

__all__ = ["RemoteArtifactsMixin"]


class RemoteArtifactsMixin(RemoteBase):
    # -- artifacts ---------------------------------------------------------------------------

    async def stream_upload(self, request: StreamUploadRequest) -> str:
        """Upload ``request.data_stream`` as the request body, chunk by chunk (constant memory).

        Nothing is stored if the stream fails or disagrees with ``content_length``: the body is
        then cut off before its end, and the server discards it.
        """
        if not isinstance(request, StreamUploadRequest):
            raise InvalidRequestError("stream_upload takes a StreamUploadRequest")
        total = request.content_length
        if total is not None and total < 0:
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

    async def metadata(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> ArtifactMetadata:
        """Return an artifact's metadata."""
        response = await self._request(
            "GET",
            _path("/v1/artifacts/{artifact_id}", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
        )
        return self._metadata(response)

    async def update_file_stream(
        self,
        artifact_id: str,
        chunks: AsyncIterable[bytes],
        *,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        summary: str | None = None,
        mime: str | None = None,
        ttl: int | Unset | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Replace an artifact's content from an async byte stream (sent as it is read, in one
        ``PUT …/content`` whose query carries the metadata changes of the same version)."""
        problem: list[BaseException] = []
        try:
            return await self._put_content(
                artifact_id,
                _checked_body(chunks, None, None, problem),
                meta=meta,
                filename=filename,
                summary=summary,
                mime=mime,
                ttl=ttl,
                user_id=user_id,
                session_id=session_id,
                if_match=if_match,
            )
        except BaseException as exc:
            if problem and problem[0] is not exc:
                raise problem[0] from None
            raise

    async def _put_content(
        self,
        artifact_id: str,
        content: Any,
        *,
        meta: dict[str, Any] | None,
        filename: str | None,
        summary: str | None,
        mime: str | None,
        ttl: Any,
        user_id: str | None,
        session_id: str | None,
        if_match: str | None,
    ) -> ArtifactMetadata:
        for check, value in (
            (check_filename, filename),
            (check_summary, summary),
            (check_mime, mime),
        ):
            if value is not None:
                check(value)
        params = _params(
            meta=_meta("meta", meta),
            filename=filename,
            summary=summary,
            mime=mime,
            ttl=_ttl(ttl),
            user_id=user_id,
            session_id=session_id,
        )
        response = await self._request(
            "PUT",
            _path("/v1/artifacts/{artifact_id}/content", artifact_id=artifact_id),
            params=params,
            content=content,
            headers=_etag_header(if_match),
        )
        return self._metadata(response)

    async def extend_ttl(
        self,
        artifact_id: str,
        additional_seconds: int,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        """Push an expiring artifact's expiry *additional_seconds* further out."""
        response = await self._request(
            "POST",
            _path("/v1/artifacts/{artifact_id}/extend-ttl", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            json_body={"additional_seconds": additional_seconds},
        )
        return self._metadata(response)

    async def update_metadata(
        self,
        artifact_id: str,
        *,
        summary: str | None = None,
        meta: dict[str, Any] | None = None,
        merge: bool = True,
        filename: str | None = None,
        mime: str | None = None,
        ttl: int | Unset | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
        **unknown: Any,
    ) -> ArtifactMetadata:
        """Change metadata without touching content; ``merge=True`` merges ``meta`` key by key."""
        if unknown:
            raise InvalidRequestError(f"unknown metadata fields: {', '.join(sorted(unknown))}")
        body = _json_body(summary=summary, meta=_checked_meta(meta), filename=filename, mime=mime)
        if ttl is not UNSET:
            body["ttl"] = check_ttl(ttl)
        if not body:
            raise InvalidRequestError("update_metadata needs at least one field to change")
        body["merge"] = merge
        response = await self._request(
            "PATCH",
            _path("/v1/artifacts/{artifact_id}", artifact_id=artifact_id),
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
            _path("/v1/artifacts/{artifact_id}", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            headers=_etag_header(if_match),
        )
        return True

    async def delete_many(
        self,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> list[DeleteResult]:
        """Delete several artifacts in one request (``POST /v1/batch/delete``), each as
        :meth:`delete` would; a result per distinct id, in order."""
        wanted = check_delete_ids(artifact_ids)  # refused here as the service would
        response = await self._request(
            "POST",
            "/v1/batch/delete",
            params=_params(user_id=user_id, session_id=session_id),
            json_body={"ids": wanted},
        )
        return [DeleteResult.from_dict(item) for item in response.json()["results"]]

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
            _path("/v1/artifacts/{artifact_id}/copy", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            json_body=_json_body(
                new_filename=new_filename,
                target_session_id=target_session_id,
                new_meta=_checked_meta(new_meta),
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
            _path("/v1/artifacts/{artifact_id}/move", artifact_id=artifact_id),
            params=_params(user_id=user_id, session_id=session_id),
            json_body=_json_body(
                new_filename=new_filename,
                new_session_id=new_session_id,
                new_meta=_checked_meta(new_meta),
            ),
            headers=_etag_header(if_match),
        )
        return self._metadata(response)

    # -- batch -------------------------------------------------------------------------------

    async def store_batch(
        self,
        items: list[dict[str, Any]],
        session_id: str | None = None,
        ttl: int | Unset | None = UNSET,
        *,
        user_id: str | None = None,
        scope: Scope | str = Scope.SESSION,
    ) -> list[str]:
        """Store every item (dicts with data, mime, summary, meta, filename) in one session.

        One request (``POST /v1/batch``): the service validates every item before it writes
        anything, and the batch leaves all of its artifacts or none.
        """
        if not isinstance(items, list) or not items:
            raise InvalidRequestError("store_batch needs a non-empty list of items")
        encoded = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or set(item) - _BATCH_KEYS:
                raise InvalidRequestError(f"batch item {index} must be a dict of {_BATCH_KEYS}")
            data = item.get("data")
            if not isinstance(data, bytes | bytearray | memoryview):
                raise InvalidRequestError(f"batch item {index}: data must be bytes")
            encoded.append({**item, "data": base64.b64encode(bytes(data)).decode()})
        body: dict[str, Any] = {"items": encoded, "scope": parse_scope(scope).value}
        if ttl is not UNSET:
            body["ttl"] = check_ttl(ttl)
        response = await self._request(
            "POST",
            "/v1/batch",
            params=_params(user_id=user_id, session_id=session_id),
            json_body=body,
        )
        stored: list[str] = response.json()["artifact_ids"]
        return stored
