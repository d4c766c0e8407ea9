"""Artifacts and packages as MCP resources: ``satchel://artifact/{id}`` with the artifact's MIME
type, ``satchel://package/{id}`` as its manifest (JSON), listed for the caller a page at a time."""

from __future__ import annotations

import base64
import json

import mcp_types as types
from mcp.shared.exceptions import MCPError

from satchel.core.errors import ArtifactNotFoundError, ArtifactStoreError
from satchel.core.models import ArtifactMetadata
from satchel.mcp.content import artifact_uri, is_text
from satchel.mcp.registry import Call, clip

__all__ = ["RESOURCE_NOT_FOUND", "TEMPLATES", "list_resources", "read_resource"]

RESOURCE_NOT_FOUND = -32002
"""The JSON-RPC error code MCP gives an unknown resource."""
_ARTIFACT = "satchel://artifact/"
_PACKAGE = "satchel://package/"

TEMPLATES = [
    types.ResourceTemplate(
        uri_template=_ARTIFACT + "{artifact_id}",
        name="artifact",
        title="Artifact",
        description="An artifact's content, with its MIME type (larger than the server's "
        "result limit: use the read_artifact or presign tool for a URL).",
    ),
    types.ResourceTemplate(
        uri_template=_PACKAGE + "{package_id}",
        name="package",
        title="Package",
        description="A package: its manifest when finalized, else its description.",
        mime_type="application/json",
    ),
]


def package_uri(package_id: str) -> str:
    return _PACKAGE + package_id


def _resource(meta: ArtifactMetadata) -> types.Resource:
    return types.Resource(
        uri=artifact_uri(meta.artifact_id),
        name=meta.filename or meta.artifact_id,
        description=meta.summary or None,
        mime_type=meta.mime,
        size=meta.bytes,
    )


async def list_resources(call: Call, cursor: str | None) -> types.ListResourcesResult:
    """The caller's artifacts (newest first), then its packages, as many per page as fit the
    result limit (at most ``max_page``). The cursor says which list and where: ``a:<cursor>``
    or ``p:<cursor>``."""
    kind, _, inner = (cursor or "a:").partition(":")
    if kind not in ("a", "p"):
        raise MCPError(types.INVALID_PARAMS, "this cursor did not come from resources/list")
    page = call.options.max_page
    while True:
        listed = await (_artifacts if kind == "a" else _packages)(call, inner or None, page)
        size = len(listed.model_dump_json(by_alias=True, exclude_none=True).encode())
        if size <= call.options.result_limit or page == 1:
            return listed
        page = max(1, page // 2)


async def _artifacts(call: Call, cursor: str | None, page: int) -> types.ListResourcesResult:
    ids = call.actor.ids()
    if ids["session_id"] is not None:
        found = await call.store.list_by_session(
            ids["session_id"], page, cursor=cursor, user_id=ids["user_id"], order="-stored_at"
        )
    else:
        found = await call.store.search(limit=page, cursor=cursor, order="-stored_at", **ids)
    following = f"a:{found.next_cursor}" if found.next_cursor else "p:"
    return types.ListResourcesResult(resources=[_resource(m) for m in found], next_cursor=following)


async def _packages(call: Call, cursor: str | None, page: int) -> types.ListResourcesResult:
    packages = await call.store.list_packages(
        mine=True, limit=page, cursor=cursor, user_id=call.actor.user_id
    )
    listed = [
        types.Resource(
            uri=package_uri(p["package_id"]),
            name=f"{p['name']}@{p['version']}" if p.get("version") else p["name"],
            description=f"{p.get('state')} package by {p.get('producer')} about {p.get('subject')}",
            mime_type="application/json",
        )
        for p in packages.get("items", [])
    ]
    more = packages.get("next_cursor")
    return types.ListResourcesResult(resources=listed, next_cursor=f"p:{more}" if more else None)


def _store_error(exc: ArtifactStoreError, uri: str) -> MCPError:
    code = RESOURCE_NOT_FOUND if isinstance(exc, ArtifactNotFoundError) else types.INVALID_PARAMS
    data = {"uri": uri, "code": exc.code, "status": exc.status_code}
    return MCPError(code, clip(str(exc)), data)


async def read_resource(call: Call, uri: str) -> types.ReadResourceResult:
    try:
        if uri.startswith(_ARTIFACT):
            return await _read_artifact(call, uri, uri.removeprefix(_ARTIFACT))
        if uri.startswith(_PACKAGE):
            return await _read_package(call, uri, uri.removeprefix(_PACKAGE))
    except ArtifactStoreError as exc:
        raise _store_error(exc, uri) from None
    raise MCPError(RESOURCE_NOT_FOUND, f"no resource {uri!r}", {"uri": uri})


async def _read_artifact(call: Call, uri: str, ident: str) -> types.ReadResourceResult:
    store, ids = call.store, call.actor.ids()
    meta = await store.metadata(ident, **ids)
    if meta.bytes > call.options.inline_limit:
        raise await _too_large(call, meta, uri, "above what this server returns inline")
    body = await store.retrieve(ident, **ids)
    if is_text(meta.mime):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if _json_size(text) > call.options.result_limit:
                raise await _too_large(call, meta, uri, "escaped as JSON, it exceeds the limit")
            contents = types.TextResourceContents(uri=uri, text=text, mime_type=meta.mime)
            return types.ReadResourceResult(contents=[contents])
    blob = base64.b64encode(body).decode("ascii")
    binary = types.BlobResourceContents(uri=uri, blob=blob, mime_type=meta.mime)
    return types.ReadResourceResult(contents=[binary])


def _json_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode())


async def _too_large(call: Call, meta: ArtifactMetadata, uri: str, why: str) -> MCPError:
    url = await call.store.presign(meta.artifact_id, 3600, **call.actor.ids())
    limit = call.options.inline_limit
    message = (
        f"{meta.filename or meta.artifact_id} is {meta.bytes} bytes, {why} ({limit}): fetch it "
        "from the presigned URL in this error's data (valid for an hour), or ask the presign "
        "tool for one"
    )
    data = {
        "uri": uri,
        "code": "too_large",
        "status": 413,
        "bytes": meta.bytes,
        "limit": limit,
        "presigned_url": url.url,
    }
    return MCPError(types.INVALID_PARAMS, message, data)


async def _read_package(call: Call, uri: str, ident: str) -> types.ReadResourceResult:
    user = call.actor.user_id
    package = await call.store.get_package(ident, user_id=user)
    if package.get("state") == "finalized":
        raw = await call.store.get_manifest_bytes(ident, "json", user_id=user)
        text = raw.decode("utf-8")
    else:
        text = json.dumps(package, separators=(",", ":"), default=str)
    if _json_size(text) > call.options.result_limit:
        message = f"this package's manifest is {len(text)} bytes, above the result limit"
        raise MCPError(
            types.INVALID_PARAMS, message, {"uri": uri, "code": "too_large", "status": 413}
        )
    contents = types.TextResourceContents(uri=uri, text=text, mime_type="application/json")
    return types.ReadResourceResult(contents=[contents])
