"""Creating artifacts: validate a request, allocate its session, stream its bytes, commit."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any

from satchel.catalog import CatalogWriter
from satchel.catalog.rows import artifact_values
from satchel.core.access import Caller, check_write_scope
from satchel.core.digests import make_etag
from satchel.core.errors import InvalidRequestError
from satchel.core.grid import build_grid_key
from satchel.core.ids import new_artifact_id
from satchel.core.models import ArtifactRecord, BlobInfo, SessionRecord
from satchel.core.scopes import Scope, parse_scope
from satchel.core.validation import (
    check_filename,
    check_meta,
    check_mime,
    check_summary,
    check_ttl,
)
from satchel.store.base import UNSET, StoreBase

__all__ = ["CreatingMixin", "NewArtifact"]


@dataclasses.dataclass(frozen=True, slots=True)
class NewArtifact:
    """A validated request to create one artifact (everything but its bytes)."""

    scope: Scope
    mime: str
    summary: str
    meta: dict[str, Any]
    filename: str | None
    ttl: int | None
    user_id: str | None
    session_id: str | None


class CreatingMixin(StoreBase):
    def _new_artifact(
        self,
        *,
        mime: Any,
        summary: Any,
        meta: Any,
        filename: Any,
        ttl: Any,
        scope: Any,
        user_id: str | None,
        session_id: str | None,
    ) -> NewArtifact:
        """Validate creation arguments; a left-out ``ttl`` becomes the scope's default."""
        parsed_scope = parse_scope(scope)
        if ttl is UNSET:
            ttl = self.settings.default_ttl if parsed_scope is Scope.SESSION else None
        return NewArtifact(
            scope=parsed_scope,
            mime=check_mime(mime),
            summary=check_summary(summary),
            meta=check_meta(meta, max_bytes=self.settings.max_meta_bytes),
            filename=None if filename is None else check_filename(filename),
            ttl=check_ttl(ttl),
            user_id=user_id,
            session_id=session_id,
        )

    async def _prepare_owner(self, spec: NewArtifact) -> tuple[Caller, str | None]:
        caller = await self._caller(spec.user_id, spec.session_id)
        # Session-scoped artifacts are attributed to the session's owner when no user is named.
        owner = caller.user_id
        if owner is None and spec.scope is Scope.SESSION:
            owner = caller.session_owner
        if spec.scope is Scope.USER and owner is None:
            raise InvalidRequestError("user_id is required for user-scoped artifacts")
        check_write_scope(spec.scope, caller, owner)
        return caller, owner

    async def _create(
        self,
        spec: NewArtifact,
        chunks: AsyncIterable[bytes],
        *,
        event_type: str = "artifact.stored",
    ) -> ArtifactRecord:
        """Store *chunks* as a new artifact described by *spec* and return its record."""
        caller, owner = await self._prepare_owner(spec)
        session = await self._resolve_session(caller, spec.session_id)
        backend = self._route(spec.meta, owner, session.session_id)
        info = await self._put_blob(chunks, backend=backend)
        try:
            return await self._commit_new(
                spec, caller, owner, session, info, event_type, backend=backend
            )
        except BaseException:
            await self._discard(info, backend)
            raise

    async def _commit_new(
        self,
        spec: NewArtifact,
        caller: Caller,
        owner: str | None,
        session: SessionRecord,
        info: BlobInfo,
        event_type: str,
        extra_payload: dict[str, Any] | None = None,
        *,
        artifact_id: str | None = None,
        in_transaction: Callable[[CatalogWriter], Awaitable[None]] | None = None,
        backend: str | None = None,
    ) -> ArtifactRecord:
        """Insert the artifact row (with its session and blob reference) in one transaction.

        *artifact_id* is a reserved id (an upload's); *in_transaction* runs inside the same
        transaction (an upload marking itself completed), so both happen or neither. *backend*
        is where *info*'s bytes are stored (None: the default backend).
        """
        now = self._now()
        session_id = session.session_id
        artifact_id = artifact_id or new_artifact_id()
        record = ArtifactRecord(
            artifact_id=artifact_id,
            sandbox_id=self.sandbox_id,
            scope=spec.scope,
            session_id=session_id,
            owner_id=owner,
            filename=spec.filename,
            mime=spec.mime,
            summary=spec.summary,
            meta=spec.meta,
            bytes=info.size,
            sha256=info.digest,
            etag=make_etag(artifact_id, 1, info.digest),
            version=1,
            key=build_grid_key(
                sandbox_id=self.sandbox_id,
                scope=spec.scope,
                session_id=session_id,
                owner_id=owner,
                artifact_id=artifact_id,
            ),
            stored_at=now,
            updated_at=now,
            expires_at=None if spec.ttl is None else now + spec.ttl,
            ttl=spec.ttl,
            storage_provider=backend or self.storage_provider,
        )
        async with self.catalog.write() as writer:
            session = await self._persist_session(writer, session, caller)
            await self._reference(writer, info, now, record.storage_provider)
            await writer.insert_artifact(record)
            if in_transaction is not None:
                await in_transaction(writer)
            payload = {"record": artifact_values(record), **(extra_payload or {})}
            await writer.append_event(
                type=event_type,
                subject=artifact_id,
                payload=payload,
                actor=caller.user_id,
                time=now,
            )
        await self.sessions.put(session)
        return record
