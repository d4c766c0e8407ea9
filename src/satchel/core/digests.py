"""Digests and etags: content addresses (``sha256:<hex>``) and per-version etags."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from satchel.core.errors import InvalidRequestError, NotSupportedError

__all__ = [
    "SHA256_PREFIX",
    "blob_path",
    "check_digest",
    "make_etag",
    "new_blake3",
    "sha256_digest",
]

SHA256_PREFIX = "sha256:"
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def sha256_digest(hexdigest: str) -> str:
    return SHA256_PREFIX + hexdigest


def check_digest(digest: str) -> str:
    """Validate a ``sha256:<64 hex>`` content address."""
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        raise InvalidRequestError(f"not a sha256 digest: {digest!r}")
    return digest


def blob_path(digest: str) -> str:
    """Fan-out relative path of a blob: ``sha256/ab/cd/<hex>``."""
    hexdigest = check_digest(digest)[len(SHA256_PREFIX) :]
    return f"sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"


def make_etag(artifact_id: str, version: int, digest: str) -> str:
    """A strong etag naming one version of one artifact (content and metadata)."""
    raw = f"{artifact_id}\x00{version}\x00{digest}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def new_blake3() -> Any:
    """A BLAKE3 hasher (the optional ``blake3`` package), for SATCHEL_MANIFEST_BLAKE3."""
    try:
        import blake3
    except ImportError:
        raise NotSupportedError(
            "SATCHEL_MANIFEST_BLAKE3 needs the blake3 package: pip install 'satchel[blake3]'"
        ) from None
    return blake3.blake3(max_threads=1)
