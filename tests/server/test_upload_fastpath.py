"""The raw-ASGI path for ``POST /v1/artifacts`` answers exactly as the routed endpoint does,
and hands every request it does not take exactly as the route would to the full app before
reading any of its body.

Each request is sent, as raw ASGI messages, to the app (fast path first) and to the same app's
stack without the fast paths (the routed endpoint alone), over one store: the answers must be
the same bytes (status, header list, body), up to what differs between two uploads (the new
artifact's id, its session and etag, and times). Which of the two answered is told by the
router's query check, which every routed request passes first. In process, over the app of
``create_app`` with a filesystem store and a SQLite catalog under ``tmp_path``."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from tests.server.inprocess import ADMIN, ALICE, BOB, client, running_app

from satchel.client import RemoteArtifactStore
from satchel.core.requests import StreamUploadRequest
from satchel.server import deps, fastupload
from satchel.server.fastupload import UPLOAD_PATH

REQUEST_ID = "trace-upload-1"
LIMIT = 4096  # the upload limit of the ``small`` app


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(tmp_path / "var") as application:
        yield application


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Any]:
    """An app that takes uploads of at most LIMIT bytes."""
    async with running_app(tmp_path / "small", max_upload_bytes=LIMIT) as application:
        yield application


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(method, path) of every request that reached a routed endpoint's guard."""
    calls: list[tuple[str, str]] = []
    original = deps.check_query

    def spy(request: Any, allowed: frozenset[str]) -> None:
        calls.append((request.method, request.url.path))
        original(request, allowed)

    monkeypatch.setattr(deps, "check_query", spy)
    return calls


def full(app: Any) -> Any:
    """*app* without its fast paths: FastAPI's own stack, the routed endpoint answering."""
    stack = FastAPI.build_middleware_stack(app)

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["app"] = app
        await stack(scope, receive, send)

    return asgi


@dataclasses.dataclass
class Post:
    """A ``POST /v1/artifacts``: its query, token, extra headers and body chunks; *length*
    "auto" sends Content-Length, None sends the body chunked, a string is sent as given;
    *ending* "disconnect" or "broken" cuts the body off (the client leaves, or the server's
    channel fails)."""

    query: str = ""
    token: str | None = ALICE
    headers: Sequence[tuple[str, str]] = ()
    chunks: Sequence[bytes] = (b"uploaded bytes",)
    length: str | None = "auto"
    ending: str = "complete"

    def header_list(self) -> list[tuple[bytes, bytes]]:
        headers = [("host", "test"), ("x-request-id", REQUEST_ID)]
        if self.token is not None:
            headers.append(("authorization", f"Bearer {self.token}"))
        if self.length == "auto":
            headers.append(("content-length", str(sum(map(len, self.chunks)))))
        elif self.length is None:
            headers.append(("transfer-encoding", "chunked"))
        else:
            headers.append(("content-length", self.length))
        headers.extend(self.headers)
        return [(name.lower().encode(), value.encode()) for name, value in headers]


@dataclasses.dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    read_at: int | None
    """How many requests had reached the router when the app first asked for this one's body
    (None: it never did)."""

    def json(self) -> Any:
        return json.loads(self.body)


class Broken(Exception):
    """The server's channel failed mid-body (no part of Satchel raises this)."""


def _scope(post: Post) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/artifacts",
        "raw_path": b"/v1/artifacts",
        "root_path": "",
        "query_string": post.query.encode(),
        "headers": post.header_list(),
        "client": ("127.0.0.1", 40000),
        "server": ("test", 80),
    }


async def send_post(
    asgi: Any, post: Post, routed: list[tuple[str, str]], sent: list[dict[str, Any]] | None = None
) -> Answer:
    """Send *post* to *asgi* as an ASGI server would and collect its answer (the messages also
    in *sent*, kept when the app raises)."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in post.chunks
    ]
    if post.ending == "complete":
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    elif post.ending == "disconnect":
        messages.append({"type": "http.disconnect"})
    read_at: list[int] = []
    sent = [] if sent is None else sent

    async def receive() -> dict[str, Any]:
        if not read_at:
            read_at.append(len(routed))
        if messages:
            return messages.pop(0)
        if post.ending == "broken":
            raise Broken("the connection broke")
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asgi(_scope(post), receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    assert all(m["type"] == "http.response.body" for m in sent[1:])
    return Answer(
        start["status"],
        list(start["headers"]),
        b"".join(m.get("body", b"") for m in sent[1:]),
        read_at[0] if read_at else None,
    )


_TIME = re.compile(rb"\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)")


def normalized(answer: Answer) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """*answer* with what differs between two uploads of the same request replaced by names
    (and its Content-Length checked, then left out: the names change the body's length)."""
    headers = [(name, value) for name, value in answer.headers if name != b"content-length"]
    lengths = [value for name, value in answer.headers if name == b"content-length"]
    assert lengths == [str(len(answer.body)).encode()]
    body = answer.body
    if answer.status == 201:
        created = answer.json()
        for field in ("artifact_id", "session_id", "etag"):
            mark = f"<{field}>".encode()
            body = body.replace(created[field].encode(), mark)
            headers = [(n, v.replace(created[field].encode(), mark)) for n, v in headers]
    return answer.status, headers, _TIME.sub(b"<time>", body)


async def answered_fast(
    app: Any, post: Post, routed: list[tuple[str, str]]
) -> tuple[Answer, Answer]:
    """*post* answered by the fast path, and by the routed endpoint alone: the same answer."""
    routed.clear()
    fast = await send_post(app, post, routed)
    assert routed == [], "the routed endpoint answered"
    routed.clear()
    slow = await send_post(full(app), post, routed)
    assert routed == [("POST", "/v1/artifacts")]
    assert normalized(fast) == normalized(slow)
    assert fast.headers.count((b"x-request-id", REQUEST_ID.encode())) == 1
    return fast, slow


async def handed_on(app: Any, post: Post, routed: list[tuple[str, str]]) -> Answer:
    """*post* went to the full app, which alone read its body; its answer is the routed one."""
    routed.clear()
    answer = await send_post(app, post, routed)
    assert routed == [("POST", "/v1/artifacts")], "the fast path answered"
    assert answer.read_at is None or answer.read_at == 1  # not before the router had it
    routed.clear()
    slow = await send_post(full(app), post, routed)
    assert normalized(answer) == normalized(slow)
    return answer


async def _session_of(app: Any, token: str) -> str:
    async with client(app, token) as http:
        response = await http.post("/v1/artifacts", content=b"first")
    assert response.status_code == 201, response.text
    session: str = response.json()["session_id"]
    return session


def _q(**params: str) -> str:
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params.items())


META = json.dumps({"build": {"number": 7, "green": True}, "tags": ["a", "ü"]})

UPLOADS = {
    "plain": Post(query=_q(mime="application/octet-stream"), chunks=[b"x" * 4096]),
    "everything": Post(
        query=_q(
            filename="reports/ünï côde.txt",
            mime="text/plain",
            summary="a summary",
            scope="user",
            ttl="3600",
            meta=META,
        )
    ),
    "no expiry": Post(query=_q(ttl="none", filename="kept.bin")),
    "body type": Post(headers=[("content-type", "text/csv; charset=utf-8")]),
    "form type is no type": Post(
        query=_q(filename="guess.json"),
        headers=[("content-type", "application/x-www-form-urlencoded")],
    ),
    "chunked": Post(chunks=[b"one ", b"two ", b"", b"three"], length=None),
    "empty": Post(chunks=[], query=_q(filename="empty.txt")),
    "admin for a user": Post(token=ADMIN, query=_q(user_id="alice", scope="user")),
    "admin as the application": Post(token=ADMIN, query=_q(scope="sandbox")),
    "user naming itself": Post(query=_q(user_id="alice")),
}


@pytest.mark.parametrize("case", UPLOADS)
async def test_uploads_are_answered_by_the_fast_path_as_the_route_answers_them(
    app: Any, routed: list[tuple[str, str]], case: str
) -> None:
    fast, _ = await answered_fast(app, UPLOADS[case], routed)
    assert fast.status == 201, fast.body
    created = fast.json()
    assert created["bytes"] == sum(map(len, UPLOADS[case].chunks))
    assert dict(fast.headers)[b"location"] == f"/v1/artifacts/{created['artifact_id']}".encode()
    # the same bytes the routed metadata endpoint answers for the artifact now
    token = UPLOADS[case].token
    async with client(app, token) as http:
        again = await http.get(f"/v1/artifacts/{created['artifact_id']}")
        content = await http.get(f"/v1/artifacts/{created['artifact_id']}/content")
    assert again.content == fast.body
    assert again.headers["etag"] == dict(fast.headers)[b"etag"].decode()
    assert content.content == b"".join(UPLOADS[case].chunks)


async def test_an_upload_into_the_callers_session_and_the_meta_it_carries(
    app: Any, routed: list[tuple[str, str]]
) -> None:
    session = await _session_of(app, ALICE)
    post = Post(query=_q(session_id=session, meta=META, filename="in-session.txt"))
    fast, slow = await answered_fast(app, post, routed)
    assert fast.status == slow.status == 201
    assert fast.json()["session_id"] == slow.json()["session_id"] == session
    assert fast.json()["meta"] == json.loads(META)


FALLBACKS = {
    "unknown parameter": Post(query="filname=typo.txt"),
    "parameter given twice": Post(query="filename=a.txt&filename=b.txt"),
    "empty parameter": Post(query="mime="),
    "parameter without value": Post(query="filename"),
    "no token": Post(token=None),
    "unknown token": Post(token="not-a-valid-token"),
    "not a bearer token": Post(headers=[("authorization", "Basic YWxpY2U6cHc=")], token=None),
    "two tokens": Post(headers=[("authorization", f"Bearer {BOB}")]),
    "bad metadata JSON": Post(query=_q(meta="{not json")),
    "metadata not an object": Post(query=_q(meta="[1, 2]")),
    "bad ttl": Post(query=_q(ttl="ten minutes")),
    "malformed user id": Post(query=_q(user_id="bad id!")),
    "another user's id": Post(query=_q(user_id="bob")),
    "reserved user id": Post(token=ADMIN, query=_q(user_id="anonymous")),
    "malformed session id": Post(query=_q(session_id="bad session!")),
    "two content lengths": Post(headers=[("content-length", "14")]),
    "length and chunked": Post(headers=[("transfer-encoding", "chunked")]),
    "other encoding": Post(length=None, headers=[("transfer-encoding", "gzip, chunked")]),
    "signed length": Post(length="+14"),
    "two content types": Post(headers=[("content-type", "a/b"), ("content-type", "c/d")]),
    "expect continue": Post(headers=[("expect", "100-continue")]),
}


@pytest.mark.parametrize("case", FALLBACKS)
async def test_what_the_fast_path_does_not_take_goes_to_the_app_unread(
    app: Any, routed: list[tuple[str, str]], case: str
) -> None:
    answer = await handed_on(app, FALLBACKS[case], routed)
    if answer.status != 201:
        assert answer.json()["request_id"] == REQUEST_ID


async def test_auth_failures_are_the_apps_answers(app: Any, routed: list[tuple[str, str]]) -> None:
    statuses = {}
    for case in ("no token", "unknown token", "not a bearer token", "two tokens"):
        answer = await handed_on(app, FALLBACKS[case], routed)
        statuses[case] = (answer.status, answer.json()["error"])
    assert set(statuses.values()) == {(401, "unauthorized")}
    denied = await handed_on(app, FALLBACKS["another user's id"], routed)
    assert (denied.status, denied.json()["error"]) == (403, "access_denied")


async def test_store_errors_are_answered_as_the_app_answers_them(
    app: Any, routed: list[tuple[str, str]]
) -> None:
    bobs = await _session_of(app, BOB)
    deep: Any = "leaf"
    for _ in range(40):
        deep = {"k": deep}
    cases = {
        "bad mime": Post(query=_q(mime="not a mime")),
        "unknown scope": Post(query=_q(scope="galaxy")),
        "bad filename": Post(query=_q(filename="../escape")),
        "metadata too deep": Post(query=_q(meta=json.dumps(deep))),
        "another user's session": Post(query=_q(session_id=bobs)),
        "body shorter than declared": Post(length="100", chunks=[b"only 17 bytes ..."]),
        "body longer than declared": Post(length="4", chunks=[b"more than four"]),
    }
    answers = {}
    for case, post in cases.items():
        fast, _ = await answered_fast(app, post, routed)
        assert fast.json()["request_id"] == REQUEST_ID
        answers[case] = (fast.status, fast.json()["error"])
    assert answers["bad mime"] == (400, "invalid_request")
    assert answers["unknown scope"][0] == 400
    assert answers["bad filename"][0] == 400
    assert answers["metadata too deep"][0] == 400
    assert answers["another user's session"][0] in (403, 404)
    assert answers["body shorter than declared"] == (400, "invalid_request")
    assert answers["body longer than declared"] == (400, "invalid_request")
    async with client(app, ADMIN) as http:
        stats = (await http.get("/v1/admin/stats")).json()
    assert stats["total_artifacts"] == 1  # bob's first upload alone: nothing was stored


async def test_too_large_bodies_are_refused_alike(
    small: Any, routed: list[tuple[str, str]]
) -> None:
    declared = Post(chunks=[b"x" * (LIMIT + 1)])
    streamed = Post(chunks=[b"x" * 4000, b"y" * 4000], length=None)
    for post in (declared, streamed):
        fast, _ = await answered_fast(small, post, routed)
        assert (fast.status, fast.json()["error"]) == (413, "too_large")
    at_the_limit = Post(chunks=[b"x" * 2048, b"y" * 2048], length=None)
    fast, _ = await answered_fast(small, at_the_limit, routed)
    assert fast.status == 201


async def test_a_client_gone_mid_body_is_a_499_and_stores_nothing(
    app: Any, routed: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    post = Post(length="100000", chunks=[b"x" * 1000], ending="disconnect")
    with caplog.at_level(logging.INFO, logger="satchel.server"):
        fast, _ = await answered_fast(app, post, routed)
    assert fast.status == 499
    assert fast.body == b""
    gone = [r for r in caplog.records if "client disconnected" in r.getMessage()]
    assert len(gone) == 2  # once from each path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    async with client(app, ADMIN) as http:
        assert (await http.get("/v1/admin/stats")).json()["total_artifacts"] == 0
        metrics = (await http.get("/metrics")).text
    assert _count(metrics, "499") == 2.0


async def test_an_unforeseen_failure_is_the_apps_500_and_is_raised_on(
    app: Any, routed: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    post = Post(length="100000", chunks=[b"x" * 1000], ending="broken")
    answers = []
    for asgi in (app, full(app)):
        routed.clear()
        sent: list[dict[str, Any]] = []
        with pytest.raises(Broken):
            await send_post(asgi, post, routed, sent)
        answers.append(sent)
    fast, slow = answers
    assert fast == slow
    assert fast[0]["status"] == 500
    assert all(name != b"x-request-id" for name, _ in fast[0]["headers"])  # as the app's 500
    assert json.loads(fast[1]["body"]) == {
        "error": "internal_error",
        "message": "internal server error",
        "request_id": REQUEST_ID,
    }
    unhandled = [r for r in caplog.records if "unhandled error in POST" in r.getMessage()]
    assert len(unhandled) == 2
    async with client(app, ADMIN) as http:
        metrics = (await http.get("/metrics")).text
    assert _count(metrics, "500") == 2.0


def _count(metrics: str, status: str) -> float:
    rows = [
        row
        for row in metrics.splitlines()
        if row.startswith("satchel_http_requests_total")
        and 'route="/v1/artifacts"' in row
        and 'method="POST"' in row
        and f'status="{status}"' in row
    ]
    return sum(float(row.rsplit(" ", 1)[1]) for row in rows)


async def test_metrics_count_fast_uploads_under_the_route(
    app: Any, routed: list[tuple[str, str]]
) -> None:
    async with client(app) as http:
        for number in range(3):
            response = await http.post("/v1/artifacts", content=f"upload {number}".encode())
            assert response.status_code == 201
        metrics = (await http.get("/metrics")).text
    assert routed == [("GET", "/metrics")]
    assert _count(metrics, "201") == 3.0
    latency = [
        row
        for row in metrics.splitlines()
        if row.startswith("satchel_http_request_seconds_count")
        and 'route="/v1/artifacts"' in row
        and 'method="POST"' in row
    ]
    assert [float(row.rsplit(" ", 1)[1]) for row in latency] == [3.0]


async def test_a_fresh_request_id_is_given_when_the_clients_is_not_sane(
    app: Any, routed: list[tuple[str, str]]
) -> None:
    async with client(app) as http:
        response = await http.post(
            "/v1/artifacts", content=b"data", headers={"X-Request-ID": "x" * 65}
        )
    assert response.status_code == 201
    assert routed == []
    assert response.headers.get_list("x-request-id") != ["x" * 65]
    assert len(response.headers.get_list("x-request-id")) == 1


async def test_the_remote_clients_uploads_take_the_fast_path(
    app: Any, routed: list[tuple[str, str]]
) -> None:
    remote = RemoteArtifactStore(
        "http://test", ALICE, transport=httpx.ASGITransport(app=app), timeout=30
    )

    async def chunks() -> AsyncIterator[bytes]:
        for number in range(5):
            yield f"chunk {number};".encode() * 100

    try:
        artifact_id = await remote.store(
            b"small and whole", filename="whole.txt", mime="text/plain", meta={"k": "v"}
        )
        streamed = await remote.stream_upload(
            StreamUploadRequest(data_stream=chunks(), filename="streamed.bin", ttl=None)
        )
        meta = await remote.metadata(streamed)
        data = await remote.retrieve(artifact_id)
    finally:
        await remote.close()
    assert data == b"small and whole"
    assert meta.bytes == 5 * len(b"chunk 0;") * 100
    assert meta.expires_at is None
    assert ("POST", "/v1/artifacts") not in routed


async def test_api_keys_upload_through_the_fast_path_and_revoked_ones_are_refused_alike(
    app: Any, routed: list[tuple[str, str]]
) -> None:
    async with client(app, ADMIN) as http:
        made = await http.post("/v1/keys", json={"user_id": "carol", "name": "ci"})
        assert made.status_code == 201, made.text
        key = made.json()
        fast, _ = await answered_fast(app, Post(token=key["token"], query=_q(scope="user")), routed)
        assert fast.status == 201
        assert fast.json()["owner_id"] == "carol"
        revoked = await http.delete(f"/v1/keys/{key['key_id']}")
        assert revoked.status_code == 200, revoked.text
    refused = await handed_on(app, Post(token=key["token"]), routed)
    assert (refused.status, refused.json()["error"]) == (401, "unauthorized")


async def test_the_fast_path_takes_the_query_parameters_the_route_declares(app: Any) -> None:
    (route,) = [
        route
        for path, route in deps.walk_routes(app.routes)
        if path == UPLOAD_PATH and "POST" in getattr(route, "methods", ())
    ]
    assert deps._query_names(route.dependant) == fastupload._QUERY_NAMES
