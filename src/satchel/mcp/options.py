"""What an MCP server offers (its options) and who a call acts as (its actor)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.mcp.roots import Roots

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
    per_principal: bool = False
    """Each user gets a subdirectory of each allowed directory (a server shared by users)."""
    protected: tuple[Path, ...] = ()
    """Directories an allowed one may not overlap (Satchel's own data)."""
    page_size: int = 20
    """Items a list returns when the call names no limit (small: results fit a context)."""
    max_page: int = 100

    def __post_init__(self) -> None:
        roots = []
        protected = [Path(p).resolve() for p in self.protected]
        for raw in self.allow_dirs:
            path = Path(os.path.expanduser(str(raw))).resolve()
            if not path.is_dir():
                raise InvalidRequestError(f"allowed directory {str(raw)!r} is not a directory")
            for own in protected:
                if path.is_relative_to(own) or own.is_relative_to(path):
                    raise InvalidRequestError(
                        f"allowed directory {str(raw)!r} overlaps Satchel's own data ({own})"
                    )
            roots.append(path)
        object.__setattr__(self, "allow_dirs", tuple(roots))

    @classmethod
    def from_settings(cls, settings: Any, **changes: Any) -> McpOptions:
        """The options *settings* give (``SATCHEL_MCP_*``), with *changes*; Satchel's data
        and blob directories are protected."""
        dirs = tuple(Path(p.strip()) for p in settings.mcp_allow_dirs.split(",") if p.strip())
        protected = tuple(p for p in (settings.data_dir, settings.fs_root) if p is not None)
        values: dict[str, Any] = {
            "allow_write": settings.mcp_allow_write,
            "allow_delete": settings.mcp_allow_delete,
            "allow_dirs": dirs,
            "result_limit": settings.mcp_result_limit,
            "protected": protected,
        }
        values.update({key: value for key, value in changes.items() if value is not None})
        return cls(**values)

    @property
    def inline_limit(self) -> int:
        """The largest content returned inline: base64 grows it by a third, and the rest of
        the result needs room."""
        return (self.result_limit - 8 * KIB) * 3 // 4

    def roots_for(self, actor: Actor) -> Roots:
        """The directories *actor* may use: the allowed ones, or on a shared server
        (*per_principal*) a user's own subdirectory of each (made on first use, mode 0700);
        the application and admins acting as it get the directories themselves."""
        strict = self.per_principal
        if not self.per_principal or actor.user_id is None:
            return Roots(self.allow_dirs, strict=strict)
        mine = []
        for root in self.allow_dirs:
            path = root / actor.user_id  # a checked id: one path segment
            path.mkdir(mode=0o700, exist_ok=True)
            if path.is_symlink() or not path.resolve().is_relative_to(root):
                raise AccessDeniedError(f"{path} is not a directory of its own")
            mine.append(path.resolve())
        return Roots(tuple(mine), strict=strict)
