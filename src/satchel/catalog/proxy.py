"""Rows of the pull-through cache: one entry per remote path (a view of the log)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from satchel.catalog.connection import CatalogConnection, HotQuery
from satchel.catalog.tables import proxy_entries, proxy_fetches, proxy_usage
from satchel.core.proxy import ProxyEntry

__all__ = ["ProxyRows"]

_T = proxy_entries.c
_U = proxy_usage.c
_F = proxy_fetches.c
_INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_ENTRY_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")
_LOCK_SPACE = 0x5A7C  # the two-key advisory lock space of proxy entries


def _key(entry_id: str) -> int:
    return int(entry_id[:7], 16)  # 28 bits of the id: a collision only makes two paths wait


# every read through the cache looks its entry up first
_GET = HotQuery(select(proxy_entries).where(_T.entry_id == bindparam("entry_id")))


class ProxyRows:
    """Reads and writes of proxy entries on one transaction's connection."""

    def __init__(self, conn: CatalogConnection) -> None:
        self.conn = conn

    async def lock(self, entry_id: str) -> ProxyEntry | None:
        """The entry, read after taking this transaction's lock on its id (PostgreSQL: an
        advisory lock held to commit, so writers of one path take turns, a path not cached yet
        included; SQLite has one writer at a time already)."""
        if self.conn.dialect.name == "postgresql":
            await self.conn.execute(_ENTRY_LOCK, {"space": _LOCK_SPACE, "key": _key(entry_id)})
        return await self.get(entry_id)

    async def get(self, entry_id: str) -> ProxyEntry | None:
        row = (await self.conn.execute(_GET, {"entry_id": entry_id})).first()
        return None if row is None else ProxyEntry.from_row(row)

    async def by_artifact(self, artifact_id: str) -> ProxyEntry | None:
        query = select(proxy_entries).where(_T.artifact_id == artifact_id)
        row = (await self.conn.execute(query)).first()
        return None if row is None else ProxyEntry.from_row(row)

    async def put(self, entry: ProxyEntry, *, exists: bool) -> None:
        """Insert *entry*, or (*exists*) replace the row of its id."""
        values = entry.to_dict()
        if exists:
            values.pop("entry_id")
            await self.conn.execute(
                update(proxy_entries).where(_T.entry_id == entry.entry_id).values(**values)
            )
        else:
            await self.conn.execute(insert(proxy_entries), values)

    async def touch(self, entry_id: str, **values: Any) -> None:
        await self.conn.execute(
            update(proxy_entries).where(_T.entry_id == entry_id).values(**values)
        )

    async def delete(self, entry_id: str) -> None:
        await self.conn.execute(delete(proxy_entries).where(_T.entry_id == entry_id))
        await self.conn.execute(delete(proxy_usage).where(_U.entry_id == entry_id))

    async def forget_lapsed(self, sandbox_id: str, now: float, limit: int) -> int:
        """Delete up to *limit* remembered 404s whose time has passed; how many."""
        query = (
            select(_T.entry_id)
            .where(
                _T.sandbox_id == sandbox_id,
                _T.missing_until < now,
                _T.artifact_id.is_(None),
            )
            .limit(limit)
        )
        lapsed = [row[0] for row in await self.conn.execute(query)]
        for entry_id in lapsed:
            await self.conn.execute(delete(proxy_entries).where(_T.entry_id == entry_id))
        return len(lapsed)

    async def record_use(self, uses: dict[str, float]) -> None:
        """When entries were last read (a later time than recorded wins)."""
        rows = [{"entry_id": key, "last_used_at": when} for key, when in sorted(uses.items())]
        for start in range(0, len(rows), 500):  # one statement of many VALUES per 500
            statement = _INSERTS[self.conn.dialect.name](proxy_usage).values(
                rows[start : start + 500]
            )
            newer: Any = func.max(_U.last_used_at, statement.excluded.last_used_at)
            if self.conn.dialect.name == "postgresql":
                newer = func.greatest(_U.last_used_at, statement.excluded.last_used_at)
            await self.conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["entry_id"], set_={"last_used_at": newer}
                )
            )

    async def least_recently_used(
        self, sandbox_id: str, remote: str | None, limit: int
    ) -> list[ProxyEntry]:
        """Cached files (of *remote*, or of all), least recently read first."""
        used = func.coalesce(_U.last_used_at, _T.fetched_at)
        query = (
            select(proxy_entries)
            .outerjoin(proxy_usage, _U.entry_id == _T.entry_id)
            .where(_T.sandbox_id == sandbox_id, _T.artifact_id.is_not(None))
        )
        if remote is not None:
            query = query.where(_T.remote == remote)
        query = query.order_by(used, _T.entry_id).limit(limit)
        return [ProxyEntry.from_row(row) for row in await self.conn.execute(query)]

    async def listing(
        self,
        sandbox_id: str,
        remote: str,
        *,
        after: str | None,
        prefix: str | None,
        limit: int,
        cached_only: bool = True,
    ) -> list[ProxyEntry]:
        """Entries of *remote* in path order after path *after*, whose path starts with
        *prefix* (only those holding a file, unless not *cached_only*)."""
        query = select(proxy_entries).where(_T.sandbox_id == sandbox_id, _T.remote == remote)
        if cached_only:
            query = query.where(_T.artifact_id.is_not(None))
        if after is not None:
            query = query.where(_T.path > after)
        if prefix:
            query = query.where(func.substr(_T.path, 1, len(prefix)) == prefix)
        query = query.order_by(_T.path).limit(limit)
        return [ProxyEntry.from_row(row) for row in await self.conn.execute(query)]

    async def usage(self, sandbox_id: str) -> dict[str, dict[str, int]]:
        """Per remote: cached files and their bytes."""
        query = (
            select(_T.remote, func.count(), func.coalesce(func.sum(_T.bytes), 0))
            .where(_T.sandbox_id == sandbox_id, _T.artifact_id.is_not(None))
            .group_by(_T.remote)
        )
        return {
            row[0]: {"files": int(row[1]), "bytes": int(row[2])}
            for row in await self.conn.execute(query)
        }

    # -- who downloads a path now (a lease) ------------------------------------------------------

    async def claim(self, entry_id: str, owner: str, now: float, until: float) -> bool:
        """Take the download lease of *entry_id* when nobody holds it (or it lapsed)."""
        taken = await self.conn.execute(
            update(proxy_fetches)
            .where(_F.entry_id == entry_id, _F.until < now)
            .values(owner=owner, until=until)
        )
        if taken.rowcount:
            return True
        statement = _INSERTS[self.conn.dialect.name](proxy_fetches).values(
            entry_id=entry_id, owner=owner, until=until
        )
        inserted = await self.conn.execute(
            statement.on_conflict_do_nothing(index_elements=["entry_id"])
        )
        return bool(inserted.rowcount)

    async def renew(self, entry_id: str, owner: str, until: float) -> None:
        await self.conn.execute(
            update(proxy_fetches)
            .where(_F.entry_id == entry_id, _F.owner == owner)
            .values(until=until)
        )

    async def release(self, entry_id: str, owner: str) -> None:
        await self.conn.execute(
            delete(proxy_fetches).where(_F.entry_id == entry_id, _F.owner == owner)
        )

    async def holder(self, entry_id: str, now: float) -> str | None:
        """Who holds the download lease of *entry_id* now (None: nobody)."""
        query = select(_F.owner).where(_F.entry_id == entry_id, _F.until >= now)
        row = (await self.conn.execute(query)).first()
        return None if row is None else str(row[0])
