"""The pull-through cache (seed 003; docs/proxy.md): ``GET|HEAD /api/{remote}/{path}``, uploads
to local remotes, ``GET /config``, ``POST /cache-artifact``, ``GET|DELETE /artifacts/{remote}``,
``GET /v1/proxy/remotes`` and ``GET /v1/proxy/stats``. Each route translates HTTP into one store
call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict

from satchel.core.proxy import ProxyAnswer
from satchel.server.bodies import request_body
from satchel.server.content import (
    content_response,
    proxy_headers,
    read_conditions,
    stale_headers,
)
from satchel.server.deps import Access, GuardedRoute, access, get_store
from satchel.server.routes.artifacts import body_mime

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["pull-through cache"])


class PrefetchBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    remote: str
    paths: list[str]
    patterns: list[str] | None = None


@router.get(
    "/api/{remote}/{path:path}",
    summary="A remote's file through the cache (fetched on first access)",
    response_class=Response,
)
@access(Access.READ)
async def read_remote_file(request: Request, remote: str, path: str) -> Response:
    answer = await get_store(request).open_remote_file(remote, path, **read_conditions(request))
    return proxy_response(request, answer)


@router.head(
    "/api/{remote}/{path:path}",
    summary="A remote's file's headers (fetching it into the cache as a GET would)",
    response_class=Response,
)
@access(Access.READ)
async def head_remote_file(request: Request, remote: str, path: str) -> Response:
    return await read_remote_file(request, remote, path)


def proxy_response(request: Request, answer: ProxyAnswer) -> Response:
    """A cached copy as any artifact's content (ranges, 304, HEAD); a download as it
    arrives. ``X-Artifact-Source`` says which; a stale copy says how old it is."""
    if answer.content is not None:
        response = content_response(request, answer.content)
        response.headers.update(stale_headers(answer))
        return response
    if answer.chunks is None:  # HEAD of a download under way
        response = Response(status_code=200, headers=proxy_headers(answer))
        if answer.size is None:  # unknown until it ends: not 0
            del response.headers["content-length"]
        return response
    return StreamingResponse(_closing(answer), headers=proxy_headers(answer))


async def _closing(answer: ProxyAnswer) -> Any:
    try:
        async for chunk in answer:
            yield chunk
    finally:
        await answer.aclose()


@router.put(
    "/api/{remote}/{path:path}",
    status_code=201,
    summary="Upload a file to a local remote (admin tokens)",
)
@access(Access.ADMIN)
async def put_remote_file(
    request: Request, remote: str, path: str, mime: str | None = None
) -> JSONResponse:
    stored = await get_store(request).put_remote_file(
        remote, path, request_body(request), mime=body_mime(request, mime)
    )
    return JSONResponse(stored, status_code=201)


@router.get("/config", summary="The pull-through cache's configuration (no credentials)")
@access(Access.READ)
async def proxy_config(request: Request) -> JSONResponse:
    return JSONResponse(await get_store(request).proxy_config())


@router.post("/cache-artifact", summary="Prefetch files of a remote into the cache")
@access(Access.PRINCIPAL)
async def cache_artifact(request: Request, body: PrefetchBody) -> JSONResponse:
    results = await get_store(request).prefetch_remote_files(
        body.remote, body.paths, patterns=body.patterns
    )
    return JSONResponse({"remote": body.remote, "results": results})


@router.get("/artifacts/{remote}", summary="Cached files of a remote, in path order")
@access(Access.READ)
async def list_cached_files(
    request: Request,
    remote: str,
    after: str | None = None,
    prefix: str | None = None,
    limit: int = 100,
) -> JSONResponse:
    page = await get_store(request).list_cached_files(
        remote, after=after, prefix=prefix, limit=limit
    )
    return JSONResponse(page)


@router.delete("/artifacts/{remote}", summary="Evict cached files (admin tokens)")
@access(Access.ADMIN)
async def evict_cached_files(
    request: Request, remote: str, path: str | None = None, prefix: str | None = None
) -> JSONResponse:
    return JSONResponse(
        await get_store(request).evict_cached_files(remote, path=path, prefix=prefix)
    )


@router.get("/v1/proxy/remotes", summary="The remotes of the pull-through cache, and their state")
@access(Access.READ)
async def list_remotes(request: Request) -> JSONResponse:
    return JSONResponse({"remotes": await get_store(request).list_remotes()})


@router.get("/v1/proxy/stats", summary="Per-remote hits, misses, bytes and cached files")
@access(Access.PRINCIPAL)
async def proxy_stats(request: Request) -> JSONResponse:
    return JSONResponse(await get_store(request).proxy_stats())
