"""What an MCP server offers (its options) and who a call acts as (its actor)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from satchel.core.errors import AccessDeniedError, InvalidRequestError

__all__ = ["Actor", "McpOptions"]

KIB = 1024


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    """The Satchel principal an MCP call acts as: the ids passed to every store call."""

    user_id: str | None = None
    session_id: str | None = None
    is_admin: bool = False
    name: str = ""

    def ids(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "session_id": self.session_id}

    @property
    def default_scope(self) -> str:
        """Where a write goes when the call names no scope: the session's when acting in one,
        else the user's, else (the application or an admin) the sandbox's."""
        if self.session_id is not None:
            return "session"
        return "user" if self.user_id is not None else "sandbox"


@dataclasses.dataclass(frozen=True, slots=True)
class McpOptions:
    """Which tools are offered and how big a result may be.

    The default is read-only: no tool that stores, changes or deletes, and no directory.
    """

    allow_write: bool = False
    allow_delete: bool = False
    allow_dirs: tuple[Path, ...] = ()
    result_limit: int = 512 * KIB
    page_size: int = 20
    """Items a list returns when the call names no limit (small: results fit a context)."""
    max_page: int = 100

    def __post_init__(self) -> None:
        roots = []
        for raw in self.allow_dirs:
            path = Path(os.path.expanduser(str(raw))).resolve()
            if not path.is_dir():
                raise InvalidRequestError(f"allowed directory {str(raw)!r} is not a directory")
            roots.append(path)
        object.__setattr__(self, "allow_dirs", tuple(roots))

    @classmethod
    def from_settings(cls, settings: Any) -> McpOptions:
        dirs = tuple(Path(p.strip()) for p in settings.mcp_allow_dirs.split(",") if p.strip())
        return cls(
            allow_write=settings.mcp_allow_write,
            allow_delete=settings.mcp_allow_delete,
            allow_dirs=dirs,
            result_limit=settings.mcp_result_limit,
        )

    @property
    def inline_limit(self) -> int:
        """The largest content returned inline: base64 grows it by a third, and the rest of
        the result needs room."""
        return (self.result_limit - 8 * KIB) * 3 // 4

    def local_path(self, raw: str) -> Path:
        """*raw* (absolute, or relative to the first allowed directory) resolved, symlinks
        followed; AccessDeniedError unless it lies inside an allowed directory."""
        if not self.allow_dirs:
            raise AccessDeniedError("this MCP server was started without --allow-dir")
        if not isinstance(raw, str) or not raw or "\x00" in raw:
            raise InvalidRequestError("path must be a non-empty path")
        path = Path(os.path.expanduser(raw))
        if not path.is_absolute():
            path = self.allow_dirs[0] / path
        resolved = path.resolve()
        if not any(resolved.is_relative_to(root) for root in self.allow_dirs):
            allowed = ", ".join(str(root) for root in self.allow_dirs)
            raise AccessDeniedError(f"{raw} is outside the allowed directories ({allowed})")
        return resolved
