"""Read queries of the catalog: artifacts, listings, search, sessions, events, stats."""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
import math
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, bindparam, case, cast, func, or_, select

from satchel.catalog import apikeys as key_rows
from satchel.catalog import uploads as upload_rows
from satchel.catalog.aspects import AspectRows
from satchel.catalog.blobbytes import BlobBytes
from satchel.catalog.collections import CollectionRows, member_clause
from satchel.catalog.connection import CatalogConnection, HotQuery, InlineConnection
from satchel.catalog.ordering import ORDERS, Ordering, glob_like
from satchel.catalog.packages import PackageRows
from satchel.catalog.recordcache import RecordCache
from satchel.catalog.rows import to_artifact, to_session
from satchel.catalog.tables import (
    artifacts,
    blobs,
    events,
    package_files,
    packages,
    sessions,
    uploads,
)
from satchel.catalog.verification import BlobChecks
from satchel.core.apikeys import ApiKey
from satchel.core.models import ArtifactRecord, SessionRecord
from satchel.core.scopes import Scope
from satchel.core.uploads import UploadRecord
from satchel.core.validation import encode_meta

__all__ = ["ArtifactPage", "CatalogReader", "Readable", "SearchFilter"]


# An event as readers see it: everything but the row images replay uses (changes).
_EVENT_FIELDS = tuple(column for column in events.c if column.name != "changes")

logger = logging.getLogger("satchel.catalog")

_FILTER_BATCH = 500  # rows read per round when matches are decided after SQL
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_]{1,128}$")


@dataclasses.dataclass(frozen=True, slots=True)
class Readable:
    """What a caller that is not the trusted application may read, as SQL: sandbox scope,
    what *user* owns, and the session-scoped artifacts of *session* (the application acting in
    one session). It mirrors :func:`satchel.core.access.check_read`, which is applied again to
    every row, so listings are filtered in the query and pages come back full."""

    user: str | None
    session: str | None


def _readable_clauses(readable: Readable | None) -> list[Any]:
    if readable is None:
        return []
    allowed = [artifacts.c.scope == Scope.SANDBOX.value]
    if readable.user is not None:
        mine = artifacts.c.owner_id == readable.user
        if readable.session is not None:  # acting in one session: its session scope alone
            in_session = artifacts.c.session_id == readable.session
            mine = and_(mine, or_(artifacts.c.scope != Scope.SESSION.value, in_session))
        allowed.append(mine)
    elif readable.session is not None:
        allowed.append(
            and_(
                artifacts.c.scope == Scope.SESSION.value,
                artifacts.c.session_id == readable.session,
            )
        )
    return [or_(*allowed)]


def _live(now: float) -> Any:
    """Artifacts not expired at *now*: no expiry, not yet reached, or suspended by retention
    (as :meth:`ArtifactRecord.is_expired` decides)."""
    return or_(
        artifacts.c.expires_at.is_(None),
        artifacts.c.expires_at > now,
        artifacts.c.retain_until > now,
    )


def _records(rows: Any) -> list[ArtifactRecord]:
    """The records of *rows*; a row that cannot be read (written before the rules of what may
    be stored were strict, or damaged) is left out and logged, never failing the listing."""
    found = []
    for row in rows:
        try:
            found.append(to_artifact(row))
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning(
                "catalog row %r cannot be read: %s", getattr(row, "artifact_id", "?"), exc
            )
    return found


@dataclasses.dataclass(frozen=True, slots=True)
class SearchFilter:
    """What ``search`` matches; every field narrows the result."""

    sandbox_id: str
    now: float
    scope: Scope | None = None
    owner_id: str | None = None
    session_id: str | None = None
    mime_prefix: str | None = None
    meta_filter: dict[str, Any] | None = None
    sha256: str | None = None
    readable: Readable | None = None
    """Only what this caller may read (None: everything, for the trusted application)."""
    filename_glob: str | None = None
    """A shell glob the whole filename matches (``*`` spans ``/``; case-sensitive)."""
    order: Ordering = ORDERS["stored_at"]
    collection: str | None = None
    """Only members of this collection."""


@dataclasses.dataclass(frozen=True, slots=True)
class ArtifactPage:
    items: list[ArtifactRecord]
    next_cursor: str | None


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _meta_clause(key: str, value: Any, dialect: str) -> Any | None:
    """A SQL pre-filter for one scalar meta entry (exactness is re-checked in Python).

    Only plain keys become JSON paths; other keys, big integers (on SQLite) and non-scalar
    values are matched in Python alone.
    """
    if not _PLAIN_KEY.match(key):
        return None
    if dialect == "postgresql":
        return _postgres_meta_clause(key, value)
    column = artifacts.c.meta[key]
    if isinstance(value, bool):
        return column.as_boolean() == value
    if isinstance(value, int):
        return column.as_integer() == value if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        return column.as_float() == value
    if isinstance(value, str):
        return column.as_string() == value
    return None


def _postgres_meta_clause(key: str, value: Any) -> Any | None:
    """PostgreSQL's form of :func:`_meta_clause`. A cast there fails the whole query when one
    row holds another type under *key* (``CAST('true' AS INTEGER)``), so numbers are cast only
    where ``json_typeof`` says they are numbers (CASE fixes the order), and compared as NUMERIC,
    which holds any JSON number exactly; booleans and strings compare as text."""
    text = artifacts.c.meta[key].as_string()
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, str):
        return text == value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        number = case(
            (func.json_typeof(artifacts.c.meta[key]) == "number", cast(text, Numeric)),
            else_=None,
        )
        # repr() is the shortest text that reads back as the same float, as json.dumps writes it.
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return number == bindparam(None, exact, type_=Numeric(asdecimal=True))
    return None


def _matches(record: ArtifactRecord, flt: SearchFilter) -> bool:
    """What SQL could only narrow: exact metadata, the glob's classes and case."""
    if flt.meta_filter and not meta_matches(record.meta, flt.meta_filter):
        return False
    glob = flt.filename_glob
    return glob is None or fnmatch.fnmatchcase(record.filename or "", glob)


def meta_matches(meta: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Exact, type-aware equality of each wanted top-level entry (``1`` does not match ``True``)."""
    for key, value in wanted.items():
        if key not in meta or encode_meta({"v": meta[key]}) != encode_meta({"v": value}):
            return False
    return True


# The hottest queries are built once; each call only binds its values (building a statement
# with literal values costs more than running it).
_GET_ARTIFACT = select(artifacts).where(
    artifacts.c.artifact_id == bindparam("artifact_id"),
    artifacts.c.sandbox_id == bindparam("sandbox_id"),
)
_GET_SESSION = select(sessions).where(sessions.c.session_id == bindparam("session_id"))
_GET_ARTIFACT_HOT = HotQuery(_GET_ARTIFACT)  # every read, download and metadata() call


class CatalogReader:
    """Queries over one connection (and transaction)."""

    def __init__(self, conn: CatalogConnection, records: RecordCache | None = None) -> None:
        """*records*: the catalog's record cache, for a reader on the connection it checks."""
        self.conn = conn
        self.records = records

    async def get_artifact(self, artifact_id: str, sandbox_id: str) -> ArtifactRecord | None:
        cache = self.records
        if cache is not None:
            assert isinstance(self.conn, InlineConnection)
            entries = cache.current(self.conn)
            key = (artifact_id, sandbox_id)
            if key in entries:
                return entries[key]
        params = {"artifact_id": artifact_id, "sandbox_id": sandbox_id}
        row = (await self.conn.execute(_GET_ARTIFACT_HOT, params)).first()
        record = None if row is None else to_artifact(row)
        if cache is not None:
            cache.keep(key, record)
        return record

    async def list_by_session(
        self,
        session_id: str,
        sandbox_id: str,
        *,
        now: float,
        limit: int,
        cursor: str | None,
        readable: Readable | None = None,
        order: Ordering = ORDERS["stored_at"],
    ) -> ArtifactPage:
        """A session's live artifacts in *order*; only those *readable* allows (None: all),
        so pages are full and a cursor names only a row its reader may see."""
        query = select(artifacts).where(
            artifacts.c.session_id == session_id,
            artifacts.c.sandbox_id == sandbox_id,
            _live(now),
            *_readable_clauses(readable),
        )
        return await self._keyset_page(query, limit=limit, cursor=cursor, order=order)

    async def list_directory(
        self,
        session_id: str,
        sandbox_id: str,
        prefix: str,
        *,
        now: float,
        limit: int,
        readable: Readable | None = None,
    ) -> list[ArtifactRecord]:
        query = (
            select(artifacts)
            .where(
                artifacts.c.session_id == session_id,
                artifacts.c.sandbox_id == sandbox_id,
                artifacts.c.filename.like(_like_prefix(prefix), escape="\\"),
                # SQLite's LIKE ignores ASCII case; filenames are case-sensitive paths.
                func.substr(artifacts.c.filename, 1, len(prefix)) == prefix,
                _live(now),
                *_readable_clauses(readable),
            )
            .order_by(artifacts.c.filename, artifacts.c.artifact_id)
            .limit(limit)
        )
        return _records(await self.conn.execute(query))

    async def search(self, flt: SearchFilter, *, limit: int, cursor: str | None) -> ArtifactPage:
        clauses: list[Any] = [
            artifacts.c.sandbox_id == flt.sandbox_id,
            _live(flt.now),
        ]
        if flt.scope is not None:
            clauses.append(artifacts.c.scope == flt.scope.value)
        if flt.owner_id is not None:
            clauses.append(artifacts.c.owner_id == flt.owner_id)
        if flt.session_id is not None:
            clauses.append(artifacts.c.session_id == flt.session_id)
        if flt.mime_prefix:
            clauses.append(artifacts.c.mime.like(_like_prefix(flt.mime_prefix), escape="\\"))
        if flt.sha256 is not None:
            clauses.append(artifacts.c.sha256 == flt.sha256)
        clauses.extend(_readable_clauses(flt.readable))
        if flt.collection is not None:
            clauses.append(member_clause(flt.sandbox_id, flt.collection))
        for key, value in (flt.meta_filter or {}).items():
            clause = _meta_clause(key, value, self.conn.dialect.name)
            if clause is not None:
                clauses.append(clause)
        if flt.filename_glob is not None:
            like = glob_like(flt.filename_glob)
            clauses.append(artifacts.c.filename.like(like, escape="\\"))
        query = select(artifacts).where(*clauses)
        order = flt.order
        if not flt.meta_filter and flt.filename_glob is None:
            return await self._keyset_page(query, limit=limit, cursor=cursor, order=order)
        # Non-scalar meta values, glob classes and case are matched in Python; keep reading
        # pages until full.
        found: list[ArtifactRecord] = []
        next_cursor = cursor
        batch = max(limit, _FILTER_BATCH)  # rows per round trip, however small the page
        while len(found) < limit:
            page = await self._keyset_page(query, limit=batch, cursor=next_cursor, order=order)
            for record in page.items:
                if _matches(record, flt):
                    found.append(record)
                    if len(found) == limit:
                        return ArtifactPage(found, order.cursor(record))
            next_cursor = page.next_cursor
            if next_cursor is None:
                break
        return ArtifactPage(found, None)

    async def _keyset_page(
        self, query: Any, *, limit: int, cursor: str | None, order: Ordering = ORDERS["stored_at"]
    ) -> ArtifactPage:
        if cursor is not None:
            query = order.after(query, cursor)
        rows = (await self.conn.execute(order.ordered(query).limit(limit + 1))).all()
        more = len(rows) > limit
        next_cursor = order.cursor(rows[limit - 1]) if more else None
        return ArtifactPage(_records(rows[:limit]), next_cursor)

    async def artifacts_under_key(
        self, sandbox_id: str, prefix: str, *, after: str | None, limit: int
    ) -> tuple[list[ArtifactRecord], str | None]:
        """One page of the artifacts (expired ones too) whose grid key is *prefix* or lies
        under ``prefix/`` (whole segments: ``…/s1`` never matches ``…/s10/x``), in key order
        after the key *after*; and the key to continue after (None: no more)."""
        # Keys compare bytewise (SQLite's BINARY, the "C" collation on PostgreSQL), where the
        # keys under "prefix/" are exactly those in ["prefix/", "prefix0") ("0" follows "/").
        # The index on (sandbox_id, key) walks [prefix, prefix0) in key order; the last term
        # leaves out what lies between prefix and "prefix/" ("prefix-x").
        clauses: list[Any] = [
            artifacts.c.sandbox_id == sandbox_id,
            artifacts.c.key >= prefix if after is None else artifacts.c.key > after,
            artifacts.c.key < prefix + "0",
            or_(artifacts.c.key == prefix, artifacts.c.key >= prefix + "/"),
        ]
        query = select(artifacts).where(*clauses).order_by(artifacts.c.key).limit(limit)
        rows = (await self.conn.execute(query)).all()
        last = rows[-1].key if len(rows) == limit else None
        return _records(rows), last

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = (await self.conn.execute(_GET_SESSION, {"session_id": session_id})).first()
        return None if row is None else to_session(row)

    @property
    def blob_bytes(self) -> BlobBytes:
        """Small blobs' bytes kept in the catalog (:mod:`satchel.catalog.blobbytes`)."""
        return BlobBytes(self.conn)

    @property
    def blob_checks(self) -> BlobChecks:
        """Storage verification's rows (:mod:`satchel.catalog.verification`)."""
        return BlobChecks(self.conn)

    async def collection_counts(
        self,
        sandbox_id: str,
        *,
        now: float,
        readable: Readable | None,
        after: str | None,
        limit: int,
    ) -> list[tuple[str, int]]:
        """Collections by name with their live members *readable* lists (empty ones left out)."""
        clauses = [artifacts.c.sandbox_id == sandbox_id, _live(now), *_readable_clauses(readable)]
        return await self.collections.counts(sandbox_id, clauses, after=after, limit=limit)

    @property
    def collections(self) -> CollectionRows:
        """Collection membership (:mod:`satchel.catalog.collections`)."""
        return CollectionRows(self.conn)

    @property
    def aspects(self) -> AspectRows:
        """Aspects and their provenance links (:mod:`satchel.catalog.aspects`)."""
        return AspectRows(self.conn)

    @property
    def packages(self) -> PackageRows:
        """Packages, their files, holds and metadata schemas (:mod:`satchel.catalog.packages`)."""
        return PackageRows(self.conn)

    async def blob_referenced(self, digest: str, *, backend: str) -> bool:
        """True when an artifact, a package file or a manifest (of any sandbox) points at
        *digest* stored in *backend*."""
        for query in (
            select(artifacts.c.artifact_id).where(
                artifacts.c.sha256 == digest, artifacts.c.storage_provider == backend
            ),
            select(package_files.c.package_id).where(
                package_files.c.sha256 == digest, package_files.c.backend == backend
            ),
            select(packages.c.package_id).where(
                packages.c.manifest_address == digest, packages.c.manifest_backend == backend
            ),
        ):
            if (await self.conn.execute(query.limit(1))).first() is not None:
                return True
        return False

    async def blob_references(self) -> list[tuple[str, str, int]]:
        """``(backend, digest, size)`` of every blob an artifact or package file (of any
        sandbox) points at, once per distinct size recorded (more than one means a row
        disagrees). Manifests are listed by :meth:`manifest_references`."""
        columns = (artifacts.c.storage_provider, artifacts.c.sha256, artifacts.c.bytes)
        found = {(row[0], row[1], int(row[2])) for row in await self.conn.execute(select(*columns))}
        file_columns = (package_files.c.backend, package_files.c.sha256, package_files.c.size)
        query = select(*file_columns).distinct()
        found.update((row[0], row[1], int(row[2])) for row in await self.conn.execute(query))
        return sorted(found)

    async def manifest_references(self) -> list[tuple[str, str]]:
        """``(backend, digest)`` of every finalized package's manifest blob."""
        query = (
            select(packages.c.manifest_backend, packages.c.manifest_address)
            .where(packages.c.manifest_address.is_not(None))
            .distinct()
        )
        return [(row[0], row[1]) for row in await self.conn.execute(query)]

    async def blob_ledger(self) -> list[tuple[str, str, int, float | None]]:
        """``(backend, digest, size, orphaned_at)`` of every blob the catalog accounts for."""
        query = select(blobs.c.backend, blobs.c.digest, blobs.c.size, blobs.c.orphaned_at)
        return [(row[0], row[1], int(row[2]), row[3]) for row in await self.conn.execute(query)]

    async def all_uploads(self) -> list[UploadRecord]:
        """Every upload of every sandbox, whatever its state."""
        return await upload_rows.all_uploads(self.conn)

    async def stats(self, sandbox_id: str) -> dict[str, Any]:
        query = (
            select(artifacts.c.scope, func.count(), func.coalesce(func.sum(artifacts.c.bytes), 0))
            .where(artifacts.c.sandbox_id == sandbox_id)
            .group_by(artifacts.c.scope)
        )
        by_scope = {
            str(scope): {"artifacts": int(n), "bytes": int(size)}
            for scope, n, size in (await self.conn.execute(query)).all()
        }
        count = sum(item["artifacts"] for item in by_scope.values())
        total = sum(item["bytes"] for item in by_scope.values())
        blob_query = select(func.count(), func.coalesce(func.sum(blobs.c.size), 0))
        blob_count, blob_bytes = tuple((await self.conn.execute(blob_query)).one())
        session_count = (
            await self.conn.execute(select(func.count()).where(sessions.c.sandbox_id == sandbox_id))
        ).scalar_one()
        return {
            "total_artifacts": int(count),
            "total_bytes": int(total),
            "unique_blobs": int(blob_count),
            "stored_bytes": int(blob_bytes),
            "sessions": int(session_count),
            "by_scope": {
                scope: by_scope.get(scope, {"artifacts": 0, "bytes": 0})
                for scope in ("session", "user", "sandbox")
            },
        }

    async def events_for(self, subject: str, limit: int = 10_000) -> list[dict[str, Any]]:
        """The events about *subject*, oldest first."""
        query = (
            select(*_EVENT_FIELDS)
            .where(events.c.subject == subject)
            .order_by(events.c.seq)
            .limit(limit)
        )
        return [dict(row._mapping) for row in await self.conn.execute(query)]

    async def events_after(self, seq: int, limit: int = 1000) -> list[dict[str, Any]]:
        query = select(*_EVENT_FIELDS).where(events.c.seq > seq).order_by(events.c.seq).limit(limit)
        return [dict(row._mapping) for row in await self.conn.execute(query)]

    # -- uploads and API keys (rows of satchel.catalog.uploads / .apikeys) ----------------------

    async def get_upload(self, upload_id: str, sandbox_id: str) -> UploadRecord | None:
        return await upload_rows.get_upload(self.conn, upload_id, sandbox_id)

    async def get_upload_by_artifact(
        self, artifact_id: str, sandbox_id: str
    ) -> UploadRecord | None:
        """The upload that reserved *artifact_id*, or None."""
        return await upload_rows.get_upload_by_artifact(self.conn, artifact_id, sandbox_id)

    async def get_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        """The key and its secret's digest, or None."""
        return await key_rows.get_api_key(self.conn, key_id)

    async def list_api_keys(self, sandbox_id: str) -> list[ApiKey]:
        return await key_rows.list_api_keys(self.conn, sandbox_id)

    async def count_open_uploads(self, actor_id: str, sandbox_id: str, now: float) -> int:
        """Unfinished, unexpired uploads *actor_id* started in the sandbox."""
        query = select(func.count()).where(
            uploads.c.actor_id == actor_id,
            uploads.c.state.in_(["open", "uploaded"]),
            uploads.c.sandbox_id == sandbox_id,
            uploads.c.expires_at > now,
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def count_live_sessions(self, user_id: str, sandbox_id: str, now: float) -> int:
        """Unexpired sessions *user_id* owns in the sandbox."""
        query = select(func.count()).where(
            sessions.c.user_id == user_id,
            sessions.c.sandbox_id == sandbox_id,
            or_(sessions.c.expires_at.is_(None), sessions.c.expires_at > now),
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def check(self) -> None:
        """A trivial statement: raises when the database does not answer."""
        await self.conn.execute(select(1))
