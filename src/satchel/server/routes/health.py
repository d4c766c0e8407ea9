"""Liveness and metrics: ``GET /health`` (degraded when a backend is down), ``GET /metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from satchel._version import __version__
from satchel.core.errors import ArtifactStoreError
from satchel.server.deps import Access, GuardedRoute, access, get_store, resolve_principal
from satchel.server.routes.ui import wants_html

router = APIRouter(route_class=GuardedRoute, tags=["health"])


@router.get(
    "/",
    summary="Banner: what this service is, and where to start",
    responses={303: {"description": "a browser (Accept: text/html first) is sent to /ui/"}},
)
@access(Access.PUBLIC)
async def banner(request: Request) -> Response:
    """Seed 001's anonymous banner: name, version and links; seed 003's remotes of the
    pull-through cache (names and descriptions; ``GET /config`` has the rest). A browser is
    sent to the web UI."""
    if wants_html(request):
        return RedirectResponse("/ui/", status_code=303)
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
            "links": {
                "ui": "/ui/",
                "docs": "/docs",
                "openapi": "/openapi.json",
                "health": "/health",
            },
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
    lines += _proxy_lines((await store.proxy_stats())["remotes"])
    body = request.app.state.metrics.render() + ("\n".join(lines) + "\n").encode()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


_PROXY_METRICS = (
    # (stat, metric, type, help)
    ("hits", "satchel_proxy_hits_total", "counter", "Reads answered from the cache"),
    ("misses", "satchel_proxy_misses_total", "counter", "Files downloaded from upstream"),
    ("stale", "satchel_proxy_stale_total", "counter", "Expired copies served as upstream failed"),
    ("revalidated", "satchel_proxy_revalidated_total", "counter", "Copies upstream confirmed"),
    ("not_found", "satchel_proxy_not_found_total", "counter", "Upstream 404s (and remembered)"),
    ("upstream_errors", "satchel_proxy_upstream_errors_total", "counter", "Upstream failures"),
    ("bytes_from_cache", "satchel_proxy_cache_bytes_total", "counter", "Bytes served from cache"),
    ("bytes_fetched", "satchel_proxy_fetched_bytes_total", "counter", "Bytes fetched upstream"),
    ("cached_files", "satchel_proxy_cached_files", "gauge", "Files in the cache"),
    ("cached_bytes", "satchel_proxy_cached_bytes", "gauge", "Bytes of the files in the cache"),
)


def _proxy_lines(remotes: dict[str, dict[str, Any]]) -> list[str]:
    """The pull-through cache's per-remote counters (this process) and sizes (all replicas)."""
    lines: list[str] = []
    if not remotes:
        return lines
    for stat, metric, kind, text in _PROXY_METRICS:
        lines += [f"# HELP {metric} {text}, per remote", f"# TYPE {metric} {kind}"]
        lines += [f'{metric}{{remote="{name}"}} {one[stat]}' for name, one in remotes.items()]
    return lines
