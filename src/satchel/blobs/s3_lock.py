"""S3 Object Lock on blobs: retention periods and legal holds, enforced by the bucket itself.

Only a bucket created with Object Lock enabled accepts them (such a bucket is versioned: a
deleted blob leaves its locked version behind until retention ends). Elsewhere these calls
raise NotSupportedError.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from satchel.blobs.s3_client import S3Connection
from satchel.blobs.s3_config import S3Config
from satchel.blobs.s3_errors import s3_code
from satchel.core.digests import check_digest
from satchel.core.errors import (
    ArtifactStoreError,
    BlobNotFoundError,
    InvalidRequestError,
    NotSupportedError,
)

__all__ = ["RETENTION_MODES", "ObjectLockState", "S3ObjectLock"]

RETENTION_MODES = ("GOVERNANCE", "COMPLIANCE")
_NOT_LOCKABLE = frozenset(
    {"InvalidRequest", "ObjectLockConfigurationNotFoundError", "NotImplemented"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectLockState:
    """A blob's lock: retention mode and end (None: none), and whether a legal hold is on."""

    mode: str | None
    retain_until: dt.datetime | None
    legal_hold: bool


class S3ObjectLock:
    """Object Lock operations, mixed into :class:`~satchel.blobs.s3.S3BlobStore`."""

    config: S3Config
    _s3: S3Connection

    async def put_retention(
        self,
        digest: str,
        mode: str,
        until: dt.datetime,
        *,
        bypass_governance: bool = False,
    ) -> None:
        """Keep the blob from deletion or overwrite until *until* (timezone-aware).

        ``GOVERNANCE`` can be shortened with *bypass_governance* (given the permission);
        ``COMPLIANCE`` can only be extended.

        Raises:
            NotSupportedError: the bucket has no Object Lock.
            BlobNotFoundError: no such blob.
            InvalidRequestError: unknown mode, naive or past *until*.
        """
        if mode not in RETENTION_MODES:
            raise InvalidRequestError(f"retention mode must be one of {', '.join(RETENTION_MODES)}")
        if until.tzinfo is None:
            raise InvalidRequestError("the retention end must be timezone-aware")
        if until <= dt.datetime.now(dt.UTC):
            raise InvalidRequestError("the retention end must be in the future")
        params: dict[str, Any] = {"Retention": {"Mode": mode, "RetainUntilDate": until}}
        if bypass_governance:
            params["BypassGovernanceRetention"] = True
        await self._lock_call("put_object_retention", digest, "set retention on", params)

    async def set_legal_hold(self, digest: str, on: bool) -> None:
        """Put a legal hold on the blob (no deletion until released), or release it.

        Raises:
            NotSupportedError: the bucket has no Object Lock.
            BlobNotFoundError: no such blob.
        """
        params: dict[str, Any] = {"LegalHold": {"Status": "ON" if on else "OFF"}}
        await self._lock_call("put_object_legal_hold", digest, "set a legal hold on", params)

    async def object_lock(self, digest: str) -> ObjectLockState:
        """The blob's current retention and legal hold (as HeadObject reports them).

        Raises:
            BlobNotFoundError: no such blob.
        """
        key = self._s3.content_key(check_digest(digest))
        try:
            head = await self._s3.call(
                "head_object",
                f"cannot read the lock of blob {digest}",
                Key=key,
                **self.config.encryption.read_params(),
            )
        except BlobNotFoundError:
            raise BlobNotFoundError(f"no blob {digest}") from None
        return ObjectLockState(
            mode=head.get("ObjectLockMode"),
            retain_until=head.get("ObjectLockRetainUntilDate"),
            legal_hold=head.get("ObjectLockLegalHoldStatus") == "ON",
        )

    async def _lock_call(
        self, operation: str, digest: str, doing: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        key = self._s3.content_key(check_digest(digest))
        if await self._s3.size_of(key) is None:  # some servers answer 500 for a missing key
            raise BlobNotFoundError(f"no blob {digest}")
        try:
            return await self._s3.call(
                operation, f"cannot {doing} blob {digest}", Key=key, **params
            )
        except ArtifactStoreError as exc:
            code = s3_code(exc)
            if isinstance(exc, BlobNotFoundError):
                raise BlobNotFoundError(f"no blob {digest}") from None
            if code in _NOT_LOCKABLE:
                raise NotSupportedError(
                    f"bucket {self.config.bucket!r} does not have S3 Object Lock enabled"
                ) from exc
            raise
