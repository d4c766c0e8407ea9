"""Catalog operations on packages, their files, legal holds and metadata schemas.

``reader.packages`` / ``writer.packages`` hand out :class:`PackageRows` bound to the caller's
connection; its write methods are only called on a writer's (inside its transaction).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update

from satchel.catalog.connection import CatalogConnection
from satchel.catalog.rows import decode_cursor, encode_cursor
from satchel.catalog.tables import artifacts, holds, metadata_schemas, package_files, packages
from satchel.core.errors import InvalidRequestError
from satchel.core.packages import Hold, PackageFile, PackageRecord, PackageScope, PackageState

__all__ = ["PackageFilter", "PackagePage", "PackageRows"]

_IN_CHUNK = 1000


def _to_package(row: Any) -> PackageRecord:
    return PackageRecord(
        package_id=row.package_id,
        sandbox_id=row.sandbox_id,
        name=row.name,
        version=row.version,
        producer=row.producer,
        subject=row.subject,
        retention_class=row.retention_class,
        metadata=dict(row.metadata or {}),
        schema=row.schema,
        scope=PackageScope(row.scope),
        owner_id=row.owner_id,
        state=PackageState(row.state),
        created_at=row.created_at,
        finalized_at=row.finalized_at,
        manifest_address=row.manifest_address,
        manifest_backend=row.manifest_backend,
        retain_until=row.retain_until,
        file_count=int(row.file_count),
        total_bytes=int(row.total_bytes),
        eligible=bool(row.eligible),
        eligible_rule=row.eligible_rule,
        retention_mode=row.retention_mode,
    )


def _package_values(record: PackageRecord) -> dict[str, Any]:
    values = {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
    values["metadata"] = dict(record.metadata)
    values["scope"] = record.scope.value
    values["state"] = record.state.value
    return values


def _to_file(row: Any) -> PackageFile:
    return PackageFile(
        package_id=row.package_id,
        relative_path=row.relative_path,
        size=int(row.size),
        media_type=row.media_type,
        sha256=row.sha256,
        backend=row.backend,
        added_at=row.added_at,
        blake3=row.blake3,
    )


def _to_hold(row: Any) -> Hold:
    return Hold(
        hold_id=row.hold_id,
        target_kind=row.target_kind,
        target_id=row.target_id,
        name=row.name,
        reason=row.reason,
        actor=row.actor,
        applied_at=row.applied_at,
        released_at=row.released_at,
        released_by=row.released_by,
        release_reason=row.release_reason,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class PackageFilter:
    """Which packages a listing shows. *reader* (a user id) limits ``user`` packages to that
    user's; None shows all (the application and admins)."""

    sandbox_id: str
    reader: str | None = None
    restricted: bool = False  # True: only sandbox packages and *reader*'s own
    name: str | None = None
    version: str | None = None
    producer: str | None = None
    subject: str | None = None
    state: PackageState | None = None
    mine: bool = False  # only *reader*'s own (None: the application's)


@dataclasses.dataclass(frozen=True, slots=True)
class PackagePage:
    items: list[PackageRecord]
    next_cursor: str | None


class PackageRows:
    def __init__(self, conn: CatalogConnection) -> None:
        self.conn = conn

    @property
    def _row_locks(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    # -- packages ------------------------------------------------------------------------------

    async def get(
        self, package_id: str, sandbox_id: str, *, for_update: bool = False
    ) -> PackageRecord | None:
        query = select(packages).where(
            packages.c.package_id == package_id, packages.c.sandbox_id == sandbox_id
        )
        if for_update and self._row_locks:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return None if row is None else _to_package(row)

    async def named(
        self,
        sandbox_id: str,
        name: str,
        version: str,
        owner_id: str | None,
        *,
        for_update: bool = False,
    ) -> list[PackageRecord]:
        """Every package *owner_id* (None: the application) has called *name* at *version*
        (finalized first, then oldest): a name and version are written once per owner."""
        owned = packages.c.owner_id
        query = (
            select(packages)
            .where(
                packages.c.sandbox_id == sandbox_id,
                packages.c.name == name,
                packages.c.version == version,
                owned.is_(None) if owner_id is None else owned == owner_id,
            )
            .order_by(packages.c.finalized_at.is_(None), packages.c.created_at)
        )
        if for_update and self._row_locks:
            query = query.with_for_update()
        return [_to_package(row) for row in await self.conn.execute(query)]

    async def insert(self, record: PackageRecord) -> None:
        await self.conn.execute(insert(packages).values(**_package_values(record)))

    async def replace(self, record: PackageRecord, *, expected_state: PackageState) -> bool:
        """Write *record* if the row is still in *expected_state*; False otherwise."""
        values = _package_values(record)
        del values["package_id"]
        result = await self.conn.execute(
            update(packages)
            .where(
                packages.c.package_id == record.package_id,
                packages.c.state == expected_state.value,
            )
            .values(**values)
        )
        return bool(result.rowcount)

    async def delete(self, package_id: str) -> list[PackageFile]:
        """Delete the package and its file rows; return the files (their blobs to release)."""
        files = await self.files(package_id)
        await self.conn.execute(
            delete(package_files).where(package_files.c.package_id == package_id)
        )
        await self.conn.execute(delete(packages).where(packages.c.package_id == package_id))
        return files

    async def page(self, flt: PackageFilter, *, limit: int, cursor: str | None) -> PackagePage:
        """Packages matching *flt*, newest first, keyset-paged."""
        clauses: list[Any] = [packages.c.sandbox_id == flt.sandbox_id]
        if flt.restricted:
            mine = packages.c.scope == PackageScope.SANDBOX.value
            if flt.reader is not None:
                mine = or_(mine, packages.c.owner_id == flt.reader)
            clauses.append(mine)
        for column, value in (
            (packages.c.name, flt.name),
            (packages.c.version, flt.version),
            (packages.c.producer, flt.producer),
            (packages.c.subject, flt.subject),
        ):
            if value is not None:
                clauses.append(column == value)
        if flt.mine:
            owned = packages.c.owner_id
            clauses.append(owned.is_(None) if flt.reader is None else owned == flt.reader)
        if flt.state is not None:
            clauses.append(packages.c.state == flt.state.value)
        if cursor is not None:
            created, package_id = decode_cursor(cursor, 2)
            if (
                isinstance(created, bool)
                or not isinstance(created, (int, float))
                or not 0 <= created <= 1e12
                or not isinstance(package_id, str)
                or len(package_id) > 64
            ):
                raise InvalidRequestError("malformed page cursor")
            clauses.append(
                or_(
                    packages.c.created_at < created,
                    and_(packages.c.created_at == created, packages.c.package_id < package_id),
                )
            )
        query = (
            select(packages)
            .where(*clauses)
            .order_by(packages.c.created_at.desc(), packages.c.package_id.desc())
            .limit(limit + 1)
        )
        rows = [_to_package(row) for row in await self.conn.execute(query)]
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows and more else None
        next_cursor = None if last is None else encode_cursor(last.created_at, last.package_id)
        return PackagePage(rows, next_cursor)

    async def finalized_in_line(self, package: PackageRecord) -> list[PackageRecord]:
        """The finalized packages of *package*'s line, newest first: the same owner, producer,
        subject and retention class (nobody else's push moves a package out of its newest N)."""
        owned = packages.c.owner_id
        owner = package.owner_id
        query = (
            select(packages)
            .where(
                packages.c.sandbox_id == package.sandbox_id,
                owned.is_(None) if owner is None else owned == owner,
                packages.c.producer == package.producer,
                packages.c.subject == package.subject,
                packages.c.retention_class == package.retention_class,
                packages.c.state == PackageState.FINALIZED.value,
            )
            .order_by(packages.c.finalized_at.desc(), packages.c.package_id.desc())
        )
        return [_to_package(row) for row in await self.conn.execute(query)]

    async def claim_finalized(
        self, sandbox_id: str, *, after: str | None, limit: int, claim: bool = True
    ) -> list[PackageRecord]:
        """Finalized packages in id order after *after*, claimed for this transaction (rows
        another transaction holds are skipped) so that two sweepers never share one."""
        query = select(packages).where(
            packages.c.sandbox_id == sandbox_id,
            packages.c.state == PackageState.FINALIZED.value,
        )
        if after is not None:
            query = query.where(packages.c.package_id > after)
        query = query.order_by(packages.c.package_id).limit(limit)
        if claim and self._row_locks:
            query = query.with_for_update(skip_locked=True)
        return [_to_package(row) for row in await self.conn.execute(query)]

    async def open_before(
        self, sandbox_id: str, cutoff: float, limit: int, *, claim: bool = True
    ) -> list[PackageRecord]:
        """Open packages created before *cutoff* (abandoned pushes), claimed."""
        query = (
            select(packages)
            .where(
                packages.c.sandbox_id == sandbox_id,
                packages.c.state == PackageState.OPEN.value,
                packages.c.created_at < cutoff,
                ~exists().where(  # a held package is never deleted, open or not
                    holds.c.target_kind == "package",
                    holds.c.target_id == packages.c.package_id,
                    holds.c.released_at.is_(None),
                ),
            )
            .order_by(packages.c.created_at)
            .limit(limit)
        )
        if claim and self._row_locks:
            query = query.with_for_update(skip_locked=True)
        return [_to_package(row) for row in await self.conn.execute(query)]

    async def claim_eligible(
        self, sandbox_id: str, limit: int, *, claim: bool = True
    ) -> list[PackageRecord]:
        """Finalized packages the last sweep found eligible, claimed for this transaction."""
        query = (
            select(packages)
            .where(
                packages.c.sandbox_id == sandbox_id,
                packages.c.state == PackageState.FINALIZED.value,
                packages.c.eligible.is_(True),
            )
            .order_by(packages.c.package_id)
            .limit(limit)
        )
        if claim and self._row_locks:
            query = query.with_for_update(skip_locked=True)
        return [_to_package(row) for row in await self.conn.execute(query)]

    async def set_retain_until(self, package_id: str, retain_until: float | None) -> None:
        await self.conn.execute(
            update(packages)
            .where(packages.c.package_id == package_id)
            .values(retain_until=retain_until, eligible=False, eligible_rule=None)
        )

    async def mark_eligible(self, package_id: str, eligible: bool, rule: str) -> None:
        await self.conn.execute(
            update(packages)
            .where(packages.c.package_id == package_id)
            .values(eligible=eligible, eligible_rule=rule)
        )

    # -- files -----------------------------------------------------------------------------

    async def files(self, package_id: str) -> list[PackageFile]:
        query = (
            select(package_files)
            .where(package_files.c.package_id == package_id)
            .order_by(package_files.c.relative_path)
        )
        return [_to_file(row) for row in await self.conn.execute(query)]

    async def file(self, package_id: str, relative_path: str) -> PackageFile | None:
        query = select(package_files).where(
            package_files.c.package_id == package_id,
            package_files.c.relative_path == relative_path,
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else _to_file(row)

    async def path_clash(self, package_id: str, path: str) -> str | None:
        """A file of the package that *path* cannot sit beside: one at a directory of *path*
        (``a`` for ``a/b``), or one under *path* as a directory (``a/b`` for ``a``)."""
        parents = [path[:i] for i, c in enumerate(path) if c == "/"]
        query = (
            select(package_files.c.relative_path)
            .where(
                package_files.c.package_id == package_id,
                or_(
                    package_files.c.relative_path.in_(parents),
                    func.substr(package_files.c.relative_path, 1, len(path) + 1) == path + "/",
                ),
            )
            .limit(1)
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else str(row[0])

    async def add_file(self, record: PackageFile) -> None:
        values = dataclasses.asdict(record)
        await self.conn.execute(insert(package_files).values(**values))
        await self.conn.execute(
            update(packages)
            .where(packages.c.package_id == record.package_id)
            .values(
                file_count=packages.c.file_count + 1,
                total_bytes=packages.c.total_bytes + record.size,
            )
        )

    # -- holds -----------------------------------------------------------------------------

    async def holds(self, target_kind: str, target_id: str, *, active_only: bool) -> list[Hold]:
        query = select(holds).where(
            holds.c.target_kind == target_kind, holds.c.target_id == target_id
        )
        if active_only:
            query = query.where(holds.c.released_at.is_(None))
        query = query.order_by(holds.c.applied_at, holds.c.hold_id)
        return [_to_hold(row) for row in await self.conn.execute(query)]

    async def hold(self, hold_id: str, sandbox_id: str) -> Hold | None:
        query = select(holds).where(holds.c.hold_id == hold_id, holds.c.sandbox_id == sandbox_id)
        row = (await self.conn.execute(query)).first()
        return None if row is None else _to_hold(row)

    async def held(self, target_kind: str, target_ids: Sequence[str]) -> set[str]:
        """Which of *target_ids* carry an active hold."""
        if not target_ids:
            return set()
        query = (
            select(holds.c.target_id)
            .where(
                holds.c.target_kind == target_kind,
                holds.c.target_id.in_(list(target_ids)),
                holds.c.released_at.is_(None),
            )
            .distinct()
        )
        return {row.target_id for row in await self.conn.execute(query)}

    async def insert_hold(self, hold: Hold, sandbox_id: str) -> None:
        values = {**dataclasses.asdict(hold), "sandbox_id": sandbox_id}
        await self.conn.execute(insert(holds).values(**values))

    async def release_hold(
        self, hold_id: str, *, now: float, actor: str | None, reason: str
    ) -> bool:
        result = await self.conn.execute(
            update(holds)
            .where(holds.c.hold_id == hold_id, holds.c.released_at.is_(None))
            .values(released_at=now, released_by=actor, release_reason=reason)
        )
        return bool(result.rowcount)

    async def blob_refs(self, package: PackageRecord) -> list[tuple[str, str]]:
        """``(backend, digest)`` of a package's files and manifest."""
        refs = [(f.backend, f.sha256) for f in await self.files(package.package_id)]
        if package.manifest_address is not None and package.manifest_backend is not None:
            refs.append((package.manifest_backend, package.manifest_address))
        return refs

    async def blobs_under_hold(self, refs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of *refs* a hold in force still covers (through a held package's files or
        manifest, or a held artifact)."""
        wanted = sorted({digest for _, digest in refs})
        covered: set[tuple[str, str]] = set()
        for start in range(0, len(wanted), _IN_CHUNK):  # bounded bind parameters per query
            covered |= await self._under_hold(wanted[start : start + _IN_CHUNK])
        return covered & set(refs)

    async def _under_hold(self, digests: list[str]) -> set[tuple[str, str]]:
        active = and_(holds.c.released_at.is_(None))
        queries = [
            select(package_files.c.backend, package_files.c.sha256).where(
                package_files.c.sha256.in_(digests),
                holds.c.target_kind == "package",
                holds.c.target_id == package_files.c.package_id,
                active,
            ),
            select(packages.c.manifest_backend, packages.c.manifest_address).where(
                packages.c.manifest_address.in_(digests),
                holds.c.target_kind == "package",
                holds.c.target_id == packages.c.package_id,
                active,
            ),
            select(artifacts.c.storage_provider, artifacts.c.sha256).where(
                artifacts.c.sha256.in_(digests),
                holds.c.target_kind == "artifact",
                holds.c.target_id == artifacts.c.artifact_id,
                active,
            ),
        ]
        covered: set[tuple[str, str]] = set()
        for query in queries:
            covered.update((row[0], row[1]) for row in await self.conn.execute(query))
        return covered

    # -- metadata schemas --------------------------------------------------------------------

    async def schema(
        self, sandbox_id: str, slug: str, version: int | None
    ) -> tuple[int, dict[str, Any]] | None:
        """``(version, document)`` of the schema *slug* at *version* (None: the latest)."""
        query = select(metadata_schemas.c.version, metadata_schemas.c.document).where(
            metadata_schemas.c.sandbox_id == sandbox_id, metadata_schemas.c.slug == slug
        )
        if version is not None:
            query = query.where(metadata_schemas.c.version == version)
        query = query.order_by(metadata_schemas.c.version.desc()).limit(1)
        row = (await self.conn.execute(query)).first()
        return None if row is None else (int(row.version), dict(row.document))

    async def schemas(self, sandbox_id: str) -> list[dict[str, Any]]:
        query = (
            select(metadata_schemas)
            .where(metadata_schemas.c.sandbox_id == sandbox_id)
            .order_by(metadata_schemas.c.slug, metadata_schemas.c.version)
        )
        return [
            {
                "slug": row.slug,
                "version": int(row.version),
                "schema": dict(row.document),
                "created_at": row.created_at,
                "actor": row.actor,
            }
            for row in await self.conn.execute(query)
        ]

    async def insert_schema(
        self,
        sandbox_id: str,
        slug: str,
        version: int,
        document: dict[str, Any],
        *,
        now: float,
        actor: str | None,
    ) -> None:
        await self.conn.execute(
            insert(metadata_schemas).values(
                sandbox_id=sandbox_id,
                slug=slug,
                version=version,
                document=document,
                created_at=now,
                actor=actor,
            )
        )

    # -- references --------------------------------------------------------------------------

    async def count(self, sandbox_id: str) -> tuple[int, int]:
        query = select(func.count(), func.coalesce(func.sum(packages.c.total_bytes), 0)).where(
            packages.c.sandbox_id == sandbox_id
        )
        count, total = tuple((await self.conn.execute(query)).one())
        return int(count), int(total)
