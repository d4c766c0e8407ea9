"""``/v1/packages…``: packages (create, list, inspect, upload a file, finalize, delete), their
files and manifests (canonical JSON or deterministic CBOR by ``Accept``). Each route translates
HTTP into one store call."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from satchel.core.errors import InvalidRequestError
from satchel.core.headers import quote_etag
from satchel.server.bodies import declared_sha256, request_body
from satchel.server.content import content_response, read_conditions, wants_file
from satchel.server.deps import Access, GuardedRoute, access, caller_ids, get_principal, get_store
from satchel.server.negotiation import CBOR, wants_cbor
from satchel.server.routes.artifacts import body_mime

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, tags=["packages"])


class PackageBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)

    name: str
    producer: str
    subject: str
    retention_class: str
    actor: str | None = None
    metadata: dict[str, Any] | None = None
    version: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    scope: str = "sandbox"
    user_id: str | None = None


class ActorBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    actor: str | None = None
    user_id: str | None = None


async def _optional_body(request: Request, model: type[BaseModel]) -> Any:
    """A JSON body that may be left out (then every field takes its default)."""
    raw = await request.body()
    return model.model_validate_json(raw) if raw.strip() else model()


def _raw_path_is_utf8(request: Request) -> None:
    """Refuse a URL whose percent-escapes are not UTF-8 (they would be replaced by U+FFFD and
    name another file)."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    try:
        unquote_to_bytes(raw.split(b"?", 1)[0].decode("ascii", "replace")).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError("the path's percent-escapes are not UTF-8") from None


def _ids(request: Request, user_id: str | None, *, read: bool = False) -> dict[str, Any]:
    ids = caller_ids(request, get_principal(request), user_id=user_id, read=read)
    return {"user_id": ids["user_id"]}


@router.post("/v1/packages", status_code=201, summary="Open a package (or resume its push)")
@access(Access.PRINCIPAL)
async def create_package(request: Request, body: PackageBody) -> JSONResponse:
    store = get_store(request)
    ids = _ids(request, body.user_id)
    package_id = await store.create_package(
        body.name,
        body.producer,
        body.subject,
        body.retention_class,
        body.actor,
        body.metadata,
        version=body.version,
        schema=body.schema_,
        scope=body.scope,
        **ids,
    )
    package = await store.get_package(package_id, **ids)
    headers = {"Location": f"/v1/packages/{package_id}"}
    return JSONResponse(package, status_code=201, headers=headers)


@router.get("/v1/packages", summary="List packages, newest first, with filters and a cursor")
@access(Access.READ)
async def list_packages(
    request: Request,
    name: str | None = None,
    version: str | None = None,
    producer: str | None = None,
    subject: str | None = None,
    state: str | None = None,
    mine: bool = False,
    limit: int = 100,
    cursor: str | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    page = await get_store(request).list_packages(
        name=name,
        version=version,
        producer=producer,
        subject=subject,
        state=state,
        mine=mine,
        limit=limit,
        cursor=cursor,
        **_ids(request, user_id, read=True),
    )
    return JSONResponse(page)


@router.get("/v1/packages/{package_id}", summary="A package: attributes, state, holds")
@access(Access.READ)
async def get_package(
    request: Request, package_id: str, user_id: str | None = None
) -> JSONResponse:
    package = await get_store(request).get_package(package_id, **_ids(request, user_id, read=True))
    return JSONResponse(package)


@router.delete("/v1/packages/{package_id}", summary="Delete a package (holds and retention rule)")
@access(Access.PRINCIPAL)
async def delete_package(
    request: Request,
    package_id: str,
    bypass_governance: bool = False,
    reason: str | None = None,
    actor: str | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    result = await get_store(request).delete_package(
        package_id,
        bypass_governance=bypass_governance,
        reason=reason,
        actor=actor,
        **_ids(request, user_id),
    )
    return JSONResponse(result)


@router.get("/v1/packages/{package_id}/files", summary="A package's files")
@access(Access.READ)
async def list_files(request: Request, package_id: str, user_id: str | None = None) -> JSONResponse:
    files = await get_store(request).list_package_files(
        package_id, **_ids(request, user_id, read=True)
    )
    return JSONResponse({"items": files})


@router.put(
    "/v1/packages/{package_id}/files/{relative_path:path}",
    status_code=201,
    summary="Upload one file of an open package (raw body, streamed)",
)
@access(Access.PRINCIPAL)
async def put_file(
    request: Request,
    package_id: str,
    relative_path: str,
    media_type: str | None = None,
    actor: str | None = None,
    user_id: str | None = None,
) -> JSONResponse:
    _raw_path_is_utf8(request)
    entry = await get_store(request).ingest_file(
        package_id,
        relative_path,
        body_mime(request, media_type),
        request_body(request),
        actor,
        sha256=declared_sha256(request),
        **_ids(request, user_id),
    )
    return JSONResponse(entry, status_code=201)


@router.get(
    "/v1/packages/{package_id}/files/{relative_path:path}",
    summary="One file's bytes (Range, ETag, If-None-Match)",
    response_class=Response,
)
@router.head(
    "/v1/packages/{package_id}/files/{relative_path:path}",
    summary="One file's content headers",
    response_class=Response,
)
@access(Access.READ)
async def get_file(
    request: Request, package_id: str, relative_path: str, user_id: str | None = None
) -> Response:
    _raw_path_is_utf8(request)
    conditions = read_conditions(request)
    conditions.pop("if_range")
    content = await get_store(request).open_package_file(
        package_id,
        relative_path,
        **conditions,
        local_file=wants_file(request),
        **_ids(request, user_id, read=True),
    )
    return content_response(request, content)


@router.post("/v1/packages/{package_id}/finalize", summary="Write the immutable manifest")
@access(Access.PRINCIPAL)
async def finalize(request: Request, package_id: str) -> JSONResponse:
    body = await _optional_body(request, ActorBody)
    store = get_store(request)
    ids = _ids(request, body.user_id)
    address = await store.finalize_package(package_id, body.actor, **ids)
    package = await store.get_package(package_id, **ids)
    return JSONResponse({"manifest_address": address, "package": package})


@router.get(
    "/v1/packages/{package_id}/manifest",
    summary="The manifest: canonical JSON, or CBOR with Accept: application/cbor",
    response_class=Response,
)
@access(Access.READ)
async def manifest(
    request: Request, package_id: str, format: str | None = None, user_id: str | None = None
) -> Response:
    cbor = wants_cbor(request, format)
    store = get_store(request)
    ids = _ids(request, user_id, read=True)
    body = await store.get_manifest_bytes(package_id, "cbor" if cbor else "json", **ids)
    package = await store.get_package(package_id, **ids)
    address = str(package["manifest_address"])
    headers = {
        "ETag": quote_etag(address.removeprefix("sha256:") + ("-cbor" if cbor else "")),
        "Satchel-Manifest-Address": address,
        "Cache-Control": "private, max-age=31536000, immutable",
        "Vary": "Accept",
    }
    return Response(body, media_type=CBOR if cbor else "application/json", headers=headers)
