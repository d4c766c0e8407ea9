"""What every route shares: unknown query parameters are refused, every failure is an error of
the one tree (with its headers), a missing media type is guessed, never taken from a form's
Content-Type. In process, over the app of ``create_app`` (filesystem store, SQLite catalog)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from tests.server.inprocess import ADMIN, client, running_app

from satchel.core.errors import error_for_code
from satchel.server.deps import walk_routes

_client = client


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(tmp_path / "var") as application:
        yield application


def _routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for path, route in walk_routes(app.routes):
        if isinstance(route, APIRoute):
            concrete = re.sub(r"\{part_number\}", "1", path)
            concrete = re.sub(r"\{[a-z_]+\}", "x0", concrete)
            found.extend((method, concrete) for method in sorted(route.methods or ()))
    return found


async def test_every_route_refuses_a_query_parameter_it_does_not_take(app: Any) -> None:
    routes = _routes(app)
    assert len(routes) > 30
    async with _client(app, ADMIN) as http:
        for method, path in routes:
            answer = await http.request(method, path, params={"filname": "typo.txt"})
            assert answer.status_code == 400, (method, path, answer.text)
            if method != "HEAD":
                body = answer.json()
                assert body["error"] == "invalid_request", (method, path)
                assert "'filname'" in body["message"], (method, path)


async def test_a_typo_in_an_upload_stores_nothing(app: Any) -> None:
    async with _client(app) as http:
        typo = await http.post("/v1/artifacts", content=b"x", params={"filname": "a.txt"})
        listing = await http.get("/v1/artifacts", params={"bogus": "1"})
        everything = await http.get("/v1/artifacts", params={"user_id": "alice"})
    assert typo.status_code == 400
    assert listing.status_code == 400
    assert everything.json()["items"] == []


async def test_the_mime_type_is_guessed_not_taken_from_a_form_content_type(app: Any) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}  # what curl --data-binary sends
    async with _client(app) as http:
        pdf = await http.post(
            "/v1/artifacts", content=b"%PDF-1.7", params={"filename": "report.pdf"}, headers=form
        )
        assert pdf.json()["mime"] == "application/pdf"
        unknown = await http.post(
            "/v1/artifacts", content=b"?", params={"filename": "blob.zz9"}, headers=form
        )
        assert unknown.json()["mime"] == "application/octet-stream"
        nameless = await http.post("/v1/artifacts", content=b"?", headers=form)
        assert nameless.json()["mime"] == "application/octet-stream"
        declared = await http.post(
            "/v1/artifacts",
            content=b"{}",
            params={"filename": "x.bin"},
            headers={"Content-Type": "application/json"},
        )
        assert declared.json()["mime"] == "application/json"  # a real Content-Type is kept
        url = f"/v1/artifacts/{pdf.json()['artifact_id']}"
        replaced = await http.put(f"{url}/content", content=b"%PDF-2.0", headers=form)
        assert replaced.json()["mime"] == "application/pdf"  # an update keeps the type
        copy = await http.post(f"{url}/copy", json={"new_filename": "copy.pdf"})
        assert copy.json()["mime"] == "application/pdf"
        got = await http.get(f"{url}/content")
        assert got.headers["content-type"] == "application/pdf"


async def test_framework_failures_answer_with_codes_of_the_tree(app: Any) -> None:
    async with _client(app) as http:
        no_route = await http.get("/v1/no-such-thing")
        wrong_method = await http.patch("/v1/presign-upload")
        bad_json = await http.patch("/v1/artifacts/x0", content=b"{nope")
    assert (no_route.status_code, no_route.json()["error"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"
    assert (bad_json.status_code, bad_json.json()["error"]) == (400, "invalid_request")
    for answer in (no_route, wrong_method, bad_json):
        code = answer.json()["error"]
        assert error_for_code(code).status_code == answer.status_code, code
        assert answer.headers["x-request-id"] == answer.json()["request_id"]


async def test_range_and_media_type_errors_carry_their_headers(app: Any) -> None:
    async with _client(app) as http:
        made = (await http.post("/v1/artifacts", content=b"0123456789")).json()
        url = f"/v1/artifacts/{made['artifact_id']}/content"
        beyond = await http.get(url, headers={"Range": "bytes=50-"})
        created = await http.post(
            "/v1/tus/", headers={"Tus-Resumable": "1.0.0", "Upload-Length": "3"}
        )
        patch = await http.patch(
            created.headers["location"],
            content=b"abc",
            headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "text/x"},
        )
    assert (beyond.status_code, beyond.json()["error"]) == (416, "range_not_satisfiable")
    assert beyond.headers["content-range"] == "bytes */10"
    assert (patch.status_code, patch.json()["error"]) == (415, "unsupported_media_type")
    assert patch.headers["tus-resumable"] == "1.0.0"


async def test_content_answers_describe_the_version_they_serve(app: Any) -> None:
    async with _client(app) as http:
        made = (
            await http.post("/v1/artifacts", content=b"hello", params={"filename": "a/ü.txt"})
        ).json()
        url = f"/v1/artifacts/{made['artifact_id']}/content"
        full = await http.get(url)
        head = await http.head(url)
        part = await http.get(url, headers={"Range": "bytes=1-2"})
        stale = await http.get(url, headers={"If-Match": '"not-the-etag"'})
        current = await http.get(url, headers={"If-Match": f'"{made["etag"]}"'})
    for answer in (full, head, part):
        assert answer.headers["satchel-artifact-id"] == made["artifact_id"]
        assert answer.headers["etag"] == f'"{made["etag"]}"'
        assert answer.headers["repr-digest"].startswith("sha-256=:")
    assert head.headers["content-length"] == "5"
    assert (part.status_code, part.content, part.headers["content-range"]) == (
        206,
        b"el",
        "bytes 1-2/5",
    )
    assert (stale.status_code, stale.json()["error"]) == (412, "precondition_failed")
    assert (current.status_code, current.content) == (200, b"hello")
