"""The smaller holes a hostile pass found, each closed: two Authorization headers, padded
signatures, presigned downloads outliving their content, operator details in /health,
unbounded metric labels, world-readable data. In process (create_app, SQLite + files)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.inprocess import ADMIN, ALICE, BOB, client, running_app


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(tmp_path / "var") as application:
        yield application


async def _upload(app: Any, data: bytes = b"payload") -> dict[str, Any]:
    async with client(app) as http:
        answer = await http.post("/v1/artifacts", content=data, params={"scope": "user"})
    assert answer.status_code == 201
    body: dict[str, Any] = answer.json()
    return body


async def test_two_authorization_headers_are_refused_on_every_path(app: Any) -> None:
    made = await _upload(app)
    two = [("Authorization", f"Bearer {BOB}"), ("Authorization", f"Bearer {ALICE}")]
    async with client(app, token=None) as http:
        content = await http.get(f"/v1/artifacts/{made['artifact_id']}/content", headers=two)
        metadata = await http.get(f"/v1/artifacts/{made['artifact_id']}", headers=two)
    for answer in (content, metadata):  # the fast path and the routed app agree
        assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")


async def test_a_signature_has_one_spelling(app: Any) -> None:
    made = await _upload(app)
    async with client(app) as http:
        url = (await http.post(f"/v1/artifacts/{made['artifact_id']}/presign")).json()["url"]
        path = url.split("://", 1)[1].split("/", 1)[1]
        assert (await http.get("/" + path)).status_code == 200
        for spelled in (path + "=", path + "==", path.replace("-", "+"), path + "%0A"):
            if spelled == path:
                continue
            assert (await http.get("/" + spelled)).status_code in (403, 404), spelled


async def test_a_presigned_download_is_tied_to_the_content_it_was_made_for(app: Any) -> None:
    made = await _upload(app, b"version one")
    async with client(app) as http:
        url = (await http.post(f"/v1/artifacts/{made['artifact_id']}/presign")).json()["url"]
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        await http.patch(f"/v1/artifacts/{made['artifact_id']}", json={"summary": "renamed"})
        assert (await http.get(path)).content == b"version one"  # metadata changes keep it
        await http.put(f"/v1/artifacts/{made['artifact_id']}/content", content=b"version two")
        replaced = await http.get(path)
    assert (replaced.status_code, replaced.json()["error"]) == (410, "expired")


async def test_health_shows_operators_details_only_to_admins(app: Any) -> None:
    async with client(app, token=None) as anonymous, client(app, ALICE) as alice:
        for http in (anonymous, alice):
            body = (await http.get("/health")).json()
            text = str(body)
            assert body["status"] == "ok"
            assert "/" not in text.replace("sqlite", ""), text  # no path or URL
            assert body["checks"]["storage"]["provider"] == "filesystem"
    async with client(app, ADMIN) as admin:
        detailed = (await admin.get("/health")).json()
    assert "url" in detailed["checks"]["catalog"]


async def test_metric_labels_stay_bounded(app: Any) -> None:
    async with client(app) as http:
        for method in ("FOO", "BAR1", "X-Y"):
            await http.request(method, "/v1/artifacts")
        text = (await http.get("/metrics")).text
    assert 'method="OTHER"' in text
    assert "FOO" not in text
    assert "BAR1" not in text


async def test_the_data_directory_is_private(tmp_path: Path) -> None:
    async with running_app(tmp_path / "fresh") as application:
        await _upload(application)
    assert (tmp_path / "fresh").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "fresh" / "satchel.db").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "fresh" / "admin.token").stat().st_mode & 0o777 == 0o600
