"""Every ArtifactStore method works for real, on every blob backend (seed 000's API)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import pytest
from tests.store.internals import blobs_of

from satchel import (
    DEFAULT_TTL,
    ArtifactList,
    ArtifactMetadata,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    GridKeyComponents,
    InvalidRequestError,
    Scope,
    StreamDownloadRequest,
    StreamUploadRequest,
)
from satchel.testing import ManualClock


def ts(iso: str | None) -> float:
    assert iso is not None
    return datetime.fromisoformat(iso).timestamp()


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]
        await asyncio.sleep(0)


async def collect(store: ArtifactStore, request: StreamDownloadRequest) -> list[bytes]:
    return [chunk async for chunk in store.stream_download(request)]


def progress_recorder(
    kind: str,
) -> tuple[list[tuple[int, int | None]], Callable[[int, int | None], Any]]:
    """A progress callback, plain (``kind="sync"``) or a coroutine function (``"async"``), and
    the list of the ``(done, total)`` calls it records."""
    calls: list[tuple[int, int | None]] = []

    def sync_cb(done: int, total: int | None) -> None:
        calls.append((done, total))

    async def async_cb(done: int, total: int | None) -> None:
        await asyncio.sleep(0)
        calls.append((done, total))

    return calls, sync_cb if kind == "sync" else async_cb


async def all_pages(fetch: Any, limit: int) -> list[list[ArtifactMetadata]]:
    """Follow ``next_cursor`` from the first page to the last; return every page."""
    pages: list[list[ArtifactMetadata]] = []
    cursor: str | None = None
    while True:
        page = await fetch(limit=limit, cursor=cursor)
        assert isinstance(page, ArtifactList)
        assert len(page) <= limit
        pages.append(list(page))
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not terminate"


BINARY = bytes(range(256)) * 17 + b"\x00tail"


# -- store / retrieve / metadata -------------------------------------------------------------------


async def test_store_returns_id_and_full_metadata(
    store: ArtifactStore, provider: str, sha: Callable[[bytes], str]
) -> None:
    data = b"Hello, world!"
    artifact_id = await store.store(
        data,
        mime="text/plain",
        summary="greeting",
        filename="hello.txt",
        session_id="sess-1",
        meta={"lang": "en", "n": 3},
    )
    assert isinstance(artifact_id, str)
    assert artifact_id

    meta = await store.metadata(artifact_id)
    assert isinstance(meta, ArtifactMetadata)
    assert meta.artifact_id == artifact_id
    assert meta.session_id == "sess-1"
    assert meta.sandbox_id == "default"
    assert meta.scope is Scope.SESSION
    assert meta.filename == "hello.txt"
    assert meta.mime == "text/plain"
    assert meta.summary == "greeting"
    assert meta.meta == {"lang": "en", "n": 3}
    assert meta.bytes == len(data)
    assert meta.size == len(data)
    assert meta.sha256 == sha(data)
    assert meta.key == f"grid/default/sessions/sess-1/{artifact_id}"
    assert meta.version == 1
    assert isinstance(meta.etag, str)
    assert len(meta.etag) >= 16
    assert meta.storage_provider == provider
    assert meta.session_provider == "memory"
    stored = ts(meta.stored_at)
    assert abs(stored - datetime.now().timestamp()) < 60
    assert meta.updated_at == meta.stored_at
    # Readable like the dicts older versions of the seed API returned.
    assert meta["bytes"] == len(data)
    assert meta.get("filename") == "hello.txt"
    assert meta.get("no_such_field", "fallback") == "fallback"
    with pytest.raises(KeyError):
        meta["no_such_field"]
    assert meta.to_dict()["sha256"] == sha(data)


async def test_store_ids_are_unique_even_for_identical_content(
    store: ArtifactStore, sha: Callable[[bytes], str]
) -> None:
    first = await store.store(b"same", mime="text/plain", session_id="s")
    second = await store.store(b"same", mime="text/plain", session_id="s")
    assert first != second
    one, two = await store.metadata(first), await store.metadata(second)
    assert one.sha256 == two.sha256 == sha(b"same")
    assert one.etag != two.etag


async def test_store_with_user_id_autocreates_a_session_owned_by_the_user(
    store: ArtifactStore,
) -> None:
    artifact_id = await store.store(b"Alice's data", mime="text/plain", user_id="alice")
    meta = await store.metadata(artifact_id)
    assert meta.session_id.startswith("sess-alice-")
    info = await store.get_session_info(meta.session_id)
    assert info is not None
    assert info["user_id"] == "alice"
    assert info["sandbox_id"] == "default"
    assert await store.validate_session(meta.session_id) is True
    # A second store without a session gets a different session.
    other = await store.metadata(await store.store(b"more", mime="text/plain", user_id="alice"))
    assert other.session_id != meta.session_id


async def test_retrieve_returns_exact_bytes(store: ArtifactStore) -> None:
    big = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32 + 7)  # > 3 MiB, odd size
    small_id = await store.store(BINARY, mime="application/octet-stream", session_id="s")
    big_id = await store.store(big, mime="application/octet-stream", session_id="s")
    assert await store.retrieve(small_id) == BINARY
    assert await store.retrieve(big_id) == big
    assert (await store.metadata(big_id)).bytes == len(big)


async def test_read_file_bytes_by_default_text_on_request(store: ArtifactStore) -> None:
    text = "Grüße, 世界"
    artifact_id = await store.store(text.encode(), mime="text/plain", session_id="s")
    raw = await store.read_file(artifact_id)
    assert isinstance(raw, bytes)
    assert raw == text.encode()
    decoded = await store.read_file(artifact_id, as_text=True)
    assert isinstance(decoded, str)
    assert decoded == text

    latin = await store.store("café".encode("latin-1"), mime="text/plain", session_id="s")
    assert await store.read_file(latin, as_text=True, encoding="latin-1") == "café"
    with pytest.raises(InvalidRequestError):
        await store.read_file(latin, as_text=True)  # not valid UTF-8


async def test_exists_and_delete(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"short-lived", mime="text/plain", session_id="s")
    keep = await store.store(b"keeper", mime="text/plain", session_id="s")
    assert await store.exists(artifact_id) is True

    assert await store.delete(artifact_id) is True
    assert await store.exists(artifact_id) is False
    with pytest.raises(ArtifactNotFoundError):
        await store.retrieve(artifact_id)
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(artifact_id)
    with pytest.raises(ArtifactNotFoundError):
        await store.delete(artifact_id)
    assert await store.exists("0" * 32) is False
    assert await store.retrieve(keep) == b"keeper"


async def test_delete_reclaims_unreferenced_bytes_only(
    store: ArtifactStore, sha: Callable[[bytes], str]
) -> None:
    shared = b"shared content"
    first = await store.store(shared, mime="text/plain", session_id="s")
    second = await store.store(shared, mime="text/plain", session_id="s")
    alone = await store.store(b"alone", mime="text/plain", session_id="s")

    await store.delete(first)
    assert await blobs_of(store).head(sha(shared)) is not None
    assert await store.retrieve(second) == shared

    await store.delete(second)
    await store.delete(alone)
    assert await blobs_of(store).head(sha(shared)) is None
    assert await blobs_of(store).head(sha(b"alone")) is None
    stats = await store.get_stats()
    assert stats["total_artifacts"] == 0
    assert stats["unique_blobs"] == 0


# -- updates ---------------------------------------------------------------------------------------


async def test_update_file_replaces_content_and_summary(
    store: ArtifactStore, sha: Callable[[bytes], str]
) -> None:
    artifact_id = await store.store(
        b"Hello, world!", mime="text/plain", summary="greeting", session_id="s", meta={"a": 1}
    )
    before = await store.metadata(artifact_id)

    after = await store.update_file(
        artifact_id, data=b"Hello, updated world!", summary="Updated greeting"
    )
    assert isinstance(after, ArtifactMetadata)
    assert after.artifact_id == artifact_id
    assert after.version == before.version + 1
    assert after.etag != before.etag
    assert after.sha256 == sha(b"Hello, updated world!") != before.sha256
    assert after.bytes == len(b"Hello, updated world!")
    assert after.summary == "Updated greeting"
    assert after.meta == {"a": 1}  # no meta given: kept
    assert after.key == before.key
    assert after.stored_at == before.stored_at

    fresh = await store.metadata(artifact_id)
    assert fresh == after
    assert await store.read_file(artifact_id, as_text=True) == "Hello, updated world!"
    # The old bytes are unreferenced now and reclaimed.
    assert await blobs_of(store).head(before.sha256) is None


async def test_update_file_meta_replaces_and_other_fields(store: ArtifactStore) -> None:
    artifact_id = await store.store(
        b"content", mime="text/plain", session_id="s", filename="a.txt", meta={"a": 1, "b": 2}
    )
    before = await store.metadata(artifact_id)
    after = await store.update_file(
        artifact_id, meta={"c": 3}, filename="b.md", mime="text/markdown"
    )
    assert after.meta == {"c": 3}
    assert after.filename == "b.md"
    assert after.mime == "text/markdown"
    assert after.sha256 == before.sha256
    assert after.version == 2
    assert after.etag != before.etag
    assert await store.retrieve(artifact_id) == b"content"


async def test_update_file_needs_something_to_change(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s")
    with pytest.raises(InvalidRequestError):
        await store.update_file(artifact_id)
    assert (await store.metadata(artifact_id)).version == 1


async def test_update_metadata_merge_and_replace(store: ArtifactStore) -> None:
    artifact_id = await store.store(
        b"payload", mime="image/jpeg", session_id="s", meta={"tags": ["a"], "keep": True}
    )
    v1 = await store.metadata(artifact_id)

    v2 = await store.update_metadata(
        artifact_id, summary="Updated", meta={"tags": ["a", "b"], "new": 1}, merge=True
    )
    assert v2.meta == {"tags": ["a", "b"], "keep": True, "new": 1}
    assert v2.summary == "Updated"
    assert v2.version == 2
    assert v2.etag != v1.etag

    v3 = await store.update_metadata(artifact_id, meta={"only": "this"}, merge=False)
    assert v3.meta == {"only": "this"}
    assert v3.summary == "Updated"
    assert v3.version == 3
    assert v3.etag not in (v1.etag, v2.etag)

    fresh = await store.metadata(artifact_id)
    assert fresh.meta == {"only": "this"}
    # Content untouched throughout.
    assert fresh.sha256 == v1.sha256
    assert fresh.bytes == v1.bytes
    assert await store.retrieve(artifact_id) == b"payload"


async def test_update_metadata_without_changes_or_with_unknown_fields(
    store: ArtifactStore,
) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s", meta={"a": 1})
    with pytest.raises(InvalidRequestError):
        await store.update_metadata(artifact_id)
    with pytest.raises(InvalidRequestError):
        await store.update_metadata(artifact_id, colour="blue")
    meta = await store.metadata(artifact_id)
    assert (meta.version, meta.meta) == (1, {"a": 1})


# -- copy / move -----------------------------------------------------------------------------------


async def test_copy_file_within_the_session(store: ArtifactStore) -> None:
    source_id = await store.store(
        b"# Readme",
        mime="text/markdown",
        summary="docs",
        filename="docs/README.md",
        session_id="s",
        meta={"a": 1, "b": 2},
    )
    source = await store.metadata(source_id)

    copy_id = await store.copy_file(source_id, new_filename="docs/README_backup.md")
    assert copy_id != source_id
    copy = await store.metadata(copy_id)
    assert copy.session_id == source.session_id
    assert copy.scope is source.scope
    assert copy.sha256 == source.sha256
    assert copy.bytes == source.bytes
    assert copy.mime == source.mime
    assert copy.filename == "docs/README_backup.md"
    assert copy.meta["copied_from"] == source_id
    assert copy.meta["a"] == 1
    assert copy.meta["b"] == 2
    assert copy.key == f"grid/default/sessions/s/{copy_id}"
    assert await store.retrieve(copy_id) == b"# Readme"

    default_id = await store.copy_file(source_id, new_meta={"b": 20, "c": 3})
    default = await store.metadata(default_id)
    assert default.filename == "docs/README.md_copy"
    assert default.meta["a"] == 1
    assert default.meta["b"] == 20
    assert default.meta["c"] == 3
    assert default.meta["copied_from"] == source_id

    # The source is untouched, and the shared bytes outlive it.
    assert await store.metadata(source_id) == source
    await store.delete(source_id)
    assert await store.retrieve(copy_id) == b"# Readme"
    assert await store.retrieve(default_id) == b"# Readme"
    stats = await store.get_stats()
    assert stats["total_artifacts"] == 2
    assert stats["unique_blobs"] == 1


async def test_copy_file_with_explicit_same_target_session(store: ArtifactStore) -> None:
    source_id = await store.store(b"x", mime="text/plain", session_id="s", filename="x.txt")
    copy_id = await store.copy_file(source_id, target_session_id="s", new_filename="y.txt")
    assert (await store.metadata(copy_id)).session_id == "s"


async def test_move_file_renames_persistently(store: ArtifactStore) -> None:
    artifact_id = await store.store(
        b"data", mime="text/plain", session_id="s", filename="old.txt", meta={"a": 1}
    )
    before = await store.metadata(artifact_id)

    moved = await store.move_file(artifact_id, new_filename="renamed.txt", new_meta={"b": 2})
    assert moved.artifact_id == artifact_id
    assert moved.filename == "renamed.txt"
    assert moved.meta == {"a": 1, "b": 2}
    assert moved.version == before.version + 1
    assert moved.etag != before.etag

    fresh = await store.metadata(artifact_id)
    assert fresh.filename == "renamed.txt"
    assert fresh.meta == {"a": 1, "b": 2}
    assert fresh.session_id == "s"
    assert fresh.sha256 == before.sha256
    assert await store.retrieve(artifact_id) == b"data"
    names = [m.filename for m in await store.list_by_session("s")]
    assert names == ["renamed.txt"]


async def test_move_file_within_own_session_and_without_changes(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s", filename="a.txt")
    same = await store.move_file(artifact_id, new_session_id="s")
    assert same.filename == "a.txt"
    assert same.version == 1
    moved = await store.move_file(artifact_id, new_session_id="s", new_filename="b.txt")
    assert moved.filename == "b.txt"
    assert (await store.metadata(artifact_id)).filename == "b.txt"


# -- listings and search ---------------------------------------------------------------------------


async def test_list_by_session_only_that_sessions_live_artifacts(store: ArtifactStore) -> None:
    mine = [
        await store.store(b"%d" % i, mime="text/plain", session_id="s1", filename=f"f{i}")
        for i in range(3)
    ]
    others = [await store.store(b"o", mime="text/plain", session_id="s2") for _ in range(2)]
    deleted = await store.store(b"gone", mime="text/plain", session_id="s1")
    await store.delete(deleted)

    listed = await store.list_by_session("s1")
    assert isinstance(listed, ArtifactList)
    assert [m.artifact_id for m in listed] == mine  # oldest first
    assert listed.next_cursor is None
    assert {m.artifact_id for m in await store.list_by_session("s2")} == set(others)
    assert list(await store.list_by_session("never-used")) == []


@pytest.mark.embedded_only("moves the store's clock")
async def test_expired_artifacts_leave_listings(store: ArtifactStore, clock: ManualClock) -> None:
    kept = await store.store(b"kept", mime="text/plain", session_id="s1")
    short = await store.store(b"short", mime="text/plain", session_id="s1", ttl=5)
    clock.advance(60)
    assert [m.artifact_id for m in await store.list_by_session("s1")] == [kept]
    assert short not in {m.artifact_id for m in await store.search(session_id="s1")}


async def test_list_by_session_cursor_pagination(store: ArtifactStore) -> None:
    ids = [await store.store(b"%d" % i, mime="text/plain", session_id="s") for i in range(5)]
    await store.store(b"elsewhere", mime="text/plain", session_id="other")

    async def fetch(*, limit: int, cursor: str | None) -> ArtifactList:
        return await store.list_by_session("s", limit=limit, cursor=cursor)

    pages = await all_pages(fetch, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    seen = [m.artifact_id for page in pages for m in page]
    assert seen == ids
    assert len(set(seen)) == 5


async def test_get_directory_contents_by_prefix(store: ArtifactStore) -> None:
    async def put(name: str) -> str:
        return await store.store(b"x", mime="text/plain", session_id="s", filename=name)

    readme = await put("docs/README.md")
    guide = await put("docs/guide/intro.md")
    logo = await put("images/logo.png")
    await put("notes.txt")
    await store.store(b"x", mime="text/plain", session_id="other", filename="docs/theirs.md")

    docs = await store.get_directory_contents("s", "docs/")
    assert isinstance(docs, ArtifactList)
    assert {m.artifact_id for m in docs} == {readme, guide}
    images = await store.get_directory_contents("s", "images/")
    assert [m.artifact_id for m in images] == [logo]
    assert len(await store.get_directory_contents("s")) == 4
    assert list(await store.get_directory_contents("s", "videos/")) == []
    assert {m.artifact_id for m in await store.list_files("s", "docs/")} == {readme, guide}
    assert len(await store.get_directory_contents("s", "docs/", limit=1)) == 1


async def test_get_directory_contents_prefix_is_literal_and_case_sensitive(
    store: ArtifactStore,
) -> None:
    async def put(name: str) -> str:
        return await store.store(b"x", mime="text/plain", session_id="s", filename=name)

    wanted = await put("my_dir/a.txt")
    await put("myXdir/b.txt")  # '_' is not a wildcard
    await put("My_Dir/c.txt")  # filenames are case-sensitive paths
    pct = await put("100%/d.txt")
    await put("1000/e.txt")  # '%' is not a wildcard either
    greeting = await put("Grüße/f.txt")
    await put("Grüßen/g.txt")
    await put("GRÜSSE/h.txt")

    assert [m.artifact_id for m in await store.get_directory_contents("s", "my_dir/")] == [wanted]
    assert [m.artifact_id for m in await store.get_directory_contents("s", "100%/")] == [pct]
    assert [m.artifact_id for m in await store.get_directory_contents("s", "Grüße/")] == [greeting]


async def test_search_by_user_scope_and_mime(store: ArtifactStore) -> None:
    pdf = await store.store(
        b"%PDF", mime="application/pdf", user_id="alice", scope="user", summary="Q4"
    )
    png = await store.store(b"PNG", mime="image/png", user_id="alice", scope="user")
    session_file = await store.store(b"tmp", mime="text/plain", user_id="alice")
    await store.store(b"bob", mime="application/pdf", user_id="bob", scope="user")
    await store.store(b"shared", mime="application/pdf", scope="sandbox")

    user_files = await store.search(user_id="alice", scope="user")
    assert {m.artifact_id for m in user_files} == {pdf, png}
    assert all(m.owner_id == "alice" and m.scope is Scope.USER for m in user_files)
    assert user_files.next_cursor is None

    pdfs = await store.search(user_id="alice", scope="user", mime_prefix="application/pdf")
    assert [m.artifact_id for m in pdfs] == [pdf]
    images = await store.search(user_id="alice", mime_prefix="image/")
    assert [m.artifact_id for m in images] == [png]

    everything_of_alice = await store.search(user_id="alice")
    assert {m.artifact_id for m in everything_of_alice} == {pdf, png, session_file}

    shared = await store.search(scope="sandbox")
    assert len(shared) == 1
    assert shared[0].scope is Scope.SANDBOX
    assert len(await store.search()) == 5  # the trusted application sees the whole sandbox


META_FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"quarter": "Q4"}, {"str", "int", "list"}),
    ({"quarter": "Q4", "n": 1}, {"int"}),
    ({"n": 1}, {"int"}),  # 1 is not True
    ({"n": True}, {"bool"}),  # True is not 1
    ({"n": 1.5}, {"float"}),
    ({"n": "1"}, {"strnum"}),  # "1" is not 1
    ({"tags": ["a", "b"]}, {"list"}),
    ({"tags": ["b", "a"]}, set()),  # list order matters
    ({"tags": "a"}, set()),
    ({"dims": {"w": 1920, "h": 1080}}, {"dict"}),
    ({"dims": {"w": 1920}}, set()),  # whole values, not sub-documents
    ({"quarter": "Q3"}, set()),
    ({"missing": "x"}, set()),
    ({}, {"str", "int", "bool", "float", "strnum", "list", "dict"}),
]


async def test_search_meta_filter_is_exact_and_typed(store: ArtifactStore) -> None:
    metas: dict[str, dict[str, Any]] = {
        "str": {"quarter": "Q4"},
        "int": {"quarter": "Q4", "n": 1},
        "bool": {"n": True},
        "float": {"n": 1.5},
        "strnum": {"n": "1"},
        "list": {"quarter": "Q4", "tags": ["a", "b"]},
        "dict": {"dims": {"h": 1080, "w": 1920}},
    }
    ids = {}
    for name, meta in metas.items():
        ids[name] = await store.store(
            name.encode(), mime="text/plain", user_id="alice", scope="user", meta=meta
        )
    await store.store(b"bob", mime="text/plain", user_id="bob", scope="user", meta={"n": 1})
    for meta_filter, expected in META_FILTER_CASES:
        found = await store.search(user_id="alice", scope="user", meta_filter=meta_filter)
        assert {m.artifact_id for m in found} == {ids[name] for name in expected}, meta_filter


async def test_search_cursor_pagination(store: ArtifactStore) -> None:
    ids = [
        await store.store(b"%d" % i, mime="text/plain", user_id="alice", scope="user")
        for i in range(5)
    ]
    await store.store(b"b", mime="text/plain", user_id="bob", scope="user")

    async def fetch(*, limit: int, cursor: str | None) -> ArtifactList:
        return await store.search(user_id="alice", scope="user", limit=limit, cursor=cursor)

    pages = await all_pages(fetch, limit=2)
    seen = [m.artifact_id for page in pages for m in page]
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen)) == 5
    assert [len(p) for p in pages] == [2, 2, 1]


async def test_search_meta_filter_pagination(store: ArtifactStore) -> None:
    wanted = []
    for i in range(12):
        meta = {"kind": "keep" if i % 2 else "skip", "i": i}
        artifact_id = await store.store(
            b"%d" % i, mime="text/plain", user_id="alice", scope="user", meta=meta
        )
        if i % 2:
            wanted.append(artifact_id)

    async def fetch(*, limit: int, cursor: str | None) -> ArtifactList:
        return await store.search(
            user_id="alice", meta_filter={"kind": "keep"}, limit=limit, cursor=cursor
        )

    pages = await all_pages(fetch, limit=4)
    seen = [m.artifact_id for page in pages for m in page]
    assert seen == wanted
    assert all(len(p) == 4 for p in pages[:-1])


# -- batch, write_file, streaming ------------------------------------------------------------------


async def test_store_batch_stores_every_item_in_one_session(store: ArtifactStore) -> None:
    items = [
        {
            "data": f"image {i}".encode(),
            "mime": "image/jpeg",
            "filename": f"products/img-{i}.jpg",
            "summary": f"Product image {i}",
            "meta": {"product_id": "LPT-001", "i": i},
        }
        for i in range(10)
    ]
    ids = await store.store_batch(items, session_id="catalog_1")
    assert len(ids) == 10
    assert len(set(ids)) == 10
    for i, artifact_id in enumerate(ids):
        meta = await store.metadata(artifact_id)
        assert meta.session_id == "catalog_1"
        assert meta.filename == f"products/img-{i}.jpg"
        assert meta.summary == f"Product image {i}"
        assert meta.meta == {"product_id": "LPT-001", "i": i}
        assert await store.retrieve(artifact_id) == f"image {i}".encode()
    assert {m.artifact_id for m in await store.list_by_session("catalog_1")} == set(ids)


async def test_store_batch_without_session_uses_one_new_session(store: ArtifactStore) -> None:
    ids = await store.store_batch(
        [{"data": b"one", "mime": "text/plain"}, {"data": b"two"}], user_id="alice"
    )
    metas = [await store.metadata(i) for i in ids]
    assert len({m.session_id for m in metas}) == 1
    assert metas[0].session_id.startswith("sess-alice-")
    assert metas[1].mime == "application/octet-stream"
    assert [await store.retrieve(i) for i in ids] == [b"one", b"two"]


@pytest.mark.parametrize(
    "bad_item",
    [
        {"data": "not bytes", "mime": "text/plain"},
        {"data": b"x", "mime": "not a mime"},
        {"data": b"x", "mime": "text/plain", "filename": "../escape"},
        {"data": b"x", "mime": "text/plain", "scope": "galaxy"},
        {"data": b"x", "mime": "text/plain", "unknown_key": 1},
    ],
)
async def test_store_batch_with_an_invalid_item_stores_nothing(
    store: ArtifactStore, snapshot: Any, bad_item: dict[str, Any]
) -> None:
    before = await snapshot(store)
    items = [{"data": b"good %d" % i, "mime": "text/plain"} for i in range(3)]
    items.insert(2, bad_item)
    with pytest.raises(InvalidRequestError):
        await store.store_batch(items, session_id="batch")
    assert await snapshot(store) == before
    assert list(await store.list_by_session("batch")) == []


async def test_store_batch_failing_midway_rolls_back(store: ArtifactStore, snapshot: Any) -> None:
    """An item that passes validation but is refused while storing undoes the whole batch."""
    before_artifacts = (await store.get_stats())["total_artifacts"]
    before_blobs = (await snapshot(store))[1]
    items = [
        {"data": b"fine 1", "mime": "text/plain"},
        {"data": b"sandbox", "mime": "text/plain", "scope": "sandbox"},  # bob may not
        {"data": b"fine 2", "mime": "text/plain"},
    ]
    with pytest.raises(ArtifactStoreError):
        await store.store_batch(items, session_id="batch", user_id="bob")
    assert (await store.get_stats())["total_artifacts"] == before_artifacts
    assert (await snapshot(store))[1] == before_blobs
    assert list(await store.list_by_session("batch", user_id="bob")) == []


async def test_write_file_text_and_bytes(store: ArtifactStore, sha: Callable[[bytes], str]) -> None:
    text_id = await store.write_file("héllo", filename="notes/hello.txt", session_id="s")
    meta = await store.metadata(text_id)
    assert meta.filename == "notes/hello.txt"
    assert meta.mime == "text/plain"
    assert meta.summary == "File: notes/hello.txt"
    assert meta.sha256 == sha("héllo".encode())
    assert await store.read_file(text_id, as_text=True) == "héllo"

    latin_id = await store.write_file(
        "héllo", filename="latin.txt", session_id="s", encoding="latin-1", summary="custom"
    )
    assert await store.retrieve(latin_id) == "héllo".encode("latin-1")
    assert (await store.metadata(latin_id)).summary == "custom"

    bin_id = await store.write_file(
        BINARY, filename="blob.bin", mime="application/octet-stream", session_id="s"
    )
    assert await store.retrieve(bin_id) == BINARY
    user_id = await store.write_file("u", filename="u.txt", user_id="alice", scope="user")
    user_meta = await store.metadata(user_id)
    assert user_meta.scope is Scope.USER
    assert user_meta.expires_at is None


@pytest.mark.parametrize("callback_kind", ["sync", "async"])
async def test_stream_upload_with_progress(
    store: ArtifactStore, callback_kind: str, sha: Callable[[bytes], str]
) -> None:
    data = BINARY * 3
    calls, callback = progress_recorder(callback_kind)

    request = StreamUploadRequest(
        data_stream=chunked(data, 1000),
        mime="application/octet-stream",
        summary="streamed",
        filename="stream.bin",
        session_id="s",
        meta={"via": "stream"},
        content_length=len(data),
        progress_callback=callback,
    )
    artifact_id = await store.stream_upload(request)

    assert await store.retrieve(artifact_id) == data
    meta = await store.metadata(artifact_id)
    assert meta.sha256 == sha(data)
    assert meta.bytes == len(data)
    assert meta.filename == "stream.bin"
    assert meta.summary == "streamed"
    assert meta.meta == {"via": "stream"}
    assert meta.session_id == "s"
    assert meta.ttl == DEFAULT_TTL  # ttl left out: the session default

    done = [d for d, _ in calls]
    assert len(calls) == -(-len(data) // 1000)
    assert done == sorted(done)
    assert len(set(done)) == len(done)
    assert done[-1] == len(data)
    assert all(total == len(data) for _, total in calls)


async def test_stream_upload_without_content_length(store: ArtifactStore) -> None:
    calls: list[tuple[int, int | None]] = []
    request = StreamUploadRequest(
        data_stream=chunked(b"abcdefghij" * 10, 7),
        user_id="alice",
        scope="user",
        ttl=None,
        progress_callback=lambda done, total: calls.append((done, total)),
    )
    artifact_id = await store.stream_upload(request)
    assert await store.retrieve(artifact_id, user_id="alice") == b"abcdefghij" * 10
    meta = await store.metadata(artifact_id)
    assert meta.scope is Scope.USER
    assert meta.owner_id == "alice"
    assert meta.expires_at is None
    assert calls[-1] == (100, 100)  # the size is known once the stream ends
    assert all(total is None for _, total in calls[:-1])


@pytest.mark.parametrize("declared", [50, 99, 101, 1000])
async def test_stream_upload_length_mismatch_stores_nothing(
    store: ArtifactStore, snapshot: Any, declared: int
) -> None:
    before = await snapshot(store)
    request = StreamUploadRequest(
        data_stream=chunked(b"z" * 100, 10), session_id="s", content_length=declared
    )
    with pytest.raises(InvalidRequestError):
        await store.stream_upload(request)
    after = await snapshot(store)
    assert after[0]["total_artifacts"] == before[0]["total_artifacts"]
    assert after[1] == before[1]
    assert list(await store.list_by_session("s")) == []


@pytest.mark.parametrize("callback_kind", ["sync", "async"])
async def test_stream_download_in_chunks_with_progress(
    store: ArtifactStore, callback_kind: str
) -> None:
    data = BINARY * 2  # 8714 bytes
    artifact_id = await store.store(data, mime="application/octet-stream", session_id="s")
    calls, callback = progress_recorder(callback_kind)

    request = StreamDownloadRequest(
        artifact_id=artifact_id,
        session_id="s",
        chunk_size=1000,
        progress_callback=callback,
    )
    chunks = await collect(store, request)
    assert b"".join(chunks) == data
    assert all(0 < len(c) <= 1000 for c in chunks)
    assert len(chunks) >= -(-len(data) // 1000)
    done = [d for d, _ in calls]
    assert len(calls) == len(chunks)
    assert done == sorted(done)
    assert done[-1] == len(data)
    assert all(total == len(data) for _, total in calls)

    digest = hashlib.sha256()
    async for chunk in store.stream_download(StreamDownloadRequest(artifact_id=artifact_id)):
        digest.update(chunk)
    assert "sha256:" + digest.hexdigest() == (await store.metadata(artifact_id)).sha256


async def test_stream_download_of_missing_artifact(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError):
        await collect(store, StreamDownloadRequest(artifact_id="0" * 32))


# -- administration --------------------------------------------------------------------------------


async def test_validate_configuration(store: ArtifactStore, provider: str) -> None:
    status = await store.validate_configuration()
    assert status["storage"]["status"] == "ok"
    assert status["storage"]["provider"] == provider
    assert status["session"]["status"] == "ok"
    assert status["catalog"]["status"] == "ok"


async def test_get_stats_counts_and_bytes(store: ArtifactStore, provider: str) -> None:
    empty = await store.get_stats()
    assert empty["total_artifacts"] == 0
    assert empty["total_bytes"] == 0
    assert empty["storage_provider"] == provider
    assert empty["bucket"] == ("artifacts" if provider != "s3" else store.settings.bucket)
    assert empty["sandbox_id"] == "default"
    assert empty["session_provider"] == "memory"

    await store.store(b"12345", mime="text/plain", session_id="s1")
    await store.store(b"12345", mime="text/plain", session_id="s1")  # same content
    await store.store(b"abc", mime="text/plain", session_id="s2")
    stats = await store.get_stats()
    assert stats["total_artifacts"] == 3
    assert stats["total_bytes"] == 13
    assert stats["unique_blobs"] == 2
    assert stats["stored_bytes"] == 8
    assert stats["sessions"] == 2


async def test_parse_grid_key_for_every_scope(store: ArtifactStore) -> None:
    session_id = await store.store(b"s", mime="text/plain", session_id="sess-x")
    user_id = await store.store(b"u", mime="text/plain", user_id="alice", scope="user")
    sandbox_id = await store.store(b"b", mime="text/plain", scope="sandbox")

    session_key = (await store.metadata(session_id)).key
    parsed = store.parse_grid_key(session_key)
    assert isinstance(parsed, GridKeyComponents)
    assert (parsed.sandbox_id, parsed.scope, parsed.session_id, parsed.artifact_id) == (
        "default",
        Scope.SESSION,
        "sess-x",
        session_id,
    )
    assert parsed.user_id is None

    user_key = (await store.metadata(user_id)).key
    assert user_key == f"grid/default/users/alice/{user_id}"
    parsed = store.parse_grid_key(user_key)
    assert parsed is not None
    assert (parsed.scope, parsed.user_id, parsed.artifact_id) == (Scope.USER, "alice", user_id)

    sandbox_key = (await store.metadata(sandbox_id)).key
    assert sandbox_key == f"grid/default/shared/{sandbox_id}"
    parsed = store.parse_grid_key(sandbox_key)
    assert parsed is not None
    assert (parsed.scope, parsed.artifact_id) == (Scope.SANDBOX, sandbox_id)

    short = store.parse_grid_key("grid/my-app/session-abc123/artifact-def456")
    assert short is not None
    assert (short.sandbox_id, short.session_id, short.artifact_id) == (
        "my-app",
        "session-abc123",
        "artifact-def456",
    )
    for not_a_key in ["hello", "", "grid/", "grid/a/b", "files/a/b/c", "grid/a/../c/d"]:
        assert store.parse_grid_key(not_a_key) is None
    assert store.get_canonical_prefix("sess-x") == "grid/default/sessions/sess-x/"
    assert store.generate_artifact_key("sess-x", session_id) == session_key


# -- presigned URLs and multipart uploads ----------------------------------------------------------


async def test_presign_checks_the_artifact_first(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError):
        await store.presign("0" * 32)


# -- ttl semantics (seed 000) ----------------------------------------------------------------------


async def test_session_scope_gets_the_default_ttl(store: ArtifactStore) -> None:
    meta = await store.metadata(await store.store(b"x", mime="text/plain", session_id="s"))
    assert meta.ttl == DEFAULT_TTL == 900
    assert ts(meta.expires_at) - ts(meta.stored_at) == pytest.approx(900, abs=0.01)


async def test_explicit_ttl(store: ArtifactStore) -> None:
    meta = await store.metadata(
        await store.store(b"x", mime="text/plain", session_id="s", ttl=3600)
    )
    assert meta.ttl == 3600
    assert ts(meta.expires_at) - ts(meta.stored_at) == pytest.approx(3600, abs=0.01)
    user_meta = await store.metadata(
        await store.store(b"x", mime="text/plain", user_id="alice", scope="user", ttl=86400 * 365)
    )
    assert ts(user_meta.expires_at) - ts(user_meta.stored_at) == pytest.approx(
        86400 * 365, abs=0.01
    )


@pytest.mark.parametrize("scope", ["user", "sandbox"])
async def test_user_and_sandbox_scopes_never_expire_by_default(
    store: ArtifactStore, scope: str
) -> None:
    owner = "alice" if scope == "user" else None
    meta = await store.metadata(
        await store.store(b"x", mime="text/plain", user_id=owner, scope=scope)
    )
    assert meta.expires_at is None
    assert meta.ttl is None


async def test_explicit_ttl_none_means_no_expiry(store: ArtifactStore) -> None:
    meta = await store.metadata(
        await store.store(b"x", mime="text/plain", session_id="s", ttl=None)
    )
    assert meta.expires_at is None
    assert meta.ttl is None
    streamed = await store.stream_upload(
        StreamUploadRequest(data_stream=chunked(b"abc", 2), session_id="s", ttl=None)
    )
    assert (await store.metadata(streamed)).expires_at is None
    batch = await store.store_batch(
        [{"data": b"b", "mime": "text/plain"}], session_id="s", ttl=None
    )
    assert (await store.metadata(batch[0])).expires_at is None


async def test_update_metadata_can_change_ttl(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s")
    forever = await store.update_metadata(artifact_id, ttl=None)
    assert forever.expires_at is None
    later = await store.update_metadata(artifact_id, ttl=60)
    assert later.ttl == 60
    assert ts(later.expires_at) - ts(later.updated_at) == pytest.approx(60, abs=0.01)


# -- lifecycle -------------------------------------------------------------------------------------


async def test_context_manager_and_closed_store(make_store: Any) -> None:
    store = await make_store()
    async with store as opened:
        assert opened is store
        artifact_id = await opened.store(b"x", mime="text/plain", session_id="s")
        assert await opened.exists(artifact_id)
    with pytest.raises(ArtifactStoreError):
        await store.retrieve(artifact_id)


@pytest.mark.embedded_only("reopens the store's data directory")
async def test_persistence_across_reopen(make_store: Any, backend: str, tmp_path: Any) -> None:
    first = await make_store(data_dir=tmp_path / "shared")
    artifact_id = await first.store(b"durable", mime="text/plain", session_id="s", filename="a")
    await first.move_file(artifact_id, new_filename="b")
    await first.close()

    second = await make_store(data_dir=tmp_path / "shared")
    if backend == "memory":  # seed 000: the memory provider does not persist
        assert await second.exists(artifact_id) is False
        return
    assert await second.retrieve(artifact_id) == b"durable"
    assert (await second.metadata(artifact_id)).filename == "b"


# -- configuration ---------------------------------------------------------------------------------


def test_no_configuration_leaks_into_the_tests() -> None:
    leaked = [k for k in os.environ if k.upper().startswith(("SATCHEL_", "ARTIFACT_", "SESSION_"))]
    assert leaked == []
    assert ArtifactStore().storage_provider == "memory"


async def test_seed_environment_variables_configure_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("ARTIFACT_PROVIDER", "vfs-filesystem")
    monkeypatch.setenv("ARTIFACT_FS_ROOT", str(tmp_path / "fs-root"))
    monkeypatch.setenv("ARTIFACT_SANDBOX_ID", "my-app")
    monkeypatch.setenv("SATCHEL_DATA_DIR", str(tmp_path / "data"))
    async with ArtifactStore() as store:
        assert store.storage_provider == "filesystem"
        body = b"configured\n" * 3000  # larger than the inline limit: a file under the root
        artifact_id = await store.store(body, mime="text/plain", session_id="s")
        meta = await store.metadata(artifact_id)
        assert meta.key == f"grid/my-app/sessions/s/{artifact_id}"
        assert meta.storage_provider == "filesystem"
    blob_files = [p for p in (tmp_path / "fs-root").rglob("*") if p.is_file()]
    assert len(blob_files) == 1
    assert blob_files[0].read_bytes() == body
    assert (tmp_path / "data" / "satchel.db").exists()
    # An explicit argument wins over the environment.
    assert ArtifactStore(storage_provider="memory").storage_provider == "memory"
