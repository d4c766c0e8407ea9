"""Settings every face shares: one pydantic-settings object, ``SATCHEL_`` prefix, ``./.env``.

Seed 000's variable names (``ARTIFACT_PROVIDER``, ``ARTIFACT_FS_ROOT``, ``SESSION_PROVIDER``…)
are accepted as aliases. docs/configuration.md lists every setting.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from satchel.blobs.registry import keeps_data, normalise_provider
from satchel.config_accel import AccelSettings
from satchel.config_proxy import ProxySettings, apply_seed_003
from satchel.config_s3 import S3ProviderSettings, s3_blob_options
from satchel.core.errors import InvalidRequestError
from satchel.core.routing import RoutingTable, build_routing, parse_backend_list

INLINE_CEILING = 64 * 1024
"""The most ``inline_max_bytes`` may be: a blob larger than this is never looked for in the
catalog, whatever the setting was when it was stored."""

__all__ = [
    "INLINE_CEILING",
    "Settings",
    "configure_filesystem",
    "configure_memory",
    "configure_redis_session",
    "configure_s3",
    "configure_sqlite",
    "load_signing_key",
]


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(ProxySettings, S3ProviderSettings, AccelSettings):
    """Configuration of an :class:`~satchel.ArtifactStore` and the faces around it (the
    pull-through cache's settings and seed 003's names come from :class:`ProxySettings`, the
    nginx mode's from :class:`AccelSettings`)."""

    model_config = SettingsConfigDict(
        env_prefix="SATCHEL_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    def __init__(self, **values: Any) -> None:
        """Read the settings; a bad value is an InvalidRequestError naming its variable."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise InvalidRequestError(_describe(type(self), exc)) from None

    data_dir: Path | None = Field(
        default=Path("./var"),
        description="where a persistent store keeps its catalog, blobs, staging and keys "
        "(empty or none: an ephemeral store that keeps nothing on disk)",
    )
    blob_backend: str | None = Field(
        default=None,
        validation_alias=_alias("SATCHEL_BLOB_BACKEND", "ARTIFACT_PROVIDER"),
        description="memory | filesystem | sqlite | s3 (seed aliases: vfs-*, ibm_cos)",
    )
    fs_root: Path | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_FS_ROOT", "ARTIFACT_FS_ROOT", "ARTIFACTSTORE_STORAGE_LOCAL_ROOT", "fs_root"
        ),
        description="filesystem backend root (default: {data_dir}/blobs)",
    )
    sqlite_blob_path: Path | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_SQLITE_BLOB_PATH", "ARTIFACT_SQLITE_PATH", "sqlite_blob_path"
        ),
        description="sqlite blob backend file (default: {data_dir}/blobs.db)",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_DATABASE_URL", "ARTIFACTSTORE_DATABASE_URL", "database_url"
        ),
        description="catalog URL (default: in-memory SQLite for memory blobs, else a file)",
    )
    sandbox_id: str = Field(
        default="default",
        validation_alias=_alias(
            "SATCHEL_SANDBOX_ID", "ARTIFACT_SANDBOX_ID", "SANDBOX_ID", "sandbox_id"
        ),
    )
    bucket: str = Field(
        default="artifacts",
        validation_alias=_alias(
            "SATCHEL_S3_BUCKET", "ARTIFACT_BUCKET", "ARTIFACTSTORE_S3_BUCKET", "bucket"
        ),
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_S3_ENDPOINT_URL",
            "S3_ENDPOINT_URL",
            "IBM_COS_ENDPOINT",
            "ARTIFACTSTORE_S3_ENDPOINT_URL",
            "s3_endpoint_url",
        ),
        description="S3 endpoint (Ceph RGW, MinIO, R2…); default: AWS",
    )
    s3_region: str | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_S3_REGION", "AWS_REGION", "ARTIFACTSTORE_S3_REGION", "s3_region"
        ),
    )
    s3_key_prefix: str = Field(
        validation_alias=_alias(
            "SATCHEL_S3_KEY_PREFIX", "ARTIFACTSTORE_S3_KEY_PREFIX", "s3_key_prefix"
        ),
        default="",
        description="key prefix of every object Satchel writes",
    )
    s3_addressing_style: str = Field(default="auto", description="auto | path | virtual")
    s3_access_key_ref: str | None = Field(
        validation_alias=_alias(
            "SATCHEL_S3_ACCESS_KEY_REF", "ARTIFACTSTORE_S3_ACCESS_KEY_REF", "s3_access_key_ref"
        ),
        default=None,
        description="env:NAME or file:PATH",
    )
    s3_secret_key_ref: str | None = Field(
        validation_alias=_alias(
            "SATCHEL_S3_SECRET_KEY_REF", "ARTIFACTSTORE_S3_SECRET_KEY_REF", "s3_secret_key_ref"
        ),
        default=None,
        description="env:NAME or file:PATH",
    )
    s3_storage_class: str | None = Field(
        validation_alias=_alias(
            "SATCHEL_S3_STORAGE_CLASS", "ARTIFACTSTORE_S3_STORAGE_CLASS", "s3_storage_class"
        ),
        default=None,
    )
    s3_sse: str | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_S3_SSE", "S3_SSE_ALGORITHM", "ARTIFACTSTORE_S3_SSE", "s3_sse"
        ),
        description="AES256 (SSE-S3) or aws:kms (SSE-KMS)",
    )
    s3_sse_kms_key_id: str | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_S3_SSE_KMS_KEY_ID", "S3_SSE_KMS_KEY_ID", "S3_KMS_KEY_ID", "s3_sse_kms_key_id"
        ),
    )
    s3_sse_customer_key_ref: str | None = Field(
        default=None, description="SSE-C key (base64 of 32 bytes) as env:NAME or file:PATH"
    )
    s3_multipart_threshold_bytes: int = Field(
        validation_alias=_alias(
            "SATCHEL_S3_MULTIPART_THRESHOLD_BYTES",
            "ARTIFACTSTORE_S3_MULTIPART_THRESHOLD_BYTES",
            "s3_multipart_threshold_bytes",
        ),
        default=8 * 1024 * 1024,
        ge=1,
    )
    s3_multipart_chunk_bytes: int = Field(
        validation_alias=_alias(
            "SATCHEL_S3_MULTIPART_CHUNK_BYTES",
            "ARTIFACTSTORE_S3_MULTIPART_CHUNK_BYTES",
            "s3_multipart_chunk_bytes",
        ),
        default=8 * 1024 * 1024,
        ge=5 * 1024 * 1024,
    )
    storage_backends: str = Field(
        default="",
        validation_alias=_alias("SATCHEL_STORAGE_BACKENDS", "ARTIFACTSTORE_STORAGE_BACKENDS"),
        description="backend ids to configure, e.g. filesystem,s3 (default: the blob backend)",
    )
    storage_default_backend: str | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_STORAGE_DEFAULT_BACKEND", "ARTIFACTSTORE_STORAGE_DEFAULT_BACKEND"
        ),
        description="backend used when no route matches (default: the blob backend)",
    )
    storage_backend_routes: str = Field(
        default="",
        validation_alias=_alias(
            "SATCHEL_STORAGE_BACKEND_ROUTES", "ARTIFACTSTORE_STORAGE_BACKEND_ROUTES"
        ),
        description="producer:retention_class=backend,… (* wildcard, first match wins)",
    )
    session_provider: str = Field(
        default="memory",
        validation_alias=_alias("SATCHEL_SESSION_PROVIDER", "SESSION_PROVIDER"),
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=_alias("SATCHEL_REDIS_URL", "SESSION_REDIS_URL"),
    )
    default_ttl: int = Field(default=900, gt=0, description="session-scope default TTL, seconds")
    session_ttl_hours: float = Field(default=24, gt=0)
    max_meta_bytes: int = Field(default=64 * 1024, gt=0)
    max_upload_bytes: int = Field(default=5 * 1024**4, gt=0)
    gc_grace_seconds: float = Field(
        default=600, ge=0, description="how long unreferenced bytes are kept before GC"
    )
    fsync: bool = Field(default=True, description="fsync blob files and directories")
    inline_max_bytes: int = Field(
        default=16 * 1024,
        ge=0,
        le=INLINE_CEILING,
        description="content of at most this many bytes stored in the filesystem backend is "
        "kept in the catalog, committed with its row (0: every blob is a file)",
    )
    disk_reserve_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="new content is refused (507) below this much free disk; a reserve file "
        "of this size keeps deletes and GC working on a full disk (0: no checks)",
    )

    host: str = Field(default="127.0.0.1", description="where `satchel serve` listens")
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(
        default=1, ge=1, le=64, description="`satchel serve` processes sharing the port"
    )
    public_url: str | None = Field(
        default=None, description="base of presigned URLs (default http://{host}:{port})"
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="open connections `satchel serve` accepts work on per process (more: 503)",
    )
    header_timeout_seconds: float = Field(
        default=10, gt=0, description="time to send a request's line and headers (then 408)"
    )
    body_timeout_seconds: float = Field(
        default=30, gt=0, description="longest pause within a request body (then closed)"
    )
    send_timeout_seconds: float = Field(
        default=60, gt=0, description="longest a client may stop reading a response"
    )
    keepalive_timeout_seconds: float = Field(
        default=5, gt=0, description="an idle keep-alive connection is closed after this"
    )
    shutdown_timeout_seconds: float = Field(
        default=30, ge=0, description="how long a stopping server waits for requests in flight"
    )
    auth_tokens: str = Field(
        default="", description="token=user[@sandbox][:admin],… static bearer tokens"
    )
    anon_read: bool = Field(
        validation_alias=_alias("SATCHEL_ANON_READ", "ARTIFACTSTORE_ANON_READ", "anon_read"),
        default=False,
        description="anonymous reads of sandbox artifacts",
    )
    # MCP at /mcp (docs/mcp.md): on, read-only, no directories, results up to 512 KiB
    mcp_enabled: bool = True
    mcp_allow_write: bool = False
    mcp_allow_delete: bool = False
    mcp_allow_dirs: str = Field(default="", description="comma separated; empty: none")
    mcp_result_limit: int = Field(default=512 * 1024, ge=16 * 1024, le=64 * 1024 * 1024)
    signing_key: str | None = Field(
        default=None, description="HMAC key of presigned URLs (default: generated into data_dir)"
    )
    presign_max_seconds: int = Field(default=7 * 86400, gt=0)
    upload_expiry_seconds: int = Field(
        default=24 * 3600, gt=0, description="lifetime of multipart, presigned and tus uploads"
    )
    multipart_min_part_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    tus_checkpoint_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1,
        description="a tus PATCH body is made durable and its offset committed this often",
    )
    max_open_uploads_per_user: int = Field(
        default=100,
        ge=1,
        description="unfinished presigned, multipart and tus uploads a user holds",
    )
    max_sessions_per_user: int = Field(
        default=1000, ge=1, description="live sessions a user creates empty"
    )
    purge_interval_seconds: float = Field(
        default=300, ge=0, description="how often `satchel serve` purges expired items (0: never)"
    )
    retention_config_path: Path | None = Field(
        default=None,
        validation_alias=_alias(
            "SATCHEL_RETENTION_CONFIG_PATH", "ARTIFACTSTORE_RETENTION_CONFIG_PATH"
        ),
        description="TOML file overriding and adding retention classes (seed 001's format)",
    )
    retention_sweep_interval_seconds: float = Field(
        default=3600,
        ge=0,
        validation_alias=_alias(
            "SATCHEL_RETENTION_SWEEP_INTERVAL_SECONDS",
            "ARTIFACTSTORE_RETENTION_SWEEP_INTERVAL_SECONDS",
        ),
        description="how often an external scheduler should run `satchel retention sweep` "
        "(seed 001's setting; `satchel serve` does not sweep by itself)",
    )
    manifest_blake3: bool = Field(
        default=False,
        description="also record each package file's BLAKE3 digest (seed 001's primary "
        "digest) in manifests; needs the blake3 extra",
    )
    package_abandon_seconds: int = Field(
        default=7 * 86400,
        gt=0,
        description="an open package untouched this long is abandoned: gc deletes it",
    )
    webhook_allowed_networks: str = Field(
        default="",
        description="networks (comma-separated CIDRs) webhooks may reach although private, "
        "loopback or reserved, e.g. 10.0.0.0/8 (default: public addresses only)",
    )
    webhook_timeout_seconds: float = Field(
        default=10, gt=0, le=30, description="how long a webhook request may take"
    )
    webhook_retry_base_seconds: float = Field(
        default=1, gt=0, description="first retry delay of a failed webhook delivery (doubles)"
    )
    webhook_retry_cap_seconds: float = Field(
        default=600, gt=0, description="longest delay between webhook delivery attempts"
    )
    webhook_poll_seconds: float = Field(
        default=1,
        gt=0,
        description="how often `satchel serve` looks for due webhook deliveries (new events "
        "logged by the same process wake it at once)",
    )
    webhook_deliver: bool = Field(
        default=True, description="whether `satchel serve` delivers webhooks"
    )
    heap_arenas: int = Field(
        default=2,
        ge=0,
        description="glibc malloc arenas `satchel serve` uses (0: glibc's default)",
    )
    url: str | None = Field(
        default=None,
        validation_alias=_alias("SATCHEL_URL", "ARTIFACTSTORE_API_URL", "url"),
        description="server that connect() and the CLI use",
    )
    token: str | None = Field(
        default=None,
        validation_alias=_alias("SATCHEL_TOKEN", "ARTIFACTSTORE_API_TOKEN", "token"),
        description="bearer token for SATCHEL_URL",
    )
    log_level: str = Field(
        default="info",
        validation_alias=_alias("SATCHEL_LOG_LEVEL", "ARTIFACTSTORE_LOG_LEVEL", "log_level"),
        description="`satchel serve` log level: debug | info | warning | error | critical",
    )
    shared_tokens: str = Field(
        default="",
        validation_alias=_alias("ARTIFACTSTORE_AUTH_TOKENS", "shared_tokens"),
        description="seed 001's bare shared-secret tokens (comma or newline separated); "
        "each acts as an admin, as they did there",
    )

    @model_validator(mode="after")
    def _seed_003(self) -> Settings:
        apply_seed_003(self)
        return self

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        from satchel.core.webhooks import parse_networks

        parse_networks(value)  # ValueError names the item that is not a network
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_log_level(cls, value: Any) -> Any:
        levels = ("debug", "info", "warning", "error", "critical", "trace")
        if isinstance(value, str) and value.strip().lower() in levels:
            return value.strip().lower()
        raise ValueError(f"log level must be one of {', '.join(levels)}")

    @field_validator("retention_config_path", mode="before")
    @classmethod
    def _empty_path(cls, value: Any) -> Any:
        """Seed 001's ``.env`` leaves the path empty for "none"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _no_data_dir(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
            return None
        return value

    @field_validator("s3_sse", mode="before")
    @classmethod
    def _known_sse(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        canonical = {"aes256": "AES256", "sse-s3": "AES256"}
        canonical.update({"aws:kms": "aws:kms", "kms": "aws:kms", "sse-kms": "aws:kms"})
        if not isinstance(value, str) or value.strip().lower() not in canonical:
            raise ValueError(f"unknown S3 server-side encryption {value!r}: use AES256 or aws:kms")
        return canonical[value.strip().lower()]

    @field_validator("blob_backend")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        return None if value is None else normalise_provider(value)

    @field_validator("session_provider")
    @classmethod
    def _known_session_provider(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("memory", "redis"):
            raise ValueError(f"unknown session provider {value!r}; known: memory, redis")
        return value

    def resolved_blob_backend(self, default: str = "memory") -> str:
        return self.blob_backend or default

    def storage_routing(self, default: str = "memory") -> RoutingTable:
        """The configured backends, default backend and routes, validated (docs/configuration.md).

        Without ``storage_backends`` the one backend is the blob backend; without
        ``storage_default_backend`` the default is the blob backend when one is named, else the
        first listed backend.

        Raises:
            InvalidRequestError: an unknown backend, a malformed route or one naming a backend
                that is not configured.
        """
        listed = parse_backend_list(self.storage_backends, normalise_provider)
        blob_backend = self.resolved_blob_backend(default)
        fallback = self.blob_backend or (listed[0] if listed else blob_backend)
        return build_routing(
            backends=listed or (blob_backend,),
            default_backend=self.storage_default_backend or fallback,
            routes=self.storage_backend_routes,
            normalise=normalise_provider,
        )

    def persistent(self, backend: str) -> bool:
        """Whether a store whose default blob backend is *backend* keeps its state on disk:
        it has a data directory, and its blobs outlive the process (memory blobs do not)."""
        return self.data_dir is not None and keeps_data(backend)

    def _data_path(self, name: str, what: str) -> Path:
        if self.data_dir is None:
            raise InvalidRequestError(f"{what} needs a data directory (SATCHEL_DATA_DIR)")
        return self.data_dir / name

    def resolved_database_url(self, *, persistent: bool) -> str:
        """The catalog URL: configured, else a SQLite file in the data directory, else (for an
        ephemeral store) SQLite in memory."""
        if self.database_url:
            return self.database_url
        if not persistent:
            return "sqlite://"
        return f"sqlite:///{self._data_path('satchel.db', 'a catalog file').resolve()}"

    def resolved_fs_root(self) -> Path:
        return self.fs_root or self._data_path("blobs", "the filesystem backend (or fs_root)")

    def resolved_sqlite_blob_path(self) -> Path:
        return self.sqlite_blob_path or self._data_path("blobs.db", "the sqlite blob backend")

    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_staging_dir(self) -> Path:
        return self._data_path("staging", "file staging")

    def s3_blob_options(self) -> dict[str, Any]:
        """Keyword options of the S3 blob backend (``create_blob_store("s3", **options)``)."""
        return s3_blob_options(self)


# -- seed 000's configuration helpers: they set the environment a later ArtifactStore() reads --


def _set_env(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is not None:
            os.environ[name] = value


def configure_memory() -> None:
    """Make ``ArtifactStore()`` keep blobs in memory (the default)."""
    _set_env({"ARTIFACT_PROVIDER": "memory"})


def configure_filesystem(root: str | os.PathLike[str] = "./artifacts") -> None:
    """Make ``ArtifactStore()`` store blobs under *root* (catalog in ``SATCHEL_DATA_DIR``)."""
    _set_env({"ARTIFACT_PROVIDER": "filesystem", "ARTIFACT_FS_ROOT": os.fspath(root)})


def configure_sqlite(path: str | os.PathLike[str] = "artifacts.db") -> None:
    """Make ``ArtifactStore()`` store blobs in chunks inside the SQLite file at *path*."""
    _set_env({"ARTIFACT_PROVIDER": "sqlite", "ARTIFACT_SQLITE_PATH": os.fspath(path)})


def configure_s3(
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
    bucket: str = "artifacts",
    region: str | None = None,
    endpoint_url: str | None = None,
) -> None:
    """Make ``ArtifactStore()`` use the S3 backend with these credentials and bucket."""
    _set_env(
        {
            "ARTIFACT_PROVIDER": "s3",
            "ARTIFACT_BUCKET": bucket,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_REGION": region,
            "S3_ENDPOINT_URL": endpoint_url,
        }
    )


def configure_redis_session(redis_url: str = "redis://localhost:6379/0") -> None:
    """Make ``ArtifactStore()`` cache sessions in Redis."""
    _set_env({"SESSION_PROVIDER": "redis", "SESSION_REDIS_URL": redis_url})


def load_signing_key(settings: Settings, *, persistent: bool) -> bytes:
    """The presigned-URL key: ``SATCHEL_SIGNING_KEY``, else ``{data_dir}/signing.key`` (created
    once, mode 0600), else for an ephemeral store a random key for this process."""
    if settings.signing_key:
        return settings.signing_key.encode()
    if not persistent or settings.data_dir is None:
        return secrets.token_bytes(32)
    path = settings.data_dir / "signing.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".signing.key.{secrets.token_hex(6)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # first writer wins; others read the winner's key
    except FileExistsError:
        pass
    finally:
        os.unlink(temp)
    return path.read_bytes().strip()


def _describe(settings: type[Settings], exc: ValidationError) -> str:
    """``SATCHEL_PORT='70000': must be 65535 or less``-style text for each bad setting."""
    parts = []
    present = {name.upper() for name in os.environ}
    for error in exc.errors()[:5]:
        name = str(error["loc"][0]) if error["loc"] else ""
        field = settings.model_fields.get(name)
        alias = getattr(field.validation_alias, "choices", None) if field else None
        if field is None:  # reported under the variable's own name
            variable = name.upper() or "settings"
        else:
            names = [str(a).upper() for a in alias] if alias else [f"SATCHEL_{name}".upper()]
            given = [n for n in names if n in present]
            variable = (given or names)[0]  # the one the caller set, else the main name
        given = error.get("input")
        shown = f"={given!r}" if isinstance(given, str | int | float) and name else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{variable}{shown}: {message}")
    return "invalid configuration: " + "; ".join(parts)
