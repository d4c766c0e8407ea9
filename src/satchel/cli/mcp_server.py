"""``satchel mcp``: the MCP server on stdin/stdout, for an agent that launches it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from satchel.cli.common import SESSION_OPTION, TOKEN_OPTION, URL_OPTION, USER_OPTION

if TYPE_CHECKING:
    from satchel.mcp import McpOptions

__all__ = ["mcp", "register"]

ALLOW_DIR_OPTION = typer.Option(
    None,
    "--allow-dir",
    metavar="DIR",
    help="a directory tools may import from, export to and push packages from (repeatable; "
    "default SATCHEL_MCP_ALLOW_DIRS)",
)


def mcp(
    allow_write: bool = typer.Option(
        None,
        "--allow-write/--read-only",
        help="offer the tools that store, change, copy and move (default SATCHEL_MCP_ALLOW_WRITE, "
        "off)",
    ),
    allow_delete: bool = typer.Option(
        None, "--allow-delete", help="offer the delete tool (default SATCHEL_MCP_ALLOW_DELETE)"
    ),
    allow_dir: list[Path] = ALLOW_DIR_OPTION,
    result_limit: int = typer.Option(
        None,
        "--result-limit",
        min=16 * 1024,
        max=64 * 1024 * 1024,
        metavar="BYTES",
        help="the largest tool result (default SATCHEL_MCP_RESULT_LIMIT, 524288)",
    ),
    user: str = USER_OPTION,
    session: str = SESSION_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Serve the Model Context Protocol on stdin/stdout (an MCP client starts this).

    It acts as --user (or the token's user) on the server at --url / SATCHEL_URL, else on the
    embedded store under the data directory. Read-only unless --allow-write / --allow-delete.
    Over HTTP, 'satchel serve' answers MCP at /mcp. See docs/mcp.md.
    """
    import anyio

    from satchel.config import Settings
    from satchel.mcp import McpOptions

    options = McpOptions.from_settings(
        Settings(),
        allow_write=allow_write,
        allow_delete=allow_delete or None,
        allow_dirs=tuple(allow_dir) if allow_dir else None,
        result_limit=result_limit,
    )
    anyio.run(_serve, options, user, session, url, token)


async def _serve(
    options: McpOptions,
    user: str | None,
    session: str | None,
    url: str | None,
    token: str | None,
) -> None:
    from satchel import connect
    from satchel.mcp import Actor, run_stdio

    async with connect(url, token, default_backend="filesystem") as store:
        who = await store.whoami()
        admin = bool(who.get("admin"))
        actor = Actor(
            user_id=user or (None if admin else who.get("user_id")),
            session_id=session,
            is_admin=admin and user is None,
            name=str(who.get("name") or ""),
        )
        await run_stdio(store, options, actor)


def register(app: typer.Typer) -> None:
    app.command()(mcp)
