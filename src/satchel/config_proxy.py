"""Settings of the pull-through cache, and seed 003's environment names.

Seed 003's service is configured by ``CONFIG_PATH`` (its ``remotes.yaml``), ``DBHOST``,
``DBPORT``, ``DBUSER``, ``DBPASS``, ``DBNAME`` (PostgreSQL), ``REDIS_URL`` and ``MINIO_*``
(S3). :class:`ProxySettings` reads them; :func:`apply_seed_003` maps them onto Satchel's own
settings where those were not given (docs/configuration.md).
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings

__all__ = ["ProxySettings", "apply_seed_003"]


class ProxySettings(BaseSettings):
    """The pull-through cache's settings (``Settings`` inherits them)."""

    remotes_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("SATCHEL_REMOTES_FILE", "CONFIG_PATH", "remotes_file"),
        description="remotes.yaml of the pull-through cache (docs/proxy.md; none: no remotes)",
    )
    proxy_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="longest wait for an upstream's answer, or between two of its chunks",
    )
    proxy_max_file_bytes: int = Field(
        default=16 * 1024**3,
        gt=0,
        description="largest file the cache fetches (a remote's max_file_bytes lowers it)",
    )
    proxy_block_after_failures: int = Field(
        default=3, ge=1, description="upstream failures in a row after which a remote is blocked"
    )
    proxy_block_seconds: float = Field(
        default=30,
        ge=0,
        description="how long a blocked remote is not asked (then one request probes it)",
    )
    proxy_budget_bytes: int = Field(
        default=0,
        ge=0,
        description="bytes all remotes' cached files may take (0: no limit; a remote's "
        "cache.max_bytes limits it alone); least recently read files are evicted first",
    )
    # seed 003's names, read only to be mapped (apply_seed_003)
    seed_db_host: str | None = Field(default=None, validation_alias=AliasChoices("DBHOST"))
    seed_db_port: int | None = Field(default=None, validation_alias=AliasChoices("DBPORT"))
    seed_db_user: str | None = Field(default=None, validation_alias=AliasChoices("DBUSER"))
    seed_db_password: str | None = Field(
        default=None, validation_alias=AliasChoices("DBPASS"), repr=False
    )
    seed_db_name: str | None = Field(default=None, validation_alias=AliasChoices("DBNAME"))
    seed_redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL"))
    seed_minio_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("MINIO_ENDPOINT")
    )
    seed_minio_bucket: str | None = Field(
        default=None, validation_alias=AliasChoices("MINIO_BUCKET")
    )
    seed_minio_secure: bool = Field(default=False, validation_alias=AliasChoices("MINIO_SECURE"))

    @field_validator("remotes_file", mode="before")
    @classmethod
    def _empty_remotes_file(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def seed_003_database_url(settings: ProxySettings) -> str | None:
    """``DBHOST``… as a PostgreSQL URL (None without ``DBHOST``)."""
    if not settings.seed_db_host:
        return None
    user = urllib.parse.quote(settings.seed_db_user or "", safe="")
    password = urllib.parse.quote(settings.seed_db_password or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.seed_db_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    port = f":{settings.seed_db_port}" if settings.seed_db_port else ""
    name = urllib.parse.quote(settings.seed_db_name or "", safe="")
    return f"postgresql://{credentials}{host}{port}/{name}"


def apply_seed_003(settings: Any) -> None:
    """Fill Satchel's settings from seed 003's names where Satchel's own were not given:
    ``DBHOST``… make ``database_url``; ``REDIS_URL`` makes ``redis_url`` and selects the Redis
    session provider; ``MINIO_ENDPOINT`` selects the S3 backend at that endpoint (``https``
    when ``MINIO_SECURE``), ``MINIO_BUCKET`` names the bucket, and ``MINIO_ACCESS_KEY`` /
    ``MINIO_SECRET_KEY`` are read from the environment when the key references are unset."""
    given = settings.model_fields_set
    if "database_url" not in given and (url := seed_003_database_url(settings)):
        settings.database_url = url
    if settings.seed_redis_url and "redis_url" not in given:
        settings.redis_url = settings.seed_redis_url
        if "session_provider" not in given:
            settings.session_provider = "redis"
    endpoint = settings.seed_minio_endpoint
    if endpoint and "s3_endpoint_url" not in given:
        if "://" not in endpoint:
            endpoint = ("https://" if settings.seed_minio_secure else "http://") + endpoint
        settings.s3_endpoint_url = endpoint
        if "blob_backend" not in given:
            settings.blob_backend = "s3"
        if settings.seed_minio_bucket and "bucket" not in given:
            settings.bucket = settings.seed_minio_bucket
        if settings.s3_access_key_ref is None and os.environ.get("MINIO_ACCESS_KEY"):
            settings.s3_access_key_ref = "env:MINIO_ACCESS_KEY"
            settings.s3_secret_key_ref = "env:MINIO_SECRET_KEY"
