"""The MCP server: Satchel's tools and resources on the SDK's low-level ``Server``, for stdio
(``satchel mcp``) and streamable HTTP (``/mcp`` in ``satchel serve``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

from satchel._version import __version__
from satchel.core.api import ArtifactStoreAPI
from satchel.core.errors import ArtifactStoreError
from satchel.mcp.options import Actor, McpOptions
from satchel.mcp.registry import Call, Toolbox, clip, requested_ids
from satchel.mcp.resources import RESOURCE_NOT_FOUND, TEMPLATES, list_resources, read_resource
from satchel.mcp.tools_files import FILE_TOOLS
from satchel.mcp.tools_read import READ_TOOLS
from satchel.mcp.tools_write import WRITE_TOOLS

__all__ = ["INSTRUCTIONS", "Identify", "build_server", "run_stdio"]

logger = logging.getLogger("satchel.mcp")
_T = TypeVar("_T")
MAX_URI = 1024

Identify = Callable[[ServerRequestContext[Any]], Actor]
"""Who a request acts as (the stdio server's configured actor, or the HTTP request's token)."""

INSTRUCTIONS = (
    "Satchel stores files (artifacts) with metadata, and packages of files. Content never needs "
    "to pass through the conversation: read_artifact returns small text and images inline and "
    "anything else as a presigned URL to fetch with curl; to store a big file, call "
    "begin_upload, PUT the file to its URL (curl -T), then finish_upload. Lists are paged: pass "
    "next_cursor for more. Call whoami to see who you are and what this server allows."
)


def _client(ctx: ServerRequestContext[Any]) -> str | None:
    params = getattr(ctx.session, "client_params", None)
    info = getattr(params, "client_info", None)
    name = getattr(info, "name", None)
    return str(name) if name else None


async def guarded(
    toolbox: Toolbox,
    call: Call,
    client: str | None,
    name: str,
    subjects: list[str],
    work: Awaitable[_T],
) -> _T:
    """Run a resource request: the error tree as MCP errors (never a stack trace), and the
    request recorded as a call of *name* with its outcome."""
    outcome = "ok"
    try:
        return await work
    except MCPError as exc:
        data = exc.error.data if isinstance(exc.error.data, dict) else {}
        fallback = "not_found" if exc.code == RESOURCE_NOT_FOUND else "invalid_request"
        outcome = str(data.get("code") or fallback)
        raise
    except ArtifactStoreError as exc:
        outcome = exc.code
        data = {"code": exc.code, "status": exc.status_code}
        raise MCPError(types.INVALID_PARAMS, clip(str(exc)), data) from None
    except Exception:
        logger.exception("MCP %s failed", name)
        outcome = "internal_error"
        message = "the request failed; see the server's log"
        raise MCPError(types.INTERNAL_ERROR, message) from None
    finally:
        await toolbox.record(call, name, outcome, subjects, client)


def build_server(store: ArtifactStoreAPI, options: McpOptions, identify: Identify) -> Server[Any]:
    toolbox = Toolbox([*READ_TOOLS, *WRITE_TOOLS, *FILE_TOOLS], options)

    def call_of(ctx: ServerRequestContext[Any]) -> Call:
        return Call(store, identify(ctx), options)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=toolbox.list())

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await toolbox.call(
            params.name, dict(params.arguments or {}), call_of(ctx), client=_client(ctx)
        )

    async def resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        call = call_of(ctx)
        work = list_resources(call, params.cursor if params else None)
        return await guarded(toolbox, call, _client(ctx), "list_resources", [], work)

    async def templates(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)

    async def read(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        call = call_of(ctx)
        uri = str(params.uri)
        if len(uri) > MAX_URI:
            raise MCPError(types.INVALID_PARAMS, f"a resource URI is at most {MAX_URI} characters")
        asked = requested_ids({"artifact_id": uri.removeprefix("satchel://package/")})
        work = read_resource(call, uri)
        return await guarded(toolbox, call, _client(ctx), "read_resource", asked, work)

    return Server(
        "satchel",
        version=__version__,
        title="Satchel",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=toolbox.input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=resources,
        on_list_resource_templates=templates,
        on_read_resource=read,
    )


async def run_stdio(store: ArtifactStoreAPI, options: McpOptions, actor: Actor) -> None:
    """Serve MCP over this process's stdin and stdout as *actor* until the client leaves."""
    server = build_server(store, options, lambda ctx: actor)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
