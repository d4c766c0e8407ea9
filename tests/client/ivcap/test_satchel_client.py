"""Seed 002's artifact guide run on Satchel, in local and platform mode: uploads from a path and
from streams, reuse of unchanged files, made-up names, the three downloads, listing, lookups by
id, URN and file URL, and aspects."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest

from satchel import (
    AccessDeniedError,
    Artifact,
    ArtifactNotFoundError,
    Aspect,
    InvalidRequestError,
    LocalFileArtifact,
    SafePath,
    Satchel,
)

MiB = 1024 * 1024


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "inputs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _content(artifact: Artifact) -> bytes:
    return b"".join(artifact.as_stream())


def test_upload_a_local_file(ivcap: Satchel, tmp_path: Path) -> None:
    photo = _file(tmp_path, "image.jpg", b"\xff\xd8\xff jpeg bytes")
    artifact = ivcap.upload_artifact(name="my-image", file_path=str(photo))
    assert isinstance(artifact, Artifact)
    assert artifact.id == f"urn:satchel:artifact:{artifact.artifact_id}"
    assert (artifact.name, artifact.size, artifact.status) == (
        "my-image",
        photo.stat().st_size,
        "ready",
    )
    assert artifact.mime_type == "image/jpeg"  # from the path's extension: the name has none
    assert repr(artifact) == (
        f"<Artifact id={artifact.id}, name=my-image, size={artifact.size}, status=ready>"
    )
    assert _content(artifact) == photo.read_bytes()
    for reference in (artifact.id, artifact.artifact_id):
        found = ivcap.get_artifact(reference)
        assert isinstance(found, Artifact)
        assert (found.id, found.name, found.size, found.mime_type) == (
            artifact.id,
            "my-image",
            artifact.size,
            "image/jpeg",
        )


def test_upload_from_binary_and_text_streams(ivcap: Satchel) -> None:
    data = b"col1,col2\n1,2\n3,4\n"
    csv = ivcap.upload_artifact(
        name="my-data.csv",
        io_stream=io.BytesIO(data),
        content_type="text/csv",
        content_size=len(data),
    )
    assert (csv.mime_type, csv.size, _content(csv)) == ("text/csv", len(data), data)
    note = ivcap.upload_artifact(name="note.txt", io_stream=io.StringIO("héllo wörld"))
    assert note.mime_type.startswith("text/plain")  # the name's extension gives the type
    assert _content(note) == "héllo wörld".encode()
    assert note.size == len("héllo wörld".encode())


def test_bad_uploads_are_refused_and_store_nothing(ivcap: Satchel, tmp_path: Path) -> None:
    path = _file(tmp_path, "a.csv", b"a,b\n")
    before = len(ivcap.list_artifacts(limit=1000))
    bad: list[dict[str, Any]] = [
        {},  # no source
        {"file_path": path, "io_stream": io.BytesIO(b"x")},  # two sources
        {"name": "blob", "io_stream": io.BytesIO(b"x")},  # a stream with no type at all
        {"file_path": tmp_path / "missing.csv"},
        {"file_path": path, "chunk_size": 10},
        {"file_path": path, "chunk_size": 2**40},
        {"file_path": path, "retries": -1},
        {"file_path": path, "retry_delay": -1},
        {"io_stream": io.BytesIO(b"x"), "content_type": "text/plain", "content_size": -2},
        {"name": "../escape.csv", "file_path": path},
        {"file_path": path, "content_type": "not a type"},
    ]
    for arguments in bad:
        with pytest.raises(InvalidRequestError):
            ivcap.upload_artifact(**arguments)
    assert len(ivcap.list_artifacts(limit=1000)) == before


def test_an_unchanged_file_is_uploaded_once(ivcap: Satchel, tmp_path: Path) -> None:
    path = _file(tmp_path, "file.csv", b"x,y\n1,2\n")
    assert ivcap.artifact_for_file(path, name="data") is None
    first = ivcap.upload_artifact(name="data", file_path=str(path))
    second = ivcap.upload_artifact(name="data", file_path=str(path))
    assert first.id == second.id
    found = ivcap.artifact_for_file(path, name="data")
    assert found is not None
    assert found.id == first.id
    forced = ivcap.upload_artifact(name="data", file_path=str(path), force_upload=True)
    assert forced.id != first.id
    assert _content(forced) == path.read_bytes()
    # another name is another artifact (the dedup rule: only exactly what would be created)
    assert ivcap.upload_artifact(name="other", file_path=str(path)).id != first.id
    path.write_bytes(b"x,y\n1,3\n")  # changed: uploaded again
    changed = ivcap.upload_artifact(name="data", file_path=str(path))
    assert changed.id not in {first.id, forced.id}
    assert _content(changed) == b"x,y\n1,3\n"


def test_made_up_names_keep_the_extension(ivcap: Satchel, tmp_path: Path) -> None:
    model = _file(tmp_path, "model.pkl", b"\x80\x04 pickled")
    artifact = ivcap.upload_artifact(file_path=model)
    assert re.fullmatch(r"[0-9a-f]{32}\.pkl", artifact.name or "")
    assert ivcap.upload_artifact(file_path=model).id == artifact.id  # unchanged: reused
    found = ivcap.artifact_for_file(model)
    assert found is not None
    assert found.id == artifact.id
    archive = ivcap.upload_artifact(file_path=_file(tmp_path, "logs.tar.gz", b"\x1f\x8b"))
    assert re.fullmatch(r"[0-9a-f]{32}\.tar\.gz", archive.name or "")
    assert archive.mime_type == "application/gzip"
    streamed = ivcap.upload_artifact(io_stream=io.BytesIO(b"a,b\n"), content_type="text/csv")
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", streamed.name or "")


def test_media_types_are_guessed_from_the_name_or_the_path(ivcap: Satchel, tmp_path: Path) -> None:
    path = _file(tmp_path, "page.html", b"<p>hi</p>")
    assert ivcap.upload_artifact(file_path=path).mime_type == "text/html"
    assert ivcap.upload_artifact(name="page.json", file_path=path).mime_type == "application/json"
    given = ivcap.upload_artifact(name="x.html", file_path=path, content_type="text/plain")
    assert given.mime_type == "text/plain"
    unknown = ivcap.upload_artifact(file_path=_file(tmp_path, "blob", b"??"))
    assert unknown.mime_type == "application/octet-stream"


def test_download_to_a_temporary_file_a_kept_file_and_a_stream(
    ivcap: Satchel, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    artifact = ivcap.upload_artifact(
        name="result.bin", io_stream=io.BytesIO(data), content_type="application/octet-stream"
    )
    with artifact.as_local_file() as path:
        assert path.name == "result.bin"
        assert path.read_bytes() == data
    assert not path.exists()  # the temporary file is removed when the with ends

    kept = artifact.as_local_file(tmp_path / "out" / "result.bin")  # no with: written now
    assert isinstance(kept, SafePath)
    assert kept.read_bytes() == data
    with artifact.as_local_file(tmp_path / "again.bin") as again:
        assert again.read_bytes() == data
    assert again.exists()
    assert kept.exists()

    seen: list[tuple[int, int | None]] = []
    chunks = list(artifact.as_stream(chunk_size=65536, progress=lambda d, t: seen.append((d, t))))
    assert b"".join(chunks) == data
    assert max(len(chunk) for chunk in chunks) <= 65536
    assert seen[-1] == (len(data), len(data))


def test_open_is_seekable_and_reads_only_what_is_asked(
    ivcap: Satchel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(6 * MiB)
    artifact = ivcap.upload_artifact(file_path=_file(tmp_path, "big.bin", data), chunk_size=2 * MiB)
    store = ivcap.client.store
    opened: list[Any] = []
    real_open = store.open_content

    async def counted(*args: Any, **kwargs: Any) -> Any:
        opened.append(kwargs.get("byte_range"))
        return await real_open(*args, **kwargs)

    monkeypatch.setattr(store, "open_content", counted)  # the real store, its calls counted
    with artifact.open() as handle:
        assert handle.seekable()
        assert handle.readable()
        assert handle.seek(3 * MiB) == 3 * MiB
        assert handle.read(100) == data[3 * MiB : 3 * MiB + 100]
        assert handle.tell() == 3 * MiB + 100
        assert handle.seek(-10, io.SEEK_END) == len(data) - 10
        assert handle.read() == data[-10:]
        assert handle.tell() == len(data)
        handle.seek(0)
        assert handle.read(5) == data[:5]
        # three range reads of at most a buffer each, nowhere near the 6 MiB
        assert len(opened) == 3
        assert all(r is not None for r in opened)
        assert handle.raw.bytes_fetched <= 3 * 256 * 1024
        handle.seek(10)
        assert handle.read() == data[10:]  # read() to the end streams one range
    with pytest.raises(ValueError, match="closed file"):
        handle.read(1)


def test_list_artifacts_newest_first(ivcap: Satchel) -> None:
    made = [
        ivcap.upload_artifact(name=f"item-{n}.txt", io_stream=io.BytesIO(b"%d" % n))
        for n in range(5)
    ]
    listed = ivcap.list_artifacts(limit=3)
    assert [a.id for a in listed] == [a.id for a in reversed(made)][:3]
    assert all(isinstance(a, Artifact) for a in listed)
    assert len(ivcap.list_artifacts(limit=1000)) >= 5
    with pytest.raises(InvalidRequestError):
        ivcap.list_artifacts(limit=0)


def test_local_files_are_artifacts_read_in_place(ivcap: Satchel, tmp_path: Path) -> None:
    path = _file(tmp_path, "input.csv", b"a,b\n1,2\n")
    before = len(ivcap.list_artifacts(limit=1000))
    for reference in (path.as_uri(), "urn:" + path.as_uri()):
        artifact = ivcap.get_artifact(reference)
        assert isinstance(artifact, LocalFileArtifact)
        assert artifact.id == "urn:" + path.as_uri()
        assert (artifact.name, artifact.size, artifact.mime_type) == ("input.csv", 8, "text/csv")
        with artifact.as_local_file() as local:
            assert local == path  # the file itself, not a copy
        assert path.exists()  # and never removed
        with artifact.open() as handle:
            handle.seek(4)
            assert handle.read() == b"1,2\n"
        assert b"".join(artifact.as_stream(chunk_size=3)) == path.read_bytes()
    assert len(ivcap.list_artifacts(limit=1000)) == before  # nothing was copied into the store
    with pytest.raises(ArtifactNotFoundError):
        ivcap.get_artifact((tmp_path / "missing.csv").as_uri())
    for bad in ("urn:ivcap:artifact:x", "urn:satchel:aspect:x", "file://host/etc/passwd", "a/b"):
        with pytest.raises(InvalidRequestError):
            ivcap.get_artifact(bad)
    with pytest.raises(ArtifactNotFoundError):
        ivcap.get_artifact("urn:satchel:artifact:no-such-artifact")


def test_aspects_through_the_client(ivcap: Satchel, tmp_path: Path) -> None:
    artifact = ivcap.upload_artifact(name="reef.jpg", io_stream=io.BytesIO(b"\xff\xd8"))
    aspect = ivcap.add_aspect(
        entity=artifact.id, aspect={"$schema": "tag", "tags": ["marine", "coral"]}
    )
    assert isinstance(aspect, Aspect)
    assert re.fullmatch(r"urn:satchel:aspect:asp-[0-9a-f]{32}", aspect.id)
    assert (aspect.schema, aspect.content["tags"]) == ("tag@1", ["marine", "coral"])
    assert ivcap.get_aspect(aspect.id) == aspect
    assert ivcap.get_aspect(aspect.aspect_id) == aspect
    updated = ivcap.update_aspect(artifact.id, {"tags": ["reef"]}, schema="tag", policy="p1")
    assert (updated.content, updated.policy) == ({"tags": ["reef"]}, "p1")
    assert [a.id for a in ivcap.list_aspects(entity=artifact.id)] == [updated.id]
    assert updated.id in [a.id for a in ivcap.list_aspects(schema="tag", limit=1000)]

    added = artifact.add_metadata({"$schema": "tag", "tags": ["more"]})
    assert added.entity == artifact.artifact_id
    assert {m.schema for m in artifact.metadata} == {"tag@1"}
    assert added.id in [m.id for m in artifact.metadata]
    for bad in ({"tags": []}, "not a dict"):
        with pytest.raises(InvalidRequestError):
            artifact.add_metadata(bad)  # type: ignore[arg-type]


def test_a_big_upload_goes_through_tus_in_pieces(
    ivcap: Satchel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(5 * MiB + 123)
    store = ivcap.client.store
    pieces: list[int] = []
    real_append = store.tus_append

    async def counted(upload_id: str, offset: int, chunk: Any, **kwargs: Any) -> Any:
        pieces.append(len(chunk))
        return await real_append(upload_id, offset, chunk, **kwargs)

    monkeypatch.setattr(store, "tus_append", counted)
    artifact = ivcap.upload_artifact(file_path=_file(tmp_path, "big.bin", data), chunk_size=MiB)
    assert pieces == [MiB] * 5 + [123]
    assert artifact.sha256 == "sha256:" + hashlib.sha256(data).hexdigest()
    small = ivcap.upload_artifact(file_path=_file(tmp_path, "small.bin", data[: MiB // 2]))
    assert len(pieces) == 6
    assert small.size == MiB // 2


def test_each_caller_reaches_only_its_own(make_client: Any, tmp_path: Path) -> None:
    for mode in ("local", "platform"):
        options = {"user_id": "alice"} if mode == "local" else {}
        alice = make_client(mode, "alice", **options)
        bob = make_client(mode, "bob", **({"user_id": "bob"} if mode == "local" else {}))
        path = _file(tmp_path, f"{mode}-private.csv", b"alice's numbers\n")
        mine = alice.upload_artifact(name="private.csv", file_path=path)
        with pytest.raises((ArtifactNotFoundError, AccessDeniedError)):
            bob.get_artifact(mine.id)  # the embedded store says denied, a server not found
        assert mine.id not in [a.id for a in bob.list_artifacts(limit=1000)]
        assert bob.artifact_for_file(path, name="private.csv") is None
        theirs = bob.upload_artifact(name="private.csv", file_path=path)  # not alice's
        assert theirs.id != mine.id
        with pytest.raises((ArtifactNotFoundError, AccessDeniedError)):
            bob.get_artifact(mine.artifact_id)
        with pytest.raises((ArtifactNotFoundError, AccessDeniedError)):
            bob.add_aspect(mine.id, {"$schema": "tag", "tags": ["bob's"]})
        assert alice.list_aspects(entity=mine.id) == []
