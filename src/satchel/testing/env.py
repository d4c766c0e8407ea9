"""Which environment variables configure Satchel: a test (or a harness starting a server or the
CLI) removes them so that nothing from the machine's environment reaches the store under test."""

from __future__ import annotations

__all__ = ["is_configuration"]

_PREFIXES = ("SATCHEL_", "ARTIFACT_", "ARTIFACTSTORE_", "SESSION_", "SANDBOX_", "MINIO_")
_NAMES = frozenset(
    # seed 003's names (satchel.config_proxy), which CI machines often set for other reasons
    # and Backblaze's key pair, which the S3 backend's b2 preset reads
    {"CONFIG_PATH", "DBHOST", "DBPORT", "DBUSER", "DBPASS", "DBNAME", "REDIS_URL"}
    | {"B2_KEY_ID", "B2_APP_KEY"}
)


def is_configuration(name: str) -> bool:
    """Whether the environment variable *name* is read by :class:`satchel.Settings`."""
    upper = name.upper()
    return upper.startswith(_PREFIXES) or upper in _NAMES
