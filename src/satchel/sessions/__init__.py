"""Session providers (see :mod:`satchel.sessions.base`)."""

from __future__ import annotations

from satchel.core.errors import NotSupportedError
from satchel.sessions.base import SessionProvider
from satchel.sessions.memory import MemorySessionProvider

__all__ = ["MemorySessionProvider", "SessionProvider", "create_session_provider"]


def create_session_provider(name: str, *, redis_url: str | None = None) -> SessionProvider:
    """The session provider called *name* (``memory``; ``redis`` arrives with scale-out)."""
    if name == "memory":
        return MemorySessionProvider()
    raise NotSupportedError(
        f"session provider {name!r} is not part of this version of Satchel; use 'memory' "
        "(sessions are persisted in the catalog either way)"
    )
