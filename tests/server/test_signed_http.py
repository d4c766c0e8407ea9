"""Presigned URLs against a real `satchel serve`, fetched with curl."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from satchel.core.signing import PresignedURL

CURL = "/usr/bin/curl"
DATA = b"presigned payload \x00\xff" * 500


def _curl(*args: str) -> tuple[int, int, bytes]:
    """(exit code, HTTP status, body) of a curl call."""
    done = subprocess.run(
        [CURL, "-sS", "-o", "-", "-w", "\n%{http_code}", *args],
        capture_output=True,
        timeout=30,
        check=False,
    )
    body, _, status = done.stdout.rpartition(b"\n")
    return done.returncode, int(status or 0), body


def _upload(server: Any, data: bytes = DATA, **params: Any) -> dict[str, Any]:
    with server.client("alice") as client:
        response = client.post("/v1/artifacts", content=data, params=params)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _presign(server: Any, artifact_id: str, expires: int = 60) -> str:
    with server.client("alice") as client:
        response = client.post(f"/v1/artifacts/{artifact_id}/presign", json={"expires": expires})
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == expires
    url: str = response.json()["url"]
    assert url.startswith(f"{server.url}/v1/signed/")
    return url


def test_curl_downloads_a_presigned_url(server: Any) -> None:
    meta = _upload(server, filename="payload.bin")
    url = _presign(server, meta["artifact_id"])
    code, status, body = _curl(url)
    assert (code, status) == (0, 200)
    assert body == DATA
    code, status, body = _curl("-r", "0-9", url)
    assert (code, status, body) == (0, 206, DATA[:10])
    done = subprocess.run([CURL, "-sSI", url], capture_output=True, timeout=30, check=True)
    headers = done.stdout.decode().lower()
    assert f"content-length: {len(DATA)}" in headers
    assert f'etag: "{meta["etag"]}"' in headers
    assert 'content-disposition: attachment; filename="payload.bin"' in headers


def test_presign_without_a_body_uses_the_default_expiry(server: Any) -> None:
    meta = _upload(server)
    with server.client("alice") as client:
        response = client.post(f"/v1/artifacts/{meta['artifact_id']}/presign")
    assert response.status_code == 200
    assert response.json()["expires_in"] == 3600


def _tamper(url: str) -> str:
    head, _, token = url.rpartition("/")
    payload, _, signature = token.partition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}/{payload}.{flipped}"


def test_tampered_and_wrong_method_urls_are_403_json(server: Any) -> None:
    url = _presign(server, _upload(server)["artifact_id"])
    for args in (
        [_tamper(url)],
        ["-X", "PUT", "--data-binary", "x", url],
        [url.rsplit("/", 1)[0] + "/not-a-token"],
    ):
        code, status, body = _curl(*args)
        assert code == 0
        assert status == 403, args
        error = json.loads(body)
        assert error["error"] == "access_denied"
        assert set(error) == {"error", "message", "request_id"}


def test_an_expired_url_is_403(server: Any) -> None:
    url = _presign(server, _upload(server)["artifact_id"], expires=1)
    time.sleep(2)
    code, status, body = _curl(url)
    assert (code, status) == (0, 403)
    assert "expired" in json.loads(body)["message"]


def test_presigned_upload_with_curl_then_register(server: Any, tmp_path: Path) -> None:
    with server.client("alice") as client:
        started = client.post(
            "/v1/presign-upload",
            json={"filename": "up.bin", "mime_type": "application/x-up", "expires": 60},
        )
        assert started.status_code == 200, started.text
        upload_url = started.json()["upload_url"]
        artifact_id = started.json()["artifact_id"]

        early = client.post(f"/v1/artifacts/{artifact_id}/register", json={"mime": "a/b"})
        assert early.status_code == 409
        assert early.json()["error"] == "conflict"

        source = tmp_path / "up.bin"
        source.write_bytes(DATA)
        code, status, body = _curl("-X", "PUT", "--data-binary", f"@{source}", upload_url)
        assert (code, status) == (0, 200), body
        assert json.loads(body) == {"kind": "upload", "size": len(DATA)}

        registered = client.post(
            f"/v1/artifacts/{artifact_id}/register",
            json={"mime": "application/x-up", "summary": "via curl", "meta": {"src": "curl"}},
        )
        assert registered.status_code == 201, registered.text
        meta = registered.json()
        assert meta["artifact_id"] == artifact_id
        assert meta["bytes"] == len(DATA)
        assert meta["sha256"] == "sha256:" + hashlib.sha256(DATA).hexdigest()
        assert meta["filename"] == "up.bin"
        assert meta["meta"] == {"src": "curl"}
        assert client.get(f"/v1/artifacts/{artifact_id}/content").content == DATA

        again = client.post(f"/v1/artifacts/{artifact_id}/register", json={"mime": "a/b"})
        assert again.status_code == 409

    _, status, _ = _curl("-X", "PUT", "--data-binary", f"@{source}", upload_url)
    assert status == 409
    _, status, _ = _curl(upload_url)  # a PUT URL does not download
    assert status == 403


def test_bob_cannot_register_alices_upload(server: Any) -> None:
    with server.client("alice") as client:
        started = client.post("/v1/presign-upload", json={"filename": "x.bin"}).json()
    _, status, _ = _curl("-X", "PUT", "--data-binary", "abc", started["upload_url"])
    assert status == 200
    with server.client("bob") as client:
        denied = client.post(
            f"/v1/artifacts/{started['artifact_id']}/register", json={"mime": "a/b"}
        )
    assert denied.status_code == 403


def test_presigned_part_upload(server: Any) -> None:
    with server.client("alice") as client:
        started = client.post(
            "/v1/uploads", json={"filename": "parts.bin", "mime_type": "application/x-p"}
        )
        assert started.status_code == 201, started.text
        upload_id = started.json()["upload_id"]
        part = client.post(f"/v1/uploads/{upload_id}/parts/1/url", json={"expires": 60})
        assert part.status_code == 200, part.text
        url = part.json()["url"]
    done = subprocess.run(
        [CURL, "-sS", "-D", "-", "-X", "PUT", "--data-binary", "part one", url],
        capture_output=True,
        timeout=30,
        check=True,
    )
    text = done.stdout.decode()
    assert text.startswith("HTTP/1.1 200")
    body = json.loads(text.rsplit("\r\n\r\n", 1)[1])
    assert body["part_number"] == 1
    assert f'etag: "{body["etag"]}"' in text.lower()


def test_presigned_url_repr_hides_the_signature(server: Any) -> None:
    url = _presign(server, _upload(server)["artifact_id"])
    signature = url.rsplit(".", 1)[1]
    presigned = PresignedURL(url)
    assert signature not in repr(presigned)
    assert "redacted" in repr(presigned)
    assert str(presigned) == url
