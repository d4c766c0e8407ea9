"""``GET /v1/events`` over HTTP: CBOR by default, JSON by Accept, a user token pinned to its own
events whatever it asks, anonymous readers (when allowed) limited to sandbox scope, and bad
parameters answered 400."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cbor2
import pytest
from tests.server.inprocess import ADMIN, ALICE, BOB, client, running_app


async def _put(app: Any, token: str, body: bytes, **params: Any) -> str:
    async with client(app, token) as http:
        answer = await http.post(
            "/v1/artifacts", content=body, params={"mime": "text/plain", **params}
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["artifact_id"])


async def test_the_feed_over_http(tmp_path: Path) -> None:
    async with running_app(tmp_path, anon_read=True) as app:
        alices = await _put(app, ALICE, b"alice's", scope="user")
        bobs = await _put(app, BOB, b"bob's", scope="user")
        shared = await _put(app, ADMIN, b"everyone's", scope="sandbox")
        async with client(app, ADMIN) as admin:
            answer = await admin.get("/v1/events")
            assert answer.status_code == 200
            assert answer.headers["content-type"] == "application/cbor"
            page = cbor2.loads(answer.content)
            assert {alices, bobs, shared} <= {e["subject"] for e in page["events"]}
            assert answer.headers["x-next-after"] == str(page["next_after"])
            as_json = await admin.get("/v1/events", headers={"Accept": "application/json"})
            assert as_json.headers["content-type"] == "application/json"
            assert as_json.json() == page
            assert (await admin.get("/v1/events?format=json")).json() == page
            typed = await admin.get(
                "/v1/events",
                params=[("type", "v1.artifact.stored"), ("subject", bobs), ("format", "json")],
            )
            assert [e["subject"] for e in typed.json()["events"]] == [bobs]
            # An admin may read as a user.
            as_alice = (await admin.get("/v1/events?format=json&user_id=alice")).json()
            assert bobs not in {e["subject"] for e in as_alice["events"]}
        async with client(app, ALICE) as http:
            mine = (await http.get("/v1/events?format=json")).json()
            subjects = {e["subject"] for e in mine["events"]}
            assert {alices, shared} <= subjects
            assert bobs not in subjects
            # A user token cannot read as another user.
            other = await http.get("/v1/events?format=json&user_id=bob")
            assert other.status_code == 403
        async with client(app, None) as anonymous:
            seen = (await anonymous.get("/v1/events?format=json")).json()
            assert {e["subject"] for e in seen["events"]} == {shared}


@pytest.mark.parametrize(
    "query",
    [
        "after=-1",
        "after=abc",
        "after=99999999999999999999",
        "limit=0",
        "limit=5000",
        "wait=nan",
        "wait=100",
        "type=artifact.stored",
        "type=v2.",
        "subject=..%2Fx",
        "format=xml",
    ],
)
async def test_bad_parameters_are_400(tmp_path: Path, query: str) -> None:
    async with running_app(tmp_path) as app, client(app, ADMIN) as admin:
        answer = await admin.get(f"/v1/events?{query}")
        assert answer.status_code == 400, (query, answer.status_code, answer.text)
        assert answer.json()["error"] == "invalid_request"


async def test_anonymous_readers_are_refused_unless_allowed(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app, client(app, None) as anonymous:
        assert (await anonymous.get("/v1/events")).status_code == 401
