"""Grid keys: the logical, deterministic path of every artifact.

    grid/{sandbox}/sessions/{session}/{artifact}
    grid/{sandbox}/users/{user}/{artifact}
    grid/{sandbox}/shared/{artifact}

A grid key is metadata (auditable, stable); it never names a filesystem path.
"""

from __future__ import annotations

from satchel.core.errors import InvalidRequestError
from satchel.core.models import GridKeyComponents
from satchel.core.scopes import Scope
from satchel.core.validation import check_id

__all__ = ["build_grid_key", "parse_grid_key"]


def build_grid_key(
    *, sandbox_id: str, scope: Scope, session_id: str, owner_id: str | None, artifact_id: str
) -> str:
    """Return the grid key of an artifact of *scope*."""
    if scope is Scope.SESSION:
        return f"grid/{sandbox_id}/sessions/{session_id}/{artifact_id}"
    if scope is Scope.USER:
        if owner_id is None:
            raise InvalidRequestError("a user-scoped grid key needs an owner")
        return f"grid/{sandbox_id}/users/{owner_id}/{artifact_id}"
    return f"grid/{sandbox_id}/shared/{artifact_id}"


def _valid(kind: str, value: str) -> bool:
    try:
        check_id(kind, value)
    except ValueError:
        return False
    return True


def parse_grid_key(grid_key: str) -> GridKeyComponents | None:
    """Split a grid key into its parts; ``None`` when *grid_key* is not a grid key.

    Besides the three scoped forms, the seed's short form ``grid/{sandbox}/{session}/{artifact}``
    (with an optional trailing sub-path) parses as a session key.
    """
    if not isinstance(grid_key, str):
        return None
    parts = grid_key.split("/")
    if len(parts) < 4 or parts[0] != "grid" or not all(_valid("segment", p) for p in parts[1:]):
        return None
    sandbox = parts[1]
    if parts[2] == "sessions" and len(parts) >= 5:
        return GridKeyComponents(
            sandbox_id=sandbox,
            scope=Scope.SESSION,
            session_id=parts[3],
            artifact_id=parts[4],
            subpath="/".join(parts[5:]) or None,
        )
    if parts[2] == "users" and len(parts) >= 5:
        return GridKeyComponents(
            sandbox_id=sandbox,
            scope=Scope.USER,
            user_id=parts[3],
            artifact_id=parts[4],
            subpath="/".join(parts[5:]) or None,
        )
    if parts[2] == "shared":
        return GridKeyComponents(
            sandbox_id=sandbox,
            scope=Scope.SANDBOX,
            artifact_id=parts[3],
            subpath="/".join(parts[4:]) or None,
        )
    return GridKeyComponents(
        sandbox_id=sandbox,
        scope=Scope.SESSION,
        session_id=parts[2],
        artifact_id=parts[3],
        subpath="/".join(parts[4:]) or None,
    )
