"""Storage scopes and the time/TTL conventions shared by every layer."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

__all__ = [
    "DEFAULT_PRESIGN_EXPIRES",
    "DEFAULT_TTL",
    "Scope",
    "StorageScope",
    "iso_utc",
    "parse_scope",
]

DEFAULT_TTL = 900
"""Seconds a session-scoped artifact lives when the caller gives no ``ttl`` (15 minutes)."""

DEFAULT_PRESIGN_EXPIRES = 3600
"""Seconds a presigned URL lives when the caller gives no ``expires`` (1 hour)."""


class Scope(enum.StrEnum):
    """Who an artifact belongs to and who may see it."""

    SESSION = "session"
    USER = "user"
    SANDBOX = "sandbox"


# Seed 000 exposes the enum as ``StorageScope``; keep the name importable.
StorageScope = Scope


def parse_scope(value: object) -> Scope:
    """Return the :class:`Scope` for *value* or raise InvalidRequestError."""
    from satchel.core.errors import InvalidRequestError

    if isinstance(value, Scope):
        return value
    if isinstance(value, str):
        try:
            return Scope(value.lower())
        except ValueError:
            pass
    raise InvalidRequestError(
        f"unknown scope {value!r}: expected one of {', '.join(s.value for s in Scope)}"
    )


_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def iso_utc(timestamp: float | None) -> str | None:
    """Format an epoch timestamp as ISO-8601 UTC with a ``Z`` suffix. Total: a time beyond
    the calendar (a stored expiry pushed past year 9999) reads as its last or first instant."""
    if timestamp is None:
        return None
    try:
        moment = datetime.fromtimestamp(timestamp, tz=UTC)
    except (OverflowError, OSError, ValueError):
        moment = _LATEST if timestamp > 0 else _EARLIEST
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
