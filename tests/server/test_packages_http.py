"""The /v1/packages, /v1/holds, /v1/retention and /v1/schemas routes against a real
`satchel serve` (SQLite and PostgreSQL catalogs), as curl and other HTTP clients use them."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

import cbor2

from satchel.manifest import decode


def _create(server: Any, who: str = "alice", **body: Any) -> dict[str, Any]:
    attributes = {
        "name": "evidence",
        "producer": "ci",
        "subject": "build-7",
        "retention_class": "raw-evidence",
        "metadata": {"commit": "abc123"},
        **body,
    }
    with server.client(who) as client:
        response = client.post("/v1/packages", json=attributes)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/packages/{response.json()['package_id']}"
    package: dict[str, Any] = response.json()
    return package


def _file_url(package_id: str, path: str) -> str:
    return f"/v1/packages/{package_id}/files/{quote(path)}"


def test_push_finalize_and_read_over_http(server: Any) -> None:
    package = _create(server)
    package_id = package["package_id"]
    assert (package["state"], package["owner_id"], package["file_count"]) == ("open", "alice", 0)
    files = {"report.txt": b"all green\n", "logs/r\u00e9sum\u00e9 1.txt": b"line\n" * 100}
    with server.client("alice") as client:
        for path, body in files.items():
            answer = client.put(
                _file_url(package_id, path),
                content=body,
                headers={
                    # curl --data-binary's default type: the name decides instead
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Repr-Digest": f"sha-256=:{_b64(hashlib.sha256(body).digest())}:",
                },
            )
            assert answer.status_code == 201, answer.text
            assert answer.json()["sha256"] == "sha256:" + hashlib.sha256(body).hexdigest()
        listed = client.get(f"/v1/packages/{package_id}/files").json()["items"]
        assert [f["media_type"] for f in listed] == ["text/plain", "text/plain"]

        finalized = client.post(f"/v1/packages/{package_id}/finalize", json={"actor": "ci-bot"})
        assert finalized.status_code == 200, finalized.text
        address = finalized.json()["manifest_address"]
        assert finalized.json()["package"]["state"] == "finalized"

        as_json = client.get(f"/v1/packages/{package_id}/manifest")
        assert as_json.headers["content-type"] == "application/json"
        assert "sha256:" + hashlib.sha256(as_json.content).hexdigest() == address
        assert as_json.headers["satchel-manifest-address"] == address
        assert "immutable" in as_json.headers["cache-control"]
        as_cbor = client.get(
            f"/v1/packages/{package_id}/manifest", headers={"Accept": "application/cbor"}
        )
        assert as_cbor.headers["content-type"] == "application/cbor"
        assert cbor2.loads(as_cbor.content) == json.loads(as_json.content)
        assert decode(as_cbor.content) == decode(as_json.content)
        by_query = client.get(f"/v1/packages/{package_id}/manifest", params={"format": "cbor"})
        assert by_query.content == as_cbor.content
        assert (
            client.get(f"/v1/packages/{package_id}/manifest", params={"format": "xml"}).status_code
            == 400
        )

        url = _file_url(package_id, "logs/r\u00e9sum\u00e9 1.txt")
        whole = client.get(url)
        assert whole.content == files["logs/r\u00e9sum\u00e9 1.txt"]
        etag = whole.headers["etag"]
        part = client.get(url, headers={"Range": "bytes=5-9"})
        assert (part.status_code, part.content) == (206, b"line\n")
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
        head = client.head(url)
        assert head.headers["content-length"] == "500"

        # bob reads a published package but cannot change it
    with server.client("bob") as bob:
        assert bob.get(f"/v1/packages/{package_id}").status_code == 200
        assert bob.put(_file_url(package_id, "x.txt"), content=b"x").status_code == 403
    with server.client("alice") as client:
        changed = client.put(_file_url(package_id, "report.txt"), content=b"changed")
        assert (changed.status_code, changed.json()["error"]) == (409, "package_finalized")


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


def test_bad_paths_and_conflicts_are_clear_errors(server: Any) -> None:
    package_id = _create(server)["package_id"]
    with server.client("alice") as client:
        for bad in ("%2E%2E/etc/passwd", "a/%2E%2E/%2E%2E/b", "nul%00.txt", "C:%5Cx"):
            answer = client.put(f"/v1/packages/{package_id}/files/{bad}", content=b"x")
            assert answer.status_code == 400, (bad, answer.text)
            assert answer.json()["error"] == "invalid_request"
        assert client.put(_file_url(package_id, "a.txt"), content=b"one").status_code == 201
        again = client.put(_file_url(package_id, "a.txt"), content=b"two")
        assert (again.status_code, again.json()["error"]) == (409, "duplicate_relative_path")
        digest = "sha-256=:" + _b64(hashlib.sha256(b"other").digest()) + ":"
        mismatch = client.put(
            _file_url(package_id, "b.txt"), content=b"not other", headers={"Repr-Digest": digest}
        )
        assert mismatch.status_code == 400
        assert client.get(f"/v1/packages/{package_id}/files").json()["items"][0]["size"] == 3
        open_manifest = client.get(f"/v1/packages/{package_id}/manifest")
        assert open_manifest.status_code == 409
        unknown = client.post("/v1/packages", json={"name": "x", "producer": "p"})
        assert unknown.status_code == 400


def test_holds_retention_and_history_over_http(server: Any) -> None:
    package_id = _create(server)["package_id"]
    with server.client("alice") as client:
        client.put(_file_url(package_id, "a.txt"), content=b"a")
        client.post(f"/v1/packages/{package_id}/finalize")
        refused = client.post(
            f"/v1/packages/{package_id}/holds", json={"name": "case", "reason": "why"}
        )
        assert refused.status_code == 403
    with server.client("admin") as admin:
        hold = admin.post(
            f"/v1/packages/{package_id}/holds", json={"name": "case-1", "reason": "subpoena"}
        )
        assert hold.status_code == 201, hold.text
        gone = admin.delete(f"/v1/packages/{package_id}")
        assert (gone.status_code, gone.json()["error"]) == (409, "retained")
        retention = admin.get(f"/v1/packages/{package_id}/retention").json()
        assert retention["retention_class"] == "raw-evidence"
        assert [h["name"] for h in retention["holds"]] == ["case-1"]
        released = admin.post(
            f"/v1/holds/{hold.json()['hold_id']}/release", json={"reason": "settled"}
        )
        assert released.status_code == 200
        bypass = admin.delete(
            f"/v1/packages/{package_id}",
            params={"bypass_governance": "true", "reason": "erasure request"},
        )
        assert bypass.status_code == 200, bypass.text
        history = admin.get(f"/v1/packages/{package_id}/history").json()["items"]
        assert [e["type"] for e in history][-3:] == [
            "v1.hold.applied",
            "v1.hold.released",
            "v1.package.deleted",
        ]
        assert history[-1]["payload"]["bypass_governance"] is True
        assert admin.get("/v1/retention/classes").json()["items"][0]["name"]
        assert admin.post("/v1/retention/sweep", params={"dry_run": "true"}).status_code == 200
        assert admin.post("/v1/retention/gc", params={"dry_run": "true"}).status_code == 200
    with server.client("alice") as client:
        assert client.post("/v1/retention/gc").status_code == 403


def test_metadata_schemas_over_http(server: Any) -> None:
    schema = {"type": "object", "required": ["board"], "properties": {"board": {"type": "string"}}}
    with server.client("admin") as admin:
        created = admin.post("/v1/schemas", json={"slug": "guide-board.run.v1", "schema": schema})
        assert created.status_code in (200, 201), created.text  # the module's server is shared
        assert admin.get("/v1/schemas/guide-board.run.v1").json()["schema"] == schema
    with server.client("alice") as client:
        assert client.post("/v1/schemas", json={"slug": "x", "schema": {}}).status_code == 403
        bad = client.post(
            "/v1/packages",
            json={
                "name": "g",
                "producer": "guide-board",
                "subject": "s",
                "retention_class": "transient",
                "metadata": {"board": 7},
                "schema": "guide-board.run.v1",
            },
        )
        assert bad.status_code == 400
        assert "metadata.board" in bad.json()["message"]


def test_anonymous_readers_see_published_packages_only(launch_server: Any) -> None:
    server = launch_server(SATCHEL_ANON_READ="true")
    public = _create(server)["package_id"]
    private = _create(server, scope="user")["package_id"]
    with httpx_client(server) as anonymous:
        listed = {p["package_id"] for p in anonymous.get("/v1/packages").json()["items"]}
        assert public in listed
        assert private not in listed
        assert anonymous.get(f"/v1/packages/{private}").status_code == 404
        assert anonymous.post("/v1/packages", json={}).status_code == 401


def httpx_client(server: Any) -> Any:
    return server.client(None)


def test_the_banner_and_seed_001_shared_tokens(launch_server: Any) -> None:
    shared = "seed-001-shared-secret-token"
    server = launch_server(ARTIFACTSTORE_AUTH_TOKENS=shared)
    with server.client(None) as anonymous:
        banner = anonymous.get("/")
        assert banner.status_code == 200
        assert banner.json()["name"] == "satchel"
        assert banner.json()["links"]["docs"] == "/docs"
    with server.client(None) as client:
        client.headers["Authorization"] = f"Bearer {shared}"
        assert client.get("/v1/whoami").json()["admin"] is True
        assert client.post("/v1/retention/sweep").status_code == 200


def test_hostile_requests_found_by_an_attack(server: Any) -> None:
    """What an attack on these routes found: each now a clear 4xx, or a safe answer."""
    package_id = _create(server)["package_id"]
    with server.client("alice") as client:
        # a JSON body over 1 MiB is refused before it is parsed, declared or chunked
        huge = b'{"name":"j","metadata":{"a":[' + b"1," * 600_000 + b"1]}}"
        assert client.post("/v1/packages", content=huge).status_code == 413

        def chunked() -> Any:
            yield huge

        assert client.post("/v1/packages", content=chunked()).status_code == 413
        # a file whose name sanitises to nothing is still a download, never rendered
        put = client.put(
            f"/v1/packages/{package_id}/files/%E2%80%8B",
            content=b"<script>alert(1)</script>",
            params={"media_type": "text/html"},
        )
        assert put.status_code == 201, put.text
        got = client.get(f"/v1/packages/{package_id}/files/%E2%80%8B")
        assert got.headers["content-disposition"].startswith("attachment")
        assert got.headers["x-content-type-options"] == "nosniff"
        # percent-escapes that are not UTF-8 name no file
        assert (
            client.put(f"/v1/packages/{package_id}/files/%FF.txt", content=b"x").status_code == 400
        )
        # a file and a directory of one name cannot both be in a package
        assert client.put(_file_url(package_id, "a"), content=b"a").status_code == 201
        clash = client.put(_file_url(package_id, "a/b"), content=b"b")
        assert (clash.status_code, clash.json()["error"]) == (409, "duplicate_relative_path")
        # whole floats beyond 2**53 would not survive a manifest
        big = client.post(
            "/v1/packages",
            json={"name": "f", "producer": "p", "subject": "s", "retention_class": "transient",
                  "metadata": {"a": 1e16}},
        )  # fmt: skip
        assert big.status_code == 400
    with server.client("admin") as admin:
        anonymous = admin.post(
            "/v1/packages",
            json={"name": "x", "producer": "p", "subject": "s", "retention_class": "transient",
                  "scope": "user", "user_id": "anonymous"},
        )  # fmt: skip
        assert anonymous.status_code == 400
        admin.post(f"/v1/packages/{package_id}/finalize")
        weighted = admin.get(
            f"/v1/packages/{package_id}/manifest",
            headers={"Accept": "application/cbor;q=0.1, application/json"},
        )
        assert weighted.headers["content-type"] == "application/json"
