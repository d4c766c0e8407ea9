"""The contract of artifact operations: create, read, update, delete, copy, move."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, Protocol

from satchel.core.api._derived import derived
from satchel.core.bulk import DeleteResult
from satchel.core.errors import ArtifactExpiredError, ArtifactNotFoundError, InvalidRequestError
from satchel.core.models import ArtifactMetadata
from satchel.core.requests import StreamDownloadRequest, StreamUploadRequest, build_request
from satchel.core.scopes import Scope
from satchel.core.streams import DEFAULT_CHUNK_SIZE, iter_bytes
from satchel.core.unset import UNSET, Unset
from satchel.core.validation import check_data, check_summary, check_ttl, decode_text

__all__ = ["ArtifactsAPI"]


class ArtifactsAPI(Protocol):
    async def stream_upload(self, request: StreamUploadRequest) -> str:
        """Store an artifact from ``request.data_stream`` in constant memory; return its id.

        Nothing is stored if the stream fails or disagrees with ``content_length``. An empty
        stream stores a zero-byte artifact. A ``mime`` left out is guessed from the filename.

        Raises:
            InvalidRequestError, TooLargeError, AccessDeniedError, ProviderError.
        """

    def stream_download(self, request: StreamDownloadRequest) -> AsyncIterator[bytes]:
        """Yield an artifact's bytes in ``request.chunk_size`` pieces, reporting progress.

        Raises (on first iteration):
            ArtifactNotFoundError, ArtifactExpiredError, AccessDeniedError, ProviderError.
        """

    async def metadata(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> ArtifactMetadata:
        """An artifact's metadata (size, sha256, etag, grid key, expiry, …)."""

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
        """Replace an artifact's content from an async byte stream, in constant memory.

        Metadata fields given change in the same new version (``meta`` replaces the custom
        metadata). With ``if_match`` a stale etag raises PreconditionFailedError and nothing
        changes; so does a stream that fails.
        """

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
        """Change metadata without touching content; ``merge=True`` merges ``meta`` key by key.

        Concurrent merges never lose an update; ``if_match`` makes the change conditional.
        ``ttl`` left out keeps the expiry; ``ttl=None`` makes the artifact never expire.
        """

    async def extend_ttl(
        self,
        artifact_id: str,
        additional_seconds: int,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> ArtifactMetadata:
        """Push an expiring artifact's expiry *additional_seconds* further out."""

    async def delete(
        self,
        artifact_id: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> bool:
        """Delete an artifact the caller may write (ArtifactNotFoundError if there is none);
        its bytes are reclaimed when nothing refers to them."""

    async def delete_many(
        self,
        artifact_ids: list[str],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> list[DeleteResult]:
        """Delete several artifacts, each exactly as :meth:`delete` would (access, legal holds,
        retention, events); one item's failure never stops the others.

        Returns one :class:`~satchel.core.bulk.DeleteResult` per distinct id, in the order
        given (a repeated id is deleted and reported once, at its first position): ``deleted``,
        ``not_found``, ``denied``, ``held`` or ``error``, with the code and message of the error
        ``delete`` would have raised. Over HTTP it is one request.

        Raises:
            InvalidRequestError: *artifact_ids* is not a list of valid ids (nothing deleted).
            TooLargeError: more than 1000 ids (nothing deleted).
            AccessDeniedError, ArtifactExpiredError: the caller's session is not theirs or has
                expired, as for ``delete``.
        """

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
        """Copy an artifact within its own session (the bytes are shared); return the copy's id.

        Raises:
            AccessDeniedError: *target_session_id* names another session, or the caller may
                not read the source and write into its session.
        """

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

    async def store_batch(
        self,
        items: list[dict[str, Any]],
        session_id: str | None = None,
        ttl: int | Unset | None = UNSET,
        *,
        user_id: str | None = None,
        scope: Scope | str = Scope.SESSION,
    ) -> list[str]:
        """Store every item (dicts with data, mime, summary, meta, filename, ttl, scope) in one
        session. Every item is validated first; the batch leaves all its artifacts or none."""

    # -- derived: written once, in terms of the methods above ---------------------------------

    @derived
    async def store(
        self,
        data: bytes,
        *,
        mime: str | None = None,
        summary: str = "",
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl: int | Unset | None = UNSET,
        scope: Scope | str = Scope.SESSION,
    ) -> str:
        """Store *data* as a new artifact and return its id.

        Args:
            data: the content (bytes; empty is a zero-byte artifact).
            mime: its media type (left out: guessed from *filename*, else
                ``application/octet-stream``). summary, meta, filename: descriptive metadata.
            session_id: the session to store into (created if new); user_id: the acting user,
                owner of user-scoped artifacts and of auto-created sessions.
            ttl: seconds to live; left out, session scope gets the default (900 s) and user and
                sandbox scopes never expire; ``None`` means no expiry.
            scope: ``session`` (default), ``user`` or ``sandbox`` (admin/application only).

        Raises:
            InvalidRequestError, TooLargeError, AccessDeniedError, ProviderError.
        """
        payload = check_data(data)
        fields: dict[str, Any] = {}
        if ttl is not UNSET:
            fields["ttl"] = check_ttl(ttl)
        request = build_request(
            StreamUploadRequest,
            data_stream=iter_bytes(payload),
            mime=mime,
            summary=check_summary(summary),
            meta=meta,
            filename=filename,
            session_id=session_id,
            user_id=user_id,
            scope=scope,
            content_length=len(payload),
            **fields,
        )
        return await self.stream_upload(request)

    @derived
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
        ttl: int | Unset | None = UNSET,
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

    @derived
    async def retrieve(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bytes:
        """The whole content of an artifact the caller may read.

        Raises:
            ArtifactNotFoundError, ArtifactExpiredError, AccessDeniedError, ProviderError.
        """
        request = build_request(
            StreamDownloadRequest,
            artifact_id=artifact_id,
            user_id=user_id,
            session_id=session_id,
            chunk_size=DEFAULT_CHUNK_SIZE,
        )
        return b"".join([chunk async for chunk in self.stream_download(request)])

    @derived
    async def read_file(
        self,
        artifact_id: str,
        *,
        encoding: str = "utf-8",
        as_text: bool = False,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str | bytes:
        """An artifact's content as bytes, or decoded text with ``as_text=True``."""
        data = await self.retrieve(artifact_id, user_id=user_id, session_id=session_id)
        return decode_text(data, encoding, artifact_id) if as_text else data

    @derived
    async def exists(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bool:
        """True when the artifact exists and has not expired (AccessDeniedError if not yours)."""
        try:
            await self.metadata(artifact_id, user_id=user_id, session_id=session_id)
        except (ArtifactNotFoundError, ArtifactExpiredError):
            return False
        return True

    @derived
    async def update_file(
        self,
        artifact_id: str,
        *,
        data: bytes | None = None,
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        summary: str | None = None,
        mime: str | None = None,
        ttl: int | Unset | None = UNSET,
        user_id: str | None = None,
        session_id: str | None = None,
        if_match: str | None = None,
    ) -> ArtifactMetadata:
        """Replace an artifact's content and/or metadata; a new version (and etag) results.

        ``meta`` replaces the custom metadata (use update_metadata to merge). With ``if_match``,
        a stale etag raises PreconditionFailedError and changes nothing.
        """
        if data is None:
            given = (meta, filename, summary, mime)
            if all(value is None for value in given) and ttl is UNSET:
                raise InvalidRequestError("update_file needs data or at least one field to change")
            return await self.update_metadata(
                artifact_id,
                summary=summary,
                meta=meta,
                merge=False,
                filename=filename,
                mime=mime,
                ttl=ttl,
                user_id=user_id,
                session_id=session_id,
                if_match=if_match,
            )
        return await self.update_file_stream(
            artifact_id,
            iter_bytes(check_data(data)),
            meta=meta,
            filename=filename,
            summary=summary,
            mime=mime,
            ttl=ttl,
            user_id=user_id,
            session_id=session_id,
            if_match=if_match,
        )
