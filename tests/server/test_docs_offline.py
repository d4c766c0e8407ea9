"""The API explorer works offline: /docs and its assets come from Satchel itself (no external
URL in the page), and the document it shows has a bearer scheme (the Authorize button) that
every route for principals requires and reads accept."""

from __future__ import annotations

import re
from typing import Any


def test_the_explorer_needs_no_network(server: Any) -> None:
    with server.client() as anonymous:
        page = anonymous.get("/docs")
        assert page.status_code == 200
        assert re.findall(r"https?://", page.text) == []  # no CDN, nothing external
        assets = re.findall(r'"(/docs/assets/[^"]+)"', page.text)
        assert {"swagger-ui-bundle.js", "swagger-ui.css"} <= {a.rsplit("/", 1)[-1] for a in assets}
        for asset in assets:
            answer = anonymous.get(asset)
            assert answer.status_code == 200, asset
            assert answer.content, asset
        assert anonymous.get("/redoc").status_code == 404


def test_the_document_declares_who_may_call_what(server: Any) -> None:
    with server.client() as anonymous:
        document = anonymous.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    operations = document["paths"]
    assert operations["/v1/artifacts"]["post"]["security"] == [{"bearer": []}]
    assert operations["/v1/artifacts/{artifact_id}"]["get"]["security"] == [{"bearer": []}, {}]
    assert "security" not in operations["/health"]["get"]
    assert operations["/v1/admin/webhooks"]["get"]["security"] == [{"bearer": []}]
    assert all(
        "422" not in operation["responses"]
        for path in operations.values()
        for operation in path.values()
    )
