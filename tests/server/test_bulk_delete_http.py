"""``POST /v1/batch/delete`` and ``POST /v1/admin/delete-prefix`` against a real `satchel serve`."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from satchel import RemoteArtifactStore


def _upload(server: Any, who: str, data: bytes = b"x", **params: Any) -> str:
    with server.client(who) as client:
        response = client.post("/v1/artifacts", content=data, params=params)
    assert response.status_code == 201, response.text
    artifact_id: str = response.json()["artifact_id"]
    return artifact_id


def _status(server: Any, who: str, artifact_id: str) -> int:
    with server.client(who) as client:
        return client.get(f"/v1/artifacts/{artifact_id}").status_code


def test_batch_delete_answers_per_item_in_one_request(server: Any) -> None:
    first = _upload(server, "alice", b"1", scope="user")
    second = _upload(server, "alice", b"2", scope="user")
    theirs = _upload(server, "bob", b"3", scope="user")
    missing = "0" * 32
    with server.client("alice") as client:
        response = client.post(
            "/v1/batch/delete", json={"ids": [first, missing, theirs, second, first]}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["artifact_id"], r["status"], r["code"]) for r in body["results"]] == [
        (first, "deleted", None),
        (missing, "not_found", "not_found"),
        (theirs, "denied", "access_denied"),
        (second, "deleted", None),
    ]
    assert (body["deleted"], body["failed"]) == (2, 2)
    assert _status(server, "alice", first) == 404
    assert _status(server, "alice", second) == 404
    assert _status(server, "bob", theirs) == 200


@pytest.mark.parametrize(
    "body",
    [
        {"ids": "abc"},
        {"ids": ["ok-id", "../etc"]},
        {"ids": ["ok-id", 5]},
        {"ids": ["ok-id"], "extra": 1},
        {},
        [],
    ],
)
def test_a_bad_body_is_a_400_and_deletes_nothing(server: Any, body: Any) -> None:
    keep = _upload(server, "alice", b"keep", scope="user")
    if isinstance(body, dict) and isinstance(body.get("ids"), list):
        body["ids"][0] = keep
    with server.client("alice") as client:
        response = client.post("/v1/batch/delete", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert _status(server, "alice", keep) == 200


def test_more_than_1000_ids_is_a_413(server: Any) -> None:
    keep = _upload(server, "alice", b"keep", scope="user")
    with server.client("alice") as client:
        response = client.post(
            "/v1/batch/delete", json={"ids": [keep] + [f"a{n}" for n in range(1000)]}
        )
    assert response.status_code == 413
    assert _status(server, "alice", keep) == 200


def test_batch_delete_needs_a_token(server: Any) -> None:
    with server.client() as client:
        assert client.post("/v1/batch/delete", json={"ids": []}).status_code == 401


def _sandbox(server: Any) -> str:
    with server.client("admin") as client:
        sandbox: str = client.get("/v1/whoami").json()["sandbox_id"]
    return sandbox


def test_delete_prefix_previews_then_deletes_for_admins_only(server: Any) -> None:
    session = f"http-{uuid.uuid4().hex[:12]}"
    inside = [_upload(server, "admin", b"abc", session_id=session) for _ in range(3)]
    sibling = _upload(server, "admin", b"z", session_id=session + "x")
    prefix = f"grid/{_sandbox(server)}/sessions/{session}/"
    with server.client("alice") as client:
        refused = client.post("/v1/admin/delete-prefix", json={"prefix": prefix})
    assert refused.status_code == 403
    with server.client() as client:
        assert client.post("/v1/admin/delete-prefix", json={"prefix": prefix}).status_code == 401

    with server.client("admin") as client:
        acting = client.post(
            "/v1/admin/delete-prefix", params={"user_id": "alice"}, json={"prefix": prefix}
        )
        assert acting.status_code == 403  # an admin acting for a user is that user
        preview = client.post("/v1/admin/delete-prefix", json={"prefix": prefix})
        assert preview.status_code == 200, preview.text
        assert (preview.json()["count"], preview.json()["bytes"]) == (3, 9)
        assert all(_status(server, "admin", i) == 200 for i in inside)

        done = client.post(
            "/v1/admin/delete-prefix", json={"prefix": prefix, "dry_run": False, "page_size": 2}
        )
    assert done.status_code == 200, done.text
    report = done.json()
    assert (report["count"], report["pages"], report["complete"]) == (3, 2, True)
    assert sorted(report["ids"]) == sorted(inside)
    assert all(_status(server, "admin", i) == 404 for i in inside)
    assert _status(server, "admin", sibling) == 200


@pytest.mark.parametrize(
    "body",
    [
        {"prefix": ""},
        {"prefix": "grid/"},
        {"prefix": "grid/other/sessions/x/"},
        {"prefix": "grid/{sandbox}/sessions/../x/"},
        {"prefix": "grid/{sandbox}/sessions/x/", "dry_run": "no"},
        {"prefix": "grid/{sandbox}/sessions/x/", "page_size": 0},
        {"prefix": "grid/{sandbox}/sessions/x/", "surprise": 1},
        {},
    ],
)
def test_a_bad_prefix_is_a_400_and_changes_nothing(server: Any, body: dict[str, Any]) -> None:
    session = f"bad-{uuid.uuid4().hex[:12]}"
    kept = _upload(server, "admin", b"k", session_id=session)
    if "prefix" in body:
        prefix = body["prefix"].replace("{sandbox}", _sandbox(server))
        body = {"dry_run": False, **body, "prefix": prefix.replace("/x/", f"/{session}/")}
    with server.client("admin") as client:
        response = client.post("/v1/admin/delete-prefix", json=body)
    assert response.status_code == 400, response.text
    assert _status(server, "admin", kept) == 200


class _Counting(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


async def test_the_remote_client_deletes_many_in_one_request(server: Any) -> None:
    ids = [_upload(server, "alice", bytes([n]), scope="user") for n in range(20)]
    counting = _Counting()
    async with RemoteArtifactStore(server.url, server.token("alice"), transport=counting) as store:
        counting.requests.clear()
        results = await store.delete_many(ids)
    assert counting.requests == ["POST /v1/batch/delete"]
    assert [r.artifact_id for r in results] == ids
    assert all(r.deleted for r in results)
