"""The Model Context Protocol face: Satchel's store as MCP tools and resources, for agents.

Big files never pass through the model: reads above a limit come back as a resource link and a
presigned URL, uploads go to a presigned URL the agent's environment PUTs to, and files move
between the store and directories the server was started with. Every call goes through the same
API contract as the other faces, as the principal the MCP session maps to (docs/mcp.md).
"""

from satchel.mcp.options import Actor, McpOptions
from satchel.mcp.server import build_server, run_stdio

__all__ = ["Actor", "McpOptions", "build_server", "run_stdio"]
