"""The sync facade's file conveniences as a new user tries them (issue 19's defects, each a
class): ``upload_file`` takes file objects, ``as_local_file(id, path)`` writes with or without a
``with``, and ``open()`` is seekable and fetches ranges lazily; embedded and against a server."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from satchel import ArtifactStore, InvalidRequestError, PreconditionFailedError, SyncArtifactStore
from satchel.client.safepath import SafePath

BIG = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture(params=["embedded", "remote"])
def sync_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SyncArtifactStore]:
    if request.param == "embedded":
        store = SyncArtifactStore(ArtifactStore(storage_provider="filesystem", data_dir=tmp_path))
        with store:
            yield store
        return
    pool = request.getfixturevalue("server_pool")
    server = pool.take()
    try:
        with SyncArtifactStore(url=server.url, token=server.token("alice")) as store:
            yield store
    finally:
        pool.release(server)


class _Pipe(io.RawIOBase):
    """A binary stream that cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        self._left = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        return count


def test_upload_file_takes_binary_file_objects(
    sync_store: SyncArtifactStore, tmp_path: Path
) -> None:
    fields: dict[str, Any] = {"scope": "user", "ttl": None, "user_id": None}
    if isinstance(sync_store.wrapped, ArtifactStore):
        fields["user_id"] = "alice"
    made = sync_store.upload_file(io.BytesIO(b"col1,col2\n1,2\n"), filename="t.csv", **fields)
    meta = sync_store.metadata(made, user_id=fields["user_id"])
    assert (meta.filename, meta.mime, meta.bytes) == ("t.csv", "text/csv", 14)
    again = sync_store.upload_file(io.BytesIO(b"col1,col2\n1,2\n"), filename="t.csv", **fields)
    assert again == made  # seekable: hashed first, so the identical artifact is reused
    stream = io.BytesIO(b"skip:" + b"payload")
    stream.seek(5)
    part = sync_store.upload_file(stream, filename="p.bin", **fields)
    assert sync_store.retrieve(part, user_id=fields["user_id"]) == b"payload"  # from where it stood
    progress: list[tuple[int, int | None]] = []
    piped = sync_store.upload_file(
        io.BufferedReader(_Pipe(BIG)),
        filename="big.bin",
        progress=lambda d, t: progress.append((d, t)),
        **fields,
    )
    assert sync_store.metadata(piped, user_id=fields["user_id"]).sha256 == _sha(BIG)
    assert progress[-1][0] == len(BIG)
    with (tmp_path / "named.txt").open("wb") as handle:
        handle.write(b"named")
    with (tmp_path / "named.txt").open("rb") as handle:
        named = sync_store.upload_file(handle, **fields)
    assert sync_store.metadata(named, user_id=fields["user_id"]).filename == "named.txt"
    for bad in (io.StringIO("text"), 42):
        with pytest.raises(InvalidRequestError):
            sync_store.upload_file(bad, filename="x.txt", **fields)  # type: ignore[arg-type]


def test_as_local_file_with_a_path_writes_without_a_with(
    sync_store: SyncArtifactStore, tmp_path: Path
) -> None:
    made = (
        sync_store.store(b"kept", mime="text/plain", summary="", filename="k.txt", scope="sandbox")
        if isinstance(sync_store.wrapped, ArtifactStore)
        else sync_store.upload_file(io.BytesIO(b"kept"), filename="k.txt", scope="user")
    )
    target = tmp_path / "out" / "kept.txt"
    path = sync_store.as_local_file(made, target)  # no with: written now
    assert isinstance(path, SafePath)
    assert (path, target.read_bytes()) == (target, b"kept")
    with sync_store.as_local_file(made, tmp_path / "again.txt") as again:
        assert again.read_bytes() == b"kept"
    assert again.exists()  # kept after the with
    with sync_store.as_local_file(made) as temporary:
        assert (temporary.name, temporary.read_bytes()) == ("k.txt", b"kept")
    assert not temporary.exists()


def test_open_is_seekable_and_reads_ranges_lazily(sync_store: SyncArtifactStore) -> None:
    made = sync_store.upload_file(
        io.BytesIO(BIG),
        filename="big.bin",
        scope="sandbox" if isinstance(sync_store.wrapped, ArtifactStore) else "user",
    )
    with sync_store.open(made) as handle:
        assert handle.seekable()
        handle.seek(len(BIG) // 2)
        assert handle.read(100) == BIG[len(BIG) // 2 : len(BIG) // 2 + 100]
        handle.seek(-10, io.SEEK_END)
        assert (handle.tell(), handle.read()) == (len(BIG) - 10, BIG[-10:])
        handle.seek(3)
        assert handle.read(4) == BIG[3:7]
        raw = handle.raw
        assert raw.requests == 3  # type: ignore[attr-defined]
        assert raw.bytes_fetched <= 3 * 256 * 1024  # type: ignore[attr-defined]
        handle.seek(0)
        assert handle.read() == BIG
    with sync_store.open(made) as stale:
        sync_store.update_file(made, data=b"a new version")
        with pytest.raises(PreconditionFailedError):
            stale.read(10)  # never a mix of two versions


def _sha(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()
