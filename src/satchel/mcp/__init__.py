"""The Model Context Protocol face: Satchel's store as MCP tools and resources, for agents.

Big files never pass through the model: reads above a limit come back as a resource link and a
presigned URL, uploads go to a presigned URL the agent's environment PUTs to, and files move
between the store and directories the server was started with. Every call goes through the same
API contract as the other faces, as the principal the MCP session maps to (docs/mcp.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from satchel.mcp.options import Actor, McpOptions

if TYPE_CHECKING:
    from satchel.mcp.server import build_server, run_stdio

__all__ = ["Actor", "McpOptions", "build_server", "run_stdio"]


def __getattr__(name: str) -> Any:
    """The server's parts load the MCP SDK, only when asked for (``satchel serve`` starts
    without it and loads it at the first ``/mcp`` request)."""
    if name in ("build_server", "run_stdio"):
        from satchel.mcp import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
