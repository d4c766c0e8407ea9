"""File-like operations: copy, move/rename, write_file. Never across a session boundary."""

from __future__ import annotations

from typing import Any

from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.models import ArtifactMetadata, BlobInfo
from satchel.core.scopes import Scope, iso_utc
from satchel.core.validation import check_meta, check_optional_id
from satchel.store.artifacts import ArtifactsMixin
from satchel.store.base import UNSET

__all__ = ["FilesMixin"]


class FilesMixin(ArtifactsMixin):
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
        """Copy an artifact within its own session (the bytes are shared, not duplicated, unless
        the routing rules send the copy to another backend: then they are copied there).

        Raises:
            AccessDeniedError: *target_session_id* names another session, or the caller may not
                read the source and write into its session.
        """
        check_optional_id("target_session_id", target_session_id)
        caller = await self._caller(user_id, session_id)
        source = await self._load(artifact_id, caller, write=True)
        if target_session_id is not None and target_session_id != source.session_id:
            raise AccessDeniedError(
                f"cross-session copies are not permitted: artifact {artifact_id} belongs to "
                f"session {source.session_id}, not {target_session_id}"
            )
        meta = {**source.meta, **check_meta(new_meta, max_bytes=self.settings.max_meta_bytes)}
        meta["copied_from"] = artifact_id
        meta["copy_timestamp"] = iso_utc(self._now())
        ttl = source.ttl if source.expires_at is not None else None
        spec = self._new_artifact(
            mime=source.mime,
            summary=summary if summary is not None else f"Copy of {source.summary}",
            meta=meta,
            filename=new_filename or f"{source.filename or 'file'}_copy",
            ttl=ttl,
            scope=source.scope,
            user_id=user_id,
            session_id=source.session_id,
        )
        session = await self._session_record(source.session_id) or await self._resolve_session(
            caller, source.session_id
        )
        backend = self._route(spec.meta, source.owner_id, source.session_id)
        info = BlobInfo(digest=source.sha256, size=source.bytes)
        copied = backend != source.storage_provider
        if copied:  # routed elsewhere: the bytes go there too
            chunks = self.blobs_for(source).open_range(source.sha256)
            info = await self._put_blob(chunks, backend=backend)
        try:
            record = await self._commit_new(
                spec,
                caller,
                source.owner_id,
                session,
                info,
                "artifact.copied",
                extra_payload={"copied_from": artifact_id},
                backend=backend,
            )
        except BaseException:
            if copied:
                await self._discard(info, backend)
            raise
        return record.artifact_id

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
        """Rename an artifact (and merge *new_meta*) within its session; the change persists."""
        check_optional_id("new_session_id", new_session_id)
        caller = await self._caller(user_id, session_id)
        current = await self._load(artifact_id, caller, write=True)
        if new_session_id is not None and new_session_id != current.session_id:
            raise AccessDeniedError(
                f"cross-session moves are not permitted: artifact {artifact_id} belongs to "
                f"session {current.session_id}, not {new_session_id}"
            )
        changes = self._changes(
            meta=new_meta, filename=new_filename, summary=None, mime=None, ttl=UNSET
        )
        if not changes:
            return self._to_metadata(current)
        record = await self._apply(
            artifact_id, caller, if_match, "artifact.moved", changes, merge=True
        )
        return self._to_metadata(record)

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
