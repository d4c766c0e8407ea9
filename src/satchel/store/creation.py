"""Creating artifacts: validate a request, allocate its session, stream its bytes, commit.

Every way an artifact comes to exist (store, stream_upload, batch, copy, the end of a presigned,
multipart or tus upload) goes through :class:`ArtifactCreator`, so they share one validation,
one access decision and one commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any

from satchel.catalog import CatalogWriter
from satchel.core.access import Caller, check_write_scope
from satchel.core.digests import make_etag
from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.events import Audience
from satchel.core.grid import build_grid_key
from satchel.core.ids import new_artifact_id
from satchel.core.mime import guess_mime
from satchel.core.models import RETAINED_FOREVER, ArtifactRecord, BlobInfo, SessionRecord
from satchel.core.retention import class_named
from satchel.core.routing import retention_class_of
from satchel.core.scopes import Scope, parse_scope
from satchel.core.unset import UNSET
from satchel.core.validation import (
    check_filename,
    check_meta,
    check_mime,
    check_summary,
    check_ttl,
)
from satchel.store.context import StoreContext
from satchel.store.gate import AccessGate
from satchel.store.ledger import BlobLedger

__all__ = ["ArtifactCreator", "NewArtifact"]


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


class ArtifactCreator:
    def __init__(self, context: StoreContext, gate: AccessGate, ledger: BlobLedger) -> None:
        self.context = context
        self.gate = gate
        self.ledger = ledger

    def spec(
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
        """Validate creation arguments. A left-out ``ttl`` (UNSET) becomes the scope's default;
        a missing ``mime`` is guessed from the filename."""
        parsed_scope = parse_scope(scope)
        if ttl is UNSET:
            ttl = self.context.settings.default_ttl if parsed_scope is Scope.SESSION else None
        name = None if filename is None else check_filename(filename)
        checked_meta = check_meta(meta, max_bytes=self.context.settings.max_meta_bytes)
        if "retention_class" in checked_meta:  # a reserved key: it must name a class
            class_named(self.context.retention_classes, checked_meta["retention_class"])
        return NewArtifact(
            scope=parsed_scope,
            mime=guess_mime(name) if mime is None else check_mime(mime),
            summary=check_summary(summary),
            meta=checked_meta,
            filename=name,
            ttl=check_ttl(ttl),
            user_id=user_id,
            session_id=session_id,
        )

    def _retention(self, meta: dict[str, Any], now: float) -> dict[str, Any]:
        """The retention class (``meta["retention_class"]``) of a new artifact and when its
        retention ends."""
        name = retention_class_of(meta)
        if name is None:
            return {}
        retention = class_named(self.context.retention_classes, name)
        end = retention.retain_until(now)
        return {
            "retention_class": name,
            "retain_until": RETAINED_FOREVER if end is None else end,
        }

    async def prepare_owner(self, spec: NewArtifact) -> tuple[Caller, str | None]:
        """The caller and the owner of the artifact *spec* describes, once the caller may
        create it."""
        caller = await self.gate.caller(spec.user_id, spec.session_id)
        if spec.scope is Scope.USER and caller.user_id is None:
            raise InvalidRequestError("user_id is required for user-scoped artifacts")
        if caller.user_id is None and caller.session_owner is not None:
            # The application does not store into a user's session by its id alone: a session
            # a user made first (squatting an id the application meant to use) stays the
            # user's. To store for that user, name them.
            raise AccessDeniedError(
                f"session {spec.session_id} belongs to user {caller.session_owner}; "
                "name that user to store into it"
            )
        owner = caller.user_id
        check_write_scope(spec.scope, caller, owner)
        return caller, owner

    async def create(
        self,
        spec: NewArtifact,
        chunks: AsyncIterable[bytes],
        *,
        event_type: str = "v1.artifact.stored",
    ) -> ArtifactRecord:
        """Store *chunks* as a new artifact described by *spec* and return its record."""
        caller, owner = await self.prepare_owner(spec)
        session = await self.gate.resolve_session(caller, spec.session_id)
        backend = self.ledger.route(spec.meta, owner, session.session_id)
        info = await self.ledger.put(chunks, backend=backend)
        try:
            return await self.commit(spec, caller, owner, session, info, event_type, backend)
        except BaseException:
            await self.ledger.discard(info, backend)
            raise

    async def commit(
        self,
        spec: NewArtifact,
        caller: Caller,
        owner: str | None,
        session: SessionRecord,
        info: BlobInfo,
        event_type: str,
        backend: str,
        extra_payload: dict[str, Any] | None = None,
        *,
        artifact_id: str | None = None,
        in_transaction: Callable[[CatalogWriter], Awaitable[None]] | None = None,
    ) -> ArtifactRecord:
        """Insert the artifact row (with its session and blob reference) in one transaction.

        *artifact_id* is a reserved id (an upload's); *in_transaction* runs inside the same
        transaction (an upload marking itself completed), so both happen or neither. *info*'s
        bytes are stored in *backend*.
        """
        context = self.context
        now = context.now()
        session_id = session.session_id
        artifact_id = artifact_id or new_artifact_id()
        record = ArtifactRecord(
            artifact_id=artifact_id,
            sandbox_id=context.sandbox_id,
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
                sandbox_id=context.sandbox_id,
                scope=spec.scope,
                session_id=session_id,
                owner_id=owner,
                artifact_id=artifact_id,
            ),
            stored_at=now,
            updated_at=now,
            expires_at=None if spec.ttl is None else now + spec.ttl,
            ttl=spec.ttl,
            storage_provider=backend,
            **self._retention(spec.meta, now),
        )
        async with context.catalog.write() as writer:
            session = await self.gate.persist_session(writer, session, caller)
            await self.ledger.reference(writer, info, now, backend)
            row = await writer.insert_artifact(record)
            if in_transaction is not None:
                await in_transaction(writer)
            await writer.append_event(
                type=event_type,
                subject=artifact_id,
                payload={"record": row, **(extra_payload or {})},
                actor=caller.user_id,
                time=now,
                audience=Audience.of(record),
            )
        await context.sessions.put(session)
        return record
