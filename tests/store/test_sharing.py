"""Public artifacts, collections and artifact URNs (seed 002's ``policy``, ``collection`` and
``urn:…:artifact:`` ids; seed 004's URL flavors), on every backend and over HTTP."""

from __future__ import annotations

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    ConflictError,
    InvalidRequestError,
    StreamDownloadRequest,
)

URN = "urn:satchel:artifact:"


async def _mine(store: ArtifactStore, data: bytes = b"reef survey", **kwargs: object) -> str:
    fields = {"filename": "survey.csv", "user_id": "alice", "scope": "user", **kwargs}
    return await store.store(data, mime="text/csv", summary="s", **fields)  # type: ignore[arg-type]


async def test_an_artifact_urn_names_it_wherever_an_id_does(store: ArtifactStore) -> None:
    made = await _mine(store)
    urn = URN + made
    assert (await store.metadata(urn, user_id="alice")).artifact_id == made
    assert await store.read_file(urn, user_id="alice") == b"reef survey"
    assert await store.exists(urn, user_id="alice")
    chunks = [
        chunk
        async for chunk in store.stream_download(
            StreamDownloadRequest(artifact_id=urn, user_id="alice")
        )
    ]
    assert b"".join(chunks) == b"reef survey"
    updated = await store.update_metadata(urn, summary="new", user_id="alice")
    assert (updated.artifact_id, updated.summary) == (made, "new")
    copy = await store.copy_file(urn, new_filename="copy.csv", user_id="alice")
    assert copy != made
    assert (await store.presign(urn, user_id="alice")).url
    assert await store.delete(URN + copy, user_id="alice")
    with pytest.raises(ArtifactNotFoundError):
        await store.metadata(URN + copy, user_id="alice")
    with pytest.raises(AccessDeniedError):  # a URN is no way around the access rules
        await store.metadata(urn, user_id="bob")


async def test_a_public_artifact_is_read_by_anyone_who_names_it(
    store: ArtifactStore, backend: str
) -> None:
    # (over HTTP "anonymous" is a request without a token: tests/server/test_sharing_http.py)
    anonymous = "bob" if backend == "remote" else "anonymous"
    made = await _mine(store)
    with pytest.raises(AccessDeniedError):
        await store.read_file(made, user_id="bob")
    before = await store.metadata(made, user_id="alice")
    meta = await store.set_policy(
        URN + made, "urn:ivcap:policy:ivcap.open.artifact", user_id="alice"
    )
    assert meta.policy == "public"
    assert meta.version == before.version + 1
    assert await store.read_file(made, user_id="bob") == b"reef survey"
    assert await store.read_file(made, user_id=anonymous) == b"reef survey"
    assert (await store.metadata(made, user_id="bob")).policy == "public"
    # reading is all it grants: no writes, and it joins no one else's listing
    with pytest.raises(AccessDeniedError):
        await store.update_metadata(made, summary="mine now", user_id="bob")
    with pytest.raises(AccessDeniedError):
        await store.delete(made, user_id="bob")
    with pytest.raises(AccessDeniedError):
        await store.set_policy(made, None, user_id="bob")
    assert [item.artifact_id for item in await store.search(user_id="bob")] == []
    assert (await store.set_policy(made, "private", user_id="alice")).policy is None
    with pytest.raises(AccessDeniedError):
        await store.read_file(made, user_id="bob")
    with pytest.raises(AccessDeniedError):
        await store.read_file(made, user_id=anonymous)


@pytest.mark.embedded_only  # over HTTP: tests/server/test_sharing_http.py
async def test_a_reader_without_a_token_reads_public_artifacts_alone(store: ArtifactStore) -> None:
    shared = await store.store(b"for everyone", mime="text/plain", summary="s", scope="sandbox")
    with pytest.raises(AccessDeniedError):  # anonymous reads are off: sandbox scope is not open
        await store.read_file(shared, user_id="anonymous")
    await store.set_policy(shared, "public")
    assert await store.read_file(shared, user_id="anonymous") == b"for everyone"


async def test_an_unknown_policy_is_refused_and_changes_nothing(store: ArtifactStore) -> None:
    made = await _mine(store)
    before = await store.metadata(made, user_id="alice")
    for bad in ("world-readable", "", "urn:ivcap:policy:closed"):
        with pytest.raises(InvalidRequestError, match="policy"):
            await store.set_policy(made, bad, user_id="alice")
    assert await store.metadata(made, user_id="alice") == before


async def test_url_flavors_follow_the_policy(store: ArtifactStore, backend: str) -> None:
    made = await _mine(store)
    private = await store.get_url(made, 600, user_id="alice")
    assert private.expires_at is not None
    with pytest.raises(ConflictError, match="private"):
        await store.get_url(made, policy="public", user_id="alice")
    with pytest.raises(InvalidRequestError, match="URL policy"):
        await store.get_url(made, policy="permanent", user_id="alice")
    await store.set_policy(made, "public", user_id="alice")
    for public in (
        await store.get_url(made, user_id="alice"),
        await store.get_url(made, policy="public", user_id="bob"),
        await store.presign(made, user_id="alice"),
    ):
        assert public.expires_at is None
        if backend != "s3":  # (no public bucket URL is configured: Satchel's own route)
            assert public.url.endswith(f"/v1/artifacts/{made}/content")
            assert "?" not in public.url
    signed = await store.get_url(made, 60, policy="presigned", user_id="alice")
    assert signed.expires_at is not None
    assert signed.url != public.url


async def test_collections_hold_artifacts_and_filter_searches(store: ArtifactStore) -> None:
    first, second = await _mine(store), await _mine(store, b"second", filename="b.csv")
    other = await _mine(store, b"other", filename="c.csv")
    assert (
        await store.add_to_collection(
            "urn:satchel:collection:reef", [first, URN + second], user_id="alice"
        )
        == 2
    )
    assert await store.add_to_collection("reef", [first, first, second], user_id="alice") == 0
    assert await store.add_to_collection("coast", [second], user_id="alice") == 1
    found = await store.search(user_id="alice", collection="reef", order="filename")
    assert [item.artifact_id for item in found] == [second, first]  # b.csv, survey.csv
    page = await store.search(user_id="alice", collection="reef", limit=1)
    rest = await store.search(user_id="alice", collection="reef", limit=1, cursor=page.next_cursor)
    assert {page[0].artifact_id, rest[0].artifact_id} == {first, second}
    assert other not in [item.artifact_id for item in found]
    assert sorted(await store.get_collections(second, user_id="alice")) == ["coast", "reef"]
    listed = await store.list_collections(user_id="alice")
    assert listed["collections"] == [
        {"collection": "coast", "urn": "urn:satchel:collection:coast", "artifacts": 1},
        {"collection": "reef", "urn": "urn:satchel:collection:reef", "artifacts": 2},
    ]
    paged = await store.list_collections(user_id="alice", limit=1)
    assert [c["collection"] for c in paged["collections"]] == ["coast"]
    more = await store.list_collections(user_id="alice", limit=1, cursor=paged["next_cursor"])
    assert [c["collection"] for c in more["collections"]] == ["reef"]
    assert more["next_cursor"] is None
    assert (await store.list_collections(user_id="bob"))["collections"] == []
    assert list(await store.search(user_id="bob", collection="reef")) == []
    assert await store.remove_from_collection("reef", [first], user_id="alice") == 1
    assert await store.remove_from_collection("reef", [first], user_id="alice") == 0
    await store.delete(second, user_id="alice")  # membership goes with the artifact
    assert (await store.list_collections(user_id="alice"))["collections"] == []


async def test_a_refused_collection_change_changes_nothing(store: ArtifactStore) -> None:
    mine = await _mine(store)
    bobs = await store.store(b"b", mime="text/plain", summary="s", user_id="bob", scope="user")
    with pytest.raises(AccessDeniedError):
        await store.add_to_collection("reef", [mine, bobs], user_id="alice")
    with pytest.raises(ArtifactNotFoundError):
        await store.add_to_collection("reef", [mine, "a" * 32], user_id="alice")
    for name, ids in (("../x", [mine]), ("", [mine]), ("reef", []), ("reef", "not-a-list")):
        with pytest.raises(InvalidRequestError):
            await store.add_to_collection(name, ids, user_id="alice")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="at most 1000"):
        await store.add_to_collection("reef", [f"x{i}" for i in range(1001)], user_id="alice")
    assert await store.get_collections(mine, user_id="alice") == []
    with pytest.raises(InvalidRequestError):
        await store.search(user_id="alice", collection="no/such")


@pytest.mark.embedded_only
async def test_replay_rebuilds_policies_and_collections(store: ArtifactStore) -> None:
    made = await _mine(store)
    await store.set_policy(made, "public", user_id="alice")
    await store.add_to_collection("reef", [made], user_id="alice")
    report = await store.replay_events(check=True)
    assert report["differences"] == {}, report
    await store.replay_events()
    assert (await store.metadata(made, user_id="bob")).policy == "public"
    assert await store.get_collections(made, user_id="alice") == ["reef"]
    types = [event["type"] for event in (await store.list_events(limit=100))["events"]]
    assert "v1.artifact.policy_changed" in types
    assert "v1.artifact.collections_changed" in types
