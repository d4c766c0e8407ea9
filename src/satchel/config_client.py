"""The two settings a client needs, read alone: which server (``SATCHEL_URL``) and which token
(``SATCHEL_TOKEN``), from the environment or ``./.env`` as :class:`satchel.Settings` reads them.
A client never loads (or fails on) the server's settings it does not use."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ClientSettings"]


class ClientSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SATCHEL_", env_file=".env", extra="ignore", populate_by_name=True
    )

    url: str | None = Field(
        default=None, validation_alias=AliasChoices("SATCHEL_URL", "ARTIFACTSTORE_API_URL", "url")
    )
    token: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SATCHEL_TOKEN", "ARTIFACTSTORE_API_TOKEN", "token"),
    )
