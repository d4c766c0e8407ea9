"""Write operations of the catalog. Each runs inside the caller's transaction, so a state
change, its event and its blob references commit together or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from satchel.catalog import apikeys as key_rows
from satchel.catalog import uploads as upload_rows
from satchel.catalog.changes import ChangeCapture
from satchel.catalog.connection import CatalogConnection, HotInsert
from satchel.catalog.reader import _GET_ARTIFACT, CatalogReader, _records
from satchel.catalog.rows import artifact_values, to_artifact
from satchel.catalog.tables import (
    artifacts,
    blob_bytes,
    blobs,
    collection_members,
    events,
    holds,
    package_files,
    packages,
    sessions,
)
from satchel.core.apikeys import ApiKey
from satchel.core.errors import NotSupportedError
from satchel.core.events import EVENT_TYPES, Audience
from satchel.core.models import ArtifactRecord, SessionRecord
from satchel.core.uploads import UploadRecord, UploadState

__all__ = ["CatalogWriter"]


# Hot statements are built once and executed with bound values (see reader.py).
_INSERT_ARTIFACT = HotInsert(artifacts)
_INSERT_EVENT = HotInsert(events)
# Held from the first event insert to commit (PostgreSQL): events commit in sequence order.
EVENT_ORDER_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
EVENT_ORDER_KEY = {"key": 0x736174636865_65}  # "satche" + "e"
# PostgreSQL runs writers side by side (SQLite has one writer at a time: BEGIN IMMEDIATE), so
# there a writer locks the rows it reads to change, and periodic jobs claim rows with SKIP
# LOCKED so that replicas running them at once never process a row twice.
_LOCK_ARTIFACT = _GET_ARTIFACT.with_for_update()


# Row images per event: more (a package of many files deleted at once) continue in
# v1.catalog.rows events right after it, so no single event grows without bound.
MAX_CHANGES_PER_EVENT = 500


def _with_changes(values: dict[str, Any], changes: list[list[Any]]) -> list[dict[str, Any]]:
    """The event *values* carrying *changes*, and the continuation events for what is over."""
    head, rest = changes[:MAX_CHANGES_PER_EVENT], changes[MAX_CHANGES_PER_EVENT:]
    events = [{**values, "changes": head or None}]
    for at in range(0, len(rest), MAX_CHANGES_PER_EVENT):
        chunk = rest[at : at + MAX_CHANGES_PER_EVENT]
        events.append(
            {
                **values,
                "type": "v1.catalog.rows",
                "payload": {"of": values["type"], "rows": len(chunk)},
                "scope": "admin",
                "owner_id": None,
                "session_id": None,
                "changes": chunk,
            }
        )
    return events


class _Upserts:
    """The dialect's insert-or-ignore / insert-or-update statements, built once."""

    def __init__(self, dialect_insert: Any) -> None:
        self.insert_session = HotInsert(
            sessions, dialect_insert(sessions).on_conflict_do_nothing(index_elements=["session_id"])
        )
        self.reference_blob = HotInsert(
            blobs,
            dialect_insert(blobs).on_conflict_do_update(
                index_elements=["digest", "backend"], set_={"orphaned_at": None}
            ),
        )
        self.keep_blob_bytes = HotInsert(
            blob_bytes,
            dialect_insert(blob_bytes).on_conflict_do_nothing(index_elements=["digest", "backend"]),
        )


_DIALECT_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_UPSERTS: dict[str, _Upserts] = {}


class CatalogWriter(CatalogReader):
    """Reads plus writes, on a connection holding the catalog's write transaction."""

    def __init__(self, conn: CatalogConnection) -> None:
        self.capture = ChangeCapture(conn)
        super().__init__(self.capture)
        self.appended = 0  # events this transaction logged
        # Events are written at the transaction's end, each with the view rows changed since
        # the one before (satchel.catalog.changes): (values, how many keys were touched then).
        self._pending_events: list[tuple[dict[str, Any], int]] = []

    @property
    def raw(self) -> CatalogConnection:
        """This transaction's connection without change capture: what it writes is not logged
        (replay writes the views so; tests tamper with rows behind the log's back)."""
        return self.capture.inner

    def _upserts(self) -> _Upserts:
        dialect = self.conn.dialect.name
        if dialect not in _UPSERTS:
            if dialect not in _DIALECT_INSERTS:
                raise NotSupportedError(f"the catalog does not support the {dialect} dialect")
            _UPSERTS[dialect] = _Upserts(_DIALECT_INSERTS[dialect])
        return _UPSERTS[dialect]

    @property
    def _row_locks(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    async def get_artifact(self, artifact_id: str, sandbox_id: str) -> ArtifactRecord | None:
        """The artifact, locked until the transaction ends where writers run concurrently."""
        if not self._row_locks:
            return await super().get_artifact(artifact_id, sandbox_id)
        params = {"artifact_id": artifact_id, "sandbox_id": sandbox_id}
        row = (await self.conn.execute(_LOCK_ARTIFACT, params)).first()
        return None if row is None else to_artifact(row)

    def _claim(self, query: Any, table: Any) -> Any:
        """*query* claiming its rows for this transaction (rows another one holds are skipped)."""
        return query.with_for_update(skip_locked=True, of=table) if self._row_locks else query

    async def append_event(
        self,
        *,
        type: str,
        subject: str,
        payload: dict[str, Any],
        actor: str | None,
        time: float,
        audience: Audience,
    ) -> None:
        """Log a state change of this transaction (see satchel.core.events).

        The events are held until the transaction's end (:meth:`flush_events`), when the rows
        it changed are read back into them. On PostgreSQL they are then written under a lock
        that lasts until commit: sequence numbers are taken in commit order, so a feed reader
        never sees seq N+1 before N is visible (SQLite has one writer at a time).
        """
        if type not in EVENT_TYPES:
            raise ValueError(f"unregistered event type {type!r}")
        values = {
            "time": time,
            "type": type,
            "actor": actor,
            "subject": subject,
            "payload": payload,
            "sandbox_id": audience.sandbox_id,
            "scope": audience.scope,
            "owner_id": audience.owner_id,
            "session_id": audience.session_id,
        }
        self.appended += 1
        self._pending_events.append((values, len(self.capture.touched)))

    async def flush_events(self) -> None:
        """Write the held events with the rows they changed, as the transaction's last step
        (on PostgreSQL serialised with every other writer's until commit).

        Each event carries the rows touched after the event before it and up to its own; the
        last also those touched after it. A transaction that changed a view without logging an
        event is a defect (replay could not rebuild it) and fails here.
        """
        pending, self._pending_events = self._pending_events, []
        images, self.capture.touched = self.capture.touched, {}
        touched = list(images)
        if touched and not pending:
            tables = sorted({name for name, _key in touched})
            raise RuntimeError(f"a catalog write changed {', '.join(tables)} without an event")
        if not pending:
            return
        rows: list[dict[str, Any]] = []
        start = 0
        for index, (values, mark) in enumerate(pending):
            end = len(touched) if index == len(pending) - 1 else mark
            changes = [[name, list(key), images[(name, key)]] for name, key in touched[start:end]]
            start = end
            rows.extend(_with_changes(values, changes))
        conn = self.capture.inner
        if self._row_locks:
            await conn.execute(EVENT_ORDER_LOCK, EVENT_ORDER_KEY)
        for values in rows:
            await conn.execute(_INSERT_EVENT, values)

    async def insert_session(self, record: SessionRecord) -> bool:
        """Insert a session; False when one with that id already exists."""
        values = {
            "session_id": record.session_id,
            "sandbox_id": record.sandbox_id,
            "user_id": record.user_id,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }
        result = await self.conn.execute(self._upserts().insert_session, values)
        return bool(result.rowcount)

    async def delete_session(self, session_id: str) -> None:
        await self.conn.execute(delete(sessions).where(sessions.c.session_id == session_id))

    async def reference_blob(self, digest: str, size: int, now: float, *, backend: str) -> None:
        """Record that an artifact points at *digest* in *backend* (clears any orphan mark)."""
        values = {
            "digest": digest,
            "backend": backend,
            "size": size,
            "created_at": now,
            "orphaned_at": None,
        }
        await self.conn.execute(self._upserts().reference_blob, values)

    async def keep_blob_bytes(self, digest: str, data: bytes, *, backend: str) -> None:
        """Keep the bytes of a small blob in the catalog, in this transaction (storage, not a
        view: replay leaves it). Identical bytes already kept stay as they are."""
        values = {"digest": digest, "backend": backend, "data": data}
        await self.conn.execute(self._upserts().keep_blob_bytes, values)

    async def release_blob(self, digest: str, now: float, *, backend: str) -> bool:
        """Mark *digest* in *backend* orphaned when no artifact points at it there any more;
        True if it now is."""
        if await self.blob_referenced(digest, backend=backend):
            return False
        await self.conn.execute(
            update(blobs)
            .where(
                blobs.c.digest == digest,
                blobs.c.backend == backend,
                blobs.c.orphaned_at.is_(None),
            )
            .values(orphaned_at=now)
        )
        return True

    async def orphaned_blobs(
        self, cutoff: float, limit: int, *, backends: Sequence[str]
    ) -> list[tuple[str, str]]:
        """``(backend, digest)`` of blobs in *backends* orphaned before *cutoff*, unreferenced."""
        in_artifact = exists().where(
            artifacts.c.sha256 == blobs.c.digest, artifacts.c.storage_provider == blobs.c.backend
        )
        in_package = exists().where(
            package_files.c.sha256 == blobs.c.digest, package_files.c.backend == blobs.c.backend
        )
        in_manifest = exists().where(
            packages.c.manifest_address == blobs.c.digest,
            packages.c.manifest_backend == blobs.c.backend,
        )
        referenced = or_(in_artifact, in_package, in_manifest)
        query = (
            select(blobs.c.backend, blobs.c.digest)
            .where(
                blobs.c.orphaned_at.is_not(None),
                blobs.c.orphaned_at <= cutoff,
                blobs.c.backend.in_(list(backends)),
                ~referenced,
            )
            .limit(limit)
        )
        # Claimed: a writer referencing the blob again waits for the collection (and then sees
        # the bytes are gone), or holds the row, in which case the collector skips it.
        query = self._claim(query, blobs)
        return [(row.backend, row.digest) for row in await self.conn.execute(query)]

    async def forget_blob(self, digest: str, *, backend: str) -> None:
        await self.conn.execute(
            delete(blobs).where(blobs.c.digest == digest, blobs.c.backend == backend)
        )

    async def drop_blob_bytes(self, digest: str, *, backend: str) -> bool:
        """Delete the bytes of *digest* kept for *backend*; True when there were some."""
        result = await self.conn.execute(
            delete(blob_bytes).where(blob_bytes.c.digest == digest, blob_bytes.c.backend == backend)
        )
        return bool(result.rowcount)

    async def insert_artifact(self, record: ArtifactRecord) -> dict[str, Any]:
        """Insert *record*'s row; return its values (``artifact_values``), for its event."""
        values = artifact_values(record)
        await self.conn.execute(_INSERT_ARTIFACT, values)
        return values

    async def replace_artifact(self, record: ArtifactRecord, expected_version: int) -> bool:
        """Compare-and-swap: write *record* only if the row is still at *expected_version*."""
        values = artifact_values(record)
        del values["artifact_id"]
        result = await self.conn.execute(
            update(artifacts)
            .where(
                artifacts.c.artifact_id == record.artifact_id,
                artifacts.c.version == expected_version,
            )
            .values(**values)
        )
        return bool(result.rowcount)

    async def set_artifact_retention(self, artifact_id: str, retain_until: float | None) -> None:
        await self.conn.execute(
            update(artifacts)
            .where(artifacts.c.artifact_id == artifact_id)
            .values(retain_until=retain_until)
        )

    async def delete_artifact(self, artifact_id: str, expected_version: int | None = None) -> bool:
        stmt = delete(artifacts).where(artifacts.c.artifact_id == artifact_id)
        if expected_version is not None:
            stmt = stmt.where(artifacts.c.version == expected_version)
        result = await self.conn.execute(stmt)
        if not result.rowcount:
            return False
        await self.conn.execute(
            delete(collection_members).where(collection_members.c.artifact_id == artifact_id)
        )
        return True

    async def expired_artifacts(
        self, sandbox_id: str, now: float, limit: int
    ) -> list[ArtifactRecord]:
        held = exists().where(
            holds.c.target_kind == "artifact",
            holds.c.target_id == artifacts.c.artifact_id,
            holds.c.released_at.is_(None),
        )
        query = (
            select(artifacts)
            .where(
                artifacts.c.sandbox_id == sandbox_id,
                artifacts.c.expires_at.is_not(None),
                artifacts.c.expires_at <= now,
                # a hold or unexpired retention beats the TTL
                or_(artifacts.c.retain_until.is_(None), artifacts.c.retain_until <= now),
                ~held,
            )
            .order_by(artifacts.c.expires_at)
            .limit(limit)
        )
        query = self._claim(query, artifacts)
        return _records(await self.conn.execute(query))

    async def expired_sessions(self, sandbox_id: str, now: float, limit: int) -> list[str]:
        """Expired sessions no artifact points at any more (safe to forget)."""
        in_use = exists().where(artifacts.c.session_id == sessions.c.session_id)
        query = (
            select(sessions.c.session_id)
            .where(
                sessions.c.sandbox_id == sandbox_id,
                sessions.c.expires_at.is_not(None),
                sessions.c.expires_at <= now,
                ~in_use,
            )
            .limit(limit)
        )
        query = self._claim(query, sessions)
        return [row.session_id for row in await self.conn.execute(query)]

    # -- uploads -------------------------------------------------------------------------------

    async def insert_upload(self, record: UploadRecord) -> None:
        await upload_rows.insert_upload(self.conn, record)

    async def lock_upload(self, upload_id: str, sandbox_id: str) -> UploadRecord | None:
        """The upload, its row locked until the transaction ends (on PostgreSQL; a SQLite write
        transaction already excludes every other writer)."""
        return await upload_rows.get_upload(self.conn, upload_id, sandbox_id, for_update=True)

    async def replace_upload(
        self, record: UploadRecord, *, expected_state: UploadState, expected_offset: int
    ) -> bool:
        """Compare-and-swap on (state, offset): False when another request moved it on."""
        return await upload_rows.replace_upload(
            self.conn, record, expected_state=expected_state, expected_offset=expected_offset
        )

    async def claim_expired_uploads(
        self, sandbox_id: str, now: float, limit: int
    ) -> list[UploadRecord]:
        """Open or uploaded uploads past their expiry, claimed for this transaction (rows
        another transaction holds are skipped), so replicas never process one twice."""
        return await upload_rows.expired_uploads(self.conn, sandbox_id, now, limit, claim=True)

    # -- API keys ------------------------------------------------------------------------------

    async def insert_api_key(self, key: ApiKey, secret_digest: str) -> None:
        await key_rows.insert_api_key(self.conn, key, secret_digest)

    async def revoke_api_key(self, key_id: str, sandbox_id: str, now: float) -> bool:
        """Mark a live key revoked; False when there is no such unrevoked key in the sandbox."""
        return await key_rows.revoke_api_key(self.conn, key_id, sandbox_id, now)
