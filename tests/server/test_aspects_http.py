"""``/v1/aspects`` and ``/v1/lineage`` over HTTP: a user token adds aspects to its own
artifacts only and reads only what it may; bad bodies and parameters are 400 and change
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.server.inprocess import ADMIN, ALICE, BOB, client, running_app

TAGS = {"type": "object", "properties": {"tags": {"type": "array"}}}


async def test_aspects_over_http(tmp_path: Path) -> None:
    async with running_app(tmp_path) as app:
        async with client(app, ADMIN) as admin:
            assert (
                await admin.post("/v1/schemas", json={"slug": "tag", "schema": TAGS})
            ).is_success
        async with client(app, ALICE) as alice:
            stored = await alice.post("/v1/artifacts", content=b"a", params={"scope": "user"})
            artifact = stored.json()["artifact_id"]
            added = await alice.post(
                "/v1/aspects",
                json={"entity": artifact, "content": {"tags": ["x"]}, "schema": "tag"},
            )
            assert added.status_code == 201, added.text
            aspect = added.json()
            assert (await alice.get(f"/v1/aspects/{aspect['urn']}")).json() == aspect
            page = (await alice.get("/v1/aspects", params={"entity": artifact})).json()
            assert page["items"] == [aspect]
            replaced = await alice.put(
                "/v1/aspects",
                json={"entity": artifact, "content": {"tags": ["y"]}, "schema": "tag"},
            )
            assert replaced.status_code == 201
            everything = await alice.get(
                "/v1/aspects", params={"entity": artifact, "include_retracted": "true"}
            )
            assert [a["state"] for a in everything.json()["items"]] == ["retracted", "active"]
            made = await alice.post(
                "/v1/aspects",
                json={
                    "entity": artifact,
                    "content": {"job": "urn:ci:1"},
                    "schema": "urn:satchel:schema:produced-by.1",
                },
            )
            assert made.status_code == 201
            graph = (await alice.get("/v1/lineage", params={"entity": artifact})).json()
            assert {n["id"] for n in graph["nodes"]} == {artifact, "urn:ci:1"}
        async with client(app, BOB) as bob:
            assert (await bob.get(f"/v1/aspects/{aspect['aspect_id']}")).status_code == 404
            assert (await bob.get("/v1/aspects")).json()["items"] == []
            denied = await bob.post(
                "/v1/aspects", json={"entity": artifact, "content": {"tags": []}, "schema": "tag"}
            )
            assert denied.status_code == 403
            # a user token cannot act as another user
            other = await bob.post(
                "/v1/aspects",
                json={"entity": artifact, "content": {}, "schema": "tag", "user_id": "alice"},
            )
            assert other.status_code == 403
            assert (await bob.delete(f"/v1/aspects/{aspect['aspect_id']}")).status_code == 404
            lineage = await bob.get("/v1/lineage", params={"entity": artifact})
            assert lineage.status_code == 403  # alice's artifact
        async with client(app, ALICE) as alice:
            kept = await alice.get("/v1/aspects", params={"include_retracted": "true"})
            assert len(kept.json()["items"]) == 3  # bob changed nothing


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/aspects", {"entity": "x", "content": []}),
        ("POST", "/v1/aspects", {"entity": "x", "content": {}, "extra": 1}),
        ("POST", "/v1/aspects", {"entity": "has space", "content": {}, "schema": "tag"}),
        ("POST", "/v1/aspects", {"entity": "x", "content": {}}),
        ("POST", "/v1/aspects", {"entity": "x", "content": {"tags": 1}, "schema": "tag"}),
        ("GET", "/v1/aspects/not-an-aspect", None),
        ("GET", "/v1/aspects?limit=0", None),
        ("GET", "/v1/aspects?cursor=%%%", None),
        ("GET", "/v1/lineage?entity=x&direction=sideways", None),
        ("GET", "/v1/lineage?entity=x&depth=99", None),
    ],
)
async def test_bad_requests_are_400(tmp_path: Path, method: str, path: str, body: object) -> None:
    async with running_app(tmp_path) as app, client(app, ADMIN) as admin:
        await admin.post("/v1/schemas", json={"slug": "tag", "schema": TAGS})
        answer = await admin.request(method, path, json=body)
        assert answer.status_code == 400, (path, body, answer.text)
        assert (await admin.get("/v1/aspects?include_retracted=true")).json()["items"] == []
