"""``/v1/admin/…``: sandbox statistics, the maintenance jobs the service also runs on a timer
(purge of expired artifacts, sessions and uploads; blob garbage collection), storage checks and
the delete by grid-key prefix. Admin tokens only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.core.bulk import DEFAULT_PREFIX_PAGE
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["admin"])


@router.get("/v1/admin/stats", summary="Counts and sizes of this sandbox")
@access(Access.ADMIN)
async def stats(request: Request) -> JSONResponse:
    return JSONResponse(await get_store(request).get_stats())


@router.post("/v1/admin/purge", summary="Purge expired artifacts, sessions and uploads now")
@access(Access.ADMIN)
async def purge(request: Request) -> JSONResponse:
    return JSONResponse(await get_store(request).purge_expired())


@router.post("/v1/admin/gc", summary="Delete blobs no artifact refers to")
@access(Access.ADMIN)
async def collect_garbage(request: Request) -> JSONResponse:
    blobs, freed = await get_store(request).collect_garbage()
    return JSONResponse({"blobs": blobs, "bytes_freed": freed})


@router.post(
    "/v1/admin/storage/check",
    summary="Check that catalog, blobs and staging agree (fsck); repair what is safe",
)
@access(Access.ADMIN)
async def check_storage(
    request: Request, repair: bool = False, verify: bool = False
) -> JSONResponse:
    return JSONResponse(await get_store(request).check_storage(repair=repair, verify=verify))


@router.post(
    "/v1/admin/storage/verify",
    summary="Re-hash stored blobs, record a verification event each, quarantine failed ones",
)
@access(Access.ADMIN)
async def verify_storage(
    request: Request,
    backend: str | None = None,
    sample: int | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    user = caller_ids(request, get_principal(request), user_id=user_id)["user_id"]
    report = await get_store(request).verify_storage(backend, sample=sample, user_id=user)
    return JSONResponse(report)


class DeletePrefixBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    prefix: str
    dry_run: bool = True
    limit: int | None = None
    page_size: int = DEFAULT_PREFIX_PAGE


@router.post(
    "/v1/admin/delete-prefix",
    summary="Delete (or, by default, preview deleting) every artifact under a grid-key prefix",
)
@access(Access.ADMIN)
async def delete_prefix(
    request: Request, body: DeletePrefixBody, user_id: str | None = None
) -> JSONResponse:
    user = caller_ids(request, get_principal(request), user_id=user_id)["user_id"]
    report = await get_store(request).delete_prefix(
        body.prefix,
        dry_run=body.dry_run,
        limit=body.limit,
        page_size=body.page_size,
        user_id=user,
    )
    return JSONResponse(report)
