"""``upload_artifact(collection=…, policy=…)``: the guide's open policy makes an artifact
readable without a token, and a collection is listable and a search filter; both are checked
before anything is uploaded."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from satchel import AccessDeniedError, ArtifactNotFoundError, InvalidRequestError, Satchel

OPEN = "urn:ivcap:policy:ivcap.open.artifact"


@pytest.mark.parametrize("mode", ["local", "platform"])
def test_policy_and_collection_are_applied(mode: str, make_client: Callable[..., Satchel]) -> None:
    if mode == "platform":  # tokens say who
        alice, bob = make_client(mode), make_client(mode, "bob")
    else:
        alice, bob = make_client(mode, user_id="alice"), make_client(mode, user_id="bob")
    shared = alice.upload_artifact(
        name="reef.csv",
        io_stream=io.BytesIO(b"site,depth\nA,12\n"),
        content_type="text/csv",
        collection="urn:satchel:collection:reef-2026",
        policy=OPEN,
    )
    assert shared.policy == "public"
    kept = alice.upload_artifact(name="notes.txt", io_stream=io.BytesIO(b"mine"))
    assert kept.policy is None
    # public: bob reads it by its URN; the private one stays alice's
    assert bob.get_artifact(shared.id).open().read() == b"site,depth\nA,12\n"
    with pytest.raises((AccessDeniedError, ArtifactNotFoundError)):
        bob.get_artifact(kept.id)
    user = None if mode == "platform" else "alice"  # (a token is pinned to its user)
    members = alice.store.search(user_id=user, collection="reef-2026")
    assert [item.artifact_id for item in members] == [shared.artifact_id]
    listed = alice.store.list_collections(user_id=user)["collections"]
    assert [entry["collection"] for entry in listed] == ["reef-2026"]


def test_a_public_artifact_is_fetched_without_a_token(make_client: Callable[..., Satchel]) -> None:
    alice = make_client("platform")
    made = alice.upload_artifact(name="open.txt", io_stream=io.BytesIO(b"open"), policy="public")
    url = alice.store.get_url(made.artifact_id)
    assert url.expires_at is None
    assert httpx.get(str(url)).content == b"open"


@pytest.mark.parametrize("mode", ["local", "platform"])
def test_a_bad_policy_or_collection_uploads_nothing(
    mode: str, make_client: Callable[..., Satchel]
) -> None:
    alice = make_client(mode)
    before = len(list(alice.list_artifacts(limit=1000)))
    bad: list[dict[str, Any]] = [{"policy": "urn:ivcap:policy:secret"}, {"collection": "a/b"}]
    for extra in bad:
        with pytest.raises(InvalidRequestError):
            alice.upload_artifact(name="x.txt", io_stream=io.BytesIO(b"x"), **extra)
    assert len(list(alice.list_artifacts(limit=1000))) == before
