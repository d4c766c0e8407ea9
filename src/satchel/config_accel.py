"""The HTTP service's nginx mode: ``SATCHEL_ACCEL_REDIRECT_PREFIX`` (docs/operations.md,
"Serving files through nginx"). Empty: off. Set, a GET of a whole file (or of one range of it)
kept on the local filesystem is answered with Satchel's headers, an empty body and
``X-Accel-Redirect: <prefix><sha256/ab/cd/hex>``, for nginx to send the file itself."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

__all__ = ["AccelSettings"]

# one or more path segments of unreserved characters: nothing nginx would decode, split at
# (``?``, ``#``) or treat as a named location (``@``)
_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+/")


class AccelSettings(BaseSettings):
    """Mixed into :class:`satchel.config.Settings` (``SATCHEL_`` prefix)."""

    accel_redirect_prefix: str = Field(
        default="",
        description="nginx internal location blob files are sent from (X-Accel-Redirect), "
        "e.g. /_satchel_blobs/; empty: off (Satchel streams every body itself)",
    )

    @field_validator("accel_redirect_prefix", mode="before")
    @classmethod
    def _location(cls, value: Any) -> Any:
        if value is None:
            return ""
        if not isinstance(value, str):
            return value
        value = value.strip()
        if not value:
            return ""
        if not value.endswith("/"):
            value += "/"
        if not _PREFIX.fullmatch(value) or any(
            segment in (".", "..") for segment in value.split("/")
        ):
            raise ValueError(
                "an nginx location of one or more path segments, such as /_satchel_blobs/ "
                "(letters, digits and . _ ~ -; not . or ..)"
            )
        return value
