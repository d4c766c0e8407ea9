"""Nothing a caller stores may later break a read, a listing or a response: what could is
refused at the door (and changes nothing), and what was stored before the rules is read back
safely. On every backend and through the remote client."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import (
    ArtifactStore,
    InvalidRequestError,
    StreamUploadRequest,
)
from satchel.core.metadata import MAX_META_DEPTH

# Checks made before any backend is touched: memory, filesystem and the remote client stand for
# the rest (the last two also prove nothing reached a disk or the server's catalog).
AT_THE_DOOR = pytest.mark.not_on(
    "sqlite", "postgres", "s3", reason="refused before any backend is touched"
)


def nested(depth: int, leaf: Any = 1) -> dict[str, Any]:
    """A document nested *depth* levels deep (built without recursion)."""
    document: Any = leaf
    for _ in range(depth - 1):
        document = {"k": document}
    return {"k": document} if depth >= 1 else document


async def _one(data: bytes) -> Any:
    yield data


async def test_meta_nests_at_most_32_levels(store: ArtifactStore, snapshot: Any) -> None:
    ok = await store.store(b"x", meta=nested(MAX_META_DEPTH - 1), session_id="d")
    assert (await store.metadata(ok)).meta == nested(MAX_META_DEPTH - 1)
    before = await snapshot(store)
    for depth in (MAX_META_DEPTH + 1, 5000):
        with pytest.raises(InvalidRequestError, match="deeper"):
            await store.store(b"x", meta=nested(depth), session_id="d")
        with pytest.raises(InvalidRequestError, match="deeper"):
            await store.update_metadata(ok, meta=nested(depth))
        with pytest.raises(InvalidRequestError, match="deeper"):
            await store.search(meta_filter=nested(depth))
    assert await snapshot(store) == before
    listed = await store.list_by_session("d")
    assert [m.artifact_id for m in listed] == [ok]


@AT_THE_DOOR
@pytest.mark.parametrize(
    "meta",
    [
        {"\ud800": 1},
        {"k": "\udfff"},
        {"k": ["ok", {"deep": "x\ud83dy"}]},
        {"k\x00": 1},
        {"k": "a\x00b"},
        {"k": float("nan")},
        {"k": float("inf")},
        {"k": {1: "int key inside"}},
        {"k": b"bytes"},
        {"x" * 257: 1},
    ],
)
async def test_meta_that_cannot_be_written_as_json_is_refused(
    store: ArtifactStore, snapshot: Any, meta: dict[str, Any]
) -> None:
    before = await snapshot(store)
    with pytest.raises(InvalidRequestError):
        await store.store(b"x", meta=meta, session_id="d")
    assert await snapshot(store) == before


@AT_THE_DOOR
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("summary", "lone \ud800 surrogate"),
        ("summary", "bell \x07"),
        ("filename", "docs/\udc80.txt"),
        ("filename", "tab\tname"),
        ("mime", "text/plain\r\nX-Evil: 1"),
        ("mime", "text/plain; charset"),
        ("mime", "text/plain\n"),
        ("mime", "texté/plain"),
    ],
)
async def test_text_that_would_break_a_response_is_refused(
    store: ArtifactStore, snapshot: Any, field: str, value: str
) -> None:
    before = await snapshot(store)
    fields: dict[str, Any] = {"mime": "text/plain", field: value}
    with pytest.raises(InvalidRequestError):
        await store.store(b"x", session_id="d", **fields)
    with pytest.raises(InvalidRequestError):
        await store.stream_upload(
            StreamUploadRequest(data_stream=_one(b"x"), session_id="d", **fields)
        )
    assert await snapshot(store) == before


async def test_summaries_keep_their_line_breaks(store: ArtifactStore) -> None:
    stored = await store.store(b"x", summary="line one\nline two\r\n\tindented", session_id="d")
    assert (await store.metadata(stored)).summary == "line one\nline two\r\n\tindented"


@AT_THE_DOOR
@pytest.mark.parametrize("value", ["alice\n", "alice\r", " alice", "al ice", "alice\x00"])
async def test_ids_end_where_they_seem_to(store: ArtifactStore, value: str) -> None:
    with pytest.raises(InvalidRequestError):
        await store.store(b"x", user_id=value)
    with pytest.raises(InvalidRequestError):
        await store.metadata(value)


async def test_an_expiry_never_runs_off_the_calendar(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", ttl=100 * 365 * 86400 - 10, session_id="d")
    with pytest.raises(InvalidRequestError, match="100 years"):
        await store.extend_ttl(artifact_id, 86400)
    for _ in range(3):  # small steps cannot walk past the bound either
        with pytest.raises(InvalidRequestError, match="100 years"):
            await store.extend_ttl(artifact_id, 3600)
    meta = await store.metadata(artifact_id)
    assert meta.expires_at is not None
    assert meta.expires_at < "2127"
    assert [m.artifact_id for m in await store.search(session_id="d")] == [artifact_id]


@AT_THE_DOOR
@pytest.mark.parametrize("hours", [1e8, float("inf"), float("nan"), 0, -1, True, "2"])
async def test_a_session_lifetime_is_checked_before_anything_is_saved(
    store: ArtifactStore, hours: Any
) -> None:
    before = (await store.get_stats())["sessions"]
    with pytest.raises(InvalidRequestError):
        await store.create_session(user_id="alice", ttl_hours=hours)
    assert (await store.get_stats())["sessions"] == before


@pytest.mark.embedded_only("writes rows the rules refuse straight into the catalog")
async def test_rows_stored_before_the_rules_never_fail_a_read(store: ArtifactStore) -> None:
    """Rows written before the door checks (a deep meta document, an expiry past year 9999, a
    header-breaking media type) read back safely, and every listing still answers."""
    import sqlalchemy as sa
    from tests.store.internals import catalog_of

    from satchel.catalog.tables import artifacts

    good = await store.store(b"fine", session_id="old", filename="good.txt")
    bad = await store.store(b"bad", session_id="old", filename="bad.txt", ttl=60)
    deep = nested(500)
    async with catalog_of(store).write() as writer:
        await writer.raw.execute(  # behind the log's back
            sa.update(artifacts)
            .where(artifacts.c.artifact_id == bad)
            .values(meta=deep, expires_at=1e15, mime="text/plain\r\nX-Evil: 1")
        )
    meta = await store.metadata(bad)
    assert (meta.meta, meta.mime) == ({}, "application/octet-stream")
    assert meta.expires_at == "9999-12-31T23:59:59.999999Z"
    async with await store.open_content(bad) as content:
        assert (content.mime, await content.read()) == ("application/octet-stream", b"bad")
    assert {m.artifact_id for m in await store.list_by_session("old")} == {good, bad}
    assert {m.artifact_id for m in await store.search(session_id="old")} == {good, bad}
    assert await store.delete(bad)


@pytest.mark.embedded_only("sets per-user limits on the store")
async def test_a_user_holds_a_bounded_number_of_uploads_and_sessions(make_store: Any) -> None:
    from satchel import MultipartUploadInitRequest, QuotaExceededError

    store = await make_store(max_open_uploads_per_user=2, max_sessions_per_user=2)
    started = [
        await store.initiate_multipart_upload(
            MultipartUploadInitRequest(filename=f"f{n}.bin", user_id="alice", session_id="s1")
        )
        for n in range(2)
    ]
    with pytest.raises(QuotaExceededError, match="unfinished uploads"):
        await store.tus_create(length=10, user_id="alice", session_id="s1")
    await store.abort_multipart_upload(started[0]["upload_id"], user_id="alice")
    assert (await store.tus_create(length=10, user_id="alice", session_id="s1")).offset == 0
    await store.tus_create(length=10, user_id="bob")  # another user's count is their own

    await store.create_session(user_id="alice")  # s1 and this one: the limit
    with pytest.raises(QuotaExceededError, match="live sessions"):
        await store.create_session(user_id="alice")
    # A session made for what it carries is bounded by that, not by the session limit: a CI
    # job storing thousands of artifacts a day without naming sessions is never refused.
    for n in range(3):
        await store.store(b"x", user_id="alice", session_id=f"carries-{n}")
        await store.store(b"y", user_id="alice")
    before = (await store.get_stats())["sessions"]
    for _ in range(3):  # the application's own sessions are not a user's
        await store.create_session()
    assert (await store.get_stats())["sessions"] == before + 3
