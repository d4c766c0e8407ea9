"""tus 1.0 over HTTP against a real server: the tuspy client, resume after a hard restart,
checksums, offsets, termination, access and protocol versions."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import threading
import time
from typing import Any

import httpx
from tusclient import client as tus_client

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def _tus(server: Any, who: str = "alice") -> tus_client.TusClient:
    return tus_client.TusClient(server.url + "/v1/tus/", headers=server.headers(who))


def _headers(server: Any, who: str = "alice", **extra: str) -> dict[str, str]:
    return {**server.headers(who), **TUS, **extra}


def _create(server: Any, length: int, who: str = "alice", metadata: str = "") -> str:
    headers = _headers(server, who, **{"Upload-Length": str(length)})
    if metadata:
        headers["Upload-Metadata"] = metadata
    response = httpx.post(f"{server.url}/v1/tus/", headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["tus-resumable"] == "1.0.0"
    location = response.headers["location"]
    assert location.startswith(f"{server.url}/v1/tus/")
    assert response.headers["upload-offset"] == "0"
    assert response.headers["upload-expires"].endswith("GMT")
    return location


def _patch(
    server: Any, url: str, offset: int, body: bytes, who: str = "alice", **extra: str
) -> httpx.Response:
    headers = _headers(server, who, **{"Upload-Offset": str(offset), "Content-Type": OCTETS})
    headers.update(extra)
    return httpx.patch(url, headers=headers, content=body)


def _head(server: Any, url: str, who: str = "alice") -> httpx.Response:
    return httpx.head(url, headers=_headers(server, who))


def _artifact_of(server: Any, url: str) -> dict[str, Any]:
    head = _head(server, url)
    assert head.status_code == 200
    assert head.headers["upload-offset"] == head.headers["upload-length"]
    artifact_id = head.headers["satchel-artifact-id"]
    meta = httpx.get(f"{server.url}/v1/artifacts/{artifact_id}", headers=server.headers("alice"))
    assert meta.status_code == 200, meta.text
    body: dict[str, Any] = meta.json()
    return body


def _content(server: Any, artifact_id: str) -> bytes:
    response = httpx.get(
        f"{server.url}/v1/artifacts/{artifact_id}/content", headers=server.headers("alice")
    )
    assert response.status_code == 200, response.text
    return response.content


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_options_advertises_the_protocol(server: Any) -> None:
    response = httpx.options(f"{server.url}/v1/tus/")
    assert response.status_code == 204
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["tus-version"] == "1.0.0"
    extensions = set(response.headers["tus-extension"].split(","))
    assert extensions == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert set(response.headers["tus-checksum-algorithm"].split(",")) == {"sha1", "sha256", "md5"}
    assert int(response.headers["tus-max-size"]) > 0


def test_tuspy_uploads_in_chunks_with_checksums(server: Any) -> None:
    data = os.urandom(10_000)
    uploader: Any = _tus(server).uploader(
        file_stream=io.BytesIO(data),
        chunk_size=3_000,
        metadata={"filename": "report.bin", "filetype": "application/x-report", "summary": "hi"},
        upload_checksum=True,
    )
    uploader.upload()
    assert uploader.offset == len(data)
    meta = _artifact_of(server, uploader.url)
    assert meta["sha256"] == _sha(data)
    assert meta["bytes"] == len(data)
    assert meta["filename"] == "report.bin"
    assert meta["mime"] == "application/x-report"
    assert meta["summary"] == "hi"
    assert _content(server, meta["artifact_id"]) == data
    head = _head(server, uploader.url)
    assert head.headers["cache-control"] == "no-store"
    assert head.headers["tus-resumable"] == "1.0.0"


def test_resume_after_a_hard_restart(fresh_server: Any) -> None:
    data = os.urandom(9_000)
    uploader: Any = _tus(fresh_server).uploader(
        file_stream=io.BytesIO(data), chunk_size=2_000, metadata={"filename": "resumed.bin"}
    )
    uploader.upload_chunk()
    uploader.upload_chunk()
    assert uploader.offset == 4_000
    url = uploader.url
    fresh_server.restart()
    assert _head(fresh_server, url).headers["upload-offset"] == "4000"
    again: Any = _tus(fresh_server).uploader(
        file_stream=io.BytesIO(data), chunk_size=2_000, url=url
    )
    assert again.offset == 4_000
    again.upload()
    meta = _artifact_of(fresh_server, url)
    assert meta["sha256"] == _sha(data)
    assert _content(fresh_server, meta["artifact_id"]) == data


def test_creation_with_upload_and_the_completing_patch_names_the_artifact(server: Any) -> None:
    data = b"0123456789" * 50
    metadata = "filename " + base64.b64encode(b"first.txt").decode() + ",is_confidential"
    headers = _headers(
        server,
        **{"Upload-Length": str(len(data)), "Upload-Metadata": metadata, "Content-Type": OCTETS},
    )
    created = httpx.post(f"{server.url}/v1/tus/", headers=headers, content=data[:200])
    assert created.status_code == 201, created.text
    assert created.headers["upload-offset"] == "200"
    url = created.headers["location"]
    done = _patch(server, url, 200, data[200:])
    assert done.status_code == 204, done.text
    assert done.headers["upload-offset"] == str(len(data))
    artifact_id = done.headers["satchel-artifact-id"]
    assert _head(server, url).headers["satchel-artifact-id"] == artifact_id
    meta = _artifact_of(server, url)
    assert meta["filename"] == "first.txt"
    assert meta["sha256"] == _sha(data)
    # a completed upload takes no more bytes
    assert _patch(server, url, len(data), b"x").status_code == 409


def test_whole_upload_in_the_creation_request(server: Any) -> None:
    data = b"all at once"
    headers = _headers(server, **{"Upload-Length": str(len(data)), "Content-Type": OCTETS})
    created = httpx.post(f"{server.url}/v1/tus/", headers=headers, content=data)
    assert created.status_code == 201, created.text
    assert created.headers["upload-offset"] == str(len(data))
    artifact_id = created.headers["satchel-artifact-id"]
    assert _content(server, artifact_id) == data


def test_checksum_mismatch_is_460_and_keeps_the_offset(server: Any) -> None:
    url = _create(server, 100)
    assert _patch(server, url, 0, b"a" * 40).status_code == 204
    wrong = "sha1 " + base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    response = _patch(server, url, 40, b"b" * 30, **{"Upload-Checksum": wrong})
    assert response.status_code == 460, response.text
    assert response.json()["error"] == "checksum_mismatch"
    assert response.headers["tus-resumable"] == "1.0.0"
    assert _head(server, url).headers["upload-offset"] == "40"
    right = "sha256 " + base64.b64encode(hashlib.sha256(b"b" * 30).digest()).decode()
    ok = _patch(server, url, 40, b"b" * 30, **{"Upload-Checksum": right})
    assert ok.status_code == 204
    assert ok.headers["upload-offset"] == "70"
    unsupported = _patch(server, url, 70, b"c", **{"Upload-Checksum": "crc32 AAAA"})
    assert unsupported.status_code == 400


def test_wrong_offset_is_409_and_wrong_content_type_is_415(server: Any) -> None:
    url = _create(server, 50)
    assert _patch(server, url, 10, b"x" * 5).status_code == 409
    assert _patch(server, url, 0, b"x" * 5, **{"Content-Type": "text/plain"}).status_code == 415
    missing = httpx.patch(url, headers=_headers(server, **{"Content-Type": OCTETS}), content=b"x")
    assert missing.status_code == 400
    assert _patch(server, url, 0, b"x" * 51).status_code == 413
    assert _head(server, url).headers["upload-offset"] == "0"


def test_termination_then_head_is_404(server: Any) -> None:
    url = _create(server, 64)
    assert _patch(server, url, 0, b"z" * 10).status_code == 204
    deleted = httpx.delete(url, headers=_headers(server))
    assert deleted.status_code == 204
    assert deleted.headers["tus-resumable"] == "1.0.0"
    head = _head(server, url)
    assert head.status_code == 404
    assert head.headers["tus-resumable"] == "1.0.0"
    assert _patch(server, url, 10, b"z").status_code == 404


def test_other_users_and_anonymous_are_refused(server: Any) -> None:
    url = _create(server, 20)
    assert _head(server, url, who="bob").status_code == 403
    assert _patch(server, url, 0, b"bob", who="bob").status_code == 403
    assert httpx.delete(url, headers=_headers(server, "bob")).status_code == 403
    assert httpx.head(url, headers=TUS).status_code == 401
    anonymous = httpx.post(f"{server.url}/v1/tus/", headers={**TUS, "Upload-Length": "5"})
    assert anonymous.status_code == 401
    assert _head(server, url).headers["upload-offset"] == "0"
    # the admin acts as the application
    assert _head(server, url, who="admin").status_code == 200


def test_unsupported_protocol_version_is_412(server: Any) -> None:
    url = _create(server, 10)
    headers = {**server.headers("alice"), "Tus-Resumable": "0.2.2"}
    for response in (
        httpx.head(url, headers=headers),
        httpx.post(f"{server.url}/v1/tus/", headers={**headers, "Upload-Length": "5"}),
        httpx.patch(
            url, headers={**headers, "Upload-Offset": "0", "Content-Type": OCTETS}, content=b"x"
        ),
    ):
        assert response.status_code == 412
        assert response.headers["tus-version"] == "1.0.0"
        assert response.headers["tus-resumable"] == "1.0.0"
    assert _head(server, url).headers["upload-offset"] == "0"


def test_bad_creation_requests(server: Any) -> None:
    post = f"{server.url}/v1/tus/"
    assert httpx.post(post, headers=_headers(server)).status_code == 400
    assert httpx.post(post, headers=_headers(server, **{"Upload-Length": "-3"})).status_code == 400
    for bad in ("1e3", "+5", "9" * 30):
        assert (
            httpx.post(post, headers=_headers(server, **{"Upload-Length": bad})).status_code == 400
        )
    bad_meta = _headers(server, **{"Upload-Length": "3", "Upload-Metadata": "filename !!!"})
    assert httpx.post(post, headers=bad_meta).status_code == 400
    too_big = _headers(server, **{"Upload-Length": str(10**18)})
    assert httpx.post(post, headers=too_big).status_code == 413


def test_an_upload_of_length_zero_is_an_empty_artifact_at_once(server: Any) -> None:
    name = base64.b64encode(b"_SUCCESS").decode()
    headers = _headers(server, **{"Upload-Length": "0", "Upload-Metadata": f"filename {name}"})
    created = httpx.post(f"{server.url}/v1/tus/", headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["upload-offset"] == "0"
    assert created.headers["satchel-upload-state"] == "completed"
    artifact_id = created.headers["satchel-artifact-id"]
    head = _head(server, created.headers["location"])
    assert (head.headers["upload-offset"], head.headers["upload-length"]) == ("0", "0")
    with server.client("alice") as client:
        meta = client.get(f"/v1/artifacts/{artifact_id}").json()
        content = client.get(f"/v1/artifacts/{artifact_id}/content")
    assert (meta["bytes"], meta["filename"]) == (0, "_SUCCESS")
    assert (content.status_code, content.content) == (200, b"")


def test_a_patch_killed_mid_body_resumes_at_once_from_its_last_checkpoint(
    launch_server: Any,
) -> None:
    """SIGKILL while a PATCH streams: after the restart HEAD reports the durable offset (the
    last checkpoint, not 0), and the resume is not blocked by the dead server's lease."""
    server = launch_server(SATCHEL_TUS_CHECKPOINT_BYTES=str(256 * 1024))
    total = 4 * 1024 * 1024
    data = os.urandom(total)
    url = _create(server, total, metadata="filename " + base64.b64encode(b"big.bin").decode())
    sent = threading.Event()

    def slow_body() -> Any:
        for start in range(0, total, 64 * 1024):
            if start >= 1024 * 1024:
                sent.set()
                time.sleep(0.5)  # the server is killed while the body still streams
            yield data[start : start + 64 * 1024]

    def patch() -> None:
        with contextlib.suppress(httpx.HTTPError):
            _patch_stream(server, url, 0, slow_body())

    writer = threading.Thread(target=patch, daemon=True)
    writer.start()
    assert sent.wait(30)
    time.sleep(0.5)
    server.restart()
    writer.join(30)
    offset = int(_head(server, url).headers["upload-offset"])
    assert 512 * 1024 <= offset < total  # checkpoints survived the kill
    resumed = _patch(server, url, offset, data[offset:])
    assert resumed.status_code == 204, resumed.text  # no 409: the dead holder's lease is over
    meta = _artifact_of(server, url)
    assert meta["sha256"] == _sha(data)


def _patch_stream(server: Any, url: str, offset: int, body: Any) -> httpx.Response:
    headers = _headers(server, **{"Upload-Offset": str(offset), "Content-Type": OCTETS})
    return httpx.patch(url, headers=headers, content=body, timeout=60)
