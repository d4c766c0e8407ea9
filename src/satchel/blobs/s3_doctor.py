"""A preflight of the S3 backend's bucket (``satchel s3 doctor``): one result per check.

Each :class:`Check` is ``ok``, ``warn``, ``fail`` or ``skip`` (it could not be made because an
earlier one failed, or there is nothing to check). The checks, in order:

endpoint       an HTTP answer from the endpoint (any status)
credentials    ListObjectsV2 (one key) is not refused for the keys or signature
bucket         the bucket exists (and is in the configured region: warn otherwise)
versioning     the bucket's versioning state (information)
object-lock    Object Lock configured or not (information; not an error when absent)
lifecycle      a rule aborts incomplete multipart uploads under the staging prefix (warn if not)
checksums      the botocore checksum mode in use
clock          the server's Date against local time: warn beyond 60 s, fail beyond 15 min
public-url     the public URL base answers HTTP (when set; warn if not)

Nothing is changed in the bucket. No secret reaches a result: messages are the backend's
mapped, redacted errors.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import time
from typing import TYPE_CHECKING, Any

import httpx

from satchel.blobs.s3_errors import S3AccessError, s3_code
from satchel.blobs.s3_lifecycle import aborts_staging_uploads, lifecycle_rules
from satchel.core.errors import ArtifactStoreError, NotSupportedError

if TYPE_CHECKING:
    from satchel.blobs.s3 import S3BlobStore

__all__ = ["CLOCK_FAIL_SECONDS", "CLOCK_WARN_SECONDS", "Check", "run_doctor"]

CLOCK_WARN_SECONDS = 60.0
CLOCK_FAIL_SECONDS = 15 * 60.0
"""SigV4 refuses requests signed more than 15 minutes away from the server's clock."""
_NO_LOCK = frozenset({"ObjectLockConfigurationNotFoundError", "InvalidRequest", "NotImplemented"})
_BAD_KEYS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    status: str
    """``ok``, ``warn``, ``fail`` or ``skip``."""
    detail: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


class _Doctor:
    def __init__(self, store: S3BlobStore) -> None:
        self.store = store
        self.s3 = store._s3
        self.config = store.config
        self.checks: list[Check] = []
        self.server_date: float | None = None
        self.local_date: float | None = None

    def add(self, name: str, status: str, detail: str) -> None:
        self.checks.append(Check(name, status, self.config.redact(detail)))

    async def run(self) -> list[Check]:
        reachable = await self.endpoint()
        if not reachable:
            for name in ("credentials", "bucket", "versioning", "object-lock", "lifecycle"):
                self.add(name, "skip", "the endpoint is unreachable")
        elif await self.bucket():
            await self.versioning()
            await self.object_lock()
            await self.lifecycle()
        else:
            for name in ("versioning", "object-lock", "lifecycle"):
                self.add(name, "skip", "the bucket cannot be used")
        self.checksums()
        self.clock()
        await self.public_url()
        return self.checks

    async def endpoint(self) -> bool:
        try:
            client = await self.s3.client()
            url = str(client.meta.endpoint_url)
        except ArtifactStoreError as exc:
            self.add("endpoint", "fail", exc.message)
            return False
        timeout = httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout)
        try:
            async with httpx.AsyncClient(timeout=timeout) as http:
                answer = await http.head(url)
        except httpx.HTTPError as exc:
            self.add("endpoint", "fail", f"no answer from {url}: {exc or type(exc).__name__}")
            return False
        self.local_date = time.time()
        date = answer.headers.get("date")
        if date:
            with contextlib.suppress(TypeError, ValueError):  # a malformed Date: unknown
                self.server_date = email.utils.parsedate_to_datetime(date).timestamp()
        self.add("endpoint", "ok", f"answered from {url} (HTTP {answer.status_code})")
        return True

    async def bucket(self) -> bool:
        bucket = self.config.bucket
        try:
            await self.s3.call("list_objects_v2", "cannot list the bucket", retry=False, MaxKeys=1)
        except S3AccessError as exc:
            if s3_code(exc) in _BAD_KEYS:
                self.add("credentials", "fail", f"the keys are refused: {exc.message}")
            else:
                self.add("credentials", "fail", f"access denied to the bucket: {exc.message}")
            self.add("bucket", "skip", "the credentials are refused")
            return False
        except ArtifactStoreError as exc:
            if s3_code(exc) == "NoSuchBucket" or "does not exist" in exc.message:
                self.add("credentials", "ok", "accepted (the bucket does not exist)")
                self.add("bucket", "fail", f"the bucket {bucket!r} does not exist")
            else:
                self.add("credentials", "fail", exc.message)
                self.add("bucket", "skip", "it could not be listed")
            return False
        who = "the standard AWS chain" if self.config.credentials is None else "the keys given"
        self.add("credentials", "ok", f"accepted ({who})")
        if self.s3.followed_region is not None:
            self.add(
                "bucket",
                "warn",
                f"{bucket!r} is in region {self.s3.followed_region!r}, not "
                f"{self.config.region!r}: set SATCHEL_S3_REGION={self.s3.followed_region}",
            )
        else:
            self.add("bucket", "ok", f"{bucket!r} exists and can be listed")
        return True

    async def versioning(self) -> None:
        try:
            answer = await self.s3.call("get_bucket_versioning", "cannot read versioning")
        except ArtifactStoreError as exc:
            self.add("versioning", "warn", f"unknown: {exc.message}")
            return
        state = answer.get("Status")
        if state == "Enabled":
            self.add("versioning", "ok", "enabled (a deleted blob keeps its old versions)")
        elif state == "Suspended":
            self.add("versioning", "ok", "suspended")
        else:
            self.add("versioning", "ok", "not enabled")

    async def object_lock(self) -> None:
        try:
            answer = await self.s3.call(
                "get_object_lock_configuration", "cannot read the Object Lock configuration"
            )
        except ArtifactStoreError as exc:
            if s3_code(exc) in _NO_LOCK or isinstance(exc, NotSupportedError):
                self.add("object-lock", "ok", "not configured (no retention or legal holds)")
            else:
                self.add("object-lock", "warn", f"unknown: {exc.message}")
            return
        lock = answer.get("ObjectLockConfiguration", {})
        if lock.get("ObjectLockEnabled") != "Enabled":
            self.add("object-lock", "ok", "not configured (no retention or legal holds)")
            return
        default = lock.get("Rule", {}).get("DefaultRetention")
        if default:
            period = f"{default.get('Days') or default.get('Years')} " + (
                "days" if default.get("Days") else "years"
            )
            detail = f"enabled, default retention {default.get('Mode')} {period}"
        else:
            detail = "enabled, no default retention"
        self.add("object-lock", "ok", detail)

    async def lifecycle(self) -> None:
        staging = self.s3.staging_root
        try:
            rules = await lifecycle_rules(self.s3)
        except ArtifactStoreError as exc:
            self.add("lifecycle", "warn", f"cannot read the rules: {exc.message}")
            return
        days = aborts_staging_uploads(rules, staging)
        if days is None:
            self.add(
                "lifecycle",
                "warn",
                f"no rule aborts incomplete multipart uploads under {staging!r}: "
                "run 'satchel s3 lifecycle --apply'",
            )
        else:
            self.add(
                "lifecycle",
                "ok",
                f"incomplete multipart uploads under {staging!r} are aborted after {days} days",
            )

    def checksums(self) -> None:
        mode = self.config.checksum_mode
        if mode == "when_supported" and self.config.provider not in ("aws", "custom"):
            self.add(
                "checksums",
                "warn",
                f"{mode} with the {self.config.provider} provider, which may refuse "
                "botocore's CRC32 checksums: set SATCHEL_S3_CHECKSUM_MODE=when_required",
            )
        else:
            self.add("checksums", "ok", f"{mode} (provider {self.config.provider})")

    def clock(self) -> None:
        if self.server_date is None or self.local_date is None:
            status = "skip" if self.local_date is None else "warn"
            self.add("clock", status, "the server's clock is unknown (no Date header)")
            return
        skew = self.local_date - self.server_date
        where = "ahead of" if skew > 0 else "behind"
        detail = f"local time is {abs(skew):.0f} s {where} the server's"
        if abs(skew) < 1:
            detail = "local time is within 1 s of the server's"
        if abs(skew) > CLOCK_FAIL_SECONDS:
            self.add("clock", "fail", detail + ": SigV4 refuses requests beyond 15 minutes")
        elif abs(skew) > CLOCK_WARN_SECONDS:
            self.add("clock", "warn", detail + ": synchronise the clock (NTP)")
        else:
            self.add("clock", "ok", detail)

    async def public_url(self) -> None:
        base = self.config.public_url_base
        if base is None:
            self.add("public-url", "skip", "SATCHEL_S3_PUBLIC_URL_BASE is not set")
            return
        timeout = httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout)
        try:
            async with httpx.AsyncClient(timeout=timeout) as http:
                answer = await http.head(base + "/")
        except httpx.HTTPError as exc:
            self.add("public-url", "warn", f"no answer from {base}: {exc or type(exc).__name__}")
            return
        self.add("public-url", "ok", f"answered from {base} (HTTP {answer.status_code})")


async def run_doctor(store: S3BlobStore) -> list[Check]:
    """Every check of *store*'s bucket, in order (see the module docstring)."""
    return await _Doctor(store).run()


def summary(checks: list[Check]) -> dict[str, Any]:
    """Counts per status, and whether any check failed."""
    counts = {status: 0 for status in ("ok", "warn", "fail", "skip")}
    for check in checks:
        counts[check.status] += 1
    return {**counts, "failed": counts["fail"] > 0}
