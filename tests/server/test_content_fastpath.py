"""The raw-ASGI path for plain content GETs answers exactly as the routed endpoint does, and
hands every other case (conditional and range headers, bad tokens, missing or foreign
artifacts, unknown query parameters) to the full app. In process, over the app of
``create_app`` with a filesystem store and a SQLite catalog under ``tmp_path``."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.inprocess import BOB, client, running_app

from satchel.server.errors import new_request_id
from satchel.server.routes import artifacts as artifact_routes

VOLATILE = {"x-request-id", "date", "server"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(tmp_path / "var") as application:
        yield application


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The artifact ids the routed content endpoint answered (the fast path's fallbacks)."""
    calls: list[str] = []
    original = artifact_routes.content_response

    def spy(request: Any, content: Any) -> Any:
        calls.append(content.artifact_id)
        return original(request, content)

    monkeypatch.setattr(artifact_routes, "content_response", spy)
    return calls


_client = client


async def _upload(app: Any, data: bytes, **params: str) -> dict[str, Any]:
    async with _client(app) as http:
        response = await http.post("/v1/artifacts", content=data, params=params)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _stable(headers: httpx.Headers) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in VOLATILE}


async def test_plain_get_skips_the_router_and_answers_like_it(app: Any, routed: list[str]) -> None:
    data = b"fast path " * 500
    meta = await _upload(app, data, filename="notes/ünï.txt", mime="text/plain")
    url = f"/v1/artifacts/{meta['artifact_id']}/content"
    async with _client(app) as http:
        fast = await http.get(url)
        # If-None-Match that matches nothing: the routed endpoint, answering 200 in full
        full = await http.get(url, headers={"If-None-Match": '"something-else"'})
    assert routed == [meta["artifact_id"]]  # only the conditional GET reached the router
    assert fast.status_code == full.status_code == 200
    assert fast.content == full.content == data
    assert _stable(fast.headers) == _stable(full.headers)
    assert fast.headers["content-length"] == str(len(data))
    assert fast.headers["x-request-id"]


async def test_a_blob_of_many_chunks_streams_whole(app: Any, routed: list[str]) -> None:
    data = hashlib.sha256(b"seed").digest() * (3 * 2**20 // 32 + 5)  # > 3 chunks of 1 MiB
    meta = await _upload(app, data, mime="application/octet-stream")
    async with _client(app) as http:
        response = await http.get(f"/v1/artifacts/{meta['artifact_id']}/content")
    assert response.status_code == 200
    assert response.content == data
    assert routed == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Range": "bytes=0-9"}, 206),
        ({"If-Range": '"nope"', "Range": "bytes=0-9"}, 200),
    ],
)
async def test_range_requests_go_to_the_router(
    app: Any, routed: list[str], headers: dict[str, str], status: int
) -> None:
    meta = await _upload(app, b"0123456789abcdef", mime="text/plain")
    async with _client(app) as http:
        response = await http.get(f"/v1/artifacts/{meta['artifact_id']}/content", headers=headers)
    assert response.status_code == status
    assert routed == [meta["artifact_id"]]


async def test_failures_get_the_routers_error_answers(app: Any) -> None:
    meta = await _upload(app, b"private", mime="text/plain", scope="user")
    url = f"/v1/artifacts/{meta['artifact_id']}/content"
    async with _client(app, token="not-a-valid-token") as http:
        unknown_token = await http.get(url)
    async with _client(app, token=None) as http:
        anonymous = await http.get(url)
    async with _client(app, token=BOB) as http:
        foreign = await http.get(url)
        as_someone_else = await http.get(url, params={"user_id": "alice"})
    async with _client(app) as http:
        missing = await http.get("/v1/artifacts/no-such-artifact/content")
        malformed = await http.get("/v1/artifacts/bad%20id!/content")
        unknown_param = await http.get(url, params={"color": "blue"})
    assert (unknown_token.status_code, unknown_token.json()["error"]) == (401, "unauthorized")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthorized")
    assert foreign.status_code in (403, 404)
    assert "error" in foreign.json()
    assert (as_someone_else.status_code, as_someone_else.json()["error"]) == (
        403,
        "access_denied",
    )
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert malformed.status_code == 400
    assert (unknown_param.status_code, unknown_param.json()["error"]) == (400, "invalid_request")
    assert "'color'" in unknown_param.json()["message"]


async def test_metrics_count_fast_gets_under_the_route_template(app: Any) -> None:
    meta = await _upload(app, b"counted", mime="text/plain")
    async with _client(app) as http:
        for _ in range(3):
            assert (
                await http.get(f"/v1/artifacts/{meta['artifact_id']}/content")
            ).status_code == 200
        metrics = (await http.get("/metrics")).text
    line = next(
        row
        for row in metrics.splitlines()
        if row.startswith("satchel_http_requests_total")
        and 'route="/v1/artifacts/{artifact_id}/content"' in row
        and 'method="GET"' in row
        and 'status="200"' in row
    )
    assert float(line.rsplit(" ", 1)[1]) == 3.0


def test_request_ids_are_unique_and_differ_after_fork() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports its first id and leaves at once
        os.write(write_end, new_request_id().encode())
        os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert child_id[:20] != next(iter(ids))[:20]


async def test_the_clients_request_id_is_echoed_once_and_headers_follow_new_versions(
    app: Any, routed: list[str]
) -> None:
    meta = await _upload(app, b"named", filename="first.txt", mime="text/plain")
    url = f"/v1/artifacts/{meta['artifact_id']}/content"
    async with _client(app) as http:
        first = await http.get(url, headers={"X-Request-ID": "trace-123"})
        renamed = await http.patch(
            f"/v1/artifacts/{meta['artifact_id']}", json={"filename": "second.txt"}
        )
        assert renamed.status_code == 200, renamed.text
        second = await http.get(url)
    assert routed == []  # both answered by the fast path
    assert first.headers.get_list("x-request-id") == ["trace-123"]
    assert len(second.headers.get_list("x-request-id")) == 1
    assert second.headers["x-request-id"] != "trace-123"
    assert "first.txt" in first.headers["content-disposition"]
    assert "second.txt" in second.headers["content-disposition"]
    assert first.headers["etag"] != second.headers["etag"]
