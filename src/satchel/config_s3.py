"""The S3 backend's settings beyond the basics in :mod:`satchel.config`: the provider preset
(``SATCHEL_S3_PROVIDER``), R2's account id, the checksum mode and the public URL base, and
:func:`s3_blob_options`, which turns all the S3 settings into the backend's options."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

from satchel.blobs.s3_presets import CHECKSUM_MODES, PROVIDERS, normalise
from satchel.core.errors import InvalidRequestError

if TYPE_CHECKING:
    from satchel.config import Settings

__all__ = ["S3ProviderSettings", "s3_blob_options"]


class S3ProviderSettings(BaseSettings):
    """Mixed into :class:`satchel.config.Settings` (``SATCHEL_`` prefix)."""

    s3_provider: str = Field(
        default="custom",
        description=f"{' | '.join(PROVIDERS)}: defaults for that provider (custom: none)",
    )
    s3_account_id: str | None = Field(
        default=None, description="Cloudflare account id (r2: builds the endpoint)"
    )
    s3_checksum_mode: str | None = Field(
        default=None,
        description="when_required (default) | when_supported: botocore's CRC checksums",
    )
    s3_public_url_base: str | None = Field(
        default=None, description="URL under which the bucket's objects are public"
    )

    @field_validator("s3_provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        try:
            return normalise(value)
        except InvalidRequestError:
            raise ValueError(f"unknown S3 provider; use one of {', '.join(PROVIDERS)}") from None

    @field_validator("s3_checksum_mode")
    @classmethod
    def _known_checksum_mode(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in CHECKSUM_MODES:
            raise ValueError(f"use {' or '.join(CHECKSUM_MODES)}")
        return value.strip().lower() if value else None


def s3_blob_options(settings: Settings) -> dict[str, Any]:
    """Keyword options of the S3 blob backend (``create_blob_store("s3", **options)``)."""
    access_ref, secret_ref = settings.s3_access_key_ref, settings.s3_secret_key_ref
    if access_ref is None and secret_ref is None and os.environ.get("IBM_COS_ACCESS_KEY"):
        access_ref, secret_ref = "env:IBM_COS_ACCESS_KEY", "env:IBM_COS_SECRET_KEY"
    options = {
        "bucket": settings.bucket,
        "provider": settings.s3_provider,
        "account_id": settings.s3_account_id,
        "endpoint_url": settings.s3_endpoint_url,
        "region": settings.s3_region,
        "key_prefix": settings.s3_key_prefix,
        "addressing_style": settings.s3_addressing_style,
        "access_key_ref": access_ref,
        "secret_key_ref": secret_ref,
        "storage_class": settings.s3_storage_class,
        "sse": settings.s3_sse,
        "sse_kms_key_id": settings.s3_sse_kms_key_id,
        "sse_customer_key_ref": settings.s3_sse_customer_key_ref,
        "multipart_threshold": settings.s3_multipart_threshold_bytes,
        "part_size": settings.s3_multipart_chunk_bytes,
        "checksum_mode": settings.s3_checksum_mode,
        "public_url_base": settings.s3_public_url_base,
    }
    if options["checksum_mode"] is None:
        del options["checksum_mode"]  # the backend's default
    return options
