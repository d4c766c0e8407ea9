"""``open_content(local_file=True)`` (what the HTTP service's nginx mode asks): on the
filesystem backend the answer names the blob's file, derived from the digest, and opens its
stream only when read; every other backend (memory, SQLite, S3, a remote store) streams as
before, so the service falls back to sending the bytes itself."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from tests.store.internals import files_of

from satchel import ArtifactStore
from satchel.core.errors import BlobNotFoundError
from satchel.core.ranges import ByteRange

DATA = hashlib.sha256(b"local").digest() * 40_000  # 1.22 MiB: more than one chunk


def _expected_file(data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    return f"sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"


async def test_only_a_filesystem_blob_is_named_as_a_file(
    store: ArtifactStore, backend: str
) -> None:
    artifact_id = await store.store(DATA, mime="application/octet-stream", session_id="s")
    async with await store.open_content(artifact_id, local_file=True) as content:
        if backend == "filesystem":
            assert content.local_file == _expected_file(DATA)
            assert content.first_chunk == b""  # nothing read yet
        else:
            assert content.local_file is None
            assert content.first_chunk  # read at open, as without local_file
        assert await content.read() == DATA  # whichever it is, the bytes are all there
    async with await store.open_content(artifact_id) as content:
        assert content.local_file is None  # not asked: never named
        assert await content.read() == DATA


async def test_a_named_range_reads_only_its_bytes(store: ArtifactStore, backend: str) -> None:
    artifact_id = await store.store(DATA, mime="application/octet-stream", session_id="s")
    opened = await store.open_content(
        artifact_id, local_file=True, byte_range=ByteRange(1_000_000, 1_000_099)
    )
    async with opened as content:
        assert content.partial
        assert (content.start, content.end) == (1_000_000, 1_000_100)
        assert (content.local_file is not None) == (backend == "filesystem")
        assert await content.read() == DATA[1_000_000:1_000_100]


@pytest.mark.parametrize("head", [True, False])
async def test_head_and_not_modified_name_no_file(store: ArtifactStore, head: bool) -> None:
    artifact_id = await store.store(b"small", mime="text/plain", session_id="s")
    etag = (await store.metadata(artifact_id)).etag
    conditions: dict[str, Any] = {"head": True} if head else {"if_none_match": f'"{etag}"'}
    content = await store.open_content(artifact_id, local_file=True, **conditions)
    assert content.local_file is None
    assert content.not_modified is not head


@pytest.mark.not_on("memory", "sqlite", "s3", reason="only filesystem blobs are files")
@pytest.mark.embedded_only("removes the blob file behind the store's back")
async def test_a_missing_file_fails_at_open(store: ArtifactStore) -> None:
    artifact_id = await store.store(DATA, mime="application/octet-stream", session_id="s")
    root = files_of(store).root  # type: ignore[attr-defined]
    path = root / _expected_file(DATA)
    os.chmod(path, 0o600)
    os.unlink(path)
    with pytest.raises(BlobNotFoundError):
        await store.open_content(artifact_id, local_file=True)
