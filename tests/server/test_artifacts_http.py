"""The /v1/artifacts routes against a real `satchel serve`."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

DATA = bytes(range(256)) * 4  # 1024 bytes


def _upload(server: Any, who: str = "alice", data: bytes = DATA, **params: Any) -> dict[str, Any]:
    with server.client(who) as client:
        response = client.post(
            "/v1/artifacts",
            content=data,
            params={"filename": "data.bin", "mime": "application/octet-stream", **params},
        )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{body["etag"]}"'
    return body


def test_upload_with_meta_ttl_and_scope(server: Any) -> None:
    meta = _upload(
        server,
        filename="notes/a.txt",
        mime="text/plain",
        summary="some notes",
        meta=json.dumps({"kind": "notes", "n": 1}),
        ttl="120",
    )
    assert meta["bytes"] == len(DATA)
    assert meta["sha256"] == "sha256:" + hashlib.sha256(DATA).hexdigest()
    assert meta["filename"] == "notes/a.txt"
    assert meta["mime"] == "text/plain"
    assert meta["summary"] == "some notes"
    assert meta["meta"] == {"kind": "notes", "n": 1}
    assert meta["ttl"] == 120
    assert meta["expires_at"] is not None
    assert meta["owner_id"] == "alice"

    forever = _upload(server, scope="user", ttl="none")
    assert forever["scope"] == "user"
    assert forever["expires_at"] is None


def test_upload_takes_the_mime_from_content_type(server: Any) -> None:
    with server.client("alice") as client:
        response = client.post(
            "/v1/artifacts", content=b"{}", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 201
    assert response.json()["mime"] == "application/json"


def test_bad_meta_json_is_a_400(server: Any) -> None:
    with server.client("alice") as client:
        response = client.post("/v1/artifacts", content=b"x", params={"meta": "{nope"})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        response = client.get("/v1/artifacts", params={"meta_filter": "[1]"})
        assert response.status_code == 400


def test_an_empty_body_is_a_zero_byte_artifact(server: Any) -> None:
    with server.client("alice") as client:
        response = client.post("/v1/artifacts", content=b"", params={"filename": "_SUCCESS"})
        assert response.status_code == 201
        created = response.json()
        assert created["bytes"] == 0
        assert created["sha256"] == "sha256:" + hashlib.sha256(b"").hexdigest()
        got = client.get(f"/v1/artifacts/{created['artifact_id']}/content")
    assert (got.status_code, got.content, got.headers["content-length"]) == (200, b"", "0")


def test_metadata_list_and_search(server: Any) -> None:
    first = _upload(server, filename="docs/one.txt", meta=json.dumps({"tag": "listme"}))
    session = first["session_id"]
    second = _upload(server, filename="docs/two.txt", session_id=session)
    _upload(server, filename="other.txt", session_id=session)
    with server.client("alice") as client:
        got = client.get(f"/v1/artifacts/{first['artifact_id']}")
        assert got.status_code == 200
        assert got.json() == first
        assert got.headers["etag"] == f'"{first["etag"]}"'

        listed = client.get("/v1/artifacts", params={"session_id": session}).json()
        assert len(listed["items"]) == 3
        assert "next_cursor" in listed

        page = client.get("/v1/artifacts", params={"session_id": session, "limit": 2}).json()
        assert len(page["items"]) == 2
        assert page["next_cursor"]
        rest = client.get(
            "/v1/artifacts",
            params={"session_id": session, "limit": 2, "cursor": page["next_cursor"]},
        ).json()
        assert len(rest["items"]) == 1

        docs = client.get("/v1/artifacts", params={"session_id": session, "prefix": "docs/"})
        names = sorted(item["filename"] for item in docs.json()["items"])
        assert names == ["docs/one.txt", "docs/two.txt"]

        found = client.get("/v1/artifacts", params={"meta_filter": json.dumps({"tag": "listme"})})
        assert [item["artifact_id"] for item in found.json()["items"]] == [first["artifact_id"]]
    with server.client("bob") as client:
        found = client.get("/v1/artifacts", params={"meta_filter": json.dumps({"tag": "listme"})})
        assert found.status_code == 200
        assert found.json()["items"] == []
    assert second["session_id"] == session


def test_patch_with_if_match(server: Any) -> None:
    meta = _upload(server, meta=json.dumps({"a": 1}))
    url = f"/v1/artifacts/{meta['artifact_id']}"
    with server.client("alice") as client:
        patched = client.patch(
            url,
            json={"summary": "new", "meta": {"b": 2}},
            headers={"If-Match": f'"{meta["etag"]}"'},
        )
        assert patched.status_code == 200, patched.text
        body = patched.json()
        assert body["summary"] == "new"
        assert body["meta"] == {"a": 1, "b": 2}
        assert body["version"] == meta["version"] + 1
        assert patched.headers["etag"] == f'"{body["etag"]}"'

        stale = client.patch(url, json={"summary": "x"}, headers={"If-Match": meta["etag"]})
        assert stale.status_code == 412
        assert stale.json()["error"] == "precondition_failed"

        replaced = client.patch(url, json={"meta": {"c": 3}, "merge": False, "ttl": None})
        assert replaced.json()["meta"] == {"c": 3}
        assert replaced.json()["expires_at"] is None

        unchanged_ttl = client.patch(url, json={"summary": "again"})
        assert unchanged_ttl.json()["expires_at"] is None

        assert client.patch(url, json={"bogus": 1}).status_code == 400


def test_delete(server: Any) -> None:
    meta = _upload(server)
    url = f"/v1/artifacts/{meta['artifact_id']}"
    with server.client("alice") as client:
        assert client.delete(url, headers={"If-Match": '"stale"'}).status_code == 412
        response = client.delete(url, headers={"If-Match": f'"{meta["etag"]}"'})
        assert response.status_code == 204
        assert response.content == b""
        gone = client.get(url)
        assert gone.status_code == 404
        assert gone.json()["error"] == "not_found"


def test_content_get_and_ranges(server: Any) -> None:
    meta = _upload(server, filename="report.bin", mime="application/x-test")
    url = f"/v1/artifacts/{meta['artifact_id']}/content"
    etag = f'"{meta["etag"]}"'
    with server.client("alice") as client:
        full = client.get(url)
        assert full.status_code == 200
        assert full.content == DATA
        assert full.headers["content-length"] == str(len(DATA))
        assert full.headers["accept-ranges"] == "bytes"
        assert full.headers["etag"] == etag
        assert full.headers["content-type"] == "application/x-test"
        assert full.headers["content-disposition"] == 'attachment; filename="report.bin"'

        single = client.get(url, headers={"Range": "bytes=10-19"})
        assert single.status_code == 206
        assert single.content == DATA[10:20]
        assert single.headers["content-range"] == f"bytes 10-19/{len(DATA)}"
        assert single.headers["content-length"] == "10"

        suffix = client.get(url, headers={"Range": "bytes=-100"})
        assert suffix.status_code == 206
        assert suffix.content == DATA[-100:]
        assert suffix.headers["content-range"] == f"bytes 924-1023/{len(DATA)}"

        open_ended = client.get(url, headers={"Range": "bytes=1000-"})
        assert open_ended.status_code == 206
        assert open_ended.content == DATA[1000:]

        clipped = client.get(url, headers={"Range": "bytes=1000-5000"})
        assert clipped.status_code == 206
        assert clipped.content == DATA[1000:]

        beyond = client.get(url, headers={"Range": "bytes=5000-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{len(DATA)}"
        assert beyond.json()["error"] == "range_not_satisfiable"

        multi = client.get(url, headers={"Range": "bytes=0-1,5-6"})
        assert multi.status_code == 200
        assert multi.content == DATA

        not_modified = client.get(url, headers={"If-None-Match": f'W/"x", {etag}'})
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200

        honoured = client.get(url, headers={"Range": "bytes=0-3", "If-Range": etag})
        assert honoured.status_code == 206
        assert honoured.content == DATA[:4]
        ignored = client.get(url, headers={"Range": "bytes=0-3", "If-Range": '"old"'})
        assert ignored.status_code == 200
        assert ignored.content == DATA

        head = client.head(url)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(DATA))
        assert head.headers["etag"] == etag
        head_range = client.head(url, headers={"Range": "bytes=-10"})
        assert head_range.status_code == 206
        assert head_range.headers["content-length"] == "10"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("plain report.txt", 'attachment; filename="plain report.txt"'),
        (
            "résumé 日本.txt",
            "attachment; filename=\"resume __.txt\"; filename*=UTF-8''"
            + quote("résumé 日本.txt", safe=""),
        ),
        ('say "hi".txt', 'attachment; filename="say hi.txt"'),
    ],
)
def test_content_disposition(server: Any, filename: str, expected: str) -> None:
    meta = _upload(server, filename=filename)
    with server.client("alice") as client:
        response = client.get(f"/v1/artifacts/{meta['artifact_id']}/content")
    assert response.headers["content-disposition"] == expected


def test_put_content_replaces_the_bytes(server: Any) -> None:
    meta = _upload(server)
    url = f"/v1/artifacts/{meta['artifact_id']}"
    new = b"fresh content " * 1000
    with server.client("alice") as client:
        stale = client.put(f"{url}/content", content=new, headers={"If-Match": '"nope"'})
        assert stale.status_code == 412
        response = client.put(
            f"{url}/content",
            content=new,
            params={"mime": "text/plain"},
            headers={"If-Match": f'"{meta["etag"]}"'},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["bytes"] == len(new)
        assert body["sha256"] == "sha256:" + hashlib.sha256(new).hexdigest()
        assert body["mime"] == "text/plain"
        assert body["version"] == meta["version"] + 1
        assert client.get(f"{url}/content").content == new
        emptied = client.put(f"{url}/content", content=b"")
        assert (emptied.status_code, emptied.json()["bytes"]) == (200, 0)


def test_put_content_streams_a_chunked_body(server: Any) -> None:
    meta = _upload(server)
    parts = [b"a" * 70_000, b"b" * 70_000, b"c"]

    def chunks() -> Any:
        yield from parts

    with server.client("alice") as client:
        response = client.put(f"/v1/artifacts/{meta['artifact_id']}/content", content=chunks())
        assert response.status_code == 200, response.text
        assert response.json()["bytes"] == sum(map(len, parts))


def test_copy_and_move(server: Any) -> None:
    meta = _upload(server, filename="orig.bin", meta=json.dumps({"k": "v"}))
    url = f"/v1/artifacts/{meta['artifact_id']}"
    with server.client("alice") as client:
        copied = client.post(f"{url}/copy", json={"new_filename": "copy.bin", "summary": "c"})
        assert copied.status_code == 201, copied.text
        copy = copied.json()
        assert copy["artifact_id"] != meta["artifact_id"]
        assert copy["filename"] == "copy.bin"
        assert copy["sha256"] == meta["sha256"]
        assert copy["meta"]["copied_from"] == meta["artifact_id"]
        assert client.get(f"/v1/artifacts/{copy['artifact_id']}/content").content == DATA
        cross = client.post(f"{url}/copy", json={"target_session_id": "someone-elses"})
        assert cross.status_code == 403

        moved = client.post(f"{url}/move", json={"new_filename": "renamed.bin"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["filename"] == "renamed.bin"
        assert client.get(url).json()["filename"] == "renamed.bin"


def test_bob_cannot_touch_alices_artifacts(server: Any) -> None:
    meta = _upload(server)
    url = f"/v1/artifacts/{meta['artifact_id']}"
    with server.client("bob") as client:
        for response in (
            client.get(url),
            client.get(f"{url}/content"),
            client.patch(url, json={"summary": "mine"}),
            client.delete(url),
            client.put(f"{url}/content", content=b"x"),
            client.post(f"{url}/presign", json={}),
            client.get(url, params={"user_id": "alice"}),
        ):
            assert response.status_code == 403, response.request
            assert response.json()["error"] == "access_denied"


def test_no_token_is_a_401_json_error(server: Any) -> None:
    meta = _upload(server)
    with server.client() as client:
        response = client.get(
            f"/v1/artifacts/{meta['artifact_id']}", headers={"X-Request-ID": "r-1"}
        )
        assert response.status_code == 401
        assert response.json() == {
            "error": "unauthorized",
            "message": response.json()["message"],
            "request_id": "r-1",
        }
        assert client.post("/v1/artifacts", content=b"x").status_code == 401
        bad = client.get("/v1/artifacts", headers={"Authorization": "Bearer wrong-token-123"})
        assert bad.status_code == 401


def test_admin_acts_for_a_user(server: Any) -> None:
    with server.client("admin") as client:
        response = client.post(
            "/v1/artifacts",
            content=b"on behalf",
            params={"user_id": "alice", "scope": "user", "filename": "for-alice.txt"},
        )
        assert response.status_code == 201, response.text
        meta = response.json()
        assert meta["owner_id"] == "alice"
        assert meta["scope"] == "user"
        as_alice = client.get(f"/v1/artifacts/{meta['artifact_id']}", params={"user_id": "alice"})
        assert as_alice.status_code == 200
        as_bob = client.get(f"/v1/artifacts/{meta['artifact_id']}", params={"user_id": "bob"})
        assert as_bob.status_code == 403
        assert client.get(f"/v1/artifacts/{meta['artifact_id']}").status_code == 200
    with server.client("alice") as client:
        mine = client.get(f"/v1/artifacts/{meta['artifact_id']}/content")
        assert mine.content == b"on behalf"


def test_anonymous_read_of_sandbox_artifacts(launch_server: Any) -> None:
    srv = launch_server(SATCHEL_ANON_READ="true")
    with srv.client("admin") as client:
        public = client.post(
            "/v1/artifacts", content=b"for everyone", params={"scope": "sandbox"}
        ).json()
        private = client.post(
            "/v1/artifacts", content=b"alice only", params={"scope": "user", "user_id": "alice"}
        ).json()
    with httpx.Client(base_url=srv.url, timeout=30) as anon:
        got = anon.get(f"/v1/artifacts/{public['artifact_id']}/content")
        assert got.status_code == 200
        assert got.content == b"for everyone"
        assert anon.get(f"/v1/artifacts/{public['artifact_id']}").status_code == 200
        denied = anon.get(f"/v1/artifacts/{private['artifact_id']}/content")
        assert denied.status_code == 403
        assert denied.json()["error"] == "access_denied"
        assert anon.post("/v1/artifacts", content=b"x").status_code == 401
        assert anon.delete(f"/v1/artifacts/{public['artifact_id']}").status_code == 401
