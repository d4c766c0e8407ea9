"""Retention, legal holds and history of packages and artifacts (``/v1/packages/{id}/…`` and
``/v1/artifacts/{id}/…``), the sweep and gc (``/v1/retention/…``), and metadata schemas
(``/v1/schemas``). Each route translates HTTP into one store call."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["retention"])

_KINDS = {"packages": "package", "artifacts": "artifact"}
_TARGET = "/v1/{kinds}/{target_id}"


class RetentionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    retain_until: float | str | None
    bypass_governance: bool = False
    reason: str | None = None
    actor: str | None = None
    user_id: str | None = None


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    reason: str
    actor: str | None = None


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str
    actor: str | None = None


class SchemaBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    slug: str
    schema_: dict[str, Any] = Field(alias="schema")
    version: int | None = None
    actor: str | None = None


Kinds = Literal["packages", "artifacts"]


def _kind(kinds: Kinds) -> str:
    return _KINDS[kinds]


def _user(request: Request, user_id: str | None, *, read: bool = False) -> str | None:
    return caller_ids(request, get_principal(request), user_id=user_id, read=read)["user_id"]


# -- retention ---------------------------------------------------------------------------------


@router.get(_TARGET + "/retention", summary="Retention end, class and holds of an item")
@access(Access.READ)
async def get_retention(
    request: Request, kinds: Kinds, target_id: str, user_id: str | None = None
) -> JSONResponse:
    kind = _kind(kinds)
    store = get_store(request)
    user = _user(request, user_id, read=True)
    holds = await store.list_holds(target_id, kind=kind, user_id=user)
    if kind == "package":
        package = await store.get_package(target_id, user_id=user)
        retain_until = package["retain_until"]
        retention_class = package["retention_class"]
        extra = {"eligible": package["eligible"], "eligible_rule": package["eligible_rule"]}
    else:
        meta = await store.metadata(target_id, user_id=user)
        retain_until, retention_class = meta.retain_until, meta.retention_class
        extra = {}
    return JSONResponse(
        {
            "kind": kind,
            "target_id": target_id,
            "retention_class": retention_class,
            "retain_until": retain_until,
            "holds": holds,
            **extra,
        }
    )


@router.put(_TARGET + "/retention", summary="Extend (or, governance, shorten) retention")
@access(Access.PRINCIPAL)
async def set_retention(
    request: Request, kinds: Kinds, target_id: str, body: RetentionBody
) -> JSONResponse:
    result = await get_store(request).set_retention(
        target_id,
        body.retain_until,
        kind=_kind(kinds),
        bypass_governance=body.bypass_governance,
        reason=body.reason,
        actor=body.actor,
        user_id=_user(request, body.user_id),
    )
    return JSONResponse(result)


@router.get(_TARGET + "/history", summary="Who changed what about an item's lifecycle, and why")
@access(Access.READ)
async def history(
    request: Request, kinds: Kinds, target_id: str, user_id: str | None = None
) -> JSONResponse:
    items = await get_store(request).retention_history(
        target_id, kind=_kind(kinds), user_id=_user(request, user_id, read=True)
    )
    return JSONResponse({"items": items})


# -- holds -------------------------------------------------------------------------------------


@router.get(_TARGET + "/holds", summary="Legal holds on an item")
@access(Access.READ)
async def list_holds(
    request: Request,
    kinds: Kinds,
    target_id: str,
    include_released: bool = False,
    user_id: str | None = None,
) -> JSONResponse:
    items = await get_store(request).list_holds(
        target_id,
        kind=_kind(kinds),
        include_released=include_released,
        user_id=_user(request, user_id, read=True),
    )
    return JSONResponse({"items": items})


@router.post(_TARGET + "/holds", status_code=201, summary="Apply a legal hold (admins)")
@access(Access.ADMIN)
async def apply_hold(
    request: Request, kinds: Kinds, target_id: str, body: HoldBody
) -> JSONResponse:
    hold = await get_store(request).apply_hold(
        target_id, body.name, body.reason, kind=_kind(kinds), actor=body.actor
    )
    return JSONResponse(hold, status_code=201)


@router.post("/v1/holds/{hold_id}/release", summary="Release a legal hold (admins)")
@access(Access.ADMIN)
async def release_hold(request: Request, hold_id: str, body: ReleaseBody) -> JSONResponse:
    hold = await get_store(request).release_hold(hold_id, body.reason, actor=body.actor)
    return JSONResponse(hold)


# -- sweep and gc ------------------------------------------------------------------------------


@router.get("/v1/retention/classes", summary="The configured retention classes")
@access(Access.READ)
async def classes(request: Request) -> JSONResponse:
    return JSONResponse({"items": await get_store(request).retention_classes()})


@router.post("/v1/retention/sweep", summary="Record which packages may be deleted, and why")
@access(Access.ADMIN)
async def sweep(request: Request, dry_run: bool = False) -> JSONResponse:
    return JSONResponse(await get_store(request).sweep_retention(dry_run=dry_run))


@router.post("/v1/retention/gc", summary="Delete what is eligible and unreferenced blobs")
@access(Access.ADMIN)
async def gc(request: Request, dry_run: bool = False) -> JSONResponse:
    return JSONResponse(await get_store(request).gc(dry_run=dry_run))


# -- metadata schemas --------------------------------------------------------------------------


@router.post("/v1/schemas", status_code=201, summary="Register a metadata schema (JSON Schema)")
@access(Access.ADMIN)
async def register_schema(request: Request, body: SchemaBody) -> JSONResponse:
    result = await get_store(request).register_schema(
        body.slug, body.schema_, version=body.version, actor=body.actor
    )
    return JSONResponse(result, status_code=201 if result["created"] else 200)


@router.get("/v1/schemas", summary="Registered metadata schemas")
@access(Access.READ)
async def list_schemas(request: Request) -> JSONResponse:
    return JSONResponse({"items": await get_store(request).list_schemas()})


@router.get("/v1/schemas/{slug}", summary="A metadata schema (latest version unless asked)")
@access(Access.READ)
async def get_schema(request: Request, slug: str, version: int | None = None) -> JSONResponse:
    return JSONResponse(await get_store(request).get_schema(slug, version))
