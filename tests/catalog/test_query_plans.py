"""The catalog's paged walks are served by an index, not a sort: SQLite's plans (EXPLAIN QUERY
PLAN) of the statements the store really runs, on a catalog filled like a busy one and opened as
a restart opens it (with the planner statistics the catalog refreshes on open).

- The web UI's list of one owner's artifacts across scopes, newest (or oldest) first, keyset-paged
  on ``(stored_at, artifact_id)``, with or without the filters the UI sends: index
  ``(owner_id, stored_at, artifact_id)`` (migration 0014), no sort of the owner's rows.
- ``delete_prefix``'s walk of a grid-key prefix in key order: a range of index
  ``(sandbox_id, key)`` (0014), no scan of the sandbox.

Plans, not timings: bench/ui_lists.py measures the listing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from satchel import ArtifactStore, Settings
from satchel.catalog.tables import artifacts

OWNER = "lister"
OWNER_INDEX = "ix_artifacts_owner_id_stored_at_artifact_id"
KEY_INDEX = "ix_artifacts_sandbox_id_key"
SORT = "TEMP B-TREE"  # "USE TEMP B-TREE FOR ORDER BY" (or for part of it): rows sorted per page


def _row(n: int, scope: str, owner: str | None, session: str, now: float) -> dict[str, Any]:
    artifact_id = f"a{n:08d}"
    key = {
        "session": f"grid/default/sessions/{session}/{artifact_id}",
        "user": f"grid/default/users/{owner}/{artifact_id}",
        "sandbox": f"grid/default/shared/{artifact_id}",
    }[scope]
    return {
        "artifact_id": artifact_id,
        "sandbox_id": "default",
        "scope": scope,
        "session_id": session,
        "owner_id": owner,
        "filename": f"runs/{n % 97:02d}/file-{n}.csv",
        "mime": ("text/csv", "image/png")[n % 2],
        "summary": "",
        "meta": {"n": n % 10},
        "bytes": 1 + (n * 7919) % 10_000,
        "sha256": "sha256:" + "0" * 64,
        "etag": f"e{n}",
        "version": 1,
        "key": key,
        "stored_at": now - n,
        "updated_at": now,
        "expires_at": None,
        "ttl": None,
        "storage_provider": "filesystem",
    }


def _rows(now: float) -> list[dict[str, Any]]:
    """3,000 rows of the owner (user scope, and session scope in their sessions), 2,000 of
    20 other owners, 1,000 sandbox-wide ones."""
    rows = []
    for n in range(6000):
        if n < 3000:
            scope, owner, session = ("user", "session")[n % 3 == 0], OWNER, f"ls{n % 30}"
        elif n < 5000:
            scope, owner, session = ("user", "session")[n % 2], f"u{n % 20}", f"s{n % 40}"
        else:
            scope, owner, session = "sandbox", f"u{n % 20}", f"s{n % 40}"
        rows.append(_row(n, scope, owner, session, now))
    return rows


@pytest.fixture
async def data_dir(tmp_path: Path) -> Path:
    """A data directory whose catalog holds :func:`_rows` (inserted with the catalog's own
    table, as bench/ui_lists.py does: a fill through the API would take minutes)."""
    async with ArtifactStore(storage_provider="filesystem", settings=_settings(tmp_path)):
        pass  # the schema
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'satchel.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(artifacts), _rows(time.time()))
    finally:
        engine.dispose()
    return tmp_path


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, purge_interval_seconds=0)


@contextmanager
def _statements(marker: str) -> Iterator[list[tuple[str, Any]]]:
    """The SQL (and parameters) of every statement run meanwhile whose text holds *marker*."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if marker in statement:
            seen.append((statement, parameters))

    sa.event.listen(sa.Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", note)


def _plans(data_dir: Path, statements: list[tuple[str, Any]]) -> list[str]:
    """Each statement's query plan, its lines joined by " | "."""
    assert statements, "no statement was captured"
    conn = sqlite3.connect(data_dir / "satchel.db")
    try:
        return [
            " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in statements
        ]
    finally:
        conn.close()


# The UI's list (GET /v1/artifacts?view=search) with the filters its form sends.
FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "scope": {"scope": "user"},
    "mime": {"mime_prefix": "text/"},
    "name": {"filename_glob": "runs/0*"},
    "meta": {"meta_filter": {"n": 3}},
}


@pytest.mark.parametrize("order", ["-stored_at", "stored_at"])
@pytest.mark.parametrize("filters", list(FILTERS))
async def test_an_owners_list_by_time_walks_the_owner_index(
    data_dir: Path, order: str, filters: str
) -> None:
    async with ArtifactStore(storage_provider="filesystem", settings=_settings(data_dir)) as store:
        with _statements("FROM artifacts") as seen:
            first = await store.search(user_id=OWNER, order=order, limit=50, **FILTERS[filters])
            assert first.next_cursor is not None
            second = await store.search(
                user_id=OWNER, order=order, limit=50, cursor=first.next_cursor, **FILTERS[filters]
            )
    assert len(first) == len(second) == 50
    times = [datetime.fromisoformat(item.stored_at) for item in [*first, *second]]
    assert times == sorted(times, reverse=order.startswith("-"))
    assert {item.owner_id for item in [*first, *second]} == {OWNER}
    plans = _plans(data_dir, seen)
    assert len(plans) >= 2  # page 1, and page 2 from its cursor
    for plan in plans:
        assert OWNER_INDEX in plan, plan
        assert SORT not in plan, plan


async def test_the_cursor_bounds_the_owner_index(data_dir: Path) -> None:
    """A deep page starts in the index at its cursor: no row before it is read again."""
    async with ArtifactStore(storage_provider="filesystem", settings=_settings(data_dir)) as store:
        first = await store.search(user_id=OWNER, order="-stored_at", limit=50)
        with _statements("FROM artifacts") as seen:
            await store.search(
                user_id=OWNER, order="-stored_at", limit=50, cursor=first.next_cursor
            )
    (plan,) = _plans(data_dir, seen)
    assert f"{OWNER_INDEX} (owner_id=? AND (stored_at,artifact_id)<(?,?))" in plan, plan


@pytest.mark.parametrize(
    "prefix", ["grid/default/shared/", "grid/default/sessions/ls6/", f"grid/default/users/{OWNER}"]
)
async def test_a_prefix_walk_is_a_range_of_the_key_index(data_dir: Path, prefix: str) -> None:
    async with ArtifactStore(storage_provider="filesystem", settings=_settings(data_dir)) as store:
        with _statements('ORDER BY artifacts."key"') as seen:
            report = await store.delete_prefix(prefix, page_size=40)
    assert report["complete"] is True
    assert report["count"] > 40  # more than one page
    plans = _plans(data_dir, seen)
    assert len(plans) == report["pages"]
    for plan in plans:
        assert f"{KEY_INDEX} (sandbox_id=? AND key>? AND key<?)" in plan, plan
        assert SORT not in plan, plan
