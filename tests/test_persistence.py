"""Everything a store writes survives a restart: two separate processes share one data dir.

Process 1 stores a session-scoped, a user-scoped and a sandbox-scoped artifact, updates one's
metadata and reports what it saw; process 2 (a new interpreter, so no cache survives) reads it
all back through the same environment, and the event log is checked straight in SQLite.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.harness.stored import stored_digests

SESSION_ID = "persist-session-1"

WRITER = textwrap.dedent(
    """
    import asyncio, json

    from satchel import ArtifactStore


    async def main():
        async with ArtifactStore() as store:
            session_art = await store.store(
                b"session bytes",
                mime="text/plain",
                summary="session artifact",
                filename="notes/session.txt",
                session_id=%(session_id)r,
                user_id="alice",
                meta={"kind": "session"},
                ttl=None,
            )
            user_art = await store.store(
                b"%%PDF-1.7 alice's report",
                mime="application/pdf",
                summary="Q4 Sales Report",
                filename="report.pdf",
                user_id="alice",
                scope="user",
                meta={"kind": "user"},
            )
            sandbox_art = await store.store(
                b"shared template",
                mime="image/png",
                summary="Company logo",
                filename="logo.png",
                scope="sandbox",
                ttl=None,
            )
            await store.update_metadata(
                user_art, summary="Q4 Sales Report (final)", meta={"quarter": "Q4"},
                merge=True, user_id="alice",
            )
            ids = {"session": session_art, "user": user_art, "sandbox": sandbox_art}
            metas = {}
            for name, artifact_id in ids.items():
                metas[name] = (await store.metadata(artifact_id)).to_dict()
            print(json.dumps({"ids": ids, "meta": metas, "provider": store.storage_provider}))


    asyncio.run(main())
    """
) % {"session_id": SESSION_ID}

READER = textwrap.dedent(
    """
    import asyncio, hashlib, json, sys

    from satchel import AccessDeniedError, ArtifactStore

    IDS = json.loads(sys.argv[1])
    SESSION_ID = %(session_id)r


    async def outcome(call):
        try:
            result = await call
        except Exception as exc:
            return {"error": type(exc).__name__}
        return {"ok": result.decode() if isinstance(result, bytes) else result}


    async def main():
        out = {}
        async with ArtifactStore() as store:
            out["provider"] = store.storage_provider
            out["meta"] = {
                name: (await store.metadata(artifact_id)).to_dict()
                for name, artifact_id in IDS.items()
            }
            out["content"] = {
                "session": await outcome(store.retrieve(IDS["session"], session_id=SESSION_ID)),
                "session_as_alice": await outcome(
                    store.retrieve(IDS["session"], user_id="alice", session_id=SESSION_ID)
                ),
                "user": await outcome(store.retrieve(IDS["user"], user_id="alice")),
                "sandbox": await outcome(store.retrieve(IDS["sandbox"], user_id="bob")),
            }
            out["digests"] = {
                name: "sha256:" + hashlib.sha256(await store.retrieve(artifact_id)).hexdigest()
                for name, artifact_id in IDS.items()
            }
            out["denied"] = {
                "bob_reads_user": await outcome(store.retrieve(IDS["user"], user_id="bob")),
                "bob_reads_session": await outcome(store.retrieve(IDS["session"], user_id="bob")),
                "bob_in_alices_session": await outcome(
                    store.retrieve(IDS["session"], user_id="bob", session_id=SESSION_ID)
                ),
                "other_session": await outcome(
                    store.retrieve(IDS["session"], session_id="some-other-session")
                ),
                "bob_updates_sandbox": await outcome(
                    store.update_metadata(IDS["sandbox"], summary="defaced", user_id="bob")
                ),
                "bob_deletes_user": await outcome(store.delete(IDS["user"], user_id="bob")),
            }
            listed = await store.list_by_session(SESSION_ID)
            out["listed"] = [m.artifact_id for m in listed]
            out["listed_as_alice"] = [
                m.artifact_id for m in await store.list_by_session(SESSION_ID, user_id="alice")
            ]
            out["search_user"] = [
                m.artifact_id for m in await store.search(user_id="alice", scope="user")
            ]
            out["search_q4"] = [
                m.artifact_id
                for m in await store.search(
                    user_id="alice", scope="user", meta_filter={"quarter": "Q4"}
                )
            ]
            out["search_bob"] = [
                m.artifact_id for m in await store.search(user_id="bob", scope="user")
            ]
            out["search_sandbox"] = [m.artifact_id for m in await store.search(scope="sandbox")]
            out["exists"] = {name: await store.exists(i) for name, i in IDS.items()}
        print(json.dumps(out))


    asyncio.run(main())
    """
) % {"session_id": SESSION_ID}


def _run(script: str, data_dir: Path, provider: str, *args: str) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SATCHEL_", "ARTIFACT_", "SESSION_"))
    }
    env["SATCHEL_DATA_DIR"] = str(data_dir)
    env["ARTIFACT_PROVIDER"] = provider
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=data_dir,  # no stray ./.env is read
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def _events(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return [(row[0], row[1]) for row in conn.execute("SELECT type, subject FROM events")]
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("provider", "backend"), [("filesystem", "filesystem"), ("vfs-sqlite", "sqlite")]
)
def test_artifacts_survive_a_restart(tmp_path: Path, provider: str, backend: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    first = _run(WRITER, data_dir, provider)
    ids: dict[str, str] = first["ids"]
    assert first["provider"] == backend

    # The bytes went to the configured backend in the data dir, not to memory.
    if backend == "filesystem":
        assert len(stored_digests(data_dir)) == 3  # files, or rows of blob_bytes when small
    else:
        assert (data_dir / "blobs.db").is_file()
        assert not (data_dir / "blobs").exists()
    assert (data_dir / "satchel.db").is_file()

    second = _run(READER, data_dir, provider, json.dumps(ids))
    assert second["provider"] == backend

    for name in ids:
        before, after = first["meta"][name], second["meta"][name]
        for field in ("filename", "meta", "sha256", "etag", "version", "bytes", "key", "scope"):
            assert after[field] == before[field], (name, field)
        assert after == {**before, "session_provider": after["session_provider"]}
        assert second["digests"][name] == before["sha256"]
        assert after["storage_provider"] == backend
    assert second["meta"]["user"]["meta"] == {"kind": "user", "quarter": "Q4"}
    assert second["meta"]["user"]["summary"] == "Q4 Sales Report (final)"
    assert second["meta"]["user"]["version"] == 2
    assert second["meta"]["session"]["session_id"] == SESSION_ID
    assert second["meta"]["session"]["expires_at"] is None

    assert second["content"] == {
        "session": {"ok": "session bytes"},
        "session_as_alice": {"ok": "session bytes"},
        "user": {"ok": "%PDF-1.7 alice's report"},
        "sandbox": {"ok": "shared template"},
    }
    assert second["denied"] == {
        "bob_reads_user": {"error": "AccessDeniedError"},
        "bob_reads_session": {"error": "AccessDeniedError"},
        "bob_in_alices_session": {"error": "AccessDeniedError"},
        "other_session": {"error": "AccessDeniedError"},
        "bob_updates_sandbox": {"error": "AccessDeniedError"},
        "bob_deletes_user": {"error": "AccessDeniedError"},
    }
    assert second["listed"] == [ids["session"]]
    assert second["listed_as_alice"] == [ids["session"]]
    assert second["search_user"] == [ids["user"]]
    assert second["search_q4"] == [ids["user"]]
    assert second["search_bob"] == []
    assert second["search_sandbox"] == [ids["sandbox"]]
    assert second["exists"] == {"session": True, "user": True, "sandbox": True}

    events = _events(data_dir / "satchel.db")
    for artifact_id in ids.values():
        assert ("v1.artifact.stored", artifact_id) in events
    assert ("v1.artifact.metadata_updated", ids["user"]) in events
    assert [e for e in events if e[0] == "v1.artifact.metadata_updated"] == [
        ("v1.artifact.metadata_updated", ids["user"])
    ]
    sessions = {first["meta"][name]["session_id"] for name in ids}
    assert SESSION_ID in sessions
    assert len(sessions) == 3  # user and sandbox artifacts got auto-created sessions
    for session_id in sessions:
        assert events.count(("v1.session.created", session_id)) == 1
    # Process 2 only read (its denied writes left no trace).
    assert len(events) == 3 + 3 + 1
