"""Input an attacker or a broken client sends gets a 4xx with the error body and changes
nothing; afterwards every listing still answers. In process (create_app, SQLite + files)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.inprocess import ADMIN, ALICE, BOB, client, running_app

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000
DEEP_CURSOR = base64.urlsafe_b64encode(DEEP[3000:-3000].encode()).decode()
DEEP_QUERY = '{"a":' * 2000 + "1" + "}" * 2000  # past the parser's recursion limit, in a URL


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(tmp_path / "var", anon_read=True) as application:
        yield application


async def _counts(app: Any) -> tuple[int, int]:
    async with client(app, ADMIN) as http:
        stats = (await http.get("/v1/admin/stats")).json()
    return stats["total_artifacts"], stats["sessions"]


def _refused(answer: Any) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.json()["error"] in ("invalid_request", "too_large", "range_not_satisfiable")


async def test_json_nested_thousands_deep_is_a_400_everywhere(app: Any) -> None:
    before = await _counts(app)
    tus_meta = base64.b64encode(DEEP_OBJECT.encode()).decode()
    async with client(app) as http:
        made = (await http.post("/v1/artifacts", content=b"x")).json()
        url = f"/v1/artifacts/{made['artifact_id']}"
        after_one = await _counts(app)
        answers = [
            await http.post("/v1/artifacts", content=b"x", params={"meta": DEEP_QUERY}),
            await http.get("/v1/artifacts", params={"meta_filter": DEEP_QUERY}),
            await http.put(f"{url}/content", content=b"y", params={"meta": DEEP_QUERY}),
            await http.post("/v1/batch", content=('{"items": ' + DEEP + "}").encode()),
            await http.post("/v1/uploads", content=DEEP_OBJECT.encode()),
            await http.patch(url, content=('{"meta": ' + DEEP_OBJECT + "}").encode()),
            await http.post(
                "/v1/tus/",
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Length": "3",
                    "Upload-Metadata": f"meta {tus_meta}",
                },
            ),
            await http.get("/v1/artifacts", params={"cursor": DEEP_CURSOR}),
        ]
        for answer in answers:
            _refused(answer)
        assert (await http.get(f"{url}/content")).content == b"x"
    assert before[0] + 1 == after_one[0] == (await _counts(app))[0]


async def test_lone_surrogates_are_a_400(app: Any) -> None:
    async with client(app) as http:
        made = (await http.post("/v1/artifacts", content=b"x")).json()
        url = f"/v1/artifacts/{made['artifact_id']}"
        surrogate = '"\\ud800"'
        answers = [
            await http.patch(url, content=('{"summary": ' + surrogate + "}").encode()),
            await http.patch(url, content=('{"meta": {"k": ' + surrogate + "}}").encode()),
            await http.patch(url, content=('{"meta": {' + surrogate + ": 1}}").encode()),
            await http.patch(url, content=('{"filename": ' + surrogate + "}").encode()),
            await http.get("/v1/artifacts", params={"meta_filter": '{"k": "\\udfff"}'}),
        ]
        for answer in answers:
            _refused(answer)
        assert (await http.get(url)).json()["summary"] == ""


async def test_headers_with_numbers_out_of_range_or_not_ascii(app: Any) -> None:
    async with client(app) as http:
        made = (await http.post("/v1/artifacts", content=b"0123456789")).json()
        url = f"/v1/artifacts/{made['artifact_id']}/content"
        for header in ("bytes=" + "9" * 40 + "-", "bytes=0-" + "9" * 40, "bytes=-" + "9" * 40):
            answer = await http.get(url, headers={"Range": header})
            assert (answer.status_code, answer.content) == (200, b"0123456789"), header
        created = await http.post(
            "/v1/tus/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "3"}
        )
        for offset in ("9" * 40, "-1", "0x1"):
            _refused(
                await http.patch(
                    created.headers["location"],
                    content=b"abc",
                    headers={
                        "Tus-Resumable": "1.0.0",
                        "Upload-Offset": offset,
                        "Content-Type": "application/offset+octet-stream",
                    },
                )
            )


async def test_an_infinite_session_lifetime_saves_nothing(app: Any) -> None:
    before = await _counts(app)
    async with client(app) as http:
        for body in ('{"ttl_hours": 1e400}', '{"ttl_hours": 1e8}', '{"ttl_hours": "2"}'):
            _refused(await http.post("/v1/sessions", content=body.encode()))
    assert await _counts(app) == before


async def test_anonymous_readers_see_sandbox_scope_only(app: Any) -> None:
    async with client(app, ADMIN) as admin:
        app_session = (await admin.post("/v1/sessions", json={})).json()["session_id"]
        private = await admin.post(
            "/v1/artifacts", content=b"app only", params={"session_id": app_session}
        )
        shared = await admin.post("/v1/artifacts", content=b"for all", params={"scope": "sandbox"})
    assert private.status_code == 201
    async with client(app, token=None) as anonymous:
        listed = await anonymous.get("/v1/artifacts", params={"session_id": app_session})
        searched = await anonymous.get("/v1/artifacts", params={"view": "search"})
        in_session = await anonymous.get(
            "/v1/artifacts", params={"view": "search", "session_id": app_session}
        )
        content = await anonymous.get(f"/v1/artifacts/{private.json()['artifact_id']}/content")
    assert listed.json()["items"] == []
    assert [i["artifact_id"] for i in searched.json()["items"]] == [shared.json()["artifact_id"]]
    assert [i["scope"] for i in in_session.json()["items"]] in ([], ["sandbox"])
    assert content.status_code in (401, 403)


async def test_a_listing_refuses_what_its_view_would_ignore(app: Any) -> None:
    """A parameter is checked, or refused, whoever asks and whatever the view: never ignored."""
    unread = [
        {"view": "session", "session_id": "s1", "mime_prefix": "text/"},
        {"view": "session", "session_id": "s1", "sha256": "sha256:" + "0" * 64},
        {"view": "directory", "session_id": "s1", "prefix": "a/", "cursor": "x"},
        {"view": "search", "prefix": "a/"},
        {"session_id": "s1", "prefix": "a/", "scope": "user"},  # a search: no prefix there
    ]
    malformed = [{"user_id": "\u00d7\u00f8"}, {"session_id": "bad id"}, {"user_id": "a\n"}]
    for who in (ALICE, None):
        async with client(app, who) as http:
            for params in unread:
                answer = await http.get("/v1/artifacts", params=params)
                _refused(answer)
                assert "does not take" in answer.json()["message"], params
            for params in malformed:
                _refused(await http.get("/v1/artifacts", params={"view": "search", **params}))


async def test_a_session_id_in_query_and_body_must_agree(app: Any) -> None:
    before = await _counts(app)
    async with client(app, ALICE) as alice:
        for path in ("/v1/presign-upload", "/v1/artifacts/a1/register"):
            answer = await alice.post(
                path, params={"session_id": "bad id"}, json={"session_id": "s-alice"}
            )
            _refused(answer)
            assert "query and the body" in answer.json()["message"]
    assert await _counts(app) == before


async def test_a_user_cannot_use_the_applications_or_anothers_session(app: Any) -> None:
    async with client(app, ADMIN) as admin:
        app_session = (await admin.post("/v1/sessions", json={})).json()["session_id"]
        made = await admin.post("/v1/artifacts", content=b"x", params={"session_id": app_session})
    async with client(app, ALICE) as alice:
        squatted = await alice.post(
            "/v1/artifacts", content=b"mine", params={"session_id": "ci-build-42"}
        )
        assert squatted.status_code == 201
        into_apps = await alice.post(
            "/v1/artifacts", content=b"x", params={"session_id": app_session}
        )
        listing = await alice.get("/v1/artifacts", params={"session_id": app_session})
        reading = await alice.get(
            f"/v1/artifacts/{made.json()['artifact_id']}", params={"session_id": app_session}
        )
    assert into_apps.status_code == 403
    assert listing.json()["items"] == []
    assert reading.status_code == 403
    async with client(app, ADMIN) as admin:  # the application's later store is refused
        refused = await admin.post(
            "/v1/artifacts", content=b"build log", params={"session_id": "ci-build-42"}
        )
        for_alice = await admin.post(
            "/v1/artifacts",
            content=b"for alice",
            params={"session_id": "ci-build-42", "user_id": "alice"},
        )
    assert refused.status_code == 403
    assert "belongs to user alice" in refused.json()["message"]
    assert for_alice.status_code == 201
    async with client(app, BOB) as bob:
        theirs = await bob.get("/v1/artifacts", params={"session_id": "ci-build-42"})
        unknown = await bob.get("/v1/artifacts", params={"session_id": "never-used-id"})
    assert theirs.status_code == unknown.status_code == 200  # no existence oracle
    assert theirs.json() == unknown.json() == {"items": [], "next_cursor": None}
    assert json.loads(squatted.text)["session_id"] == "ci-build-42"
