"""An artifact's read policy (``PUT /v1/artifacts/{id}/policy``) and named collections
(``/v1/collections``). Each route translates HTTP into one store call."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store
from satchel.server.routes.artifacts import metadata_response

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["sharing"])


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    policy: str | None


class MembersBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    artifact_ids: list[str]


@router.put("/v1/artifacts/{artifact_id}/policy", summary="Make an artifact public or private")
@access(Access.PRINCIPAL)
async def set_policy(
    request: Request,
    artifact_id: str,
    body: PolicyBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    return metadata_response(await get_store(request).set_policy(artifact_id, body.policy, **ids))


@router.get("/v1/artifacts/{artifact_id}/collections", summary="An artifact's collections")
@access(Access.READ)
async def get_collections(
    request: Request,
    artifact_id: str,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(
        request, get_principal(request), user_id=user_id, session_id=session_id, read=True
    )
    names = await get_store(request).get_collections(artifact_id, **ids)
    return JSONResponse({"collections": names})


@router.get("/v1/collections", summary="Collections holding artifacts the caller can list")
@access(Access.READ)
async def list_collections(
    request: Request,
    limit: int = 100,
    cursor: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(
        request, get_principal(request), user_id=user_id, session_id=session_id, read=True
    )
    page = await get_store(request).list_collections(limit=limit, cursor=cursor, **ids)
    return JSONResponse(page)


@router.post("/v1/collections/{collection}/add", summary="Add artifacts to a collection")
@access(Access.PRINCIPAL)
async def add_to_collection(
    request: Request,
    collection: str,
    body: MembersBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    added = await get_store(request).add_to_collection(collection, body.artifact_ids, **ids)
    return JSONResponse({"collection": collection, "added": added})


@router.post("/v1/collections/{collection}/remove", summary="Remove artifacts from a collection")
@access(Access.PRINCIPAL)
async def remove_from_collection(
    request: Request,
    collection: str,
    body: MembersBody,
    user_id: str | None = None,
    session_id: str | None = None,
) -> JSONResponse:
    ids = caller_ids(request, get_principal(request), user_id=user_id, session_id=session_id)
    removed = await get_store(request).remove_from_collection(collection, body.artifact_ids, **ids)
    return JSONResponse({"collection": collection, "removed": removed})
