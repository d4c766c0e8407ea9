"""API keys: bearer tokens kept in the catalog, only as digests. Pure (no I/O).

A token reads ``satk_<key id>.<secret>``: the key id (public, 16 hex digits) finds the row, the
secret (256 random bits) is checked against its SHA-256 digest in constant time. A key acts as
one user in one sandbox, optionally with the admin role, until it expires or is revoked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Any

from satchel.core.scopes import iso_utc

__all__ = [
    "TOKEN_PREFIX",
    "ApiKey",
    "api_key_from_dict",
    "check_key_id",
    "new_api_token",
    "secret_digest",
    "secret_matches",
    "split_api_token",
]

TOKEN_PREFIX = "satk_"
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclasses.dataclass(frozen=True, slots=True)
class ApiKey:
    """One API key as the catalog keeps it (never the secret)."""

    key_id: str
    user_id: str
    sandbox_id: str
    is_admin: bool
    name: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    def usable(self, now: float) -> bool:
        """Neither revoked nor expired at *now*."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly, times as ISO 8601 UTC."""
        return {
            "key_id": self.key_id,
            "user_id": self.user_id,
            "sandbox_id": self.sandbox_id,
            "admin": self.is_admin,
            "name": self.name,
            "created_at": iso_utc(self.created_at),
            "expires_at": iso_utc(self.expires_at),
            "revoked_at": iso_utc(self.revoked_at),
        }


def _epoch(text: Any) -> float | None:
    if text is None:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def api_key_from_dict(data: dict[str, Any]) -> ApiKey:
    """The inverse of :meth:`ApiKey.to_dict` (what the ``/v1/keys`` routes answer)."""
    created = _epoch(data["created_at"])
    assert created is not None
    return ApiKey(
        key_id=str(data["key_id"]),
        user_id=str(data["user_id"]),
        sandbox_id=str(data["sandbox_id"]),
        is_admin=bool(data["admin"]),
        name=str(data.get("name") or ""),
        created_at=created,
        expires_at=_epoch(data.get("expires_at")),
        revoked_at=_epoch(data.get("revoked_at")),
    )


def new_api_token() -> tuple[str, str, str]:
    """A fresh ``(key_id, secret, token)``."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return key_id, secret, f"{TOKEN_PREFIX}{key_id}.{secret}"


def split_api_token(token: str) -> tuple[str, str] | None:
    """``(key_id, secret)`` of a well-formed API token, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    key_id, dot, secret = token[len(TOKEN_PREFIX) :].partition(".")
    if not dot or not _KEY_ID.fullmatch(key_id) or not _SECRET.fullmatch(secret):
        return None
    return key_id, secret


def check_key_id(value: object) -> str:
    """A key id (16 lowercase hex digits) or InvalidRequestError."""
    from satchel.core.errors import InvalidRequestError

    if not isinstance(value, str) or not _KEY_ID.fullmatch(value):
        raise InvalidRequestError("key_id must be 16 lowercase hex digits")
    return value


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    """Constant-time comparison of *secret* with a stored digest."""
    return hmac.compare_digest(secret_digest(secret), digest)
