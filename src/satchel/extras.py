"""Which optional extras a configuration needs: ``python -m satchel.extras`` prints the missing
ones (comma-separated, nothing when none), so ``make run`` installs only what the configured
catalog, blob backends and session provider use.

- a PostgreSQL ``SATCHEL_DATABASE_URL`` → ``postgres`` (asyncpg)
- ``SESSION_PROVIDER=redis`` or a ``SATCHEL_REDIS_URL`` → ``redis`` (redis-py)
- an ``s3`` blob backend (the provider, or one in ``SATCHEL_STORAGE_BACKENDS``) → ``s3``
  (aiobotocore)
"""

from __future__ import annotations

import importlib.util

from satchel.config import Settings

__all__ = ["EXTRA_MODULES", "missing_extras", "needed_extras"]

EXTRA_MODULES = {"postgres": "asyncpg", "redis": "redis", "s3": "aiobotocore"}


def needed_extras(settings: Settings) -> list[str]:
    """The extras *settings* use, in EXTRA_MODULES order."""
    wanted = set()
    if (settings.database_url or "").startswith("postgres"):
        wanted.add("postgres")
    if settings.session_provider.strip().lower() == "redis" or settings.redis_url:
        wanted.add("redis")
    if "s3" in settings.storage_routing("filesystem").backends:
        wanted.add("s3")
    return [extra for extra in EXTRA_MODULES if extra in wanted]


def missing_extras(settings: Settings) -> list[str]:
    """The needed extras whose package is not installed."""
    return [
        extra
        for extra in needed_extras(settings)
        if importlib.util.find_spec(EXTRA_MODULES[extra]) is None
    ]


if __name__ == "__main__":
    print(",".join(missing_extras(Settings())))
