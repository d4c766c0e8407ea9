"""``/v1/aspects``: typed metadata records about artifacts, packages and URNs (seed 002), and
``/v1/lineage``: the provenance graph they form. Each route translates HTTP into one store
call."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["aspects"])


class AspectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    entity: str
    content: dict[str, Any]
    schema_: str | None = Field(default=None, alias="schema")
    policy: str | None = None
    user_id: str | None = None


def _user(request: Request, user_id: str | None, *, read: bool = False) -> str | None:
    return caller_ids(request, get_principal(request), user_id=user_id, read=read)["user_id"]


@router.post("/v1/aspects", summary="Add an aspect (typed metadata) about an entity")
@access(Access.PRINCIPAL)
async def add_aspect(request: Request, body: AspectBody) -> JSONResponse:
    aspect = await get_store(request).add_aspect(
        body.entity,
        body.content,
        schema=body.schema_,
        policy=body.policy,
        user_id=_user(request, body.user_id),
    )
    return JSONResponse(aspect, status_code=201)


@router.put("/v1/aspects", summary="Replace an entity's aspects of one schema with this one")
@access(Access.PRINCIPAL)
async def update_aspect(request: Request, body: AspectBody) -> JSONResponse:
    aspect = await get_store(request).update_aspect(
        body.entity,
        body.content,
        schema=body.schema_,
        policy=body.policy,
        user_id=_user(request, body.user_id),
    )
    return JSONResponse(aspect, status_code=201)


@router.get("/v1/aspects", summary="List aspects by entity and/or schema, oldest first")
@access(Access.READ)
async def list_aspects(
    request: Request,
    entity: str | None = None,
    schema: str | None = None,
    include_retracted: bool = False,
    limit: int = 100,
    cursor: str | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    page = await get_store(request).list_aspects(
        entity,
        schema,
        include_retracted=include_retracted,
        limit=limit,
        cursor=cursor,
        user_id=_user(request, user_id, read=True),
    )
    return JSONResponse(page)


@router.get("/v1/aspects/{aspect_id}", summary="One aspect (by id or URN)")
@access(Access.READ)
async def get_aspect(request: Request, aspect_id: str, user_id: str | None = None) -> JSONResponse:
    aspect = await get_store(request).get_aspect(
        aspect_id, user_id=_user(request, user_id, read=True)
    )
    return JSONResponse(aspect)


@router.delete("/v1/aspects/{aspect_id}", summary="Retract an aspect")
@access(Access.PRINCIPAL)
async def retract_aspect(
    request: Request, aspect_id: str, user_id: str | None = None
) -> JSONResponse:
    aspect = await get_store(request).retract_aspect(aspect_id, user_id=_user(request, user_id))
    return JSONResponse(aspect)


@router.get("/v1/lineage", summary="Provenance: what an entity came from, or what used it")
@access(Access.READ)
async def lineage(
    request: Request,
    entity: str,
    direction: Literal["up", "down"] = "up",
    depth: int = 3,
    user_id: str | None = None,
) -> JSONResponse:
    graph = await get_store(request).lineage(
        entity, direction, depth, user_id=_user(request, user_id, read=True)
    )
    return JSONResponse(graph)
