"""Expiry in real time, on every backend and through the remote client (whose server's clock
cannot be moved): short TTLs and a short wait. test_expiry.py covers the rules in depth."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from tests.store.internals import blobs_of

from satchel import ArtifactExpiredError, ArtifactNotFoundError, ArtifactStore


async def test_a_short_ttl_expires_extend_ttl_postpones_and_purge_reclaims(
    store: ArtifactStore,
) -> None:
    doomed = await store.store(b"doomed bytes", mime="text/plain", session_id="s", ttl=1)
    extended = await store.store(b"extended", mime="text/plain", session_id="s", ttl=1)
    kept = await store.store(b"kept", mime="text/plain", session_id="s", ttl=None)
    before = (await store.metadata(extended)).expires_at
    after = (await store.extend_ttl(extended, 3600)).expires_at
    assert before is not None
    assert after is not None
    assert after > before
    assert (await store.extend_ttl(kept, 3600)).expires_at is None  # nothing to extend

    await asyncio.sleep(1.2)
    with pytest.raises(ArtifactExpiredError) as caught:
        await store.retrieve(doomed)
    assert not isinstance(caught.value, ArtifactNotFoundError)
    assert caught.value.status_code == 410
    with pytest.raises(ArtifactExpiredError):
        await store.extend_ttl(doomed, 3600)  # too late
    assert not await store.exists(doomed)
    listed = {m.artifact_id for m in await store.list_by_session("s")}
    assert listed == {extended, kept}
    doomed_sha = "sha256:" + hashlib.sha256(b"doomed bytes").hexdigest()
    assert await blobs_of(store).head(doomed_sha) is not None  # kept until purged

    result = await store.purge_expired()
    assert (result["artifacts"], result["blobs"]) == (1, 1)
    assert result["bytes_freed"] == len(b"doomed bytes")
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(doomed)
    assert await store.retrieve(extended) == b"extended"
    assert await blobs_of(store).head(doomed_sha) is None
    assert await blobs_of(store).head((await store.metadata(kept)).sha256) is not None
    stats = await store.get_stats()
    assert (stats["total_artifacts"], stats["unique_blobs"]) == (2, 2)


async def test_sessions_round_trip(store: ArtifactStore) -> None:
    session_id = await store.create_session(user_id="alice", ttl_hours=1)
    assert await store.validate_session(session_id)
    info = await store.get_session_info(session_id)
    assert info is not None
    assert (info["session_id"], info["user_id"]) == (session_id, "alice")
    assert await store.get_session_info("no-such-session") is None
    assert not await store.validate_session("no-such-session")
    artifact_id = await store.store(b"x", mime="text/plain", session_id=session_id, user_id="alice")
    assert (await store.metadata(artifact_id)).owner_id == "alice"
    assert (
        store.get_canonical_prefix(session_id) == f"grid/{store.sandbox_id}/sessions/{session_id}/"
    )
    key = store.generate_artifact_key(session_id, artifact_id)
    assert key == (await store.metadata(artifact_id)).key
    parsed = store.parse_grid_key(key)
    assert parsed is not None
    assert parsed.artifact_id == artifact_id
