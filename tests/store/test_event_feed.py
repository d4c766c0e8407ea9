"""The event feed: every state change in order, resumable without loss or repeats, filtered by
type, subject and what the caller may read; a long poll that wakes on the next event. Runs
embedded (SQLite and PostgreSQL catalogs) and through the HTTP service (the remote client)."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest
from tests.store.conftest import MakeStore

from satchel.core.errors import InvalidRequestError
from satchel.core.events import EVENT_TYPES

pytestmark = pytest.mark.not_on("memory", "sqlite", "s3")  # the feed is the catalog's


async def _everything(store: Any, **filters: Any) -> list[dict[str, Any]]:
    return [event async for event in store.events(**filters)]


async def _workload(store: Any) -> dict[str, str]:
    """Artifacts of every scope for two users and the application, and a package."""
    alice = await store.create_session(user_id="alice")
    bob = await store.create_session(user_id="bob")
    app_session = await store.create_session()
    ids = {
        "alice_session": await store.store(
            b"a", mime="text/plain", summary="", user_id="alice", session_id=alice
        ),
        "alice_user": await store.store(
            b"b", mime="text/plain", summary="", scope="user", user_id="alice"
        ),
        "bob_user": await store.store(
            b"c", mime="text/plain", summary="", scope="user", user_id="bob", session_id=bob
        ),
        "app_session": await store.store(
            b"d", mime="text/plain", summary="", session_id=app_session
        ),
        "shared": await store.store(b"e", mime="text/plain", summary="", scope="sandbox"),
        "alice": alice,
        "bob": bob,
        "app": app_session,
    }
    await store.update_metadata(ids["bob_user"], user_id="bob", summary="bob's, renamed")
    await store.delete(ids["alice_user"], user_id="alice")
    package = await store.create_package(
        "report", "ci", "main", "raw-evidence", scope="user", user_id="bob"
    )
    await store.ingest_file(package, "a.txt", "text/plain", b"x", user_id="bob")
    await store.finalize_package(package, user_id="bob")
    ids["package"] = package
    return ids


async def test_every_change_is_an_event_in_order_and_paging_misses_nothing(
    make_store: MakeStore,
) -> None:
    store = await make_store()
    ids = await _workload(store)
    every = await _everything(store)
    seqs = [event["seq"] for event in every]
    assert seqs == sorted(set(seqs))
    assert seqs[0] >= 1
    assert {event["type"] for event in every} <= set(EVENT_TYPES)
    kinds = [(event["type"], event["subject"]) for event in every]
    assert ("v1.artifact.stored", ids["shared"]) in kinds
    assert ("v1.artifact.metadata_updated", ids["bob_user"]) in kinds
    assert ("v1.artifact.deleted", ids["alice_user"]) in kinds
    assert [t for t, s in kinds if s == ids["package"]] == [
        "v1.package.created",
        "v1.package.file_added",
        "v1.package.finalized",
    ]
    for event in every:
        assert set(event) == {"seq", "time", "type", "subject", "actor", "payload"}
    # Resuming page after page with a tiny limit sees each event once, in order.
    seen: list[int] = []
    after = 0
    while True:
        page = await store.list_events(after, limit=3)
        seen += [event["seq"] for event in page["events"]]
        if not page["events"]:
            assert page["next_after"] == after
            break
        assert page["next_after"] == page["events"][-1]["seq"] or len(page["events"]) < 3
        after = page["next_after"]
    assert seen == seqs


async def test_a_principal_sees_only_events_about_what_it_may_read(make_store: MakeStore) -> None:
    store = await make_store()
    ids = await _workload(store)
    subjects = {
        who: {event["subject"] for event in await _everything(store, user_id=who)}
        for who in ("alice", "bob", "carol")
    }
    assert ids["shared"] in subjects["carol"]
    assert subjects["carol"] & {ids[k] for k in ids if k != "shared"} == set()
    assert {ids["alice_session"], ids["alice_user"], ids["alice"]} <= subjects["alice"]
    assert {ids["bob_user"], ids["bob"], ids["package"]} <= subjects["bob"]
    assert not subjects["alice"] & {ids["bob_user"], ids["bob"], ids["package"], ids["app"]}
    assert not subjects["bob"] & {ids["alice_session"], ids["alice_user"], ids["alice"]}
    assert ids["shared"] in subjects["alice"] & subjects["bob"]
    # The application acting in its own session sees that session's events, not a user's.
    in_app = {e["subject"] for e in await _everything(store, session_id=ids["app"])}
    assert {ids["app_session"], ids["app"], ids["shared"]} <= in_app
    assert not in_app & {ids["alice_session"], ids["bob_user"]}
    # The trusted application (or an admin) sees everything.
    assert {e["subject"] for e in await _everything(store)} >= set(ids.values())
    # A user's page skips what it may not see, and its cursor moves past it anyway.
    page = await store.list_events(0, user_id="carol", limit=1000)
    assert page["next_after"] == (await store.list_events(0, limit=1000))["next_after"]


async def test_type_prefix_and_subject_filters(make_store: MakeStore) -> None:
    store = await make_store()
    ids = await _workload(store)
    packages = await _everything(store, types=["v1.package."])
    assert {e["type"] for e in packages} == {
        "v1.package.created",
        "v1.package.file_added",
        "v1.package.finalized",
    }
    assert await _everything(store, types=["v1.package.*"]) == packages
    assert await _everything(store, types="v1.package.") == packages  # one type as a string
    deleted = await _everything(store, types=["v1.artifact.deleted", "v1.session.created"])
    assert {e["type"] for e in deleted} == {"v1.artifact.deleted", "v1.session.created"}
    about = await _everything(store, subject=ids["bob_user"])
    assert [e["type"] for e in about] == ["v1.artifact.stored", "v1.artifact.metadata_updated"]
    # api_key_ would match api.key_ as a LIKE pattern; prefixes are literal.
    assert await _everything(store, types=["v1.api_key."]) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"types": ["artifact.stored"]},  # unversioned
        {"types": ["v1.nothing.at_all"]},
        {"types": ["v1.art"]},  # a prefix ends in "." or "*"
        {"after": -1},
        {"after": 2**63},
        {"limit": 0},
        {"limit": 1001},
        {"wait": -1},
        {"wait": 31},
        {"subject": "../etc"},
    ],
)
async def test_bad_requests_are_refused(make_store: MakeStore, bad: dict[str, Any]) -> None:
    store = await make_store()
    asked = dict(bad)  # the parameter is shared by every backend's run
    with pytest.raises(InvalidRequestError):
        await store.list_events(asked.pop("after", 0), **asked)


async def test_a_long_poll_wakes_on_the_next_event(make_store: MakeStore) -> None:
    store = await make_store()
    await store.store(b"first", mime="text/plain", summary="")
    head = (await store.list_events(0))["next_after"]
    empty_started = time.monotonic()
    empty = await store.list_events(head, wait=0.5)
    assert empty == {"events": [], "next_after": head}
    assert time.monotonic() - empty_started >= 0.45  # it did wait
    waiting = asyncio.ensure_future(store.list_events(head, wait=20, types=["v1.artifact."]))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    await store.create_session(user_id="dave")  # not a type the poll asked for
    await asyncio.sleep(0.5)
    assert not waiting.done()
    started = time.monotonic()
    artifact_id = await store.store(b"second", mime="text/plain", summary="")
    page = await asyncio.wait_for(waiting, 10)
    assert time.monotonic() - started < 5
    assert [(e["type"], e["subject"]) for e in page["events"]] == [
        ("v1.artifact.stored", artifact_id)
    ]


async def test_following_the_feed_yields_new_events_as_they_come(make_store: MakeStore) -> None:
    store = await make_store()
    got: list[dict[str, Any]] = []

    async def follow() -> None:
        async for event in store.events(types=["v1.artifact.stored"], follow=True):
            got.append(event)
            if len(got) == 3:
                return

    follower = asyncio.ensure_future(follow())
    made = []
    for n in range(3):
        await asyncio.sleep(0.2)
        made.append(await store.store(f"n{n}".encode(), mime="text/plain", summary=""))
    await asyncio.wait_for(follower, 20)
    assert [e["subject"] for e in got] == made


def test_docs_events_md_lists_every_event_type() -> None:
    table = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()
    listed = set(re.findall(r"^\| `(v\d+\.[a-z_.]+)` \|", table, re.MULTILINE))
    assert listed == set(EVENT_TYPES)


def test_the_sync_facade_iterates_the_feed(tmp_path: Path) -> None:
    from satchel import SyncArtifactStore

    with SyncArtifactStore(data_dir=tmp_path / "data", storage_provider="filesystem") as store:
        made = [store.store(f"{n}".encode(), mime="text/plain", summary="") for n in range(3)]
        stored = [e["subject"] for e in store.events(types=["v1.artifact.stored"], page_size=2)]
        assert stored == made
        page = store.list_events(0, limit=1)
        assert len(page["events"]) == 1
