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
from satchel.mcp.registry import Call

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
    """The caller's artifacts (newest first), then its packages. The cursor says which list
    and where: ``a:<cursor>`` or ``p:<cursor>``."""
    kind, _, inner = (cursor or "a:").partition(":")
    page = call.options.max_page
    ids = call.actor.ids()
    if kind == "a":
        if ids["session_id"] is not None:
            found = await call.store.list_by_session(
                ids["session_id"],
                page,
                cursor=inner or None,
                user_id=ids["user_id"],
                order="-stored_at",
            )
        else:
            found = await call.store.search(
                limit=page, cursor=inner or None, order="-stored_at", **ids
            )
        following = f"a:{found.next_cursor}" if found.next_cursor else "p:"
        return types.ListResourcesResult(
            resources=[_resource(m) for m in found], next_cursor=following
        )
    if kind != "p":
        raise MCPError(types.INVALID_PARAMS, "this cursor did not come from resources/list")
    packages = await call.store.list_packages(
        mine=True, limit=page, cursor=inner or None, user_id=call.actor.user_id
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
    return MCPError(code, str(exc), data)


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
    limit = call.options.inline_limit
    if meta.bytes > limit:
        url = await store.presign(ident, 3600, **ids)
        message = (
            f"{meta.filename or ident} is {meta.bytes} bytes, above what this server returns "
            f"inline ({limit}); fetch it from the presigned URL in this error's data (valid "
            "for an hour) or ask the presign tool for one"
        )
        data = {"uri": uri, "bytes": meta.bytes, "limit": limit, "presigned_url": url.url}
        raise MCPError(types.INVALID_PARAMS, message, data)
    body = await store.retrieve(ident, **ids)
    if is_text(meta.mime):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            contents = types.TextResourceContents(uri=uri, text=text, mime_type=meta.mime)
            return types.ReadResourceResult(contents=[contents])
    blob = base64.b64encode(body).decode("ascii")
    binary = types.BlobResourceContents(uri=uri, blob=blob, mime_type=meta.mime)
    return types.ReadResourceResult(contents=[binary])


async def _read_package(call: Call, uri: str, ident: str) -> types.ReadResourceResult:
    user = call.actor.user_id
    package = await call.store.get_package(ident, user_id=user)
    if package.get("state") == "finalized":
        raw = await call.store.get_manifest_bytes(ident, "json", user_id=user)
        text = raw.decode("utf-8")
    else:
        text = json.dumps(package, separators=(",", ":"), default=str)
    if len(text) > call.options.result_limit:
        message = f"this package's manifest is {len(text)} bytes, above the result limit"
        raise MCPError(types.INVALID_PARAMS, message, {"uri": uri})
    contents = types.TextResourceContents(uri=uri, text=text, mime_type="application/json")
    return types.ReadResourceResult(contents=[contents])
