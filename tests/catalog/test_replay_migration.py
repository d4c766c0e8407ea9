"""Migration 0010: events logged before it carry no rows, so it logs the views as they were as
``v1.catalog.snapshot`` events; replaying the log then reproduces the catalog exactly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import select

from satchel import ArtifactStore, Settings
from satchel.catalog.migrate import alembic_config
from satchel.catalog.tables import events


async def _workload(data: Path) -> None:
    async with ArtifactStore(settings=Settings(data_dir=data), storage_provider="filesystem") as s:
        session = await s.create_session(user_id="alice")
        await s.store(
            b"one",
            mime="text/plain",
            summary="é",
            meta={"n": [1, 2.5, None, {"x": True}]},
            user_id="alice",
            session_id=session,
        )
        for n in range(3):
            await s.store(f"{n}".encode(), mime="text/plain", summary="", scope="sandbox")
        package = await s.create_package("report", "ci", "main", "raw-evidence")
        await s.ingest_file(package, "a.txt", "text/plain", b"x")
        await s.finalize_package(package)
        await s.apply_hold(package, "case", "order")
        await s.create_api_key("bob", admin=True, name="ops")


async def _replay_check(data: Path) -> dict[str, object]:
    async with ArtifactStore(settings=Settings(data_dir=data), storage_provider="filesystem") as s:
        report = await s.replay_events(check=True)
        query = select(events.c.subject, events.c.scope, events.c.sandbox_id).where(
            events.c.type == "v1.catalog.snapshot"
        )
        async with s._context.catalog.read() as reader:
            rows = (await reader.conn.execute(query)).all()
        assert {(scope, sandbox) for _subject, scope, sandbox in rows} == {("admin", None)}
        report["snapshots"] = sorted({subject for subject, _scope, _sandbox in rows})
        # the feed serves them to nobody: they belong to no sandbox
        assert (await s.list_events(types=["v1.catalog.snapshot"]))["events"] == []
        return report


def test_0010_snapshots_the_views_and_replay_reproduces_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(_workload(data))
    config = alembic_config(f"sqlite+aiosqlite:///{data / 'satchel.db'}")
    command.downgrade(config, "0009")  # the events lose their rows
    command.upgrade(config, "head")  # and the upgrade logs the views as they are
    report = asyncio.run(_replay_check(data))
    assert report["differences"] == {}
    assert report["rows"]["artifacts"] == 4
    assert report["rows"]["package_files"] == 1
    assert report["snapshots"] == [
        "api_keys",
        "artifacts",
        "blobs",
        "holds",
        "package_files",
        "packages",
        "sessions",
    ]
