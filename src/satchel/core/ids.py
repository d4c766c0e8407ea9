"""Id generation for artifacts, sessions and uploads."""

from __future__ import annotations

import secrets
import time
import uuid

__all__ = ["new_artifact_id", "new_hold_id", "new_package_id", "new_session_id"]


def new_artifact_id() -> str:
    return uuid.uuid4().hex


def new_package_id() -> str:
    return f"pkg-{uuid.uuid4().hex}"


def new_hold_id() -> str:
    return f"hold-{uuid.uuid4().hex}"


def new_session_id(user_id: str | None) -> str:
    """A fresh session id, ``sess-{user}-{epoch}-{128 random bits}`` (no user part for the
    application's): unguessable, so knowing a session's id is never how one gets into it."""
    stamp = int(time.time())
    token = secrets.token_hex(16)
    if user_id:
        return f"sess-{user_id[:64]}-{stamp}-{token}"
    return f"sess-{stamp}-{token}"
