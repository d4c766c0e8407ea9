"""The contract of the S3 bucket's care (seed 004): a preflight of the bucket the S3 settings
name, and Satchel's lifecycle rule for its staging prefix. Administration: the embedded store
runs them with its settings (whatever blob backend is in use), a server with its own (admins
only); ``satchel s3 doctor`` and ``satchel s3 lifecycle`` call them."""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["BucketAPI"]


class BucketAPI(Protocol):
    async def s3_doctor(self) -> dict[str, Any]:
        """Check the S3 settings' endpoint, credentials, bucket, versioning, Object Lock,
        lifecycle rules, checksum mode, clock skew and public URL:
        ``{"checks": [{"name", "status", "detail"}], "ok", "warn", "fail", "skip", "failed"}``
        (``status`` is ``ok``, ``warn``, ``fail`` or ``skip``; a check failing is reported,
        never raised)."""

    async def s3_lifecycle(
        self, *, apply: bool = False, days: int = 7, dry_run: bool = False
    ) -> dict[str, Any]:
        """The bucket's lifecycle rules (``{"rules", "satchel_rule"}``); with *apply*, add or
        update Satchel's rule (abort incomplete multipart uploads and expire staged objects
        under ``{key_prefix}staging/`` after *days* days), every other rule kept:
        ``{"action": added|updated|unchanged, "changed", "dry_run", "rule", "previous",
        "rules"}``. *days* is 1 to 3650; *dry_run* says what would change and changes nothing."""
