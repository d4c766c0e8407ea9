"""``/v1/admin/s3/…``: the server's S3 bucket, its doctor and Satchel's lifecycle rule (what
``satchel s3 doctor`` and ``satchel s3 lifecycle`` ask a server). Admin tokens only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from satchel.server.deps import Access, GuardedRoute, access, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["admin"])


class LifecycleBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    days: int = 7
    dry_run: bool = False


@router.get("/v1/admin/s3/doctor", summary="Check the S3 bucket (a failing check is reported)")
@access(Access.ADMIN)
async def s3_doctor(request: Request) -> JSONResponse:
    return JSONResponse(await get_store(request).s3_doctor())


@router.get("/v1/admin/s3/lifecycle", summary="The S3 bucket's lifecycle rules")
@access(Access.ADMIN)
async def s3_lifecycle_rules(request: Request) -> JSONResponse:
    return JSONResponse(await get_store(request).s3_lifecycle())


@router.post("/v1/admin/s3/lifecycle", summary="Add or update Satchel's lifecycle rule")
@access(Access.ADMIN)
async def s3_apply_lifecycle(request: Request, body: LifecycleBody | None = None) -> JSONResponse:
    given = body or LifecycleBody()
    change = await get_store(request).s3_lifecycle(
        apply=True, days=given.days, dry_run=given.dry_run
    )
    return JSONResponse(change)
