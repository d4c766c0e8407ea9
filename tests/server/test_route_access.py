"""Every route declares an access rule; only FastAPI's own docs routes are implicitly public."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from satchel.config import Settings
from satchel.server.app import create_app
from satchel.server.deps import ACCESS_ATTRIBUTE, Access, GuardedRoute, walk_routes

FASTAPI_PUBLIC = {"/openapi.json", "/docs/assets", "/ui/static"}  # the document, files
OWN_GUARD = {"/mcp"}  # MCP: authenticates each request itself (tests/mcp_face/test_mcp_http.py)


def test_every_route_declares_an_access_rule(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    missing = []
    others = []
    for path, route in walk_routes(app.routes):
        if isinstance(route, APIRoute):
            rule = getattr(route.endpoint, ACCESS_ATTRIBUTE, None)
            if not isinstance(rule, Access):
                missing.append(f"{sorted(route.methods or ())} {path}")
        else:
            others.append(path)
    assert missing == [], f"routes without @access(...): {missing}"
    assert set(others) <= FASTAPI_PUBLIC | OWN_GUARD, f"unexpected non-API routes: {others}"
    assert len(others) == len(set(others))


def test_the_artifact_and_signed_routes_are_registered(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    table = {
        (method, path): getattr(route.endpoint, ACCESS_ATTRIBUTE, None)
        for path, route in walk_routes(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    expected = {
        ("POST", "/v1/artifacts"): Access.PRINCIPAL,
        ("GET", "/v1/artifacts"): Access.READ,
        ("GET", "/v1/artifacts/{artifact_id}"): Access.ARTIFACT_READ,
        ("PATCH", "/v1/artifacts/{artifact_id}"): Access.PRINCIPAL,
        ("DELETE", "/v1/artifacts/{artifact_id}"): Access.PRINCIPAL,
        ("GET", "/v1/artifacts/{artifact_id}/content"): Access.ARTIFACT_READ,
        ("HEAD", "/v1/artifacts/{artifact_id}/content"): Access.ARTIFACT_READ,
        ("PUT", "/v1/artifacts/{artifact_id}/content"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/copy"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/move"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/presign"): Access.READ,
        ("PUT", "/v1/artifacts/{artifact_id}/policy"): Access.PRINCIPAL,
        ("GET", "/v1/artifacts/{artifact_id}/collections"): Access.READ,
        ("GET", "/v1/collections"): Access.READ,
        ("POST", "/v1/collections/{collection}/add"): Access.PRINCIPAL,
        ("POST", "/v1/collections/{collection}/remove"): Access.PRINCIPAL,
        ("POST", "/v1/presign-upload"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/register"): Access.PRINCIPAL,
        ("GET", "/v1/signed/{token}"): Access.SIGNED,
        ("HEAD", "/v1/signed/{token}"): Access.SIGNED,
        ("PUT", "/v1/signed/{token}"): Access.SIGNED,
        ("POST", "/v1/batch"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/extend-ttl"): Access.PRINCIPAL,
        ("POST", "/v1/sessions"): Access.PRINCIPAL,
        ("GET", "/v1/sessions/{session_id}"): Access.PRINCIPAL,
        ("GET", "/v1/admin/stats"): Access.ADMIN,
        ("POST", "/v1/admin/purge"): Access.ADMIN,
        ("POST", "/v1/admin/gc"): Access.ADMIN,
        ("POST", "/v1/keys"): Access.ADMIN,
        ("GET", "/v1/keys"): Access.ADMIN,
        ("DELETE", "/v1/keys/{key_id}"): Access.ADMIN,
    }
    for key, rule in expected.items():
        assert table.get(key) == rule, key


def test_a_route_without_a_rule_cannot_be_built() -> None:
    router = APIRouter(route_class=GuardedRoute)

    async def forgot() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="declares no access rule"):
        router.add_api_route("/v1/forgot", forgot)


def test_rules_are_enforced_before_the_endpoint(server: Any) -> None:
    """Each rule answers 401 without a token and 403 for a token that lacks the role, whatever
    the endpoint would have done (bodies here are empty on purpose)."""
    admin_only = [
        ("GET", "/v1/admin/stats"),
        ("POST", "/v1/admin/purge"),
        ("POST", "/v1/admin/gc"),
        ("GET", "/v1/keys"),
        ("POST", "/v1/keys"),
        ("DELETE", "/v1/keys/0123456789abcdef"),
    ]
    principal_only = [
        ("POST", "/v1/artifacts"),
        ("POST", "/v1/batch"),
        ("POST", "/v1/sessions"),
        ("GET", "/v1/artifacts"),
        ("POST", "/v1/uploads"),
    ]
    with server.client() as anonymous, server.client("alice") as alice:
        for method, path in admin_only + principal_only:
            answer = anonymous.request(method, path)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"] == "unauthorized"
        for method, path in admin_only:
            answer = alice.request(method, path)
            assert answer.status_code == 403, (method, path, answer.text)
        assert anonymous.get("/health").status_code == 200
        bad = anonymous.get("/v1/artifacts", headers={"Authorization": "Bearer nope-nope-nope"})
        assert bad.status_code == 401
