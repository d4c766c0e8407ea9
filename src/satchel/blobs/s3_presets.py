"""Provider presets of the S3 backend: what ``provider="b2"`` (``SATCHEL_S3_PROVIDER``) means.

A preset fills in only what was not given: an explicit endpoint, region, addressing style,
checksum mode or credential always wins. ``custom`` (the default, also spelt ``auto``) changes
nothing. Pure: :func:`apply_preset` reads the environment only through the mapping it is given.

=======  ============  ===================================  ==========  ====================
preset   region        endpoint                             addressing  credentials
=======  ============  ===================================  ==========  ====================
aws      (chain)       AWS's own                            virtual     botocore's chain
b2       us-west-004   https://s3.<region>.backblazeb2.com  virtual     B2_KEY_ID/B2_APP_KEY
r2       auto          https://<account>.r2.cloud...        virtual     given
minio    us-east-1     required                             path        given
ceph     us-east-1     required                             path        given
=======  ============  ===================================  ==========  ====================

Every preset keeps botocore's request and response checksums to ``when_required``: R2, B2
and older MinIO and Ceph RGW reject or mishandle the CRC32 headers and trailers botocore
(1.36 and later) sends by default. ``checksum_mode="when_supported"`` opts back in (AWS).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from satchel.core.errors import InvalidRequestError

__all__ = ["CHECKSUM_MODES", "PRESETS", "PROVIDERS", "Preset", "apply_preset", "normalise"]

CHECKSUM_MODES = ("when_required", "when_supported")
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_REGION = re.compile(r"^[a-z0-9-]{1,40}$")


@dataclasses.dataclass(frozen=True)
class Preset:
    """The defaults one provider brings (None: leave it to botocore or to the caller)."""

    name: str
    region: str | None = None
    endpoint: str | None = None
    """Template of the endpoint URL (``{region}``, ``{account_id}``)."""
    addressing_style: str | None = None
    endpoint_required: bool = False
    credentials_env: tuple[str, str] | None = None
    """Environment variables holding the key id and secret, used when none were given."""
    object_lock: bool = False
    """Whether the provider supports S3 Object Lock (retention, legal holds)."""
    note: str = ""


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset("aws", addressing_style="virtual", object_lock=True, note="AWS S3"),
        Preset(
            "b2",
            region="us-west-004",
            endpoint="https://s3.{region}.backblazeb2.com",
            addressing_style="virtual",
            credentials_env=("B2_KEY_ID", "B2_APP_KEY"),
            object_lock=True,
            note="Backblaze B2 (Object Lock on buckets created with it)",
        ),
        Preset(
            "r2",
            region="auto",
            endpoint="https://{account_id}.r2.cloudflarestorage.com",
            addressing_style="virtual",
            endpoint_required=True,
            note="Cloudflare R2 (no Object Lock)",
        ),
        Preset(
            "minio",
            region="us-east-1",
            addressing_style="path",
            endpoint_required=True,
            object_lock=True,
            note="MinIO",
        ),
        Preset(
            "ceph",
            region="us-east-1",
            addressing_style="path",
            endpoint_required=True,
            object_lock=True,
            note="Ceph RADOS Gateway",
        ),
        Preset("custom", note="any other S3 API: nothing preset"),
    )
}
PROVIDERS = tuple(PRESETS)
_ALIASES = {"auto": "custom", "": "custom", "backblaze": "b2", "cloudflare": "r2", "s3": "aws"}


def normalise(provider: str | None, *, variable: str = "provider") -> str:
    """The preset name of *provider* (``None``, ``""`` and ``auto`` are ``custom``).

    Raises:
        InvalidRequestError: an unknown provider, naming *variable*.
    """
    name = (provider or "").strip().lower()
    name = _ALIASES.get(name, name)
    if name not in PRESETS:
        raise InvalidRequestError(
            f"{variable}={provider!r}: unknown S3 provider; use one of {', '.join(PROVIDERS)}"
        )
    return name


def _given(value: Any) -> bool:
    return value is not None and value != ""


def apply_preset(options: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """*options* (S3 backend options, ``provider`` and ``account_id`` among them) with the
    preset's defaults filled in where nothing was given; ``account_id`` is consumed.

    ``addressing_style="auto"`` counts as not given (the preset's style, else botocore's).

    Raises:
        InvalidRequestError: an unknown provider, an invalid account id or region, a preset
            that needs an endpoint given none, or half of a preset's credential pair.
    """
    resolved = dict(options)
    preset = PRESETS[normalise(resolved.get("provider"))]
    account_id = resolved.pop("account_id", None)
    resolved["provider"] = preset.name
    if _given(account_id) and not _ACCOUNT_ID.match(str(account_id)):
        raise InvalidRequestError(f"account_id={account_id!r}: not a valid account id")
    if not _given(resolved.get("region")) and preset.region is not None:
        resolved["region"] = preset.region
    if resolved.get("addressing_style") in (None, "", "auto") and preset.addressing_style:
        resolved["addressing_style"] = preset.addressing_style
    if not _given(resolved.get("endpoint_url")):
        resolved["endpoint_url"] = _endpoint(preset, resolved.get("region"), account_id)
    if preset.credentials_env is not None and not any(
        _given(resolved.get(name))
        for name in ("access_key", "secret_key", "access_key_ref", "secret_key_ref")
    ):
        key_id, secret = preset.credentials_env
        present = [name for name in (key_id, secret) if environ.get(name)]
        if len(present) == 1:
            missing = secret if present == [key_id] else key_id
            raise InvalidRequestError(f"{present[0]} is set but {missing} is not")
        if present:
            resolved["access_key_ref"] = f"env:{key_id}"
            resolved["secret_key_ref"] = f"env:{secret}"
    return resolved


def _endpoint(preset: Preset, region: str | None, account_id: Any) -> str | None:
    if preset.endpoint is None:
        if preset.endpoint_required:
            raise InvalidRequestError(
                f"the {preset.name} S3 provider needs an endpoint: "
                "set SATCHEL_S3_ENDPOINT_URL (endpoint_url)"
            )
        return None
    if "{account_id}" in preset.endpoint:
        if not _given(account_id):
            raise InvalidRequestError(
                f"the {preset.name} S3 provider needs an endpoint: set SATCHEL_S3_ENDPOINT_URL "
                "(endpoint_url) or SATCHEL_S3_ACCOUNT_ID (account_id)"
            )
        return preset.endpoint.format(account_id=account_id)
    if region is None or not _REGION.match(region):
        raise InvalidRequestError(f"region={region!r}: not a valid {preset.name} region")
    return preset.endpoint.format(region=region)
