"""Remote artifact operations: store, read, update, delete, copy, move, batch."""

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
from satchel.core.errors import (
    ArtifactExpiredError,
    ArtifactNotFoundError,
    InvalidRequestError,
)
from satchel.core.models import ArtifactMetadata
from satchel.core.scopes import Scope, parse_scope
from satchel.core.validation import (
    check_filename,
    check_mime,
    check_summary,
    check_ttl,
    decode_text,
)
from satchel.store.base import UNSET

__all__ = ["RemoteArtifactsMixin"]


class RemoteArtifactsMixin(RemoteBase):
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
            _path("/v1/artifacts/{artifact_id}/content", artifact_id=artifact_id),
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
        return decode_text(data, encoding, artifact_id) if as_text else data

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

        One request: the content and the metadata change land in the same new version.
        """
        if data is None:
            changes = _json_body(
                meta=_checked_meta(meta), filename=filename, summary=summary, mime=mime
            )
            if ttl is not UNSET:
                changes["ttl"] = check_ttl(ttl)
            if not changes:
                raise InvalidRequestError("update_file needs data or at least one field to change")
            changes["merge"] = False
            response = await self._request(
                "PATCH",
                _path("/v1/artifacts/{artifact_id}", artifact_id=artifact_id),
                params=_params(user_id=user_id, session_id=session_id),
                json_body=changes,
                headers=_etag_header(if_match),
            )
            return self._metadata(response)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidRequestError(f"data must be bytes, not {type(data).__name__}")
        return await self._put_content(
            artifact_id,
            bytes(data),
            meta=meta,
            filename=filename,
            summary=summary,
            mime=mime,
            ttl=ttl,
            user_id=user_id,
            session_id=session_id,
            if_match=if_match,
        )

    async def update_file_stream(
        self,
        artifact_id: str,
        chunks: AsyncIterable[bytes],
        *,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        summary: str | None = None,
        mime: str | None = None,
        ttl: int | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Replace an artifact's content from an async byte stream (sent as it is read)."""
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
        ttl: int | None = UNSET,
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
        ttl: int | None = UNSET,
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
