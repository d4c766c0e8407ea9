"""Bulk deletes on every backend and over the remote client: ``delete_many`` deletes each item
exactly as ``delete`` would, and answers per item in input order."""

from __future__ import annotations

from typing import Any

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    ArtifactStoreError,
    DeleteResult,
    InvalidRequestError,
    RetainedError,
    Scope,
    TooLargeError,
)


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
