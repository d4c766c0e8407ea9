"""S3 blob backend: content-addressed objects in a bucket of AWS S3 or an S3 look-alike
(Ceph RGW, MinIO, R2, B2…), through aiobotocore.

A put hashes the stream as it arrives. Content that fits under ``multipart_threshold`` is
already hashed when the stream ends, so it is written straight to its content key with one
PutObject (skipped when the key exists). Anything larger goes as a multipart upload to a
staging key, one part in memory at a time; once complete and verified it is copied
server-side to its content key (or dropped if that exists) and the staging object deleted.
S3 shows an object only once its upload completes, and every failure path aborts or deletes
what it staged: no content key ever holds a partial blob.

Presigned URLs and direct uploads live in :mod:`satchel.blobs.s3_uploads`, upload staging
in :mod:`satchel.blobs.s3_staging`, object lock in
:mod:`satchel.blobs.s3_lock`, options in :mod:`satchel.blobs.s3_config`, error mapping in
:mod:`satchel.blobs.s3_errors`.
"""

from __future__ import annotations

import dataclasses
import os
import time
import urllib.parse
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from satchel.blobs.base import DEFAULT_CHUNK_SIZE, BlobPage, Digester, check_range
from satchel.blobs.s3_client import S3Connection
from satchel.blobs.s3_config import S3Config
from satchel.blobs.s3_lifecycle import (
    DEFAULT_DAYS,
    LifecycleChange,
    apply_lifecycle,
    lifecycle_rules,
)
from satchel.blobs.s3_lock import S3ObjectLock
from satchel.blobs.s3_presets import apply_preset
from satchel.blobs.s3_staging import S3Staging
from satchel.blobs.s3_transfer import S3Writer, part_size_for
from satchel.blobs.s3_uploads import S3DirectUploads
from satchel.core.digests import check_digest
from satchel.core.errors import ArtifactStoreError, BlobNotFoundError, InvalidRequestError
from satchel.core.models import BlobInfo

__all__ = ["PrefixDeletion", "S3BlobStore", "part_size_for"]


@dataclasses.dataclass(frozen=True, slots=True)
class PrefixDeletion:
    """What :meth:`S3BlobStore.delete_prefix` deleted, or would delete on a dry run.

    ``keys`` are relative to the backend's key prefix; ``failed`` maps keys S3 refused to
    delete to its reason.
    """

    keys: list[str]
    bytes: int
    dry_run: bool
    failed: dict[str, str] = dataclasses.field(default_factory=dict)


class S3BlobStore(S3DirectUploads, S3ObjectLock):
    """Blobs as objects ``{key_prefix}blobs/sha256/ab/cd/<hex>`` in one S3 bucket.

    Args:
        bucket: the bucket (it must exist).
        config: a complete :class:`~satchel.blobs.s3_config.S3Config`, instead of options.
        **options: the fields of :class:`~satchel.blobs.s3_config.S3Config`:
            ``endpoint_url``, ``region``, ``addressing_style`` (``auto|path|virtual``),
            ``key_prefix``, ``storage_class``, credentials (``access_key`` + ``secret_key``
            or ``access_key_ref`` + ``secret_key_ref`` as ``env:NAME`` / ``file:PATH``;
            neither: botocore's chain), encryption (``sse="AES256"``, ``sse="aws:kms"`` with
            ``sse_kms_key_id``, or ``sse_customer_key`` / ``sse_customer_key_ref``),
            ``multipart_threshold``, ``part_size``, ``max_attempts``, timeouts,
            ``checksum_mode``, ``public_url_base``; ``provider`` (``aws|b2|r2|minio|ceph|custom``)
            and ``account_id`` (R2) fill in what a provider implies
            (:mod:`satchel.blobs.s3_presets`; what is given always wins).

    Raises:
        InvalidRequestError: an option is invalid or a credential reference names nothing.
    """

    name = "s3"

    def __init__(
        self, bucket: str | None = None, *, config: S3Config | None = None, **options: Any
    ) -> None:
        if config is None:
            if bucket is None:
                raise InvalidRequestError("the S3 blob backend needs a bucket")
            options = apply_preset(options, os.environ)
            try:
                config = S3Config(bucket=bucket, **options)
            except TypeError as exc:
                raise InvalidRequestError(f"invalid S3 backend option: {exc}") from None
        self.config = config
        self._s3 = S3Connection(config)
        self._writer = S3Writer(self._s3)

    def __repr__(self) -> str:
        config = self.config
        return (
            f"S3BlobStore(bucket={config.bucket!r}, endpoint_url={config.endpoint_url!r}, "
            f"key_prefix={config.key_prefix!r}, encryption={config.encryption!r})"
        )

    __str__ = __repr__

    # -- writing -----------------------------------------------------------------------------

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        """Store the bytes of *chunks*; see the module docstring for how."""
        digester = Digester(max_bytes=max_bytes, expected_digest=expected_digest)
        stream = aiter(chunks)
        buffer = bytearray()
        async for chunk in stream:
            digester.update(chunk)
            buffer += chunk
            if len(buffer) > self.config.multipart_threshold:
                return await self._put_multipart(buffer, stream, digester)
        digest = digester.finish()
        return await self._put_single(digest, bytes(buffer))

    async def _put_single(self, digest: str, data: bytes) -> BlobInfo:
        key = self._s3.content_key(digest)
        async with self._s3.publishing(digest):
            if await self._s3.size_of(key) is not None:
                return BlobInfo(digest=digest, size=len(data), created=False)
            await self._writer.put_object(key, data, f"cannot store blob {digest}", content=True)
        return BlobInfo(digest=digest, size=len(data), created=True)

    async def _put_multipart(
        self, buffer: bytearray, stream: AsyncIterator[bytes], digester: Digester
    ) -> BlobInfo:
        staging = self._s3.staging_key()
        digests: list[str] = []
        await self._writer.upload_multipart(
            staging,
            stream,
            "cannot store a blob",
            buffer=buffer,
            observe=digester.update,
            before_complete=lambda: digests.append(digester.finish()),
        )
        try:
            created = await self._writer.publish(staging, digests[0], digester.size, encrypted=True)
        finally:
            await self._s3.cleanup((staging, None))
        return BlobInfo(digest=digests[0], size=digester.size, created=created)

    # -- reading -----------------------------------------------------------------------------

    async def open_range(
        self,
        digest: str,
        start: int = 0,
        end: int | None = None,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[bytes]:
        check_range(start, end)
        key = self._s3.content_key(check_digest(digest))
        try:
            async for chunk in self._s3.read(
                key, f"cannot read blob {digest}", start, end, chunk_size
            ):
                yield chunk
        except BlobNotFoundError:
            raise BlobNotFoundError(f"no blob {digest}") from None

    async def head(self, digest: str) -> BlobInfo | None:
        size = await self._s3.size_of(self._s3.content_key(check_digest(digest)))
        return None if size is None else BlobInfo(digest=digest, size=size)

    async def delete(self, digest: str) -> bool:
        key = self._s3.content_key(check_digest(digest))
        async with self._s3.publishing(digest):
            if await self._s3.size_of(key) is None:
                return False
            await self._s3.call("delete_object", f"cannot delete blob {digest}", Key=key)
        return True

    async def list_page(self, *, cursor: str | None = None, limit: int = 1000) -> BlobPage:
        if limit < 1:
            raise InvalidRequestError("limit must be at least 1")
        params: dict[str, Any] = {"Prefix": self._s3.content_root}
        if cursor is not None:
            params["StartAfter"] = self._s3.content_key(check_digest(cursor))
        found: list[BlobInfo] = []
        while len(found) < limit:
            page = await self._s3.call(
                "list_objects_v2",
                "cannot list blobs",
                MaxKeys=min(1000, limit - len(found)),
                **params,
            )
            for item in page.get("Contents", []):
                digest = self._s3.digest_of_key(item["Key"])
                if digest is not None:
                    found.append(BlobInfo(digest=digest, size=int(item["Size"])))
            if not page.get("IsTruncated"):
                return BlobPage(blobs=found, next_cursor=None)
            params.pop("StartAfter", None)
            params["ContinuationToken"] = page["NextContinuationToken"]
        return BlobPage(blobs=found, next_cursor=found[-1].digest)

    # -- bulk deletion and housekeeping ------------------------------------------------------

    async def delete_prefix(self, prefix: str, *, dry_run: bool = True) -> PrefixDeletion:
        """Delete every object under ``{key_prefix}{prefix}``; by default only say what would go.

        Walks the listing a page at a time (DeleteObjects per page of up to 1000 keys). A
        failure part-way raises the mapped error, with a note of how much was deleted before.

        Raises:
            InvalidRequestError: *prefix* is absolute or contains ``..``.
        """
        if prefix.startswith("/") or ".." in prefix.split("/") or "\x00" in prefix:
            raise InvalidRequestError(f"invalid prefix {prefix!r}")
        root = self._s3.prefix
        keys: list[str] = []
        failed: dict[str, str] = {}
        total = 0
        params: dict[str, Any] = {"Prefix": root + prefix}
        try:
            while True:
                page = await self._s3.call("list_objects_v2", "cannot list objects", **params)
                items = page.get("Contents", [])
                if items and not dry_run:
                    answer = await self._s3.call(
                        "delete_objects",
                        f"cannot delete objects under {prefix!r}",
                        Delete={"Objects": [{"Key": item["Key"]} for item in items], "Quiet": True},
                    )
                    for error in answer.get("Errors", []):
                        failed[error["Key"][len(root) :]] = str(error.get("Message") or "")
                for item in items:
                    relative = item["Key"][len(root) :]
                    if relative not in failed:
                        keys.append(relative)
                        total += int(item["Size"])
                if not page.get("IsTruncated"):
                    break
                params["ContinuationToken"] = page["NextContinuationToken"]
        except ArtifactStoreError as exc:
            exc.add_note(f"{len(keys)} objects ({total} bytes) were deleted before the failure")
            raise
        return PrefixDeletion(keys=keys, bytes=total, dry_run=dry_run, failed=failed)

    async def sweep_staging(self, *, older_than: float = 24 * 3600) -> int:
        """Remove what crashed puts left in staging (older than *older_than* seconds).

        A put cleans up after itself; only a process killed mid-put leaves staged parts or
        objects behind. Returns how many were removed. (A bucket lifecycle rule aborting
        incomplete multipart uploads does the same job.)
        """
        cutoff = time.time() - older_than
        root = self._s3.staging_root
        removed = 0
        listing = await self._s3.call("list_multipart_uploads", "cannot list uploads", Prefix=root)
        for upload in listing.get("Uploads", []):
            if upload["Initiated"].timestamp() <= cutoff:
                await self._s3.abort_multipart(upload["Key"], upload["UploadId"])
                removed += 1
        params: dict[str, Any] = {"Prefix": root}
        while True:
            page = await self._s3.call("list_objects_v2", "cannot list staging", **params)
            for item in page.get("Contents", []):
                if item["LastModified"].timestamp() <= cutoff:
                    await self._s3.delete_key(item["Key"])
                    removed += 1
            if not page.get("IsTruncated"):
                return removed
            params["ContinuationToken"] = page["NextContinuationToken"]

    # -- uploads in progress -----------------------------------------------------------------

    def upload_staging(self) -> S3Staging:
        """Staging of multipart and tus uploads in this bucket, shared by every replica."""
        return S3Staging(self._s3, self._writer)

    def public_url(self, digest: str) -> str | None:
        """``{public_url_base}/{content key}`` (URL-quoted), or None without a public URL base.

        Anonymous reads there are the bucket's (or CDN's) business: a bucket policy allowing
        ``s3:GetObject``, a B2 public bucket… The blob need not exist.
        """
        base = self.config.public_url_base
        if base is None:
            return None
        return f"{base}/{urllib.parse.quote(self._s3.content_key(check_digest(digest)))}"

    @property
    def direct_urls(self) -> bool:
        """Whether clients may be handed presigned S3 URLs (never with an SSE-C key)."""
        return not self.config.encryption.customer_key

    # -- health and lifecycle ----------------------------------------------------------------

    async def check(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "backend": self.name,
            "bucket": self.config.bucket,
            "endpoint_url": self.config.endpoint_url,
        }
        try:
            await self._s3.call("head_bucket", f"cannot reach bucket {self.config.bucket!r}")
        except ArtifactStoreError as exc:
            return {**report, "status": "error", "error": exc.message}
        return {**report, "status": "ok"}

    async def lifecycle_rules(self) -> list[dict[str, Any]]:
        """The bucket's lifecycle rules, as S3 answers them (none: empty)."""
        return await lifecycle_rules(self._s3)

    async def apply_lifecycle(
        self, *, days: int = DEFAULT_DAYS, dry_run: bool = False
    ) -> LifecycleChange:
        """Add or update Satchel's staging clean-up rule, merged with the bucket's other rules
        (:mod:`satchel.blobs.s3_lifecycle`)."""
        return await apply_lifecycle(self._s3, days=days, dry_run=dry_run)

    async def close(self) -> None:
        await self._s3.close()
