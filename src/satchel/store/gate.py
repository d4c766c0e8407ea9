"""The access gate: who a call acts as, which session it works in, and which records it may
use. Every operation on an existing artifact loads it through :meth:`AccessGate.load`, so the
rules of :mod:`satchel.core.access` are applied in one place."""

from __future__ import annotations

from satchel.catalog import CatalogWriter
from satchel.core.access import ANONYMOUS_USER, Caller, check_read, check_write
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    PreconditionFailedError,
    QuotaExceededError,
    RetainedError,
    SessionError,
)
from satchel.core.events import Audience
from satchel.core.ids import new_session_id
from satchel.core.models import ArtifactRecord, SessionRecord
from satchel.core.ranges import if_match_allows
from satchel.core.scopes import iso_utc
from satchel.core.validation import check_id, check_optional_id
from satchel.store.context import StoreContext

__all__ = ["AccessGate"]


class AccessGate:
    def __init__(self, context: StoreContext) -> None:
        self.context = context

    # -- callers and sessions ------------------------------------------------------------------

    async def caller(self, user_id: str | None, session_id: str | None) -> Caller:
        """Who a call that names *user_id* / *session_id* acts as (validated; opens the store).

        Raises AccessDeniedError when the session belongs to another user and
        ArtifactExpiredError when it has expired.
        """
        await self.context.ensure_open()
        check_optional_id("user_id", user_id)
        check_optional_id("session_id", session_id)
        owner = None
        if session_id is not None:
            record = await self.session_record(session_id)
            if record is not None and record.is_expired(self.context.now()):
                raise ArtifactExpiredError(f"session {session_id} has expired")
            owner = record.user_id if record is not None else None
            if user_id is not None and record is not None and owner != user_id:
                whose = "the application" if owner is None else "another user"
                raise AccessDeniedError(f"session {session_id} belongs to {whose}")
        public_only = user_id == ANONYMOUS_USER and not self.context.settings.anon_read
        return Caller(
            user_id=user_id, session_id=session_id, session_owner=owner, public_only=public_only
        )

    async def session_record(self, session_id: str) -> SessionRecord | None:
        """The session of this sandbox called *session_id* (cached), or None."""
        context = self.context
        cached = await context.sessions.get(session_id)
        if cached is not None:
            return cached
        async with context.catalog.read() as reader:
            record = await reader.get_session(session_id)
        if record is None or record.sandbox_id != context.sandbox_id:
            return None
        if not record.is_expired(context.now()):
            await context.sessions.put(record)
        return record

    async def resolve_session(
        self, caller: Caller, session_id: str | None, *, ttl_hours: float | None = None
    ) -> SessionRecord:
        """The session a new artifact goes into: the named one or a new one (not yet written).

        A new session is persisted by :meth:`persist_session` in the same transaction as the
        artifact that needs it, so a failed upload leaves no empty session behind.
        """
        now = self.context.now()
        if session_id is not None:
            existing = await self.session_record(session_id)
            if existing is not None:
                if existing.is_expired(now):
                    raise ArtifactExpiredError(f"session {session_id} has expired")
                return existing
        hours = ttl_hours or self.context.settings.session_ttl_hours
        return SessionRecord(
            session_id=session_id or new_session_id(caller.user_id),
            sandbox_id=self.context.sandbox_id,
            user_id=caller.user_id,
            created_at=now,
            expires_at=now + hours * 3600,
        )

    async def persist_session(
        self,
        writer: CatalogWriter,
        record: SessionRecord,
        caller: Caller,
        *,
        counted: bool = False,
    ) -> SessionRecord:
        """Insert *record* if it is new (with its event); return the stored session.

        A *counted* session (one created empty, by ``create_session``) is refused past the
        user's ``max_sessions_per_user``; a session made for the artifact or upload it carries
        is bounded by what it carries.

        Raises AccessDeniedError when the session turns out to belong to another user (it was
        created concurrently by someone else).
        """
        if await writer.insert_session(record):
            if counted and record.user_id is not None:  # over the limit, all rolls back
                await self._check_session_quota(writer, record.user_id)
            await writer.append_event(
                type="v1.session.created",
                subject=record.session_id,
                payload={"user_id": record.user_id, "expires_at": record.expires_at},
                actor=caller.user_id,
                time=record.created_at,
                audience=Audience(record.sandbox_id, "session", record.user_id, record.session_id),
            )
        elif await self.context.sessions.get(record.session_id) != record:
            # Not the session this store already knows: someone else created it meanwhile.
            stored = await writer.get_session(record.session_id)
            if stored is None or stored.sandbox_id != self.context.sandbox_id:
                raise SessionError(f"session {record.session_id} cannot be used in this sandbox")
            if stored.user_id != record.user_id:
                raise AccessDeniedError(f"session {record.session_id} was taken meanwhile")
            record = stored
        if caller.user_id is not None and record.user_id != caller.user_id:
            raise AccessDeniedError(f"session {record.session_id} belongs to someone else")
        return record

    async def _check_session_quota(self, writer: CatalogWriter, user_id: str) -> None:
        context = self.context
        limit = context.settings.max_sessions_per_user
        live = await writer.count_live_sessions(user_id, context.sandbox_id, context.now())
        if live > limit:
            raise QuotaExceededError(
                f"user {user_id} already holds {limit} live sessions (the limit); "
                "reuse one or let some expire"
            )

    async def allocate_session(
        self,
        caller: Caller,
        session_id: str | None,
        *,
        ttl_hours: float | None = None,
        counted: bool = False,
    ) -> SessionRecord:
        """Resolve and persist a session in a transaction of its own."""
        record = await self.resolve_session(caller, session_id, ttl_hours=ttl_hours)
        async with self.context.catalog.write() as writer:
            record = await self.persist_session(writer, record, caller, counted=counted)
        await self.context.sessions.put(record)
        return record

    # -- records ---------------------------------------------------------------------------------

    def usable(
        self,
        record: ArtifactRecord | None,
        artifact_id: str,
        caller: Caller,
        *,
        write: bool,
        allow_expired: bool = False,
    ) -> ArtifactRecord:
        """The record if it exists, *caller* may use it and it is live; else the right error.

        Access is checked before expiry, so a stranger cannot tell an expired artifact apart
        from a live one.
        """
        if record is None:
            raise ArtifactNotFoundError(f"artifact {artifact_id} not found")
        (check_write if write else check_read)(record, caller)
        if not allow_expired and record.is_expired(self.context.now()):
            raise ArtifactExpiredError(f"artifact {artifact_id} has expired")
        return record

    async def load(
        self, artifact_id: str, caller: Caller, *, write: bool = False
    ) -> ArtifactRecord:
        """A live artifact the caller may read (or write); raise the matching error."""
        check_id("artifact_id", artifact_id)
        record = await self.context.catalog.get_artifact(artifact_id, self.context.sandbox_id)
        return self.usable(record, artifact_id, caller, write=write)

    async def guard_removal(
        self, writer: CatalogWriter, record: ArtifactRecord, *, what: str
    ) -> None:
        """Inside the transaction that would delete, replace or rename *record*: raise
        RetainedError while a legal hold or unexpired retention keeps it."""
        holds = await writer.packages.holds("artifact", record.artifact_id, active_only=True)
        if holds:
            names = ", ".join(sorted(hold.name for hold in holds))
            raise RetainedError(
                f"artifact {record.artifact_id} is under a legal hold ({names}): no {what}"
            )
        if record.is_retained(self.context.now()):
            assert record.retain_until is not None
            until = iso_utc(record.retain_until)
            raise RetainedError(
                f"artifact {record.artifact_id} is retained until {until}: no {what}"
            )

    async def load_for_update(
        self,
        writer: CatalogWriter,
        artifact_id: str,
        caller: Caller,
        if_match: str | None,
        *,
        allow_expired: bool = False,
    ) -> ArtifactRecord:
        """Inside a write transaction: the record *caller* may change, matching *if_match*."""
        record = await writer.get_artifact(artifact_id, self.context.sandbox_id)
        record = self.usable(record, artifact_id, caller, write=True, allow_expired=allow_expired)
        if not if_match_allows(if_match, record.etag):
            raise PreconditionFailedError(
                f"artifact {artifact_id} is at etag {record.etag}, not {if_match}"
            )
        return record
