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


def iso_utc(timestamp: float | None) -> str | None:
    """Format an epoch timestamp as ISO-8601 UTC with a ``Z`` suffix."""
    if timestamp is None:
        return None
    text = datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="microseconds")
    return text.replace("+00:00", "Z")
