"""Options of the S3 blob backend, checked and resolved once, when the backend is created.

Credentials are given directly, as references (``env:NAME``, ``file:PATH``: read now, an error
if missing), or left to botocore's standard chain (environment, config files, instance roles).
Secrets (the secret key, an SSE-C customer key) live in :class:`Secret` wrappers whose repr and
str never show the value; :meth:`S3Config.redact` scrubs them from any text that leaves the
backend (error messages, log records).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import urllib.parse
from typing import Any

from satchel.blobs.s3_presets import CHECKSUM_MODES, normalise
from satchel.core.errors import InvalidRequestError
from satchel.secrets import resolve_reference

__all__ = [
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "Encryption",
    "S3Config",
    "Secret",
    "resolve_reference",
]

MiB = 1024 * 1024
GiB = 1024 * MiB
MIN_PART_SIZE = 5 * MiB
"""Smallest part S3 accepts in a multipart upload, except the last."""
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000
ADDRESSING_STYLES = ("auto", "path", "virtual")
_SSE_NAMES = {
    "aes256": "AES256",
    "sse-s3": "AES256",
    "aws:kms": "aws:kms",
    "kms": "aws:kms",
    "sse-kms": "aws:kms",
}


class Secret:
    """A secret string: ``reveal()`` gives it, ``repr``/``str`` never do."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def _customer_key(value: bytes | str) -> bytes:
    """An SSE-C key: 32 raw bytes, or their base64."""
    if isinstance(value, str):
        try:
            value = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError("the SSE-C key must be base64 of 32 bytes") from None
    if len(value) != 32:
        raise InvalidRequestError("the SSE-C key must be 32 bytes (AES-256)")
    return bytes(value)


@dataclasses.dataclass(frozen=True, repr=False)
class Encryption:
    """Server-side encryption of the objects the backend writes.

    ``mode`` is ``None`` (the bucket's default), ``"AES256"`` (SSE-S3), ``"aws:kms"`` (SSE-KMS,
    with ``kms_key_id`` or the account's default key) or ``"SSE-C"`` (a customer key S3 uses and
    forgets: every read and copy must present it again).
    """

    mode: str | None = None
    kms_key_id: str | None = None
    _customer_key: bytes | None = None

    @property
    def customer_key(self) -> bool:
        return self._customer_key is not None

    def write_params(self) -> dict[str, Any]:
        """Parameters of PutObject, CreateMultipartUpload and a copy's destination."""
        if self.mode == "SSE-C":
            return self.read_params()
        if self.mode == "aws:kms" and self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": self.mode} if self.mode else {}

    def read_params(self) -> dict[str, Any]:
        """Parameters of GetObject, HeadObject and UploadPart (SSE-C only)."""
        if self._customer_key is None:
            return {}
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": self._customer_key}

    def copy_source_params(self) -> dict[str, Any]:
        """Parameters that unlock an SSE-C encrypted copy source."""
        if self._customer_key is None:
            return {}
        return {
            "CopySourceSSECustomerAlgorithm": "AES256",
            "CopySourceSSECustomerKey": self._customer_key,
        }

    def hidden_strings(self) -> list[str]:
        """Every spelling of the customer key that could end up in text."""
        if self._customer_key is None:
            return []
        key = self._customer_key
        return [base64.b64encode(key).decode(), key.hex(), repr(key)[2:-1]]

    def __repr__(self) -> str:
        if self.mode == "SSE-C":
            return "Encryption(mode='SSE-C', key=<hidden>)"
        return f"Encryption(mode={self.mode!r}, kms_key_id={self.kms_key_id!r})"

    __str__ = __repr__


@dataclasses.dataclass(eq=False)
class S3Config:
    """Everything an :class:`~satchel.blobs.s3.S3BlobStore` is configured with.

    Secrets given here (``secret_key``, ``sse_customer_key``…) are moved into :class:`Secret`
    and :class:`Encryption` on construction and the plain fields cleared.
    """

    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: str = "auto"
    key_prefix: str = ""
    storage_class: str | None = None
    access_key: str | None = None
    secret_key: str | None = dataclasses.field(default=None, repr=False)
    session_token: str | None = dataclasses.field(default=None, repr=False)
    access_key_ref: str | None = None
    secret_key_ref: str | None = None
    sse: str | None = None
    sse_kms_key_id: str | None = None
    sse_customer_key: bytes | str | None = dataclasses.field(default=None, repr=False)
    sse_customer_key_ref: str | None = None
    multipart_threshold: int = 8 * MiB
    part_size: int = 8 * MiB
    max_copy_bytes: int = 5 * GiB
    copy_part_size: int = 512 * MiB
    max_attempts: int = 3
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_pool_connections: int = 64
    provider: str = "custom"
    checksum_mode: str = "when_required"
    public_url_base: str | None = None
    encryption: Encryption = dataclasses.field(init=False)
    credentials: tuple[str, Secret, Secret | None] | None = dataclasses.field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.bucket or "/" in self.bucket:
            raise InvalidRequestError(f"invalid S3 bucket name {self.bucket!r}")
        if self.addressing_style not in ADDRESSING_STYLES:
            raise InvalidRequestError(
                f"addressing_style must be one of {', '.join(ADDRESSING_STYLES)}"
            )
        self.key_prefix = _normalise_prefix(self.key_prefix)
        self.provider = normalise(self.provider)
        if self.checksum_mode not in CHECKSUM_MODES:
            raise InvalidRequestError(
                f"checksum_mode={self.checksum_mode!r}: use {' or '.join(CHECKSUM_MODES)}"
            )
        self.public_url_base = _public_url_base(self.public_url_base)
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise InvalidRequestError(f"part_size must be between {MIN_PART_SIZE} and 5 GiB")
        if not MIN_PART_SIZE <= self.copy_part_size <= MAX_PART_SIZE:
            raise InvalidRequestError(f"copy_part_size must be between {MIN_PART_SIZE} and 5 GiB")
        if self.multipart_threshold < 1 or self.max_copy_bytes < 1:
            raise InvalidRequestError("multipart_threshold and max_copy_bytes must be positive")
        if self.max_attempts < 1:
            raise InvalidRequestError("max_attempts must be at least 1")
        self.credentials = self._resolve_credentials()
        self.encryption = self._resolve_encryption()
        self.secret_key = self.session_token = self.sse_customer_key = None

    def _resolve_credentials(self) -> tuple[str, Secret, Secret | None] | None:
        access, secret = self.access_key, self.secret_key
        if self.access_key_ref:
            if access:
                raise InvalidRequestError("give access_key or access_key_ref, not both")
            access = resolve_reference(self.access_key_ref, "access_key_ref")
        if self.secret_key_ref:
            if secret:
                raise InvalidRequestError("give secret_key or secret_key_ref, not both")
            secret = resolve_reference(self.secret_key_ref, "secret_key_ref")
        if not access and not secret:
            return None  # botocore's standard credential chain
        if not access or not secret:
            raise InvalidRequestError("an S3 access key needs its secret key, and vice versa")
        token = Secret(self.session_token) if self.session_token else None
        return access, Secret(secret), token

    def _resolve_encryption(self) -> Encryption:
        key: bytes | str | None = self.sse_customer_key
        if self.sse_customer_key_ref:
            if key is not None:
                raise InvalidRequestError("give sse_customer_key or its reference, not both")
            key = resolve_reference(self.sse_customer_key_ref, "sse_customer_key_ref")
        mode = None
        if self.sse:
            mode = _SSE_NAMES.get(self.sse.strip().lower())
            if mode is None:
                raise InvalidRequestError(f"sse must be AES256 or aws:kms, not {self.sse!r}")
        if self.sse_kms_key_id:
            if mode not in (None, "aws:kms"):
                raise InvalidRequestError("sse_kms_key_id needs sse='aws:kms'")
            mode = "aws:kms"
        if key is not None:
            if mode is not None:
                raise InvalidRequestError("an SSE-C key excludes SSE-S3 and SSE-KMS")
            return Encryption("SSE-C", None, _customer_key(key))
        return Encryption(mode, self.sse_kms_key_id)

    def redact(self, text: str) -> str:
        """*text* with every secret this configuration holds replaced by ``***``."""
        hidden = self.encryption.hidden_strings()
        if self.credentials is not None:
            hidden.append(self.credentials[1].reveal())
            if self.credentials[2] is not None:
                hidden.append(self.credentials[2].reveal())
        for value in hidden:
            if value:
                text = text.replace(value, "***")
        return text


def _public_url_base(url: str | None) -> str | None:
    """``https://host/path`` without its trailing slash; None or empty: no public URLs."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidRequestError(
            f"public_url_base={url!r}: must be an http(s) URL with no query or fragment"
        )
    return url.rstrip("/")


def _normalise_prefix(prefix: str) -> str:
    """``a/b`` and ``/a/b/`` both become ``a/b/``; the empty prefix stays empty."""
    prefix = prefix.strip("/")
    if not prefix:
        return ""
    if any(part in ("", ".", "..") for part in prefix.split("/")) or "\x00" in prefix:
        raise InvalidRequestError(f"invalid S3 key prefix {prefix!r}")
    return prefix + "/"
