"""Public artifacts over HTTP: read without a token (metadata, content, the fast path, Range),
nothing else is; policies and collections through the routes; URNs in paths."""

from __future__ import annotations

from typing import Any

import httpx


def _upload(server: Any, who: str, data: bytes, **params: Any) -> str:
    with server.client(who) as client:
        answer = client.post(
            "/v1/artifacts", content=data, params={"filename": "r.txt", "scope": "user", **params}
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["artifact_id"])


def test_a_public_artifact_is_read_without_a_token(server: Any) -> None:
    made = _upload(server, "alice", b"0123456789")
    private = _upload(server, "alice", b"secret")
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    with server.client("alice") as alice, anonymous:
        before = anonymous.get(f"/v1/artifacts/{made}/content")
        assert before.status_code == 401
        assert before.headers["www-authenticate"].startswith("Bearer")
        set_public = alice.put(f"/v1/artifacts/{made}/policy", json={"policy": "public"})
        assert set_public.status_code == 200, set_public.text
        assert set_public.json()["policy"] == "public"
        content = anonymous.get(f"/v1/artifacts/{made}/content")
        assert (content.status_code, content.content) == (200, b"0123456789")
        ranged = anonymous.get(f"/v1/artifacts/{made}/content", headers={"Range": "bytes=2-4"})
        assert (ranged.status_code, ranged.content) == (206, b"234")
        assert anonymous.head(f"/v1/artifacts/{made}/content").status_code == 200
        assert anonymous.get(f"/v1/artifacts/urn:satchel:artifact:{made}/content").content == (
            b"0123456789"
        )
        meta = anonymous.get(f"/v1/artifacts/{made}")
        assert (meta.status_code, meta.json()["policy"]) == (200, "public")
        # private, unknown and expired answer alike: a token is needed (no existence oracle)
        for path in (
            f"/v1/artifacts/{private}",
            f"/v1/artifacts/{private}/content",
            "/v1/artifacts/" + "f" * 32,
            "/v1/artifacts/" + "f" * 32 + "/content",
        ):
            refused = anonymous.get(path)
            assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized"), path
        # reading is all a missing token gets
        for method, path, body in (
            ("GET", "/v1/artifacts", None),
            ("GET", "/v1/collections", None),
            ("DELETE", f"/v1/artifacts/{made}", None),
            ("PUT", f"/v1/artifacts/{made}/policy", {"policy": None}),
            ("POST", f"/v1/artifacts/{made}/presign", {}),
            ("PUT", f"/v1/artifacts/{made}/content", None),
        ):
            answer = anonymous.request(method, path, json=body)
            assert answer.status_code == 401, (method, path, answer.text)
        assert alice.get(f"/v1/artifacts/{made}").json()["policy"] == "public"
        private_again = alice.put(f"/v1/artifacts/{made}/policy", json={"policy": "private"})
        assert private_again.json()["policy"] is None
        assert anonymous.get(f"/v1/artifacts/{made}/content").status_code == 401


def test_bad_policies_and_collections_are_400s_that_change_nothing(server: Any) -> None:
    made = _upload(server, "alice", b"x")
    with server.client("alice") as alice:
        etag = alice.get(f"/v1/artifacts/{made}").headers["etag"]
        for body in ({"policy": "world"}, {"policy": 1}, {}, {"policy": "public", "x": 1}):
            answer = alice.put(f"/v1/artifacts/{made}/policy", json=body)
            assert answer.status_code == 400, body
        for name, body in (
            ("reef", {"artifact_ids": "x"}),
            ("reef", {"artifact_ids": []}),
            ("a..b", {"artifact_ids": [made]}),
            ("reef", {"ids": [made]}),
        ):
            answer = alice.post(f"/v1/collections/{name}/add", json=body)
            assert answer.status_code == 400, (name, body, answer.text)
        assert alice.get(f"/v1/artifacts/{made}").headers["etag"] == etag
        assert alice.get(f"/v1/artifacts/{made}/collections").json() == {"collections": []}


def test_collections_over_http(server: Any) -> None:
    made = _upload(server, "alice", b"one")
    bobs = _upload(server, "bob", b"two")
    with server.client("alice") as alice, server.client("bob") as bob:
        added = alice.post("/v1/collections/coral/add", json={"artifact_ids": [made]})
        assert added.json() == {"collection": "coral", "added": 1}
        refused = bob.post("/v1/collections/coral/add", json={"artifact_ids": [made, bobs]})
        assert refused.status_code == 403
        found = alice.get("/v1/artifacts", params={"collection": "coral"}).json()["items"]
        assert [item["artifact_id"] for item in found] == [made]
        assert bob.get("/v1/artifacts", params={"collection": "coral"}).json()["items"] == []
        listed = alice.get("/v1/collections").json()
        assert {"collection": "coral", "urn": "urn:satchel:collection:coral", "artifacts": 1} in (
            listed["collections"]
        )
        assert bob.get(f"/v1/artifacts/{made}/collections").status_code == 403
        removed = alice.post("/v1/collections/coral/remove", json={"artifact_ids": [made]})
        assert removed.json() == {"collection": "coral", "removed": 1}


def test_presign_answers_the_flavor_asked_for(server: Any) -> None:
    made = _upload(server, "alice", b"feed")
    with server.client("alice") as alice:
        signed = alice.post(f"/v1/artifacts/{made}/presign", json={"expires": 60}).json()
        assert signed["public"] is False
        assert signed["expires_in"] == 60
        public = alice.post(f"/v1/artifacts/{made}/presign", json={"policy": "public"})
        assert (public.status_code, public.json()["error"]) == (409, "conflict")
        alice.put(f"/v1/artifacts/{made}/policy", json={"policy": "open"})
        url = alice.post(f"/v1/artifacts/{made}/presign", json={}).json()
        assert url == {
            "url": f"{server.url}/v1/artifacts/{made}/content",
            "expires_in": None,
            "expires_at": None,
            "public": True,
        }
        assert httpx.get(url["url"]).content == b"feed"  # no token: it is public
        paid = alice.post(f"/v1/artifacts/{made}/presign", json={"policy": "presigned"}).json()
        assert paid["public"] is False
        assert "/v1/signed/" in paid["url"]
        assert httpx.get(paid["url"]).content == b"feed"
