"""Liveness and metrics: ``GET /health`` (degraded when a backend is down), ``GET /metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from satchel._version import __version__
from satchel.core.errors import ArtifactStoreError
from satchel.server.deps import Access, GuardedRoute, access, get_store, resolve_principal

router = APIRouter(route_class=GuardedRoute, tags=["health"])


@router.get("/", summary="Banner: what this service is, and where to start")
@access(Access.PUBLIC)
async def banner(request: Request) -> JSONResponse:
    """Seed 001's anonymous banner: name, version and links; seed 003's remotes of the
    pull-through cache (names and descriptions; ``GET /config`` has the rest)."""
    store = get_store(request)
    remotes = [
        {key: remote[key] for key in ("name", "type", "package", "description")}
        for remote in await store.list_remotes()
    ]
    return JSONResponse(
        {
            "name": "satchel",
            "version": __version__,
            "sandbox_id": store.sandbox_id,
            "links": {"docs": "/docs", "openapi": "/openapi.json", "health": "/health"},
            "remotes": remotes,
        }
    )


@router.get("/health", summary="Service health: catalog, blob backend and session provider")
@access(Access.PUBLIC)
async def health(request: Request) -> JSONResponse:
    body: dict[str, Any] = await get_store(request).health()
    if not await _is_admin(request):  # paths, URLs and error texts are for operators only
        body["checks"] = {name: _public(check) for name, check in body["checks"].items()}
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


_PUBLIC_KEYS = frozenset({"status", "provider", "backend", "dialect", "reason", "failed_blobs"})


def _public(check: dict[str, Any]) -> dict[str, Any]:
    """A check as anyone may see it: its status and what kind of thing answered."""
    public = {key: value for key, value in check.items() if key in _PUBLIC_KEYS}
    if isinstance(check.get("backends"), dict):
        public["backends"] = {name: _public(one) for name, one in check["backends"].items()}
    return public


async def _is_admin(request: Request) -> bool:
    try:
        return (await resolve_principal(request)).is_admin
    except ArtifactStoreError:
        return False


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
@access(Access.PUBLIC)
async def metrics(request: Request) -> Response:
    store = get_store(request)
    stats = await store.get_stats()
    lines = [
        "# HELP satchel_artifacts Live artifacts in this sandbox",
        "# TYPE satchel_artifacts gauge",
        f"satchel_artifacts {stats['total_artifacts']}",
        "# HELP satchel_artifact_bytes Logical bytes of the artifacts in this sandbox",
        "# TYPE satchel_artifact_bytes gauge",
        f"satchel_artifact_bytes {stats['total_bytes']}",
        "# HELP satchel_stored_bytes Bytes stored after deduplication",
        "# TYPE satchel_stored_bytes gauge",
        f"satchel_stored_bytes {stats['stored_bytes']}",
    ]
    body = request.app.state.metrics.render() + ("\n".join(lines) + "\n").encode()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
