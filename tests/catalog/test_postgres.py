"""The catalog on PostgreSQL (the harness's throwaway server): migrations, typed JSON filters,
error mapping, and periodic jobs that several replicas run at once without double work.

The store-level suites (tests/store) also run on PostgreSQL as the ``postgres`` backend; this
module covers what only a server database has: concurrent migrators, concurrent purges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from tests.harness.postgres import PostgresServer
from tests.store.internals import catalog_of

from satchel import ArtifactStore, Settings
from satchel.catalog import Catalog
from satchel.catalog.migrate import alembic_config
from satchel.catalog.tables import metadata
from satchel.catalog.tables import uploads as uploads_table
from satchel.core.errors import ProviderUnavailableError
from satchel.core.events import Audience
from satchel.core.models import SessionRecord
from satchel.core.requests import MultipartUploadInitRequest
from satchel.core.uploads import UploadState
from satchel.testing import ManualClock

HEAD = "0015"


@pytest.fixture
def empty_database(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of a new database with no tables at all."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


def _inspect(url: str, look: Callable[[sa.Connection], Any]) -> Any:
    """Run *look* on a synchronous view of a connection to *url* (from sync test code)."""

    async def main() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _tables(conn: sa.Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def _versions(conn: sa.Connection) -> list[str]:
    return [row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]


def _diff(conn: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _indexes(conn: sa.Connection) -> set[str]:
    inspector = sa.inspect(conn)
    return {
        str(index["name"])
        for table in inspector.get_table_names()
        for index in inspector.get_indexes(table)
    }


def _key_collation(conn: sa.Connection) -> str | None:
    """The collation of ``artifacts.key`` (None: the database's default)."""
    query = sa.text(
        "SELECT collation_name FROM information_schema.columns "
        "WHERE table_name = 'artifacts' AND column_name = 'key'"
    )
    found: str | None = conn.execute(query).scalar_one()
    return found


# -- migrations ----------------------------------------------------------------------------------


def test_migrations_upgrade_downgrade_upgrade_on_postgres(empty_database: str) -> None:
    config = alembic_config(empty_database)  # env.py's URL path: its own async engine
    command.upgrade(config, "head")
    assert _inspect(empty_database, _tables) == {*metadata.tables, "alembic_version"}
    assert _inspect(empty_database, _versions) == [HEAD]
    assert _inspect(empty_database, _diff) == []  # same columns, types, indexes as tables.py
    expected = {str(i.name) for table in metadata.tables.values() for i in table.indexes}
    assert _inspect(empty_database, _indexes) == expected
    # byte order for grid keys (0014); Alembic's diff does not compare collations
    assert _inspect(empty_database, _key_collation) == "C"

    command.downgrade(config, "0013")
    assert _inspect(empty_database, _key_collation) is None

    command.downgrade(config, "base")
    assert _inspect(empty_database, _tables) == {"alembic_version"}
    command.upgrade(config, "head")
    assert _inspect(empty_database, _diff) == []
    assert _inspect(empty_database, _versions) == [HEAD]


async def test_replicas_migrating_one_new_database_at_once(empty_database: str) -> None:
    """Four catalogs (each with its own connection pool, as replicas have) migrate at once."""
    catalogs = [Catalog(empty_database) for _ in range(4)]
    try:
        await asyncio.gather(*(catalog.migrate() for catalog in catalogs))
        await catalogs[0].migrate()  # and again: a no-op
        async with catalogs[1].write() as writer:
            record = SessionRecord("s1", "default", None, created_at=1.0, expires_at=None)
            assert await writer.insert_session(record)
            await writer.append_event(
                type="v1.session.created",
                subject="s1",
                payload={},
                actor=None,
                time=1.0,
                audience=Audience.admins("default"),
            )
        async with catalogs[2].read() as reader:
            assert await reader.get_session("s1") == record
    finally:
        for catalog in catalogs:
            await catalog.close()


async def test_catalog_reports_postgresql(postgres_url: str) -> None:
    catalog = Catalog(postgres_url)
    try:
        await catalog.migrate()
        check = await catalog.check()
    finally:
        await catalog.close()
    assert check["status"] == "ok"
    assert check["dialect"] == "postgresql"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
async def test_a_url_without_driver_means_asyncpg(
    postgres_server: PostgresServer, postgres_database: str, scheme: str
) -> None:
    url = postgres_server.dsn(postgres_database).replace("postgresql://", f"{scheme}://")
    catalog = Catalog(url)
    try:
        await catalog.migrate()
        assert (await catalog.check())["status"] == "ok"
    finally:
        await catalog.close()
    assert catalog.url.startswith("postgresql+asyncpg://")


async def test_unreachable_server_is_provider_unavailable(postgres_server: PostgresServer) -> None:
    closed_port = postgres_server.port + 1 if postgres_server.port < 65535 else 1
    catalog = Catalog(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/nothing")
    try:
        with pytest.raises(ProviderUnavailableError):
            await catalog.migrate()
        assert (await catalog.check())["status"] == "error"
    finally:
        await catalog.close()


# -- JSON meta filters: typed, exact, and never a failing cast ------------------------------------

META: dict[str, dict[str, Any]] = {
    "int": {"n": 1},
    "true": {"n": True},
    "float": {"n": 1.5},
    "tiny": {"n": 0.30000000000000004},
    "huge": {"n": 10**30},
    "text": {"n": "1"},
    "word": {"n": "one"},
    "list": {"n": [1]},
    "none": {"n": None},
    "absent": {},
}
FILTERS: list[tuple[dict[str, Any], set[str]]] = [
    ({"n": 1}, {"int"}),
    ({"n": True}, {"true"}),
    ({"n": False}, set()),
    ({"n": 1.5}, {"float"}),
    ({"n": 0.30000000000000004}, {"tiny"}),
    ({"n": 0.3}, set()),
    ({"n": 10**30}, {"huge"}),
    ({"n": "1"}, {"text"}),
    ({"n": "one"}, {"word"}),
    ({"n": [1]}, {"list"}),
    ({"n": None}, {"none"}),
]


async def test_meta_filters_on_mixed_types(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres_url)
    async with ArtifactStore(settings=settings, storage_provider="filesystem") as store:
        ids = {
            name: await store.store(name.encode(), mime="text/plain", session_id="s", meta=meta)
            for name, meta in META.items()
        }
        for meta_filter, expected in FILTERS:
            found = await store.search(session_id="s", meta_filter=meta_filter)
            assert {m.artifact_id for m in found} == {ids[n] for n in expected}, meta_filter


# -- periodic jobs on several replicas ------------------------------------------------------------

EXPIRING = 120


def _replica(url: str, tmp_path: Path, name: str, clock: ManualClock) -> ArtifactStore:
    """A store sharing the catalog, the blob directory and the clock with the other replicas."""
    settings = Settings(
        data_dir=tmp_path / name,
        fs_root=tmp_path / "shared-blobs",
        database_url=url,
        gc_grace_seconds=0,
        fsync=False,
    )
    return ArtifactStore(settings=settings, storage_provider="filesystem", clock=clock)


async def test_concurrent_purges_process_each_expired_artifact_once(
    postgres_url: str, tmp_path: Path
) -> None:
    clock = ManualClock()
    replicas = [_replica(postgres_url, tmp_path, f"replica{n}", clock) for n in range(3)]
    try:
        for replica in replicas:
            await replica.open()
        writer = replicas[0]
        expiring = [
            await writer.store(
                b"expiring %d" % n, mime="text/plain", session_id=f"s{n % 7}", ttl=60
            )
            for n in range(EXPIRING)
        ]
        kept = await writer.store(b"kept", mime="text/plain", session_id="keep", ttl=None)
        clock.advance(3600)

        results = await asyncio.gather(*(replica.purge_expired() for replica in replicas))

        assert sum(r["artifacts"] for r in results) == EXPIRING
        assert sum(r["blobs"] for r in results) == EXPIRING
        async with catalog_of(writer).read() as reader:
            events = await reader.events_after(0, limit=100_000)
        expired = [e["subject"] for e in events if e["type"] == "v1.artifact.expired"]
        assert sorted(expired) == sorted(expiring)  # each exactly once
        collected = [e["subject"] for e in events if e["type"] == "v1.blob.collected"]
        assert len(collected) == len(set(collected)) == EXPIRING
        assert await writer.retrieve(kept) == b"kept"
        for artifact_id in expiring[:5]:
            assert not await replicas[1].exists(artifact_id)
    finally:
        for replica in replicas:
            await replica.close()


async def test_concurrent_purges_forget_each_expired_session_once(
    postgres_url: str, tmp_path: Path
) -> None:
    clock = ManualClock()
    replicas = [_replica(postgres_url, tmp_path, f"replica{n}", clock) for n in range(2)]
    try:
        for replica in replicas:
            await replica.open()
        sessions = [await replicas[0].create_session(ttl_hours=1) for _ in range(30)]
        clock.advance(2 * 3600)
        results = await asyncio.gather(*(replica.purge_expired() for replica in replicas))
        assert sum(r["sessions"] for r in results) == len(sessions)
        async with catalog_of(replicas[0]).read() as reader:
            events = await reader.events_after(0, limit=100_000)
        forgotten = [e["subject"] for e in events if e["type"] == "v1.session.expired"]
        assert sorted(forgotten) == sorted(sessions)
    finally:
        for replica in replicas:
            await replica.close()


UPLOADS = 60


async def test_concurrent_purges_expire_each_upload_once(postgres_url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    replicas = [_replica(postgres_url, tmp_path, f"replica{n}", clock) for n in range(3)]
    try:
        for replica in replicas:
            await replica.open()
        upload_ids = []
        for n in range(UPLOADS):
            request = MultipartUploadInitRequest(filename=f"f{n}.bin", session_id=f"s{n % 5}")
            started = await replicas[0].initiate_multipart_upload(request)
            upload_ids.append(started["upload_id"])
        kept = await replicas[0].initiate_multipart_upload(
            MultipartUploadInitRequest(filename="kept.bin", session_id="keep")
        )
        later = clock.advance(replicas[0].settings.upload_expiry_seconds + 60)
        async with catalog_of(replicas[0]).write() as writer:  # the kept one expires after later
            await writer.raw.execute(
                sa.update(uploads_table)
                .where(uploads_table.c.upload_id == kept["upload_id"])
                .values(expires_at=later + 3600)
            )

        results = await asyncio.gather(*(replica.purge_expired() for replica in replicas))

        assert sum(r["uploads"] for r in results) == UPLOADS  # each counted by one replica only
        async with catalog_of(replicas[0]).read() as reader:
            events = await reader.events_after(0, limit=100_000)
            kept_row = await reader.get_upload(kept["upload_id"], replicas[0].sandbox_id)
        expired = [e["subject"] for e in events if e["type"] == "v1.upload.expired"]
        assert sorted(expired) == sorted(upload_ids)  # each announced exactly once
        assert kept_row is not None
        assert kept_row.state is UploadState.OPEN
        again = await asyncio.gather(*(replica.purge_expired() for replica in replicas))
        assert [r["uploads"] for r in again] == [0, 0, 0]
    finally:
        for replica in replicas:
            await replica.close()


async def test_a_purge_skips_uploads_another_replica_holds(
    postgres_url: str, tmp_path: Path
) -> None:
    """The claim itself: a purge neither waits for nor processes an upload row another
    transaction holds (without SKIP LOCKED it would block until that transaction ends)."""
    clock = ManualClock()
    replicas = [_replica(postgres_url, tmp_path, f"replica{n}", clock) for n in range(2)]
    try:
        for replica in replicas:
            await replica.open()
        upload_ids = []
        for n in range(5):
            request = MultipartUploadInitRequest(filename=f"f{n}.bin", session_id="s")
            upload_ids.append((await replicas[0].initiate_multipart_upload(request))["upload_id"])
        clock.advance(replicas[0].settings.upload_expiry_seconds + 60)
        held = upload_ids[0]
        async with catalog_of(replicas[0]).write() as writer:
            await writer.conn.execute(
                sa.select(uploads_table.c.upload_id)
                .where(uploads_table.c.upload_id == held)
                .with_for_update()
            )
            result = await asyncio.wait_for(replicas[1].purge_expired(), timeout=10)
        assert result["uploads"] == len(upload_ids) - 1
        assert (await replicas[1].purge_expired())["uploads"] == 1  # released: now it goes
        async with catalog_of(replicas[0]).read() as reader:
            events = await reader.events_after(0, limit=100_000)
        expired = [e["subject"] for e in events if e["type"] == "v1.upload.expired"]
        assert sorted(expired) == sorted(upload_ids)
        assert expired[-1] == held
    finally:
        for replica in replicas:
            await replica.close()
