"""Access control on every operation (DESIGN.md "Rules that must hold", seed 000 "Access Control").

Alice owns a session-scoped and a user-scoped artifact; Bob, and Alice acting from another
session, must not reach what is not theirs, and a denied call must change nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tests.store.internals import blobs_of

from satchel import (
    AccessDeniedError,
    ArtifactStore,
    ArtifactStoreError,
    InvalidRequestError,
    Scope,
    StreamDownloadRequest,
    StreamUploadRequest,
)


@dataclasses.dataclass
class World:
    sa: str  # alice's session holding her artifacts
    sa2: str  # another session of alice's
    sb: str  # bob's session
    a_sess: str  # alice's session-scoped artifact (in sa)
    a_user: str  # alice's user-scoped artifact (stored from sa)
    b_own: str  # bob's session-scoped artifact (in sb)
    shared: str  # sandbox-scoped artifact written by the application


@pytest.fixture
async def world(store: ArtifactStore) -> World:
    sa = await store.create_session(user_id="alice")
    sa2 = await store.create_session(user_id="alice")
    sb = await store.create_session(user_id="bob")
    alice: dict[str, Any] = {"session_id": sa, "user_id": "alice", "meta": {"owner": "alice"}}
    a_sess = await store.store(
        b"alice session secret", mime="text/plain", filename="docs/secret.txt", **alice
    )
    a_user = await store.store(
        b"alice user document",
        mime="application/pdf",
        filename="docs/report.pdf",
        scope="user",
        **alice,
    )
    b_own = await store.store(
        b"bob's file", mime="text/plain", filename="docs/bob.txt", session_id=sb, user_id="bob"
    )
    shared = await store.store(b"logo", mime="image/png", filename="logo.png", scope="sandbox")
    return World(sa, sa2, sb, a_sess, a_user, b_own, shared)


async def state(store: ArtifactStore) -> Any:
    """Everything a denied call must leave alone: each artifact's version, plus counts and blobs."""
    everything = await store.search(limit=1000)  # the trusted application sees all
    artifacts = sorted(
        (m.artifact_id, m.etag, m.version, m.filename, m.meta, m.sha256, m.expires_at)
        for m in everything
    )
    page = await blobs_of(store).list_page(limit=1000)
    return artifacts, await store.get_stats(), sorted(b.digest for b in page.blobs)


async def collect(store: ArtifactStore, **request: Any) -> bytes:
    return b"".join([c async for c in store.stream_download(StreamDownloadRequest(**request))])


Op = Callable[[ArtifactStore, str, dict[str, Any]], Awaitable[Any]]

OPERATIONS: dict[str, Op] = {
    "retrieve": lambda s, a, c: s.retrieve(a, **c),
    "read_file": lambda s, a, c: s.read_file(a, as_text=True, **c),
    "metadata": lambda s, a, c: s.metadata(a, **c),
    "exists": lambda s, a, c: s.exists(a, **c),
    "update_file_data": lambda s, a, c: s.update_file(a, data=b"overwritten", **c),
    "update_file_fields": lambda s, a, c: s.update_file(a, summary="hijacked", **c),
    "update_metadata": lambda s, a, c: s.update_metadata(a, meta={"evil": True}, **c),
    "extend_ttl": lambda s, a, c: s.extend_ttl(a, 3600, **c),
    "copy_file": lambda s, a, c: s.copy_file(a, new_filename="stolen.txt", **c),
    "move_file": lambda s, a, c: s.move_file(a, new_filename="moved.txt", **c),
    "delete": lambda s, a, c: s.delete(a, **c),
    "stream_download": lambda s, a, c: collect(s, artifact_id=a, **c),
    "presign": lambda s, a, c: s.presign(a, **c),
}


def denied_pairs(w: World) -> list[tuple[str, dict[str, Any]]]:
    """(artifact, caller) pairs that must be refused for every operation."""
    bob_callers: list[dict[str, Any]] = [
        {"user_id": "bob"},
        {"user_id": "bob", "session_id": w.sb},
        {"session_id": w.sb},
    ]
    pairs = [(w.a_user, c) for c in bob_callers] + [(w.a_sess, c) for c in bob_callers]
    # Cross-session: alice acting from her other session cannot touch session sa's artifact.
    pairs += [
        (w.a_sess, {"session_id": w.sa2}),
        (w.a_sess, {"user_id": "alice", "session_id": w.sa2}),
    ]
    # User scope needs the user named: a session id alone never stands in for its owner.
    pairs += [(w.a_user, {"session_id": w.sa}), (w.a_user, {"session_id": w.sa2})]
    return pairs


async def test_every_operation_is_denied_to_other_callers_and_changes_nothing(
    store: ArtifactStore, world: World
) -> None:
    before = await state(store)
    for op in sorted(OPERATIONS):
        for artifact_id, caller in denied_pairs(world):
            label = f"{op} of {artifact_id} by {caller}"
            try:
                with pytest.raises(AccessDeniedError) as caught:
                    await OPERATIONS[op](store, artifact_id, caller)
            except BaseException as exc:
                exc.add_note(label)
                raise
            assert isinstance(caught.value, ArtifactStoreError)
            assert caught.value.status_code == 403
            assert await state(store) == before, f"{label} changed something"
    assert await store.retrieve(world.a_sess) == b"alice session secret"
    assert await store.retrieve(world.a_user) == b"alice user document"


async def test_rightful_callers_may_read(store: ArtifactStore, world: World) -> None:
    content = {
        world.a_user: b"alice user document",
        world.a_sess: b"alice session secret",
        world.b_own: b"bob's file",
    }
    allowed = [
        (world.a_user, {"user_id": "alice"}),
        (world.a_user, {"user_id": "alice", "session_id": world.sa}),
        (world.a_user, {"user_id": "alice", "session_id": world.sa2}),  # from any of her sessions
        (world.a_sess, {"session_id": world.sa}),
        (world.a_sess, {"user_id": "alice", "session_id": world.sa}),
        (world.a_sess, {"user_id": "alice"}),  # the session's owner
        (world.a_sess, {}),  # the trusted application
        (world.b_own, {"user_id": "bob"}),
    ]
    for artifact_id, caller in allowed:
        expected = content[artifact_id]
        assert await store.retrieve(artifact_id, **caller) == expected
        assert await store.read_file(artifact_id, as_text=True, **caller) == expected.decode()
        assert (await store.metadata(artifact_id, **caller)).artifact_id == artifact_id
        assert await store.exists(artifact_id, **caller) is True
        assert await collect(store, artifact_id=artifact_id, **caller) == expected


async def test_rightful_callers_may_write(store: ArtifactStore, world: World) -> None:
    updated = await store.update_metadata(
        world.a_user, meta={"v": 2}, user_id="alice", session_id=world.sa2
    )
    assert updated.meta == {"owner": "alice", "v": 2}
    moved = await store.move_file(world.a_sess, new_filename="docs/s.txt", session_id=world.sa)
    assert moved.filename == "docs/s.txt"
    copy = await store.copy_file(world.a_sess, user_id="alice")
    assert (await store.metadata(copy)).session_id == world.sa
    new = await store.update_file(world.b_own, data=b"bob v2", user_id="bob")
    assert new.version == 2
    assert await store.delete(world.a_user, user_id="alice") is True
    assert await store.exists(world.a_user) is False


async def test_bob_cannot_list_alices_session(store: ArtifactStore, world: World) -> None:
    """Another user's session lists as empty, exactly as a session that does not exist: the
    answer tells bob nothing, not even that the id is taken."""
    before = await state(store)
    for session_id in (world.sa, "no-such-session"):
        assert list(await store.list_by_session(session_id, user_id="bob")) == []
        assert list(await store.get_directory_contents(session_id, "docs/", user_id="bob")) == []
        assert list(await store.list_files(session_id, "docs/", user_id="bob")) == []
        assert list(await store.search(session_id=session_id, user_id="bob")) == []
        found = await store.search(session_id=session_id, user_id="bob", scope="session")
        assert list(found) == []
    assert await state(store) == before
    # Alice may, and sees her session's artifacts (the user-scoped one was stored from it too).
    mine = {m.artifact_id for m in await store.list_by_session(world.sa, user_id="alice")}
    assert mine == {world.a_sess, world.a_user}
    docs = await store.get_directory_contents(world.sa, "docs/", user_id="alice")
    assert {m.artifact_id for m in docs} == {world.a_sess, world.a_user}
    bobs = {m.artifact_id for m in await store.list_by_session(world.sb, user_id="bob")}
    assert bobs == {world.b_own}


async def test_search_naming_bob_with_alices_session_finds_nothing(
    store: ArtifactStore, world: World
) -> None:
    # Searching alice's session as bob finds what an unknown session finds: nothing (a
    # refusal would tell bob the session exists).
    assert list(await store.search(user_id="bob", session_id=world.sa)) == []
    assert list(await store.search(user_id="bob", session_id="no-such-session")) == []
    # Bob's own session lists only bob's artifacts.
    listed = await store.list_by_session(world.sb)
    assert [m.artifact_id for m in listed] == [world.b_own]


async def test_search_as_bob_never_returns_alices_artifacts(
    store: ArtifactStore, world: World
) -> None:
    alices = {world.a_sess, world.a_user}
    queries: list[dict[str, Any]] = [
        {"user_id": "bob"},
        {"user_id": "bob", "scope": "user"},
        {"user_id": "bob", "scope": "session"},
        {"user_id": "bob", "scope": "sandbox"},
        {"user_id": "bob", "meta_filter": {"owner": "alice"}},
        {"user_id": "bob", "mime_prefix": "application/pdf"},
        {"user_id": "bob", "session_id": world.sb},
        {"session_id": world.sb},
        {"session_id": world.sb, "meta_filter": {"owner": "alice"}},
    ]
    for query in queries:
        found = {m.artifact_id for m in await store.search(**query)}
        assert not found & alices, query
    assert {m.artifact_id for m in await store.search(user_id="bob")} == {world.b_own}
    assert {m.artifact_id for m in await store.search(user_id="bob", scope="sandbox")} == {
        world.shared
    }
    # Alice's own searches do find them.
    found = await store.search(user_id="alice", meta_filter={"owner": "alice"})
    assert {m.artifact_id for m in found} == alices


async def test_search_from_another_session_hides_session_scoped_artifacts(
    store: ArtifactStore, world: World
) -> None:
    found = {m.artifact_id for m in await store.search(session_id=world.sa2)}
    assert world.a_sess not in found  # session scope: the owning session only
    assert world.a_user not in found  # user scope: only when the user is named
    found = {m.artifact_id for m in await store.search(user_id="alice", session_id=world.sa2)}
    assert world.a_sess not in found
    assert world.a_user in found  # user scope: alice, from any of her sessions
    found = {m.artifact_id for m in await store.search(session_id=world.sa)}
    assert world.a_sess in found
    assert world.a_user not in found


async def test_pages_of_a_user_acting_in_one_session_come_back_full(store: ArtifactStore) -> None:
    """The catalog's filter agrees with the access rule: alice acting in one session does not
    read the session-scoped artifacts of her other sessions, so they never fill a page only to
    be dropped (found by tests/test_access_properties.py)."""
    other = await store.create_session(user_id="alice")
    for i in range(3):
        await store.store(b"elsewhere %d" % i, mime="text/plain", user_id="alice", session_id=other)
    here = await store.create_session(user_id="alice")
    mine = {
        await store.store(b"here %d" % i, mime="text/plain", user_id="alice", session_id=here)
        for i in range(2)
    }
    page = await store.search(user_id="alice", session_id=here, limit=2)
    assert {m.artifact_id for m in page} == mine
    assert len(page) == 2


# -- copy and move never cross a session boundary --------------------------------------------------


@pytest.mark.parametrize("who", ["app", "alice", "alice-session", "alice-both"])
async def test_copy_and_move_never_cross_sessions(
    store: ArtifactStore, world: World, who: str
) -> None:
    caller: dict[str, Any] = {
        "app": {},
        "alice": {"user_id": "alice"},
        "alice-session": {"session_id": world.sa},
        "alice-both": {"user_id": "alice", "session_id": world.sa},
    }[who]
    before = await state(store)
    for target in (world.sb, world.sa2, "brand-new-session"):
        for artifact_id in (world.a_sess, world.a_user):
            with pytest.raises(AccessDeniedError):
                await store.copy_file(artifact_id, target_session_id=target, **caller)
            with pytest.raises(AccessDeniedError):
                await store.move_file(
                    artifact_id, new_session_id=target, new_filename="x.txt", **caller
                )
    assert await state(store) == before
    assert [m.artifact_id for m in await store.list_by_session(world.sb)] == [world.b_own]
    assert list(await store.list_by_session("brand-new-session")) == []


async def test_cross_session_copy_is_an_artifact_store_error(
    store: ArtifactStore, world: World
) -> None:
    """Seed 000's example catches the refusal as ArtifactStoreError."""
    bob_meta = await store.metadata(world.b_own)
    with pytest.raises(ArtifactStoreError, match="cross-session"):
        await store.copy_file(world.a_sess, target_session_id=bob_meta.session_id)
    with pytest.raises(ArtifactStoreError, match="cross-session"):
        await store.move_file(world.a_sess, new_session_id=bob_meta.session_id)


# -- sandbox scope ---------------------------------------------------------------------------------


async def test_sandbox_writes_are_for_the_application_only(
    store: ArtifactStore, world: World, snapshot: Any
) -> None:
    template = await store.store(b"template", mime="image/png", scope="sandbox", ttl=None)
    meta = await store.metadata(template)
    assert meta.scope is Scope.SANDBOX
    assert meta.owner_id is None
    assert meta.expires_at is None

    before = await snapshot(store)
    for caller in ({"user_id": "bob"}, {"session_id": world.sb}, {"user_id": "alice"}):
        with pytest.raises(AccessDeniedError):
            await store.store(b"not allowed", mime="image/png", scope="sandbox", **caller)
        with pytest.raises(AccessDeniedError):
            await store.write_file("no", filename="n.txt", scope="sandbox", **caller)
        request = StreamUploadRequest(data_stream=_one(b"nope"), scope="sandbox", **caller)
        with pytest.raises(AccessDeniedError):
            await store.stream_upload(request)
    assert await snapshot(store) == before


async def _one(data: bytes) -> Any:
    yield data


async def test_everyone_reads_sandbox_artifacts_but_only_the_app_writes(
    store: ArtifactStore, world: World
) -> None:
    for caller in ({"user_id": "bob"}, {"session_id": world.sb}, {"user_id": "alice"}, {}):
        assert await store.retrieve(world.shared, **caller) == b"logo"
        assert (await store.metadata(world.shared, **caller)).scope is Scope.SANDBOX
        assert await store.exists(world.shared, **caller) is True
        assert await collect(store, artifact_id=world.shared, **caller) == b"logo"

    before = await state(store)
    writes: list[Op] = [
        OPERATIONS["update_file_data"],
        OPERATIONS["update_file_fields"],
        OPERATIONS["update_metadata"],
        OPERATIONS["move_file"],
        OPERATIONS["copy_file"],
        OPERATIONS["extend_ttl"],
        OPERATIONS["delete"],
    ]
    for write in writes:
        for caller in ({"user_id": "bob"}, {"session_id": world.sb}):
            with pytest.raises(AccessDeniedError):
                await write(store, world.shared, caller)
    assert await state(store) == before

    # The trusted application may change and delete it.
    updated = await store.update_metadata(world.shared, summary="Company logo")
    assert updated.summary == "Company logo"
    assert await store.delete(world.shared) is True


# -- user scope and sessions -----------------------------------------------------------------------


async def test_user_scope_needs_the_user_named(
    store: ArtifactStore, world: World, snapshot: Any
) -> None:
    before = await snapshot(store)
    with pytest.raises(InvalidRequestError, match="user_id is required"):
        await store.store(b"saved", mime="text/plain", session_id=world.sa, scope="user")
    assert await snapshot(store) == before
    doc = await store.store(
        b"saved", mime="text/plain", user_id="alice", session_id=world.sa, scope="user"
    )
    meta = await store.metadata(doc)
    assert meta.scope is Scope.USER
    assert meta.owner_id == "alice"
    assert meta.key == f"grid/default/users/alice/{doc}"
    assert await store.retrieve(doc, user_id="alice", session_id=world.sa2) == b"saved"
    assert await store.retrieve(doc, user_id="alice") == b"saved"
    updated = await store.update_file(doc, data=b"saved v2", user_id="alice")
    assert updated.version == 2
    for caller in ({"session_id": world.sa}, {"session_id": world.sb}, {"user_id": "bob"}):
        with pytest.raises(AccessDeniedError):
            await store.retrieve(doc, **caller)


async def test_user_scope_for_another_user_is_refused(
    store: ArtifactStore, world: World, snapshot: Any
) -> None:
    before = await snapshot(store)
    # Bob's session is bob's: storing user-scoped from it makes bob the owner, never alice.
    with pytest.raises(AccessDeniedError):
        await store.store(b"x", mime="text/plain", user_id="alice", session_id=world.sb)
    assert await snapshot(store) == before
    # By session id alone the application never stores into a user's session (a user may
    # have taken an id the application meant to use); naming the owner, it stores for bob.
    with pytest.raises(AccessDeniedError, match="belongs to user bob"):
        await store.store(b"x", mime="text/plain", session_id=world.sb)
    assert await snapshot(store) == before
    doc = await store.store(b"x", mime="text/plain", session_id=world.sb, user_id="bob")
    assert (await store.metadata(doc)).owner_id == "bob"


async def test_naming_bob_with_alices_session_is_refused(
    store: ArtifactStore, world: World, snapshot: Any
) -> None:
    bob_in_alices_session = {"user_id": "bob", "session_id": world.sa}
    before = await snapshot(store)
    for op in ("retrieve", "metadata", "exists", "update_metadata", "delete", "stream_download"):
        with pytest.raises(AccessDeniedError):
            await OPERATIONS[op](store, world.a_sess, bob_in_alices_session)
        # Even on bob's own artifact: the claim itself is false.
        with pytest.raises(AccessDeniedError):
            await OPERATIONS[op](store, world.b_own, bob_in_alices_session)
    with pytest.raises(AccessDeniedError):
        await store.store(b"x", mime="text/plain", **bob_in_alices_session)
    with pytest.raises(AccessDeniedError):
        await store.store_batch([{"data": b"x"}], **bob_in_alices_session)
    assert list(await store.list_by_session(world.sa, user_id="bob")) == []
    assert await snapshot(store) == before


async def test_generated_session_ids_are_unguessable(store: ArtifactStore) -> None:
    """128 random bits after the readable part: knowing one id tells nothing of the next."""
    import re

    made = {await store.create_session(user_id="alice") for _ in range(5)}
    made.add((await store.metadata(await store.store(b"x", user_id="alice"))).session_id)
    assert len(made) == 6
    for session_id in made:
        assert re.fullmatch(r"sess-alice-\d+-[0-9a-f]{32}", session_id), session_id
