"""A presigned upload URL accepts one complete body: a failed or short attempt never replaces
an accepted one, a body that is not what it declares is refused, and register takes only the
accepted bytes (checked again against their digest). Embedded, through ``signed_put``; remote,
over HTTP as a client holding the URL does it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from satchel import (
    ArtifactStore,
    ChecksumMismatchError,
    ConflictError,
    InvalidRequestError,
    RemoteArtifactStore,
)
from satchel.client.transport import raise_for_response
from satchel.core.headers import repr_digest

pytestmark = pytest.mark.satchel_urls("PUTs through Satchel's upload URL")


class Broken(Exception):
    """A client's body that breaks off half-way."""


async def breaking(first: bytes) -> AsyncIterator[bytes]:
    yield first
    raise Broken


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def put(
    store: Any, url: str, body: Any, *, length: int | None = None, sha256: str | None = None
) -> int:
    """PUT *body* to the URL: the size accepted (errors of the tree otherwise)."""
    if isinstance(store, RemoteArtifactStore):
        headers = {} if sha256 is None else {"Repr-Digest": repr_digest(sha256)}
        if length is not None:
            headers["Content-Length"] = str(length)
        async with httpx.AsyncClient() as http:
            try:
                answer = await http.put(url, content=body, headers=headers)
            except (httpx.TransportError, Broken) as exc:
                raise Broken from exc
        raise_for_response(answer)
        return int(answer.json()["size"])
    stored = await store.signed_put(url.rsplit("/", 1)[1], body, length=length, sha256=sha256)
    return stored.size


async def registered_bytes(store: ArtifactStore, artifact_id: str) -> bytes:
    assert await store.register_uploaded_artifact(artifact_id, summary="s", user_id="alice")
    return await store.retrieve(artifact_id, user_id="alice")


async def test_a_second_body_is_refused_and_the_first_is_kept(store: ArtifactStore) -> None:
    url, artifact_id = await store.presign_upload(session_id="p", user_id="alice")
    assert await put(store, url, b"first and complete") == 18
    for attempt in (b"", b"second", breaking(b"half")):
        with pytest.raises((ConflictError, Broken)):
            await put(store, url, attempt)
    assert await registered_bytes(store, artifact_id) == b"first and complete"


async def test_a_failed_attempt_accepts_nothing(store: ArtifactStore) -> None:
    url, artifact_id = await store.presign_upload(session_id="p", user_id="alice")
    with pytest.raises((Broken, InvalidRequestError)):
        await put(store, url, breaking(b"cut short"))
    with pytest.raises(ConflictError, match="nothing has been uploaded"):
        await store.register_uploaded_artifact(artifact_id, summary="s", user_id="alice")
    assert await put(store, url, b"then whole") == 10
    assert await registered_bytes(store, artifact_id) == b"then whole"


async def test_a_body_that_is_not_what_it_declares_is_refused(store: ArtifactStore) -> None:
    url, artifact_id = await store.presign_upload(session_id="p", user_id="alice")
    if not isinstance(store, RemoteArtifactStore):  # over HTTP the server holds the framing
        with pytest.raises(InvalidRequestError, match="declared"):
            await put(store, url, b"twelve bytes", length=20)
    with pytest.raises(ChecksumMismatchError):
        await put(store, url, b"twelve bytes", sha256=sha(b"other bytes"))
    assert await put(store, url, b"twelve bytes", length=12, sha256=sha(b"twelve bytes")) == 12
    assert await registered_bytes(store, artifact_id) == b"twelve bytes"


async def test_concurrent_bodies_one_is_accepted(store: ArtifactStore) -> None:
    url, artifact_id = await store.presign_upload(session_id="p", user_id="alice")
    bodies = [bytes([65 + n]) * 1000 for n in range(4)]
    results = await asyncio.gather(
        *(put(store, url, body) for body in bodies), return_exceptions=True
    )
    accepted = [r for r in results if r == 1000]
    assert len(accepted) == 1
    assert all(isinstance(r, ConflictError) for r in results if r != 1000)
    assert await registered_bytes(store, artifact_id) in bodies
