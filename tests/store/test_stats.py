"""get_stats: totals, and usage by scope (what the UI's dashboard shows)."""

from __future__ import annotations

from satchel import ArtifactStore


async def test_usage_by_scope_adds_up(store: ArtifactStore) -> None:
    before = await store.get_stats()
    await store.store(b"ab", filename="u.txt", user_id="alice", scope="user")
    await store.store(b"abc", filename="s.txt", session_id="stats-session")
    await store.store(b"abcd", filename="x.txt", scope="sandbox")
    after = await store.get_stats()
    grew = {
        scope: (
            after["by_scope"][scope]["artifacts"] - before["by_scope"][scope]["artifacts"],
            after["by_scope"][scope]["bytes"] - before["by_scope"][scope]["bytes"],
        )
        for scope in ("session", "user", "sandbox")
    }
    assert grew == {"session": (1, 3), "user": (1, 2), "sandbox": (1, 4)}
    assert after["total_artifacts"] == sum(s["artifacts"] for s in after["by_scope"].values())
    assert after["total_bytes"] == sum(s["bytes"] for s in after["by_scope"].values())
