"""search(order=…, filename_glob=…) through the HTTP API, on SQLite and PostgreSQL catalogs:
every order pages each row exactly once, globs are exact (classes, case), bad input is 400."""

from __future__ import annotations

import fnmatch
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satchel import ArtifactMetadata, InvalidRequestError, RemoteArtifactStore
from satchel.catalog.ordering import glob_like

Make = Callable[..., RemoteArtifactStore]
NAMES = ("b.txt", "a.txt", "B.TXT", "c.csv", "sub/d.txt", "a.txt")


async def _fill(store: RemoteArtifactStore) -> tuple[str, list[ArtifactMetadata]]:
    tag = f"ord-{uuid.uuid4().hex[:8]}"
    for number, name in enumerate(NAMES):
        await store.store(
            b"x" * (number * 7 % 5), filename=f"{tag}/{name}", user_id="alice", scope="user"
        )
    found = await store.search(user_id="alice", filename_glob=f"{tag}/*", limit=100)
    return tag, list(found)


async def _all_pages(store: RemoteArtifactStore, **query: Any) -> list[ArtifactMetadata]:
    items: list[ArtifactMetadata] = []
    cursor = None
    while True:
        page = await store.search(user_id="alice", limit=2, cursor=cursor, **query)
        assert len(page) == 2 or page.next_cursor is None  # full pages, even when filtered
        items.extend(page)
        cursor = page.next_cursor
        if cursor is None:
            return items


@pytest.mark.parametrize(
    ("order", "key"),
    [
        ("filename", lambda m: (m.filename, m.artifact_id)),
        ("bytes", lambda m: (m.bytes, m.artifact_id)),
    ],
)
async def test_each_order_pages_every_row_once(remote: Make, order: str, key: Any) -> None:
    store = remote("alice")
    tag, everything = await _fill(store)
    ascending = await _all_pages(store, filename_glob=f"{tag}/*", order=order)
    descending = await _all_pages(store, filename_glob=f"{tag}/*", order=f"-{order}")
    assert [m.artifact_id for m in ascending] == [
        m.artifact_id for m in sorted(everything, key=key)
    ]
    assert [m.artifact_id for m in descending] == [m.artifact_id for m in reversed(ascending)]


async def test_newest_first_is_the_default_order_reversed(remote: Make) -> None:
    store = remote("alice")
    tag, everything = await _fill(store)
    oldest = await _all_pages(store, filename_glob=f"{tag}/*")
    newest = await _all_pages(store, filename_glob=f"{tag}/*", order="-stored_at")
    assert len(oldest) == len(NAMES) == len(everything)
    assert [m.artifact_id for m in newest] == [m.artifact_id for m in reversed(oldest)]
    assert newest[0].filename == f"{tag}/a.txt"  # the last one stored


async def test_globs_are_exact_and_case_sensitive(remote: Make) -> None:
    store = remote("alice")
    tag, _ = await _fill(store)

    async def names(glob: str) -> list[str]:
        found = await _all_pages(store, filename_glob=f"{tag}/{glob}", order="filename")
        return [m.filename.split("/", 1)[1] for m in found if m.filename]

    assert await names("*.txt") == ["a.txt", "a.txt", "b.txt", "sub/d.txt"]  # * spans /
    assert await names("*.TXT") == ["B.TXT"]  # SQLite's LIKE ignores case; the search does not
    assert await names("[ab].txt") == ["a.txt", "a.txt", "b.txt"]
    assert await names("?.csv") == ["c.csv"]
    assert await names("100%_done") == []
    assert await names("[!a].txt") == ["b.txt"]


async def test_bad_orders_and_foreign_cursors_are_refused(remote: Make) -> None:
    store = remote("alice")
    tag, _ = await _fill(store)
    with pytest.raises(InvalidRequestError, match="order must be one of"):
        await store.search(user_id="alice", order="size")
    page = await store.search(user_id="alice", filename_glob=f"{tag}/*", limit=1, order="bytes")
    assert page.next_cursor is not None
    with pytest.raises(InvalidRequestError, match="another order"):
        await store.search(user_id="alice", cursor=page.next_cursor, order="-bytes")
    with pytest.raises(InvalidRequestError, match="cursor"):
        await store.search(user_id="alice", cursor=page.next_cursor)


def _like(pattern: str, name: str) -> bool:
    """SQL LIKE with escape character backslash, case-sensitive (PostgreSQL's)."""
    parts, escaped = [], False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.fullmatch("".join(parts), name, re.DOTALL) is not None


def test_globs_become_like_patterns_that_never_miss() -> None:
    assert glob_like("*.txt") == "%.txt"
    assert glob_like("a?[bc]d") == "a__d"
    assert glob_like("100%_x\\y") == "100\\%\\_x\\\\y"
    assert glob_like("[") == "["
    assert glob_like("data[].json") == "data[].json"  # no closing "]": fnmatch's literal


@settings(max_examples=3000, deadline=None)
@given(
    glob=st.text(alphabet="ab[]!*?%_\\", max_size=8),
    name=st.text(alphabet="ab[]!%_\\", max_size=8),
)
def test_every_name_a_glob_matches_passes_its_sql_prefilter(glob: str, name: str) -> None:
    if fnmatch.fnmatchcase(name, glob):
        assert _like(glob_like(glob), name), (glob, glob_like(glob), name)


async def test_a_session_lists_in_any_order(remote: Make) -> None:
    store = remote("alice")
    session = await store.create_session(user_id="alice")
    for size in (3, 1, 2):
        await store.store(b"s" * size, filename=f"f{size}", session_id=session, user_id="alice")
    oldest = await store.list_by_session(session, user_id="alice")
    newest = await store.list_by_session(session, user_id="alice", order="-stored_at")
    by_size = await store.list_by_session(session, user_id="alice", order="-bytes")
    assert [m.filename for m in oldest] == ["f3", "f1", "f2"]
    assert [m.artifact_id for m in newest] == [m.artifact_id for m in reversed(oldest)]
    assert [m.bytes for m in by_size] == [3, 2, 1]
    with pytest.raises(InvalidRequestError, match="order must be one of"):
        await store.list_by_session(session, user_id="alice", order="name")
