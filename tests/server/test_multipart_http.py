"""Multipart uploads over HTTP against a real server: parts in parallel and out of order
(presigned part URLs and the authenticated part route), completion, refusals and abort."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

PART = 1500  # above the harness's SATCHEL_MULTIPART_MIN_PART_BYTES=1024


def _initiate(client: httpx.Client, filename: str = "big.bin") -> dict[str, Any]:
    response = client.post(
        "/v1/uploads", json={"filename": filename, "mime_type": "application/x-test"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert {"upload_id", "artifact_id", "session_id", "key", "expires_at"} <= set(body)
    return body


def _put_part(client: httpx.Client, upload_id: str, number: int, data: bytes) -> str:
    response = client.put(f"/v1/uploads/{upload_id}/parts/{number}", content=data)
    assert response.status_code == 200, response.text
    assert response.json() == {"etag": response.json()["etag"], "part_number": number}
    return response.headers["etag"]


def _parts(count: int = 4, size: int = PART) -> list[bytes]:
    return [os.urandom(size) for _ in range(count)]


def _check_artifact(server: Any, client: httpx.Client, meta: dict[str, Any], data: bytes) -> None:
    assert meta["bytes"] == len(data)
    assert meta["sha256"] == "sha256:" + hashlib.sha256(data).hexdigest()
    content = client.get(f"/v1/artifacts/{meta['artifact_id']}/content")
    assert content.status_code == 200
    assert content.content == data


def test_parts_through_presigned_urls_in_parallel_and_out_of_order(server: Any) -> None:
    chunks = _parts()
    with server.client("alice") as alice:
        started = _initiate(alice)
        upload_id = started["upload_id"]
        urls = {}
        for number in (3, 1, 4, 2):
            response = alice.post(
                f"/v1/uploads/{upload_id}/parts/{number}/url", json={"expires": 600}
            )
            assert response.status_code == 200, response.text
            urls[number] = response.json()["url"]

        def put(number: int) -> tuple[int, str]:
            response = httpx.put(urls[number], content=chunks[number - 1], timeout=30)
            assert response.status_code == 200, response.text
            return number, response.headers["etag"]

        with ThreadPoolExecutor(4) as pool:
            etags = dict(pool.map(put, [4, 2, 3, 1]))
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
        done = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts})
        assert done.status_code == 201, done.text
        meta = done.json()
        assert meta["artifact_id"] == started["artifact_id"]
        assert done.headers["etag"] == f'"{meta["etag"]}"'
        assert meta["summary"] == "Multipart upload"
        _check_artifact(server, alice, meta, b"".join(chunks))


def test_parts_through_the_authenticated_route_in_parallel(server: Any) -> None:
    chunks = _parts(size=1024)
    chunks[-1] = b"tail"  # the last part may be small
    with server.client("alice") as alice:
        upload_id = _initiate(alice)["upload_id"]

        def put(number: int) -> tuple[int, str]:
            with server.client("alice") as own:
                return number, _put_part(own, upload_id, number, chunks[number - 1])

        with ThreadPoolExecutor(4) as pool:
            etags = dict(pool.map(put, [2, 4, 1, 3]))
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in range(1, 5)]
        done = alice.post(
            f"/v1/uploads/{upload_id}/complete", json={"parts": parts, "summary": "four parts"}
        )
        assert done.status_code == 201, done.text
        assert done.json()["summary"] == "four parts"
        assert done.json()["filename"] == "big.bin"
        _check_artifact(server, alice, done.json(), b"".join(chunks))
        again = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts})
        assert again.status_code in (404, 409)


def test_a_replaced_part_keeps_only_its_new_bytes(server: Any) -> None:
    with server.client("alice") as alice:
        upload_id = _initiate(alice)["upload_id"]
        _put_part(alice, upload_id, 1, b"x" * 2000)
        first = _put_part(alice, upload_id, 1, b"y" * 1100)
        second = _put_part(alice, upload_id, 2, b"z")
        parts = [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]
        done = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts})
        assert done.status_code == 201, done.text
        _check_artifact(server, alice, done.json(), b"y" * 1100 + b"z")


@pytest.mark.parametrize("case", ["missing", "wrong_etag", "out_of_order", "empty", "small"])
def test_bad_completions_are_refused_and_make_no_artifact(server: Any, case: str) -> None:
    with server.client("alice") as alice:
        started = _initiate(alice)
        upload_id = started["upload_id"]
        etags = {n: _put_part(alice, upload_id, n, os.urandom(PART)) for n in (1, 2)}
        small = _put_part(alice, upload_id, 3, b"small")
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2)]
        if case == "missing":
            parts.append({"PartNumber": 7, "ETag": etags[1]})
        elif case == "wrong_etag":
            parts[1]["ETag"] = '"' + "0" * 32 + '"'
        elif case == "out_of_order":
            parts.reverse()
        elif case == "empty":
            parts = []
        else:
            # a part smaller than the minimum that is not the last one
            big = _put_part(alice, upload_id, 4, os.urandom(PART))
            parts = [{"PartNumber": 3, "ETag": small}, {"PartNumber": 4, "ETag": big}]
        response = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts})
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert response.headers["x-request-id"] == response.json()["request_id"]
        assert alice.get(f"/v1/artifacts/{started['artifact_id']}").status_code == 404
        # the upload is still open: a correct completion works afterwards
        good = [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2)]
        done = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": good})
        assert done.status_code == 201, done.text


def test_abort_then_parts_are_gone(server: Any) -> None:
    with server.client("alice") as alice:
        upload_id = _initiate(alice)["upload_id"]
        _put_part(alice, upload_id, 1, os.urandom(PART))
        assert alice.delete(f"/v1/uploads/{upload_id}").status_code == 204
        late = alice.put(f"/v1/uploads/{upload_id}/parts/2", content=b"late")
        assert late.status_code == 404
        assert alice.post(f"/v1/uploads/{upload_id}/parts/2/url", json={}).status_code == 404
        parts = [{"PartNumber": 1, "ETag": "0" * 32}]
        complete = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts})
        assert complete.status_code == 404


def test_other_users_cannot_touch_an_upload(server: Any) -> None:
    with server.client("alice") as alice, server.client("bob") as bob:
        upload_id = _initiate(alice)["upload_id"]
        etag = _put_part(alice, upload_id, 1, b"alice's bytes")
        parts = [{"PartNumber": 1, "ETag": etag}]
        assert bob.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts}).status_code == (
            403
        )
        assert bob.delete(f"/v1/uploads/{upload_id}").status_code == 403
        assert bob.put(f"/v1/uploads/{upload_id}/parts/2", content=b"bob").status_code == 403
        assert bob.post(f"/v1/uploads/{upload_id}/parts/2/url", json={}).status_code == 403
        # a user token cannot act as another user
        assert alice.post("/v1/uploads?user_id=bob", json={"filename": "x"}).status_code == 403
        done = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": parts})
        assert done.status_code == 201, done.text


def test_admin_acts_for_a_user_and_anonymous_is_refused(server: Any) -> None:
    anonymous = httpx.post(f"{server.url}/v1/uploads", json={"filename": "x"})
    assert anonymous.status_code == 401
    with server.client("admin") as admin, server.client("alice") as alice:
        response = admin.post("/v1/uploads?user_id=alice", json={"filename": "for-alice.bin"})
        assert response.status_code == 201, response.text
        upload_id = response.json()["upload_id"]
        etag = _put_part(alice, upload_id, 1, b"from alice")
        done = alice.post(
            f"/v1/uploads/{upload_id}/complete", json={"parts": [{"PartNumber": 1, "ETag": etag}]}
        )
        assert done.status_code == 201, done.text


def test_malformed_requests_are_400(server: Any) -> None:
    with server.client("alice") as alice:
        assert alice.post("/v1/uploads", json={}).status_code == 400
        assert alice.post("/v1/uploads", content=b"{not json").status_code == 400
        upload_id = _initiate(alice)["upload_id"]
        assert alice.put(f"/v1/uploads/{upload_id}/parts/0", content=b"x").status_code == 400
        none = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": []})
        assert (none.status_code, none.json()["error"]) == (400, "invalid_request")
        bad = alice.post(f"/v1/uploads/{upload_id}/complete", json={"parts": "nope"})
        assert bad.status_code == 400
