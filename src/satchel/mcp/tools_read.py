"""The read-only tools, offered by every MCP server."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from satchel.core.models import ArtifactList
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.mcp.content import curl_get, item, read_output
from satchel.mcp.registry import Call, Output, ToolSpec

__all__ = ["READ_TOOLS", "Args", "Paged"]

ORDER = "stored_at, filename or bytes; a leading - reverses (-stored_at: newest first)"


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Paged(Args):
    limit: int | None = Field(None, ge=1, le=100, description="items per page (default 20)")
    cursor: str | None = Field(None, description="next_cursor of the page before")


class ArtifactArgs(Args):
    artifact_id: str = Field(description="the artifact's id (or its satchel://artifact/ URI)")


def artifact_id(raw: str) -> str:
    return raw.removeprefix("satchel://artifact/")


def _page(call: Call, args: Paged) -> int:
    return args.limit or call.options.page_size


def _listing(page: ArtifactList) -> Output:
    items = [item(meta) for meta in page]
    return Output({"items": items, "next_cursor": page.next_cursor})


async def _whoami(call: Call, args: Args) -> Output:
    store = await call.store.whoami()
    options = call.options
    data = {
        "user_id": call.actor.user_id,
        "session_id": call.actor.session_id,
        "admin": call.actor.is_admin,
        "principal": call.actor.name or None,
        "sandbox_id": store.get("sandbox_id"),
        "writes": options.allow_write,
        "deletes": options.allow_delete,
        "allowed_dirs": [str(path) for path in options.roots_for(call.actor).dirs],
        "result_limit": options.result_limit,
        "default_scope": call.actor.default_scope,
    }
    return Output(data)


class ListArgs(Paged):
    session_id: str | None = Field(None, description="list this session's artifacts")
    order: str = Field("-stored_at", description=ORDER)


async def _list(call: Call, args: ListArgs) -> Output:
    ids = call.actor.ids()
    if args.session_id is not None:
        page = await call.store.list_by_session(
            args.session_id,
            _page(call, args),
            cursor=args.cursor,
            user_id=ids["user_id"],
            order=args.order,
        )
    else:
        page = await call.store.search(
            limit=_page(call, args), cursor=args.cursor, order=args.order, **ids
        )
    return _listing(page)


class SearchArgs(Paged):
    filename_glob: str | None = Field(None, description="shell glob the whole filename matches")
    mime_prefix: str | None = Field(None, description="e.g. image/ or text/csv")
    meta: dict[str, Any] | None = Field(
        None, max_length=100, description="exact matches on custom metadata"
    )
    scope: str | None = Field(None, description="session, user or sandbox")
    session_id: str | None = None
    sha256: str | None = Field(None, description="sha256:<hex>: artifacts holding this content")
    collection: str | None = Field(None, description="only members of this collection")
    order: str = Field("-stored_at", description=ORDER)


async def _search(call: Call, args: SearchArgs) -> Output:
    page = await call.store.search(
        user_id=call.actor.user_id,
        session_id=args.session_id or call.actor.session_id,
        scope=args.scope,
        mime_prefix=args.mime_prefix,
        meta_filter=args.meta,
        filename_glob=args.filename_glob,
        sha256=args.sha256,
        collection=args.collection,
        order=args.order,
        limit=_page(call, args),
        cursor=args.cursor,
    )
    return _listing(page)


async def _metadata(call: Call, args: ArtifactArgs) -> Output:
    meta = await call.store.metadata(artifact_id(args.artifact_id), **call.actor.ids())
    return Output(meta.model_dump(mode="json"), subjects=[meta.artifact_id])


class ReadArgs(ArtifactArgs):
    max_inline: int | None = Field(
        None,
        ge=0,
        description="the most text bytes to return inline (default: a quarter of "
        "the result limit); larger content comes back as a link and a presigned URL",
    )
    expires: int = Field(DEFAULT_PRESIGN_EXPIRES, ge=1, description="seconds a link's URL works")


async def _read(call: Call, args: ReadArgs) -> Output:
    meta = await call.store.metadata(artifact_id(args.artifact_id), **call.actor.ids())
    default = call.options.result_limit // 4
    limit = default if args.max_inline is None else min(args.max_inline, default)
    return await read_output(call, meta, max_inline=limit, expires=args.expires)


class PresignArgs(ArtifactArgs):
    expires: int = Field(DEFAULT_PRESIGN_EXPIRES, ge=1, description="seconds the URL works")


async def _presign(call: Call, args: PresignArgs) -> Output:
    ident = artifact_id(args.artifact_id)
    url = await call.store.presign(ident, args.expires, **call.actor.ids())
    meta = await call.store.metadata(ident, **call.actor.ids())
    data = {"url": url.url, "expires_at": url.expires_at, "curl": curl_get(meta, url.url)}
    return Output(data, subjects=[ident])


class PackagesArgs(Paged):
    name: str | None = None
    producer: str | None = None
    subject: str | None = None
    state: str | None = Field(None, description="open or finalized")
    mine: bool = Field(False, description="only packages the caller made")


async def _packages(call: Call, args: PackagesArgs) -> Output:
    page = await call.store.list_packages(
        name=args.name,
        producer=args.producer,
        subject=args.subject,
        state=args.state,
        mine=args.mine,
        limit=_page(call, args),
        cursor=args.cursor,
        user_id=call.actor.user_id,
    )
    return Output(page, subjects=[p["package_id"] for p in page.get("items", [])][:20])


class PackageArgs(Args):
    package_id: str = Field(description="the package's id (or its satchel://package/ URI)")


async def _manifest(call: Call, args: PackageArgs) -> Output:
    ident = args.package_id.removeprefix("satchel://package/")
    raw = await call.store.get_manifest_bytes(ident, "json", user_id=call.actor.user_id)
    return Output({"package_id": ident, "manifest": json.loads(raw)}, subjects=[ident])


class EventsArgs(Args):
    after: int = Field(0, ge=0, description="the sequence number to read after")
    types: list[str] | None = Field(
        None, max_length=50, description="types or prefixes (v1.artifact.)"
    )
    subject: str | None = Field(None, description="only events about this id")
    limit: int | None = Field(None, ge=1, le=100, description="events per page (default 20)")


async def _events(call: Call, args: EventsArgs) -> Output:
    page = await call.store.list_events(
        args.after,
        types=args.types,
        subject=args.subject,
        limit=args.limit or call.options.page_size,
        **call.actor.ids(),
    )
    return Output(page)


READ_TOOLS = [
    ToolSpec(
        "whoami",
        "Who am I",
        "The principal this MCP session acts as, and what the server allows (writes, deletes, "
        "directories, the result size limit).",
        Args,
        _whoami,
    ),
    ToolSpec(
        "list_artifacts",
        "List artifacts",
        "Artifacts the caller may read, newest first, a page at a time (20 by default; pass "
        "next_cursor for more). With session_id, that session's.",
        ListArgs,
        _list,
    ),
    ToolSpec(
        "search_artifacts",
        "Search artifacts",
        "Find artifacts by filename glob, MIME prefix, custom metadata, scope, session or "
        "content digest; paged like list_artifacts.",
        SearchArgs,
        _search,
    ),
    ToolSpec(
        "get_metadata",
        "Artifact metadata",
        "Everything known about one artifact: filename, MIME type, size, sha256, scope, owner, "
        "custom metadata, expiry and retention.",
        ArtifactArgs,
        _metadata,
    ),
    ToolSpec(
        "read_artifact",
        "Read an artifact",
        "An artifact's content: text inline up to a limit, an image as image content; anything "
        "larger or binary as a resource link and a presigned URL to fetch outside the "
        "conversation (never a truncated body).",
        ReadArgs,
        _read,
    ),
    ToolSpec(
        "presign",
        "Presigned download URL",
        "A URL anyone holding it can GET the artifact's content from, for `expires` seconds "
        "(for curl, a browser or another program; uploads: begin_upload).",
        PresignArgs,
        _presign,
        idempotent=False,
    ),
    ToolSpec(
        "list_packages",
        "List packages",
        "Packages (immutable sets of files with a manifest), newest first, paged.",
        PackagesArgs,
        _packages,
    ),
    ToolSpec(
        "get_manifest",
        "Package manifest",
        "A finalized package's manifest: its files with sizes and sha256 digests.",
        PackageArgs,
        _manifest,
    ),
    ToolSpec(
        "list_events",
        "Event feed",
        "What changed, in order, after a sequence number (resume with next_after): stores, "
        "updates, deletes, packages, holds, and agents' tool calls the caller may see.",
        EventsArgs,
        _events,
    ),
]
