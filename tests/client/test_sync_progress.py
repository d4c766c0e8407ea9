"""The blocking facade's transfers keep the progress contract (satchel.core.progress):
upload_file, update_from_file, download_file and iter_chunks end with (total, total), and a
callback that raises aborts the transfer leaving nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from satchel import ArtifactStore, SyncArtifactStore

Calls = list[tuple[int, int | None]]


class Abort(Exception):
    pass


def _check(calls: Calls, total: int) -> None:
    done = [call[0] for call in calls]
    assert done == sorted(done), calls
    assert calls[-1] == (total, total), calls
    assert (total, total) not in calls[:-1], calls


@pytest.mark.parametrize("size", [0, 3 * 1024 * 1024 + 5])
def test_every_file_transfer_ends_at_its_total(tmp_path: Path, size: int) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(size))
    with SyncArtifactStore(ArtifactStore(storage_provider="memory")) as store:
        hashed: Calls = []
        sent: Calls = []
        artifact_id = store.upload_file(
            source,
            dedup=False,
            progress=lambda d, t: sent.append((d, t)),
            hashing=lambda d, t: hashed.append((d, t)),
        )
        _check(hashed, size)
        _check(sent, size)

        received: Calls = []
        target = store.download_file(
            artifact_id, tmp_path / "copy.bin", progress=lambda d, t: received.append((d, t))
        )
        assert target.read_bytes() == source.read_bytes()
        _check(received, size)

        chunks: Calls = []
        data = b"".join(store.iter_chunks(artifact_id, 65536, lambda d, t: chunks.append((d, t))))
        assert len(data) == size
        _check(chunks, size)

        replaced: Calls = []
        source.write_bytes(b"new content")
        store.update_from_file(artifact_id, source, progress=lambda d, t: replaced.append((d, t)))
        _check(replaced, len(b"new content"))


def test_a_raising_callback_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))

    def abort(done: int, total: int | None) -> None:
        raise Abort

    with SyncArtifactStore(ArtifactStore(storage_provider="memory")) as store:
        with pytest.raises(Abort):
            store.upload_file(source, session_id="s", progress=abort)
        assert list(store.list_by_session("s")) == []
        artifact_id = store.upload_file(source, session_id="s")
        with pytest.raises(Abort):
            store.download_file(artifact_id, tmp_path / "copy.bin", progress=abort)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["source.bin"]  # no partial file
        before = store.metadata(artifact_id).etag
        with pytest.raises(Abort):
            store.update_from_file(artifact_id, source, progress=abort)
        assert store.metadata(artifact_id).etag == before  # not replaced
