"""Every route declares an access rule; only FastAPI's own docs routes are implicitly public."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from satchel.config import Settings
from satchel.server.app import create_app
from satchel.server.deps import ACCESS_ATTRIBUTE, Access

FASTAPI_PUBLIC = {"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}


def _walk(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    """(full path, route) of every route, descending into included routers (newer FastAPI
    keeps an ``include_router`` as one entry wrapping the original router)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            yield prefix + str(getattr(route, "path", repr(route))), route


def test_every_route_declares_an_access_rule(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    missing = []
    others = []
    for path, route in _walk(app.routes):
        if isinstance(route, APIRoute):
            rule = getattr(route.endpoint, ACCESS_ATTRIBUTE, None)
            if not isinstance(rule, Access):
                missing.append(f"{sorted(route.methods or ())} {path}")
        else:
            others.append(path)
    assert missing == [], f"routes without @access(...): {missing}"
    assert set(others) <= FASTAPI_PUBLIC, f"unexpected non-API routes: {others}"
    assert len(others) == len(set(others))


def test_the_artifact_and_signed_routes_are_registered(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    table = {
        (method, path): getattr(route.endpoint, ACCESS_ATTRIBUTE, None)
        for path, route in _walk(app.routes)
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    expected = {
        ("POST", "/v1/artifacts"): Access.PRINCIPAL,
        ("GET", "/v1/artifacts"): Access.READ,
        ("GET", "/v1/artifacts/{artifact_id}"): Access.READ,
        ("PATCH", "/v1/artifacts/{artifact_id}"): Access.PRINCIPAL,
        ("DELETE", "/v1/artifacts/{artifact_id}"): Access.PRINCIPAL,
        ("GET", "/v1/artifacts/{artifact_id}/content"): Access.READ,
        ("HEAD", "/v1/artifacts/{artifact_id}/content"): Access.READ,
        ("PUT", "/v1/artifacts/{artifact_id}/content"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/copy"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/move"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/presign"): Access.READ,
        ("POST", "/v1/presign-upload"): Access.PRINCIPAL,
        ("POST", "/v1/artifacts/{artifact_id}/register"): Access.PRINCIPAL,
        ("GET", "/v1/signed/{token}"): Access.SIGNED,
        ("HEAD", "/v1/signed/{token}"): Access.SIGNED,
        ("PUT", "/v1/signed/{token}"): Access.SIGNED,
    }
    for key, rule in expected.items():
        assert table.get(key) == rule, key
