"""Replay (seed 001's disaster recovery): every view of the catalog, emptied and rebuilt from the
event log, equals what it was, table by table and row by row, after a workload that touches
every kind of state; on SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.harness.origin import Origin
from tests.store.conftest import MakeStore

from satchel import ArtifactStore
from satchel.catalog import writer as writer_module
from satchel.catalog.changes import VIEWS
from satchel.catalog.replay import dump_views, replay
from satchel.catalog.tables import events
from satchel.core.errors import ArtifactNotFoundError
from satchel.core.events import Audience
from satchel.core.requests import MultipartUploadCompleteRequest, MultipartUploadInitRequest
from satchel.testing import ManualClock

pytestmark = [
    pytest.mark.embedded_only("replays the embedded store's catalog"),
    pytest.mark.not_on("memory", "sqlite", "s3", reason="a catalog test: filesystem + postgres"),
]


async def _workload(store: ArtifactStore, clock: ManualClock, origin: Origin) -> None:
    """Something of every kind of state, changed, and some of it deleted or expired."""
    alice = await store.create_session(user_id="alice")
    doomed = await store.create_session(user_id="carol", ttl_hours=0.001)
    kept = await store.store(
        b"alpha",
        mime="text/plain",
        summary="a",
        meta={"k": [1, 2.5, None]},
        user_id="alice",
        session_id=alice,
        filename="docs/a.txt",
    )
    await store.update_metadata(kept, user_id="alice", summary="renamed", meta={"x": "é"})
    await store.extend_ttl(kept, 3600, user_id="alice")
    copied = await store.copy_file(kept, new_filename="docs/b.txt", user_id="alice")
    await store.move_file(copied, new_filename="docs/c.txt", user_id="alice")
    gone = await store.store(b"beta", mime="text/plain", summary="b", scope="sandbox")
    await store.delete(gone)
    await store.store(
        b"short-lived", mime="text/plain", summary="", ttl=1, session_id=doomed, user_id="carol"
    )
    # uploads: a finished multipart, an open one, a tus upload half written, a presigned one
    started = await store.initiate_multipart_upload(
        MultipartUploadInitRequest(filename="m.bin", user_id="alice", session_id=alice)
    )
    etag = await store.upload_part(started["upload_id"], 1, b"m" * 10, user_id="alice")
    await store.complete_multipart_upload(
        MultipartUploadCompleteRequest(
            upload_id=started["upload_id"], parts=[{"PartNumber": 1, "ETag": etag}]
        ),
        user_id="alice",
    )
    await store.initiate_multipart_upload(MultipartUploadInitRequest(filename="open.bin"))
    tus = await store.tus_create(length=10, user_id="alice", session_id=alice)
    await store.tus_append(tus.upload_id, 0, b"12345", user_id="alice", session_id=alice)
    await store.presign_upload(session_id=alice, filename="p.bin", user_id="alice")
    # packages, schemas, retention, holds
    await store.register_schema("evidence", {"type": "object"})
    package = await store.create_package("report", "ci", "main", "raw-evidence")
    await store.ingest_file(package, "a.txt", "text/plain", b"x")
    await store.ingest_file(package, "b/c.txt", "text/plain", b"yz")
    await store.finalize_package(package)
    await store.set_retention(package, clock() + 86400 * 400, reason="audit")
    hold = await store.apply_hold(package, "case-1", "court order")
    await store.release_hold(hold["hold_id"], "closed")
    await store.apply_hold(package, "case-2", "another order")
    dropped = await store.create_package("scratch", "ci", "tmp", "transient")
    await store.ingest_file(dropped, "t.txt", "text/plain", b"t")
    await store.delete_package(dropped, reason="not needed")
    # aspects, keys, webhooks
    await store.add_aspect(kept, {"job": "urn:job:1"}, schema="urn:satchel:schema:produced-by.1")
    await store.update_aspect(kept, {"job": "urn:job:2"}, schema="urn:satchel:schema:produced-by.1")
    retracted = await store.add_aspect(package, {"note": "x"}, schema="evidence")
    await store.retract_aspect(retracted["aspect_id"])
    _token, key = await store.create_api_key("alice", name="ci")
    await store.create_api_key("bob", admin=True)
    await store.revoke_api_key(key.key_id)
    hook = await store.create_webhook("http://127.0.0.1:9/hook", types=["v1.package."])
    await store.update_webhook(hook["webhook_id"], active=False, description="paused")
    dropped_hook = await store.create_webhook("http://127.0.0.1:9/other")
    await store.delete_webhook(dropped_hook["webhook_id"])
    # the pull-through cache: fetched, remembered as missing, evicted, then revalidated
    origin.files["rel/a.bin"] = b"a"
    origin.files["rel/b.bin"] = b"b"
    for path in ("a.bin", "b.bin", "none.bin"):
        with contextlib.suppress(ArtifactNotFoundError):
            await (await store.open_remote_file("rel", path)).read()
    await store.evict_cached_files("rel", path="b.bin")
    # time passes: expiry, purge, garbage collection, verification
    clock.advance(1000)
    await (await store.open_remote_file("rel", "a.bin")).read()  # a 304
    await store.purge_expired()
    await store.gc()
    await store.collect_garbage()
    await store.verify_storage()


def _remotes(origin: Origin, tmp_path: Path) -> Path:
    path = tmp_path / "remotes.yaml"
    path.write_text(
        f'remotes:\n  rel:\n    base_url: "{origin.url}/rel"\n    include_patterns: [".*"]\n'
        "    cache: {file_ttl: 60}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def origin() -> Iterator[Origin]:
    started = Origin()
    yield started
    started.stop()


async def test_replay_rebuilds_every_view_row_by_row(
    make_store: MakeStore,
    clock: ManualClock,
    catalog_dialect: str,
    origin: Origin,
    tmp_path: Path,
) -> None:
    store = await make_store(
        webhook_allowed_networks="127.0.0.1/32", remotes_file=_remotes(origin, tmp_path)
    )
    await _workload(store, clock, origin)
    catalog = store._context.catalog
    async with catalog.read() as reader:
        before = await dump_views(reader.conn)
    wanted = ("artifacts", "uploads", "packages", "package_files", "holds", "api_keys", "aspects")
    wanted += ("webhooks", "sessions", "blobs", "metadata_schemas", "proxy_entries")
    assert [name for name in wanted if not before[name]] == []
    report = await replay(catalog)
    async with catalog.read() as reader:
        after = await dump_views(reader.conn)
        head = (await store.list_events(limit=1000))["next_after"]
    for name in VIEWS:
        assert after[name] == before[name], name
    assert report.highest_seq == head
    assert report.rows == {name: len(rows) for name, rows in before.items()}
    # the rebuilt store works: reads, listings and new writes carry on
    listed = await store.list_by_session(
        (await store.list_events(types=["v1.session.created"]))["events"][0]["subject"],
        user_id="alice",
    )
    assert listed


async def test_a_dry_run_finds_nothing_to_change_and_rolls_back(make_store: MakeStore) -> None:
    store = await make_store()
    await store.store(b"one", mime="text/plain", summary="")
    catalog = store._context.catalog
    report = await replay(catalog, check=True)
    assert report.differences == {}
    assert report.rows["artifacts"] == 1


async def test_a_dry_run_names_a_table_the_log_does_not_explain(make_store: MakeStore) -> None:
    store = await make_store()
    await store.store(b"one", mime="text/plain", summary="")
    catalog = store._context.catalog
    async with catalog.write() as writer:  # a change behind the log's back
        from sqlalchemy import update

        from satchel.catalog.tables import artifacts

        await writer.raw.execute(update(artifacts).values(summary="tampered"))
    report = await replay(catalog, check=True)
    assert report.differences == {"artifacts": 1}
    async with catalog.read() as reader:
        rows = (await dump_views(reader.conn))["artifacts"]
    assert rows[0]["summary"] == "tampered"  # a dry run changes nothing


def test_satchel_replay_prints_the_highest_sequence(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env["SATCHEL_DATA_DIR"] = str(tmp_path / "data")
    (tmp_path / "hello.txt").write_text("hello")
    run = [sys.executable, "-m", "satchel"]
    stored = subprocess.run(
        [*run, "put", str(tmp_path / "hello.txt")], env=env, capture_output=True, check=False
    )
    assert stored.returncode == 0, stored.stderr
    done = subprocess.run([*run, "replay", "--json"], env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["highest_seq"] >= 2
    assert report["rows"]["artifacts"] == 1
    text = subprocess.run([*run, "replay", "--check"], env=env, capture_output=True, check=False)
    assert text.returncode == 0, text.stderr
    assert f"up to seq {report['highest_seq']}" in text.stdout.decode()


async def test_an_event_without_rows_is_stored_as_null_and_replays(make_store: MakeStore) -> None:
    store = await make_store()
    catalog = store._context.catalog
    async with catalog.write() as writer:  # say, a verification of a blob GC just removed
        await writer.append_event(
            type="v1.blob.collected",
            subject="sha256:" + "0" * 64,
            payload={},
            actor=None,
            time=1.0,
            audience=Audience.admins(store.sandbox_id),
        )
    async with catalog.read() as reader:
        query = select(events.c.seq).where(events.c.changes.is_(None))
        assert len((await reader.conn.execute(query)).all()) == 1
    assert (await replay(catalog, check=True)).differences == {}


async def test_a_transaction_of_many_rows_continues_in_more_events(
    make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "MAX_CHANGES_PER_EVENT", 4)
    store = await make_store()
    package = await store.create_package("many", "ci", "main", "transient")
    for n in range(9):
        await store.ingest_file(package, f"f{n}.txt", "text/plain", f"{n}".encode())
    await store.delete_package(package, reason="test")
    shown = (await store.list_events(types=["v1.catalog.rows"]))["events"]  # admins see them
    assert shown
    assert all("changes" not in event for event in shown)
    assert (await store.list_events(types=["v1.catalog.rows"], user_id="alice"))["events"] == []
    catalog = store._context.catalog
    async with catalog.read() as reader:
        query = select(events.c.type, events.c.payload).order_by(events.c.seq)
        logged = (await reader.conn.execute(query)).all()
    kinds = [kind for kind, _payload in logged]
    at = kinds.index("v1.package.deleted")
    follow = [payload for kind, payload in logged[at + 1 :] if kind == "v1.catalog.rows"]
    assert follow
    assert all(p["of"] == "v1.package.deleted" and p["rows"] <= 4 for p in follow)
    assert (await replay(catalog, check=True)).differences == {}


def test_an_old_sqlite_is_refused_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from satchel.catalog.engine import create_sqlite_engine
    from satchel.core.errors import NotSupportedError

    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    with pytest.raises(NotSupportedError, match=r"SQLite 3\.35"):
        create_sqlite_engine("sqlite://")


def test_no_view_column_fills_itself_in() -> None:
    """A plain insert's bound values are its row's image (satchel.catalog.changes): true only
    while no view column has a default of its own."""
    filled = [
        f"{name}.{column.name}"
        for name, table in VIEWS.items()
        for column in table.c
        if column.default is not None or column.server_default is not None
    ]
    assert filled == []
