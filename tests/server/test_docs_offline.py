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


# The only writes that take no body at all (their options are query parameters).
BODYLESS = {
    "/v1/admin/purge",
    "/v1/admin/gc",
    "/v1/admin/storage/check",
    "/v1/admin/storage/verify",
    "/v1/retention/sweep",
    "/v1/retention/gc",
    "/v1/admin/webhooks/{webhook_id}/dead-letters/{seq}/redeliver",
    "/v1/admin/deliver-webhooks",
    "/v1/admin/webhooks/{webhook_id}/test",
}


def test_every_body_is_declared_and_every_operation_is_unique(server: Any) -> None:
    with server.client() as anonymous:
        document = anonymous.get("/openapi.json").json()
    undeclared = {
        path
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in ("post", "put", "patch") and "requestBody" not in operation
    }
    assert undeclared == BODYLESS
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
