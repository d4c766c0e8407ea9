"""Alembic migrations create exactly the schema of ``satchel.catalog.tables``, safely.

Compared on SQLite files through SQLAlchemy's inspector: a migrated database against the
metadata itself and against ``metadata.create_all``, plus Alembic's own autogenerate diff.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.dialects import sqlite

from satchel.catalog import Catalog
from satchel.catalog.migrate import alembic_config
from satchel.catalog.tables import metadata
from satchel.core.events import Audience

HEAD = "0015"
VERSION_TABLE = "alembic_version"


def _async_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _sync_engine(path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{path}")


def _schema(path: Path) -> dict[str, Any]:
    """Tables → columns (type, nullable, pk), index names/columns/uniqueness, pk name."""
    engine = _sync_engine(path)
    try:
        inspector = sa.inspect(engine)
        schema: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            if table == VERSION_TABLE:
                continue
            pk = inspector.get_pk_constraint(table)
            schema[table] = {
                "columns": [
                    (
                        c["name"],
                        str(c["type"]),
                        c["nullable"],
                        c["name"] in pk["constrained_columns"],
                    )
                    for c in inspector.get_columns(table)
                ],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "pk": (pk["name"], tuple(pk["constrained_columns"])),
            }
        return schema
    finally:
        engine.dispose()


def _expected_schema() -> dict[str, Any]:
    """The same shape, read from the SQLAlchemy metadata (types compiled for SQLite)."""
    dialect = sqlite.dialect()
    schema: dict[str, Any] = {}
    for name in sorted(metadata.tables):
        table = metadata.tables[name]
        schema[name] = {
            "columns": [
                (c.name, c.type.compile(dialect=dialect), c.nullable, c.primary_key)
                for c in table.columns
            ],
            "indexes": sorted(
                (str(i.name), tuple(c.name for c in i.columns), bool(i.unique))
                for i in table.indexes
            ),
            "pk": (_pk_name(table), tuple(c.name for c in table.primary_key.columns)),
        }
    return schema


def _pk_name(table: sa.Table) -> str | None:
    """SQLite declares an AUTOINCREMENT key inline (``seq INTEGER PRIMARY KEY AUTOINCREMENT``),
    where a constraint cannot carry a name."""
    return None if table.dialect_options["sqlite"]["autoincrement"] else table.primary_key.name


def _versions(path: Path) -> list[str]:
    engine = _sync_engine(path)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(sa.text(f"SELECT * FROM {VERSION_TABLE}"))]
    finally:
        engine.dispose()


def _autogenerate_diff(path: Path) -> list[Any]:
    engine = _sync_engine(path)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


# -- the migrated schema is the metadata's schema ----------------------------------------------


def test_migrated_schema_matches_tables(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    command.upgrade(alembic_config(_async_url(db)), "head")
    assert _schema(db) == _expected_schema()
    assert set(_schema(db)) == {
        "api_keys",
        "artifacts",
        "collection_members",
        "aspects",
        "blob_bytes",
        "blobs",
        "events",
        "holds",
        "metadata_schemas",
        "package_files",
        "packages",
        "proxy_entries",
        "proxy_fetches",
        "proxy_usage",
        "sessions",
        "uploads",
        "webhook_cursors",
        "webhook_dead_letters",
        "webhook_secrets",
        "webhooks",
    }
    assert _versions(db) == [HEAD]


def test_migrated_schema_matches_create_all(tmp_path: Path) -> None:
    migrated, created = tmp_path / "migrated.db", tmp_path / "created.db"
    command.upgrade(alembic_config(_async_url(migrated)), "head")
    engine = _sync_engine(created)
    metadata.create_all(engine)
    engine.dispose()
    assert _schema(migrated) == _schema(created)


def test_autogenerate_sees_no_difference(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    command.upgrade(alembic_config(_async_url(db)), "head")
    assert _autogenerate_diff(db) == []


def test_index_names_follow_the_naming_convention(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    command.upgrade(alembic_config(_async_url(db)), "head")
    names = {index[0] for table in _schema(db).values() for index in table["indexes"]}
    assert names == {
        "ix_artifacts_session_id_stored_at_artifact_id",
        "ix_artifacts_session_id_filename",
        "ix_collection_members_artifact_id",
        "ix_artifacts_owner_id_scope_stored_at",
        "ix_artifacts_owner_id_stored_at_artifact_id",
        "ix_artifacts_sandbox_id_key",
        "ix_artifacts_sandbox_id_scope_mime",
        "ix_artifacts_expires_at",
        "ix_artifacts_sha256",
        "ix_sessions_user_id",
        "ix_sessions_expires_at",
        "ix_blobs_orphaned_at",
        "ix_blobs_failure",
        "ix_events_subject_seq",
        "ix_uploads_artifact_id",
        "ix_uploads_state_expires_at",
        "ix_uploads_actor_id_state",
        "ix_api_keys_sandbox_id_created_at",
        "ix_packages_sandbox_id_created_at_package_id",
        "ix_packages_sandbox_id_name_version",
        "ix_packages_sandbox_id_producer_subject_finalized_at",
        "ix_packages_manifest_address_manifest_backend",
        "ix_proxy_entries_sandbox_id_remote_path",
        "ix_proxy_entries_artifact_id",
        "ix_proxy_entries_sandbox_id_missing_until",
        "ix_package_files_sha256_backend",
        "ix_holds_target_kind_target_id_released_at",
        "ix_aspects_sandbox_id_entity_schema",
        "ix_aspects_sandbox_id_created_at_aspect_id",
        "ix_aspects_link_schema",
        "ix_webhooks_sandbox_id_created_at",
    }


# -- idempotence -------------------------------------------------------------------------------


def test_upgrading_twice_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    config = alembic_config(_async_url(db))
    command.upgrade(config, "head")
    first = _schema(db)
    command.upgrade(config, "head")
    assert _schema(db) == first
    assert _versions(db) == [HEAD]


async def test_catalog_migrate_twice_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    for _ in range(2):
        catalog = Catalog(_async_url(db))
        try:
            await catalog.migrate()
            await catalog.migrate()
        finally:
            await catalog.close()
    assert _schema(db) == _expected_schema()
    assert _versions(db) == [HEAD]


async def test_catalog_migrate_keeps_data(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    catalog = Catalog(_async_url(db))
    try:
        await catalog.migrate()
        async with catalog.write() as writer:
            await writer.append_event(
                type="v1.artifact.deleted",
                subject="s",
                payload={"n": 1},
                actor=None,
                time=1.0,
                audience=Audience.everyone("sb"),
            )
        await catalog.migrate()
        async with catalog.read() as reader:
            events = await reader.events_after(0)
    finally:
        await catalog.close()
    assert [(e["type"], e["subject"]) for e in events] == [("v1.artifact.deleted", "s")]


# -- the URL path of env.py: upgrade, downgrade, upgrade again ----------------------------------


def test_alembic_config_upgrade_and_downgrade_with_a_file_url(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "catalog.db"
    db.parent.mkdir()
    config = alembic_config(_async_url(db))
    assert config.get_main_option("sqlalchemy.url") == _async_url(db)
    command.upgrade(config, "head")
    assert set(_schema(db)) == set(metadata.tables)
    assert _versions(db) == [HEAD]

    command.downgrade(config, "base")
    engine = _sync_engine(db)
    try:
        assert sa.inspect(engine).get_table_names() == [VERSION_TABLE]
    finally:
        engine.dispose()
    assert _versions(db) == []

    command.upgrade(config, HEAD)
    assert _schema(db) == _expected_schema()
    assert _versions(db) == [HEAD]


def test_alembic_config_without_url_has_no_url() -> None:
    config = alembic_config()
    assert config.get_main_option("sqlalchemy.url") is None
    assert Path(config.get_main_option("script_location") or "").is_dir()


# -- concurrent first migration from two processes ----------------------------------------------


async def test_first_open_waits_for_another_writer(tmp_path: Path) -> None:
    """Opening a new (rollback-journal) file while another connection writes waits, then works.

    Switching to WAL needs an exclusive lock, and SQLite refuses it at once ("database is
    locked") without consulting the busy timeout while another connection holds a write lock:
    the deterministic form of two processes creating the catalog at the same moment.
    """
    db = tmp_path / "catalog.db"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    try:
        other.execute("CREATE TABLE unrelated (x)")
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, other.execute, ("COMMIT",))
        release.start()
        catalog = Catalog(_async_url(db))
        started = time.monotonic()
        try:
            await catalog.migrate()
        finally:
            await catalog.close()
            release.join()
        assert time.monotonic() - started >= 0.25  # it waited for the other writer
    finally:
        other.close()
    assert _versions(db) == [HEAD]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


ROUNDS = 40

MIGRATOR = textwrap.dedent(
    """
    import asyncio, os, sys, time
    from pathlib import Path

    from satchel.catalog import Catalog
    from satchel.core.events import Audience
    from satchel.core.models import SessionRecord

    base, name, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])


    def wait_for(path):
        deadline = time.monotonic() + 60
        while not path.exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"never told to go: {path}")
            time.sleep(0.001)


    async def one_round(n):
        # Every round races on a file that does not exist yet, in a directory that does not.
        catalog = Catalog(f"sqlite+aiosqlite:///{base / f'round-{n}' / 'catalog.db'}")
        (base / f"ready-{n}-{name}").touch()
        wait_for(base / f"go-{n}")
        try:
            await catalog.migrate()
            async with catalog.write() as writer:
                record = SessionRecord(
                    session_id=name, sandbox_id="default", user_id=None,
                    created_at=time.time(), expires_at=None,
                )
                assert await writer.insert_session(record)
                await writer.append_event(
                    type="v1.session.created", subject=name, payload={}, actor=None,
                    time=1.0, audience=Audience.admins("default"),
                )
        finally:
            await catalog.close()


    async def main():
        for n in range(rounds):
            await one_round(n)
        print("migrated", name, rounds)


    asyncio.run(main())
    """
)


def test_two_processes_migrate_a_new_file_at_once(tmp_path: Path) -> None:
    """Both processes start migrating the same new file at the same moment, ROUNDS times over."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SATCHEL_", "ARTIFACT_"))}
    names = ["p0", "p1"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR, str(tmp_path), name, str(ROUNDS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        for n in range(ROUNDS):
            deadline = time.monotonic() + 60
            while not all((tmp_path / f"ready-{n}-{name}").exists() for name in names):
                assert time.monotonic() < deadline, "migrators never became ready"
                if any(p.poll() is not None for p in procs):
                    break  # one died: report its output below
                time.sleep(0.002)
            (tmp_path / f"go-{n}").touch()
        outputs = [p.communicate(timeout=90) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert out.startswith("migrated"), (out, err)
    for n in range(ROUNDS):
        db = tmp_path / f"round-{n}" / "catalog.db"
        assert _schema(db) == _expected_schema()
        assert _versions(db) == [HEAD]
        engine = _sync_engine(db)
        try:
            with engine.connect() as conn:
                query = sa.text("SELECT session_id FROM sessions")
                sessions = sorted(row[0] for row in conn.execute(query))
        finally:
            engine.dispose()
        assert sessions == names


# -- 0004: blob references per backend -----------------------------------------------------------


def _artifact_row(artifact_id: str, digest: str, backend: str) -> dict[str, Any]:
    return {
        "artifact_id": artifact_id,
        "sandbox_id": "default",
        "scope": "session",
        "session_id": "s",
        "mime": "text/plain",
        "summary": "",
        "meta": "{}",
        "bytes": 1,
        "sha256": digest,
        "etag": "e",
        "version": 1,
        "key": f"grid/default/sessions/s/{artifact_id}",
        "stored_at": 1.0,
        "updated_at": 1.0,
        "storage_provider": backend,
    }


def test_0004_gives_existing_blobs_the_backend_of_their_artifacts(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    config = alembic_config(_async_url(db))
    command.upgrade(config, "0003")
    engine = _sync_engine(db)
    try:
        with engine.begin() as conn:
            for artifact_id, digest, backend in [
                ("a1", "sha256:aa", "sqlite"),
                ("a2", "sha256:bb", "sqlite"),
                ("a3", "sha256:cc", "s3"),
            ]:
                columns = _artifact_row(artifact_id, digest, backend)
                names = ", ".join(f'"{name}"' for name in columns)
                values = ", ".join(f":{name}" for name in columns)
                conn.execute(sa.text(f"INSERT INTO artifacts ({names}) VALUES ({values})"), columns)
            for digest, orphaned in [("sha256:aa", None), ("sha256:cc", None), ("sha256:dd", 5.0)]:
                conn.execute(
                    sa.text("INSERT INTO blobs VALUES (:d, 1, 1.0, :o)"),
                    {"d": digest, "o": orphaned},
                )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT digest, backend, orphaned_at FROM blobs"))
            found = sorted(tuple(row) for row in rows)
    finally:
        engine.dispose()
    # a referenced blob takes its artifact's backend; an orphan the backend most artifacts use
    assert found == [
        ("sha256:aa", "sqlite", None),
        ("sha256:cc", "s3", None),
        ("sha256:dd", "sqlite", 5.0),
    ]
    assert _schema(db) == _expected_schema()

    command.downgrade(config, "0003")
    engine = _sync_engine(db)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT digest FROM blobs ORDER BY digest"))
            assert [row[0] for row in rows] == ["sha256:aa", "sha256:cc", "sha256:dd"]
    finally:
        engine.dispose()


def test_0004_lets_one_digest_live_in_two_backends(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    command.upgrade(alembic_config(_async_url(db)), "head")
    engine = _sync_engine(db)
    try:
        with engine.begin() as conn:
            for backend in ("filesystem", "s3"):
                conn.execute(
                    sa.text(
                        "INSERT INTO blobs (digest, size, created_at, orphaned_at, backend) "
                        "VALUES (:d, 1, 1.0, NULL, :b)"
                    ),
                    {"d": "sha256:aa", "b": backend},
                )
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT COUNT(*) FROM blobs")).scalar_one()
    finally:
        engine.dispose()
    assert count == 2


def test_0007_versions_event_types_and_gives_them_an_audience(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    config = alembic_config(_async_url(db))
    command.upgrade(config, "0006")
    engine = _sync_engine(db)
    try:
        with engine.begin() as conn:
            columns = {**_artifact_row("a1", "sha256:aa", "filesystem"), "scope": "user"}
            columns["owner_id"] = "alice"
            names = ", ".join(f'"{name}"' for name in columns)
            values = ", ".join(f":{name}" for name in columns)
            conn.execute(sa.text(f"INSERT INTO artifacts ({names}) VALUES ({values})"), columns)
            for subject, kind in [("a1", "artifact.stored"), ("gone", "artifact.deleted")]:
                conn.execute(
                    sa.text(
                        "INSERT INTO events (time, type, actor, subject, payload) "
                        "VALUES (1.0, :type, NULL, :subject, '{}')"
                    ),
                    {"type": kind, "subject": subject},
                )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT seq, type, sandbox_id, scope, owner_id FROM events "
                    "WHERE type != 'v1.catalog.snapshot' ORDER BY seq"
                )
            )
            found = [tuple(row) for row in rows]
    finally:
        engine.dispose()
    sandbox = columns["sandbox_id"]
    assert found == [
        (1, "v1.artifact.stored", sandbox, "user", "alice"),
        (2, "v1.artifact.deleted", None, "admin", None),  # about something gone: served to none
    ]
    command.downgrade(config, "0006")
    engine = _sync_engine(db)
    try:
        with engine.connect() as conn:
            types = [row[0] for row in conn.execute(sa.text("SELECT type FROM events"))]
    finally:
        engine.dispose()
    assert types == ["artifact.stored", "artifact.deleted"]


def test_0007_leaves_a_schema_event_of_two_sandboxes_to_admins(tmp_path: Path) -> None:
    db = tmp_path / "catalog.db"
    config = alembic_config(_async_url(db))
    command.upgrade(config, "0006")
    engine = _sync_engine(db)
    try:
        with engine.begin() as conn:
            for sandbox, slug in [("one", "shared"), ("two", "shared"), ("one", "own")]:
                conn.execute(
                    sa.text(
                        "INSERT INTO metadata_schemas (sandbox_id, slug, version, document, "
                        "created_at, actor) VALUES (:s, :slug, 1, '{}', 1.0, NULL)"
                    ),
                    {"s": sandbox, "slug": slug},
                )
            for subject in ("shared@1", "own@1"):
                conn.execute(
                    sa.text(
                        "INSERT INTO events (time, type, actor, subject, payload) "
                        "VALUES (1.0, 'schema.registered', NULL, :subject, '{}')"
                    ),
                    {"subject": subject},
                )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT subject, sandbox_id, scope FROM events "
                    "WHERE type != 'v1.catalog.snapshot' ORDER BY seq"
                )
            )
            found = [tuple(row) for row in rows]
    finally:
        engine.dispose()
    assert found == [("shared@1", None, "admin"), ("own@1", "one", "sandbox")]
