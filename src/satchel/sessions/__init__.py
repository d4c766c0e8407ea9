"""Session providers (see :mod:`satchel.sessions.base`): ``memory`` and ``redis``.

The Redis provider is imported only when asked for, so redis-py stays an optional extra.
"""

from __future__ import annotations

from satchel.core.clock import Clock, system_clock
from satchel.core.errors import NotSupportedError
from satchel.sessions.base import SessionProvider
from satchel.sessions.memory import MemorySessionProvider

__all__ = ["MemorySessionProvider", "SessionProvider", "create_session_provider"]


def create_session_provider(
    name: str,
    *,
    redis_url: str | None = None,
    namespace: str = "default",
    clock: Clock = system_clock,
) -> SessionProvider:
    """The session provider called *name*.

    Args:
        name: ``memory`` (in this process) or ``redis`` (shared by every replica).
        redis_url: the Redis server for ``redis`` (default ``redis://localhost:6379/0``).
        namespace: keeps stores of different sandboxes apart in one Redis database.
        clock: the store's clock (cached sessions expire by it).

    Raises:
        NotSupportedError: an unknown provider, or ``redis`` without redis-py installed.
    """
    if name == "memory":
        return MemorySessionProvider(clock=clock)
    if name == "redis":
        try:
            from satchel.sessions.redis import DEFAULT_REDIS_URL, RedisSessionProvider
        except ImportError as exc:
            raise NotSupportedError(
                f"SESSION_PROVIDER=redis needs redis-py: pip install 'satchel[redis]' ({exc})"
            ) from exc
        return RedisSessionProvider(
            redis_url or DEFAULT_REDIS_URL, namespace=namespace, clock=clock
        )
    raise NotSupportedError(
        f"unknown session provider {name!r}; use 'memory' or 'redis' "
        "(sessions are persisted in the catalog either way)"
    )
