"""Bulk deletes on every backend and over the remote client: ``delete_many`` deletes each item
exactly as ``delete`` would, and answers per item in input order; ``delete_prefix`` walks a
grid-key prefix page by page, a dry run by default, admins only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    DeleteResult,
    InvalidRequestError,
    ProviderError,
    RetainedError,
    Scope,
    TooLargeError,
)
from satchel.catalog import CatalogWriter


async def _deleted_events(store: Any, subjects: list[str]) -> list[str]:
    found = []
    for subject in subjects:
        page = await store.list_events(types=["v1.artifact.deleted"], subject=subject)
        found.extend(event["subject"] for event in page["events"])
    return found


async def test_delete_many_answers_per_item_in_order(store: ArtifactStore) -> None:
    alice = await store.create_session(user_id="alice")
    bob = await store.create_session(user_id="bob")
    first = await store.store(b"one", session_id=alice, user_id="alice")
    second = await store.store(b"two", user_id="alice", scope=Scope.USER)
    held = await store.store(b"held", session_id=alice, user_id="alice")
    theirs = await store.store(b"bob's", session_id=bob, user_id="bob")
    await store.apply_hold(held, "case-1", "preserve", kind="artifact")
    missing = "0" * 32

    results = await store.delete_many(
        [first, missing, theirs, first, held, second], user_id="alice"
    )

    assert all(isinstance(result, DeleteResult) for result in results)
    assert [(r.artifact_id, r.status) for r in results] == [
        (first, "deleted"),  # a repeated id is deleted and reported once, at its first place
        (missing, "not_found"),
        (theirs, "denied"),
        (held, "held"),
        (second, "deleted"),
    ]
    assert [r.code for r in results] == [None, "not_found", "access_denied", "retained", None]
    assert all(r.message for r in results if not r.deleted)
    assert not await store.exists(first)
    assert not await store.exists(second)
    assert await store.retrieve(held) == b"held"
    assert await store.retrieve(theirs, user_id="bob") == b"bob's"
    assert await _deleted_events(store, [first, second, held, theirs]) == [first, second]


async def test_each_item_answers_as_a_single_delete_would(store: ArtifactStore) -> None:
    """Nothing a bulk delete says about an item differs from what ``delete`` says of it."""
    alice = await store.create_session(user_id="alice")
    mine = await store.store(b"mine", session_id=alice, user_id="alice")
    theirs = await store.store(b"theirs", user_id="bob", scope=Scope.USER)
    shared = await store.store(b"shared", scope=Scope.SANDBOX)
    held = await store.store(b"held", user_id="alice", scope=Scope.USER)
    await store.apply_hold(held, "case-2", "preserve", kind="artifact")
    ids = [theirs, shared, held, "f" * 32]

    results = await store.delete_many(ids, user_id="alice")
    for artifact_id, result in zip(ids, results, strict=True):
        with pytest.raises(ArtifactStoreError) as single:
            await store.delete(artifact_id, user_id="alice")
        error = result.error()
        assert type(error) is type(single.value), artifact_id
        assert result.code == single.value.code
    assert {type(r.error()) for r in results} == {
        AccessDeniedError,
        RetainedError,
        ArtifactNotFoundError,
    }
    assert (await store.delete_many([mine], user_id="alice"))[0].deleted
    assert await store.delete_many([], user_id="alice") == []


async def test_bad_input_refuses_the_whole_call(store: ArtifactStore) -> None:
    keep = await store.store(b"keep", session_id="s-bulk")
    for bad in ([keep, "../etc"], [keep, ""], [keep, 7], keep, None):
        with pytest.raises(InvalidRequestError):
            await store.delete_many(bad)  # type: ignore[arg-type]
    with pytest.raises(TooLargeError):
        await store.delete_many([keep] + [f"a{n}" for n in range(1000)])
    assert await store.retrieve(keep) == b"keep"  # nothing was deleted


# -- delete_prefix -------------------------------------------------------------------------------


async def _session_with(store: Any, session_id: str, count: int) -> list[str]:
    return [
        await store.store(b"x" * (n + 1), session_id=session_id, ttl=None) for n in range(count)
    ]


async def _alive(store: Any, ids: list[str]) -> list[str]:
    return [artifact_id for artifact_id in ids if await store.exists(artifact_id)]


async def test_a_dry_run_reports_and_changes_nothing(store: ArtifactStore) -> None:
    session = f"dry-{uuid.uuid4().hex[:12]}"
    inside = await _session_with(store, session, 5)
    sibling = await _session_with(store, session + "d", 2)  # a similar prefix, not under it
    prefix = store.get_canonical_prefix(session)

    report = await store.delete_prefix(prefix, page_size=2)

    assert report["dry_run"] is True
    assert (report["count"], report["bytes"], report["skipped"]) == (5, 1 + 2 + 3 + 4 + 5, 0)
    assert sorted(report["ids"]) == sorted(inside)
    assert report["pages"] == 3  # five rows, two a page
    assert report["complete"] is True
    assert report["error"] is None
    assert await _alive(store, inside + sibling) == inside + sibling


async def test_a_real_run_deletes_exactly_the_prefix_and_skips_held(store: ArtifactStore) -> None:
    session = f"run-{uuid.uuid4().hex[:12]}"
    inside = await _session_with(store, session, 7)
    sibling = await _session_with(store, session + "d", 2)
    await store.apply_hold(inside[3], "case-3", "preserve", kind="artifact")
    prefix = f"grid/{store.sandbox_id}/sessions/{session}"  # no trailing "/": still whole

    preview = await store.delete_prefix(prefix)
    assert (preview["count"], preview["skipped"]) == (6, 1)
    assert preview["skipped_items"][0]["artifact_id"] == inside[3]
    assert preview["skipped_items"][0]["status"] == "held"

    report = await store.delete_prefix(prefix, dry_run=False, page_size=2)

    assert report["dry_run"] is False
    assert (report["count"], report["skipped"], report["complete"]) == (6, 1, True)
    assert report["pages"] == 4  # seven rows, two a page: many pages, never all at once
    assert sorted(report["ids"]) == sorted(set(inside) - {inside[3]})
    assert [(s["artifact_id"], s["status"]) for s in report["skipped_items"]] == [
        (inside[3], "held")
    ]
    assert await _alive(store, inside + sibling) == [inside[3], *sibling]
    assert await _deleted_events(store, inside) == [i for i in inside if i != inside[3]]


async def test_a_limit_deletes_that_many_and_the_same_call_goes_on(store: ArtifactStore) -> None:
    session = f"lim-{uuid.uuid4().hex[:12]}"
    inside = await _session_with(store, session, 5)
    prefix = store.get_canonical_prefix(session)

    first = await store.delete_prefix(prefix, dry_run=False, limit=2, page_size=2)
    assert (first["count"], first["complete"]) == (2, False)
    assert len(await _alive(store, inside)) == 3
    rest = await store.delete_prefix(prefix, dry_run=False, limit=10)
    assert (rest["count"], rest["complete"]) == (3, True)
    assert await _alive(store, inside) == []


async def test_a_prefix_takes_no_session_whose_name_extends_it(store: ArtifactStore) -> None:
    """Ids may hold ``. _ @ + = : -``: a sibling ``{session}-x`` sorts between the prefix and
    ``{session}/``, ``{session}:x`` after ``{session}0`` (the walk's range ends there), one
    differing in case elsewhere; none is taken, whatever the page size. A whole key as the
    prefix takes that one artifact."""
    session = f"ext-{uuid.uuid4().hex[:12]}-k"
    inside = await _session_with(store, session, 3)
    suffixes = ("+x", "-x", ".x", "0", "1", ":x", "=x", "@x", "_x", "x")
    siblings = [n for suffix in suffixes for n in await _session_with(store, session + suffix, 1)]
    siblings += await _session_with(store, session[:-1] + "K", 1)
    prefix = store.get_canonical_prefix(session)

    for page_size in (1, 2, 500):
        report = await store.delete_prefix(prefix, page_size=page_size)
        assert sorted(report["ids"]) == sorted(inside), page_size
        assert report["complete"] is True
    whole = await store.delete_prefix(prefix + inside[1], dry_run=False)
    assert whole["ids"] == [inside[1]]
    assert await _alive(store, inside + siblings) == [inside[0], inside[2], *siblings]


async def test_a_user_prefix_keeps_to_that_user(store: ArtifactStore) -> None:
    user = f"u{uuid.uuid4().hex[:12]}"
    mine = [await store.store(b"m", user_id=user, scope=Scope.USER) for _ in range(2)]
    other = await store.store(b"o", user_id=user + "2", scope=Scope.USER)
    report = await store.delete_prefix(f"grid/{store.sandbox_id}/users/{user}/", dry_run=False)
    assert sorted(report["ids"]) == sorted(mine)
    assert await _alive(store, [*mine, other]) == [other]


@pytest.mark.parametrize(
    "make_prefix",
    [
        lambda sandbox, session: "",
        lambda sandbox, session: "   ",
        lambda sandbox, session: "grid/",
        lambda sandbox, session: f"grid/{sandbox}/",
        lambda sandbox, session: f"/grid/{sandbox}/sessions/{session}/",
        lambda sandbox, session: f"grid/{sandbox}/sessions/../sessions/{session}/",
        lambda sandbox, session: f"grid/{sandbox}/sessions/{session}//",
        lambda sandbox, session: f"grid/{sandbox}/things/{session}/",
        lambda sandbox, session: f"grid/{sandbox}/sessions/{session}/a/b/",
        lambda sandbox, session: f"grid/other-sandbox/sessions/{session}/",
        lambda sandbox, session: f"blobs/{sandbox}/sessions/{session}/",
        lambda sandbox, session: f"grid/{sandbox}/sessions/{session}%/",
        lambda sandbox, session: f"grid/{sandbox}/sessions/{session}\x00/",
    ],
)
async def test_an_invalid_prefix_is_refused_and_changes_nothing(
    store: ArtifactStore, make_prefix: Any
) -> None:
    session = f"bad-{uuid.uuid4().hex[:12]}"
    inside = await _session_with(store, session, 2)
    with pytest.raises(InvalidRequestError):
        await store.delete_prefix(make_prefix(store.sandbox_id, session), dry_run=False)
    prefix = store.get_canonical_prefix(session)
    for paging in ({"page_size": 0}, {"page_size": 1001}, {"limit": 0}, {"limit": True}):
        with pytest.raises(InvalidRequestError):
            await store.delete_prefix(prefix, dry_run=False, **paging)
    assert await _alive(store, inside) == inside


async def test_only_admins_delete_by_prefix(store: ArtifactStore) -> None:
    session = await store.create_session(user_id="alice")
    inside = [await store.store(b"a", session_id=session, user_id="alice")]
    with pytest.raises(AccessDeniedError):
        await store.delete_prefix(store.get_canonical_prefix(session), user_id="alice")
    with pytest.raises(AccessDeniedError):
        await store.delete_prefix(
            store.get_canonical_prefix(session), dry_run=False, user_id="alice"
        )
    assert await _alive(store, inside) == inside


@pytest.mark.embedded_only("breaks the catalog's delete mid-walk")
async def test_a_failure_mid_walk_reports_how_far_it_got(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = f"fail-{uuid.uuid4().hex[:12]}"
    inside = await _session_with(store, session, 6)
    prefix = store.get_canonical_prefix(session)
    real_delete = CatalogWriter.delete_artifact
    calls = 0

    async def failing_third(self: CatalogWriter, *args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise ProviderError("the catalog went away")
        return await real_delete(self, *args, **kwargs)

    monkeypatch.setattr(CatalogWriter, "delete_artifact", failing_third)
    report = await store.delete_prefix(prefix, dry_run=False, page_size=2)

    assert (report["count"], report["complete"]) == (2, False)
    assert report["error"] == {"code": "provider_error", "message": "the catalog went away"}
    assert len(await _alive(store, inside)) == 4  # the failed item rolled back
    monkeypatch.setattr(CatalogWriter, "delete_artifact", real_delete)
    again = await store.delete_prefix(prefix, dry_run=False, page_size=2)
    assert (again["count"], again["complete"]) == (4, True)
    assert await _alive(store, inside) == []
