"""List and search latency as the catalog grows: SQLite to 10M artifacts, PostgreSQL to 1M.

    .venv/bin/python bench/growth.py [--catalog sqlite|postgres]
                                     [--sizes 10000,100000,1000000] [--calls 300]

A fresh embedded store (filesystem blobs, catalog on SQLite, or with ``--catalog postgres`` on a
throwaway PostgreSQL started by tests/harness/postgres.py) creates its catalog schema, every
migration applied as on any start, indexes included. The artifacts table is then filled in bulk
(storing millions of blobs through the API would measure the disk, not the catalog): on SQLite
through the catalog's own insert statement (``HotInsert``: values through the columns' bind
processors) by ``executemany`` in transactions of 500,000 rows, with the journal off and a
512 MiB page cache for the fill only; on PostgreSQL by ``COPY`` (asyncpg's
``copy_records_to_table``, values through the same bind processors), then ``VACUUM (ANALYZE)``
as autovacuum would have done to a table written over time. The schema is checked unchanged
by the fill (no index dropped or added).

100 artifacts per session, 10 sessions per user (so each user owns 1,000 artifacts and the
number of users grows with the catalog), a mix of MIME types and a ``kind`` meta field with 10
values. At each size the public API is timed on a store opened after the fill (as a restart
would): ``list_by_session(session, limit=50)`` on random sessions, and ``search(user_id=…,
mime_prefix="image/", meta_filter={"kind": …}, limit=50)`` on random users. Prints the fill
time and the catalog's size on disk per size, p50 and p99 per size and operation, the
largest / 10k ratio of p50, and whether the targets are met (p50 ≤ 10 ms at the largest size,
ratio ≤ 3).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.dialects.sqlite.pysqlite import dialect as pysqlite_dialect

from satchel import ArtifactStore, Settings
from satchel.catalog.hotinsert import HotInsert
from satchel.catalog.tables import artifacts, sessions

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.harness (PostgreSQL)

PER_SESSION = 100
SESSIONS_PER_USER = 10  # so every user owns 1,000 artifacts, at every size
MIMES = ["image/png", "image/jpeg", "text/plain", "application/json", "application/pdf"]
KINDS = [f"kind-{n}" for n in range(10)]
SANDBOX = "default"
SHA = "sha256:" + "0" * 64
BATCH = 500_000  # rows per transaction (SQLite) or per COPY (PostgreSQL)
TARGET_P50_MS = 10.0
TARGET_RATIO = 3.0
ARTIFACT_COLUMNS = (
    "artifact_id",
    "sandbox_id",
    "scope",
    "session_id",
    "owner_id",
    "filename",
    "mime",
    "summary",
    "meta",
    "bytes",
    "sha256",
    "etag",
    "version",
    "key",
    "stored_at",
    "updated_at",
    "expires_at",
    "ttl",
    "storage_provider",
)
SESSION_COLUMNS = ("session_id", "sandbox_id", "user_id", "created_at", "expires_at")

Row = dict[str, Any]


def session_rows(start: int, stop: int, origin: float) -> Iterator[Row]:
    """The sessions artifacts start..stop-1 start (a session starts with its first artifact)."""
    expires = time.time() + 30 * 86_400
    for n in range(start + (-start) % PER_SESSION, stop, PER_SESSION):
        yield {
            "session_id": f"s{n // PER_SESSION:07d}",
            "sandbox_id": SANDBOX,
            "user_id": f"u{n // PER_SESSION // SESSIONS_PER_USER:05d}",
            "created_at": origin + n * 0.001,
            "expires_at": expires,
        }


def artifact_rows(start: int, stop: int, origin: float) -> Iterator[Row]:
    """Artifact rows start..stop-1. Artifact n is stored at ``origin + n`` milliseconds, so
    later rows are newer at every size, whatever the batches."""
    for n in range(start, stop):
        session = f"s{n // PER_SESSION:07d}"
        artifact_id = f"a{n:012d}"
        yield {
            "artifact_id": artifact_id,
            "sandbox_id": SANDBOX,
            "scope": "user" if n % 2 else "session",
            "session_id": session,
            "owner_id": f"u{n // PER_SESSION // SESSIONS_PER_USER:05d}",
            "filename": f"dir/{n}.bin",
            "mime": MIMES[n % len(MIMES)],
            "summary": "growth",
            "meta": {"kind": KINDS[n % len(KINDS)], "n": n},
            "bytes": 4096,
            "sha256": SHA,
            "etag": f"e{n}",
            "version": 1,
            "key": f"grid/{SANDBOX}/{session}/{artifact_id}",
            "stored_at": origin + n * 0.001,
            "updated_at": origin + n * 0.001,
            "expires_at": None,
            "ttl": None,
            "storage_provider": "filesystem",
        }


def batches(start: int, stop: int) -> Iterator[tuple[int, int]]:
    for low in range(start, stop, BATCH):
        yield low, min(stop, low + BATCH)


# -- SQLite -------------------------------------------------------------------------------------


def sqlite_schema(db: Path) -> list[tuple[str, str, str | None]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'"
        return sorted(conn.execute(query).fetchall())


def fill_sqlite(db: Path, start: int, stop: int, origin: float) -> None:
    """Rows start..stop-1 through the catalog's insert statements, executemany per batch."""
    dialect = pysqlite_dialect()
    artifact_plan = HotInsert(artifacts).plan(dialect, ARTIFACT_COLUMNS)
    session_plan = HotInsert(sessions).plan(dialect, SESSION_COLUMNS)
    assert artifact_plan is not None
    assert session_plan is not None
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        # For the fill only (the store's own open sets WAL and full sync again): no journal,
        # no fsync, and room for the indexes' working pages.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-524288")
        for low, high in batches(start, stop):
            conn.execute("BEGIN")
            sql, values = session_plan.sql, session_plan.values
            conn.executemany(sql, map(values, session_rows(low, high, origin)))
            sql, values = artifact_plan.sql, artifact_plan.values
            conn.executemany(sql, map(values, artifact_rows(low, high, origin)))
            conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


# -- PostgreSQL ---------------------------------------------------------------------------------


def encoder(table: Table, columns: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """A row's values in *columns* order through the columns' bind processors on asyncpg (what
    SQLAlchemy would send: the JSON column as its text)."""
    dialect = asyncpg_dialect()
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]

    def encode(row: Row) -> tuple[Any, ...]:
        return tuple(
            row[name] if process is None else process(row[name])
            for name, process in zip(columns, processors, strict=True)
        )

    return encode


async def fill_postgres(dsn: str, start: int, stop: int, origin: float) -> float:
    """COPY rows start..stop-1 in, then VACUUM (ANALYZE); returns the seconds the latter took."""
    import asyncpg

    encode_artifact = encoder(artifacts, ARTIFACT_COLUMNS)
    encode_session = encoder(sessions, SESSION_COLUMNS)
    conn = await asyncpg.connect(dsn)
    try:
        for low, high in batches(start, stop):
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "sessions",
                    records=map(encode_session, session_rows(low, high, origin)),
                    columns=list(SESSION_COLUMNS),
                )
                await conn.copy_records_to_table(
                    "artifacts",
                    records=map(encode_artifact, artifact_rows(low, high, origin)),
                    columns=list(ARTIFACT_COLUMNS),
                )
        began = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) artifacts, sessions")
        return time.perf_counter() - began
    finally:
        await conn.close()


async def postgres_schema(dsn: str) -> list[tuple[str, str]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetch(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " UNION ALL SELECT table_name, column_name || ' ' || data_type"
            " FROM information_schema.columns WHERE table_schema = 'public'"
        )
        return sorted((row[0], row[1]) for row in found)
    finally:
        await conn.close()


async def postgres_size(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[tuple[str, str]]:
    """A throwaway PostgreSQL cluster with one empty database: (store URL, asyncpg DSN)."""
    from tests.harness.postgres import start_postgres

    base = Path(tempfile.mkdtemp(prefix="satchel-growth-pg-"))  # its own: chowned to postgres
    server = None
    try:
        server = start_postgres(base)
        database = server.create_database(prefix="satchel_growth")
        print(f"PostgreSQL {server.version} on 127.0.0.1:{server.port} ({base})", flush=True)
        yield server.url(database), server.dsn(database)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


# -- the measurement ----------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def measure(
    settings: Settings, size: int, calls: int
) -> tuple[float, dict[str, tuple[float, float]]]:
    """Seconds the store took to open, and p50 / p99 of each operation."""
    rng = random.Random(size)
    sessions_count = size // PER_SESSION
    began = time.perf_counter()
    async with ArtifactStore(storage_provider="filesystem", settings=settings) as store:
        opened = time.perf_counter() - began
        timings: dict[str, list[float]] = {"list_by_session": [], "search": []}
        for _ in range(calls):
            index = rng.randrange(sessions_count)
            session, user = f"s{index:07d}", f"u{index // SESSIONS_PER_USER:05d}"
            began = time.perf_counter()
            listed = await store.list_by_session(session, limit=50, user_id=user)
            timings["list_by_session"].append(time.perf_counter() - began)
            assert len(listed) == 50, len(listed)
            user = f"u{rng.randrange(sessions_count // SESSIONS_PER_USER):05d}"
            began = time.perf_counter()
            found = await store.search(
                user_id=user,
                mime_prefix="image/",
                meta_filter={"kind": rng.choice(KINDS)},
                limit=50,
            )
            timings["search"].append(time.perf_counter() - began)
            assert all(a.mime.startswith("image/") for a in found)
    return opened, {name: percentiles(values) for name, values in timings.items()}


async def create_schema(settings: Settings) -> None:
    async with ArtifactStore(storage_provider="filesystem", settings=settings):
        pass


def report(results: dict[int, dict[str, tuple[float, float]]], catalog: str) -> None:
    sizes = list(results)
    print(f"\n{catalog}")
    print(f"{'rows':>12}{'operation':>18}{'p50 ms':>10}{'p99 ms':>10}")
    for size, result in results.items():
        for name, (p50, p99) in result.items():
            print(f"{size:>12,}{name:>18}{p50 * 1e3:10.2f}{p99 * 1e3:10.2f}")
    base = 10_000 if 10_000 in results else sizes[0]
    largest = sizes[-1]
    for name in results[largest]:
        p50 = results[largest][name][0] * 1e3
        ratio = results[largest][name][0] / results[base][name][0]
        p50_met = "met" if p50 <= TARGET_P50_MS else "NOT met"
        ratio_met = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(
            f"{name}: p50 at {largest:,} = {p50:.2f} ms (≤ {TARGET_P50_MS:g} ms: {p50_met}); "
            f"p50 {largest:,} / {base:,} = {ratio:.2f} (≤ {TARGET_RATIO:g}: {ratio_met})"
        )


def run(catalog: str, sizes: list[int], calls: int) -> dict[int, dict[str, tuple[float, float]]]:
    root = Path(tempfile.mkdtemp(prefix="satchel-bench-growth-"))
    origin = time.time() - 86_400 - sizes[-1] * 0.001  # the newest row is a day old
    results: dict[int, dict[str, tuple[float, float]]] = {}
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        db, dsn = root / "satchel.db", ""
        if catalog == "postgres":
            url, dsn = stack.enter_context(postgres_database())
            settings = Settings(data_dir=root, database_url=url, purge_interval_seconds=0)
        else:
            settings = Settings(data_dir=root, purge_interval_seconds=0)

        def schema() -> list[Any]:
            if catalog == "postgres":
                return list(asyncio.run(postgres_schema(dsn)))
            return list(sqlite_schema(db))

        asyncio.run(create_schema(settings))
        created = schema()
        have = 0
        for size in sizes:
            began = time.perf_counter()
            if catalog == "postgres":
                vacuum = asyncio.run(fill_postgres(dsn, have, size, origin))
                took = time.perf_counter() - began
                disk = asyncio.run(postgres_size(dsn))
                note = f", of which VACUUM (ANALYZE) {vacuum:.1f} s"
            else:
                fill_sqlite(db, have, size, origin)
                took = time.perf_counter() - began
                disk = sum(path.stat().st_size for path in root.glob("satchel.db*"))
                note = ""
            assert schema() == created, "the fill changed the catalog's schema"
            print(
                f"filled {have:,} to {size:,} rows in {took:.1f} s "
                f"({(size - have) / took:,.0f} rows/s{note}), catalog {disk / 2**30:.2f} GiB",
                flush=True,
            )
            have = size
            opened, results[size] = asyncio.run(measure(settings, size, calls))
            print(f"  store opened in {opened:.2f} s, {calls} calls of each timed", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    if any(size % (PER_SESSION * SESSIONS_PER_USER) for size in sizes):
        parser.error(f"sizes are whole users: multiples of {PER_SESSION * SESSIONS_PER_USER}")
    report(run(args.catalog, sizes, args.calls), args.catalog)


if __name__ == "__main__":
    main()
