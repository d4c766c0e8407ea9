"""Which server and token a client is given in its environment (``SATCHEL_URL``,
``SATCHEL_TOKEN`` or seed 001's names), read without the settings machinery: what the
environment says outranks ``./.env``, so :class:`~satchel.config_client.ClientSettings` (and
pydantic) is needed only for what it leaves unsaid."""

from __future__ import annotations

import os

__all__ = ["from_environment"]

URL_VARIABLES = ("SATCHEL_URL", "ARTIFACTSTORE_API_URL")
TOKEN_VARIABLES = ("SATCHEL_TOKEN", "ARTIFACTSTORE_API_TOKEN")


def from_environment(url: str | None, token: str | None) -> tuple[str | None, str | None]:
    """*url* and *token*, each taken from the environment when not given (or empty)."""
    return url or _first(URL_VARIABLES), token or _first(TOKEN_VARIABLES)


def _first(names: tuple[str, ...]) -> str | None:
    """The first of *names* set (non-empty) in the environment."""
    for name in names:
        if value := os.environ.get(name):
            return value
    return None
