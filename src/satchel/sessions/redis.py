"""Session records in Redis, shared by every replica that points at the same server.

Each session is one key, ``{prefix}{namespace}:{session_id}``, holding the record as JSON; the
key expires exactly when the session does (``SET … PXAT``), so Redis forgets sessions on its own.
The catalog's ``sessions`` table stays the durable record: a miss here falls back to it.

Redis errors are mapped at this boundary: an unreachable or timing-out server is
:class:`~satchel.core.errors.ProviderUnavailableError` (503), anything else
:class:`~satchel.core.errors.ProviderError` (502).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from satchel.core.clock import Clock, system_clock
from satchel.core.errors import InvalidRequestError, ProviderError, ProviderUnavailableError
from satchel.core.models import SessionRecord

__all__ = ["DEFAULT_REDIS_URL", "RedisSessionProvider"]

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
_KEY_PREFIX = "satchel:session:"
_TIMEOUT_SECONDS = 5.0


def _redacted(url: str) -> str:
    """*url* without its password (``redis://user:***@host``)."""
    scheme, separator, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not separator or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


class RedisSessionProvider:
    """Session records in Redis with key expiry equal to session expiry.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` URL (database number in the path).
        namespace: separates stores sharing one Redis database (the store passes its sandbox).
        key_prefix: prefix of every key this provider writes.
        client: an existing ``redis.asyncio.Redis`` to use instead of one made from *url*
            (then :meth:`close` leaves it open).
    """

    name = "redis"

    def __init__(
        self,
        url: str = DEFAULT_REDIS_URL,
        *,
        namespace: str = "default",
        key_prefix: str = _KEY_PREFIX,
        client: aioredis.Redis | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.url = url
        self._clock = clock
        self._prefix = f"{key_prefix}{namespace}:"
        self._owned = client is None
        if client is None:
            try:
                client = aioredis.Redis.from_url(
                    url,
                    socket_connect_timeout=_TIMEOUT_SECONDS,
                    socket_timeout=_TIMEOUT_SECONDS,
                    health_check_interval=30,
                )
            except ValueError as exc:  # an unparsable URL or scheme
                raise InvalidRequestError(f"invalid Redis URL {_redacted(url)!r}: {exc}") from None
        self._client = client

    def key(self, session_id: str) -> str:
        """The Redis key holding *session_id*'s record."""
        return self._prefix + session_id

    @contextlib.asynccontextmanager
    async def _mapped(self) -> AsyncIterator[None]:
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise ProviderUnavailableError(
                f"session store unavailable at {_redacted(self.url)}: {exc}"
            ) from exc
        except RedisError as exc:
            raise ProviderError(f"session store error: {exc}") from exc

    async def get(self, session_id: str) -> SessionRecord | None:
        async with self._mapped():
            raw = await self._client.get(self.key(session_id))
        if raw is None:
            return None
        try:
            record = SessionRecord(**json.loads(raw))
        except (ValueError, TypeError):
            return None  # not ours, or an older layout: fall back to the catalog
        if record.session_id != session_id or record.is_expired(self._clock()):
            return None
        return record

    async def put(self, record: SessionRecord) -> None:
        value = json.dumps(
            {
                "session_id": record.session_id,
                "sandbox_id": record.sandbox_id,
                "user_id": record.user_id,
                "created_at": record.created_at,
                "expires_at": record.expires_at,
            },
            separators=(",", ":"),
        )
        key = self.key(record.session_id)
        async with self._mapped():
            if record.expires_at is None:
                await self._client.set(key, value)
                return
            expires_ms = int(record.expires_at * 1000)
            if expires_ms <= int(self._clock() * 1000):
                await self._client.delete(key)
                return
            await self._client.set(key, value, pxat=expires_ms)

    async def delete(self, session_id: str) -> None:
        async with self._mapped():
            await self._client.delete(self.key(session_id))

    async def check(self) -> dict[str, Any]:
        status: dict[str, Any] = {"provider": self.name, "url": _redacted(self.url)}
        try:
            async with self._mapped():
                await self._client.ping()
        except ProviderError as exc:
            return {**status, "status": "error", "error": exc.message}
        return {**status, "status": "ok"}

    async def close(self) -> None:
        if self._owned:
            await self._client.aclose()
