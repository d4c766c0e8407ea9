"""TTL expiry: expired artifacts answer ArtifactExpiredError until purged; purge reclaims bytes.

Time is moved with the store's clock (the ``clock`` fixture, a ManualClock), not by sleeping,
so these run on the embedded backends only; test_expiry_realtime.py checks expiry on
every backend and the remote client with real (short) TTLs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from tests.store.internals import blobs_of

from satchel import (
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStore,
    StreamDownloadRequest,
)
from satchel.testing import ManualClock

pytestmark = pytest.mark.embedded_only("moves the store's clock")


async def test_expired_artifact_answers_expired_everywhere(
    store: ArtifactStore, clock: ManualClock
) -> None:
    doomed = await store.store(
        b"ephemeral",
        mime="text/plain",
        session_id="s",
        user_id="alice",
        filename="docs/tmp.txt",
        meta={"kind": "tmp"},
        ttl=60,  # long enough that a loaded machine still reads it before the clock moves
    )
    alive = await store.store(
        b"alive", mime="text/plain", session_id="s", user_id="alice", filename="docs/ok.txt"
    )
    # Before it expires, it is there.
    assert await store.retrieve(doomed) == b"ephemeral"
    assert {m.artifact_id for m in await store.list_by_session("s")} == {doomed, alive}

    clock.set(clock() + 60)  # at least expires_at: expired
    for call in (
        lambda: store.retrieve(doomed),
        lambda: store.retrieve(doomed, user_id="alice"),
        lambda: store.metadata(doomed),
        lambda: store.read_file(doomed, as_text=True),
        lambda: store.update_metadata(doomed, summary="x"),
        lambda: store.update_file(doomed, data=b"new"),
        lambda: store.copy_file(doomed),
        lambda: store.move_file(doomed, new_filename="x.txt"),
        lambda: store.extend_ttl(doomed, 3600),
        lambda: store.presign(doomed),
    ):
        with pytest.raises(ArtifactExpiredError) as caught:
            await call()
        assert not isinstance(caught.value, ArtifactNotFoundError)
        assert caught.value.status_code == 410
    with pytest.raises(ArtifactExpiredError):
        [c async for c in store.stream_download(StreamDownloadRequest(artifact_id=doomed))]
    assert await store.exists(doomed) is False

    # Hidden from every listing.
    assert [m.artifact_id for m in await store.list_by_session("s")] == [alive]
    assert [m.artifact_id for m in await store.get_directory_contents("s", "docs/")] == [alive]
    assert [m.artifact_id for m in await store.search()] == [alive]
    # (the session is alice's, so both artifacts are hers)
    assert [m.artifact_id for m in await store.search(user_id="alice")] == [alive]
    assert list(await store.search(meta_filter={"kind": "tmp"})) == []
    # The catalog still holds it until it is purged.
    assert (await store.get_stats())["total_artifacts"] == 2
    assert await store.retrieve(alive) == b"alive"


async def test_session_default_ttl_boundary(store: ArtifactStore, clock: ManualClock) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s")
    clock.advance(899)
    assert await store.retrieve(artifact_id) == b"x"
    clock.advance(1)
    with pytest.raises(ArtifactExpiredError):
        await store.retrieve(artifact_id)


async def test_no_ttl_never_expires(store: ArtifactStore, clock: ManualClock) -> None:
    forever = await store.store(b"forever", mime="text/plain", session_id="s", ttl=None)
    mine = await store.store(b"mine", mime="text/plain", user_id="alice", scope="user")
    shared = await store.store(b"shared", mime="text/plain", scope="sandbox")
    clock.advance(50 * 365 * 86400)
    # Nothing expires; the (long expired) sessions still hold artifacts, so they stay too.
    assert await store.cleanup_expired_sessions() == 0
    assert await store.retrieve(forever) == b"forever"
    assert await store.retrieve(mine, user_id="alice") == b"mine"
    assert await store.retrieve(shared) == b"shared"


async def test_cleanup_purges_expired_and_reclaims_bytes(
    store: ArtifactStore, clock: ManualClock, sha: Callable[[bytes], str]
) -> None:
    doomed = await store.store(b"doomed bytes", mime="text/plain", session_id="s", ttl=60)
    other = await store.store(b"other", mime="text/plain", session_id="s", ttl=None)
    assert await blobs_of(store).head(sha(b"doomed bytes")) is not None
    assert await store.cleanup_expired_sessions() == 0  # nothing has expired yet
    assert await store.retrieve(doomed) == b"doomed bytes"

    clock.advance(65)
    purged = await store.cleanup_expired_sessions()
    assert purged >= 1
    with pytest.raises(ArtifactNotFoundError):
        await store.retrieve(doomed)
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(doomed)
    assert await store.exists(doomed) is False
    assert await blobs_of(store).head(sha(b"doomed bytes")) is None
    assert await store.retrieve(other) == b"other"
    stats = await store.get_stats()
    assert stats["total_artifacts"] == 1
    assert stats["unique_blobs"] == 1
    assert stats["stored_bytes"] == len(b"other")
    assert await store.cleanup_expired_sessions() == 0  # idempotent


async def test_purge_keeps_bytes_another_artifact_references(
    store: ArtifactStore, clock: ManualClock, sha: Callable[[bytes], str]
) -> None:
    content = b"shared content"
    doomed = await store.store(content, mime="text/plain", session_id="s", ttl=1)
    keeper = await store.store(content, mime="text/plain", session_id="s", ttl=None)
    copy = await store.copy_file(keeper)  # shares the same blob; ttl None like its source

    clock.advance(5)
    result = await store.purge_expired()
    assert result["artifacts"] == 1
    assert result["blobs"] == 0
    assert result["bytes_freed"] == 0
    with pytest.raises(ArtifactNotFoundError):
        await store.retrieve(doomed)
    assert await blobs_of(store).head(sha(content)) is not None
    assert await store.retrieve(keeper) == content

    await store.delete(keeper)
    assert await blobs_of(store).head(sha(content)) is not None  # the copy still needs it
    await store.delete(copy)
    assert await blobs_of(store).head(sha(content)) is None


async def test_purge_reports_counts(store: ArtifactStore, clock: ManualClock) -> None:
    for i in range(3):
        await store.store(b"gone %d" % i, mime="text/plain", session_id="s", ttl=10)
    await store.store(b"gone 0", mime="text/plain", session_id="t", ttl=10)  # same bytes as one
    clock.advance(11)
    result = await store.purge_expired()
    assert result["artifacts"] == 4
    assert result["blobs"] == 3
    assert result["bytes_freed"] == 3 * len(b"gone 0")
    assert (await store.get_stats())["total_artifacts"] == 0


async def test_expired_sessions_are_forgotten_once_empty(
    store: ArtifactStore, clock: ManualClock
) -> None:
    session_id = await store.create_session(user_id="alice")
    artifact_id = await store.store(
        b"x", mime="text/plain", session_id=session_id, user_id="alice", ttl=None
    )
    clock.advance(25 * 3600)  # past the 24 h session lifetime
    # The session still holds an artifact, so it stays.
    await store.cleanup_expired_sessions()
    assert (await store.get_stats())["sessions"] == 1
    assert await store.retrieve(artifact_id) == b"x"

    await store.delete(artifact_id)
    assert await store.cleanup_expired_sessions() >= 1
    assert (await store.get_stats())["sessions"] == 0
    assert await store.validate_session(session_id) is False
    assert await store.get_session_info(session_id) is None


async def test_storing_into_an_expired_session_is_refused(
    store: ArtifactStore, clock: ManualClock
) -> None:
    session_id = await store.create_session(user_id="alice", ttl_hours=1)
    await store.store(b"x", mime="text/plain", session_id=session_id, user_id="alice")
    clock.advance(2 * 3600)
    with pytest.raises(ArtifactExpiredError):
        await store.store(b"y", mime="text/plain", session_id=session_id, user_id="alice")


async def test_an_expired_session_is_no_longer_a_credential(
    store: ArtifactStore, clock: ManualClock
) -> None:
    session_id = await store.create_session(user_id="alice", ttl_hours=1)
    artifact_id = await store.store(
        b"x", mime="text/plain", session_id=session_id, user_id="alice", ttl=None
    )
    assert await store.retrieve(artifact_id, session_id=session_id) == b"x"
    clock.advance(2 * 3600)
    assert await store.validate_session(session_id) is False
    for operation in (
        lambda: store.retrieve(artifact_id, session_id=session_id),
        lambda: store.delete(artifact_id, session_id=session_id),
        lambda: store.list_by_session(session_id),
    ):
        with pytest.raises(ArtifactExpiredError, match="session"):
            await operation()
    # The artifact itself never expires: its owner and the application still reach it.
    assert await store.retrieve(artifact_id, user_id="alice") == b"x"
    assert await store.retrieve(artifact_id) == b"x"


async def test_extend_ttl_pushes_expiry(store: ArtifactStore, clock: ManualClock) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s", ttl=100)
    before = await store.metadata(artifact_id)

    extended = await store.extend_ttl(artifact_id, 1000)
    assert extended.version == before.version + 1
    assert before.expires_at is not None
    assert extended.expires_at is not None
    shift = (
        datetime.fromisoformat(extended.expires_at) - datetime.fromisoformat(before.expires_at)
    ).total_seconds()
    assert shift == pytest.approx(1000, abs=0.01)
    assert (await store.metadata(artifact_id)).expires_at == extended.expires_at

    clock.advance(500)  # past the original expiry, inside the extended one
    assert await store.retrieve(artifact_id) == b"x"
    clock.advance(600)  # 1100 s: past the extended expiry
    with pytest.raises(ArtifactExpiredError):
        await store.retrieve(artifact_id)
    with pytest.raises(ArtifactExpiredError):
        await store.extend_ttl(artifact_id, 1000)  # too late


async def test_update_ttl_to_none_rescues_an_artifact(
    store: ArtifactStore, clock: ManualClock
) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s", ttl=10)
    await store.update_metadata(artifact_id, ttl=None)
    clock.advance(3600)
    assert await store.cleanup_expired_sessions() == 0
    assert await store.retrieve(artifact_id) == b"x"


async def test_gc_grace_period_delays_reclaiming_bytes(
    make_store: Any, clock: ManualClock, sha: Callable[[bytes], str]
) -> None:
    store = await make_store(gc_grace_seconds=60)
    doomed = await store.store(b"lingering", mime="text/plain", session_id="s", ttl=1)
    deleted = await store.store(b"deleted", mime="text/plain", session_id="s", ttl=None)
    clock.advance(2)
    await store.delete(deleted)
    result = await store.purge_expired()
    assert result["artifacts"] == 1
    assert result["blobs"] == 0
    with pytest.raises(ArtifactNotFoundError):
        await store.retrieve(doomed)
    assert await blobs_of(store).head(sha(b"lingering")) is not None
    assert await blobs_of(store).head(sha(b"deleted")) is not None

    clock.advance(61)
    removed, freed = await store.collect_garbage()
    assert (removed, freed) == (2, len(b"lingering") + len(b"deleted"))
    assert await blobs_of(store).head(sha(b"lingering")) is None
    assert await blobs_of(store).head(sha(b"deleted")) is None


async def test_reused_content_survives_the_grace_period(
    make_store: Any, clock: ManualClock
) -> None:
    """Bytes orphaned and then stored again are referenced again, so GC keeps them."""
    store = await make_store(gc_grace_seconds=60)
    first = await store.store(b"phoenix", mime="text/plain", session_id="s")
    await store.delete(first)
    again = await store.store(b"phoenix", mime="text/plain", session_id="s")
    clock.advance(120)
    assert await store.collect_garbage() == (0, 0)
    assert await store.retrieve(again) == b"phoenix"
