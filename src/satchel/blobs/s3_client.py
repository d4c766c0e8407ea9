"""The S3 connection behind a backend: client lifecycle, key layout, calls and publishing.

Keys, under the configured prefix::

    {prefix}blobs/sha256/ab/cd/<hex>    content, immutable, visible only once complete
    {prefix}staging/<uuid>              a put in progress (multipart), deleted when done
    {prefix}uploads/<upload id>         a direct (presigned) upload, until completed or aborted

Writing and publishing live in :mod:`satchel.blobs.s3_transfer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
import weakref
from collections.abc import AsyncIterator
from typing import Any

from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from aiobotocore.session import get_session  # type: ignore[import-untyped]

from satchel.blobs.s3_config import S3Config
from satchel.blobs.s3_errors import S3TransientError, mapped_errors, retrying, s3_code
from satchel.core.digests import SHA256_PREFIX, blob_path
from satchel.core.errors import (
    ArtifactNotFoundError,
    ArtifactStoreError,
    BlobNotFoundError,
    ProviderError,
)

__all__ = ["S3Connection"]

logger = logging.getLogger("satchel.blobs.s3")

_REDIRECTS = frozenset({301, 302, 307, 400})
"""Statuses of S3's answers to a request signed for another region than the bucket's."""
_CONTENT_TAIL = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")


class _RedactingFilter(logging.Filter):
    """Scrubs the secrets of live backends from botocore's records (debug logs show headers)."""

    def __init__(self) -> None:
        super().__init__()
        self.configs: weakref.WeakSet[S3Config] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        configs = list(self.configs)
        if configs:
            message = cleaned = record.getMessage()
            for config in configs:
                cleaned = config.redact(cleaned)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_REDACTOR = _RedactingFilter()


def _guard_logs(config: S3Config) -> None:
    _REDACTOR.configs.add(config)
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name.split(".", 1)[0] in ("botocore", "aiobotocore")
    ]
    for name in {"botocore", "aiobotocore", *names}:
        logging.getLogger(name).addFilter(_REDACTOR)  # no-op when already there


class S3Connection:
    """One bucket (and prefix) of one S3 endpoint, reached through a lazily created client."""

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.bucket = config.bucket
        self.prefix = config.key_prefix
        self._session = get_session()
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._client_lock = asyncio.Lock()
        self.region = config.region  # the client's: the configured one, until followed
        self.followed_region: str | None = None  # the bucket's, once a redirect named it
        self._client_region: str | None = None  # what the live client signs for
        self._hinted_region: str | None = None  # where the server said the bucket is
        self._region_checked = False
        self._retired: list[contextlib.AsyncExitStack] = []
        self._publish_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        _guard_logs(config)

    # -- keys --------------------------------------------------------------------------------

    def content_key(self, digest: str) -> str:
        return f"{self.prefix}blobs/{blob_path(digest)}"

    @property
    def content_root(self) -> str:
        return f"{self.prefix}blobs/sha256/"

    @property
    def staging_root(self) -> str:
        return f"{self.prefix}staging/"

    @property
    def uploads_root(self) -> str:
        return f"{self.prefix}uploads/"

    def staging_key(self) -> str:
        return f"{self.staging_root}{uuid.uuid4().hex}"

    def digest_of_key(self, key: str) -> str | None:
        """The digest a content key stores, or None for any other key."""
        if not key.startswith(self.content_root):
            return None
        match = _CONTENT_TAIL.match(key[len(self.content_root) :])
        if match is None or not match[3].startswith(match[1] + match[2]):
            return None
        return SHA256_PREFIX + match[3]

    # -- the client --------------------------------------------------------------------------

    def _client_options(self) -> dict[str, Any]:
        config = self.config
        options: dict[str, Any] = {
            "endpoint_url": config.endpoint_url,
            "region_name": self.region,
            "config": AioConfig(
                signature_version="s3v4",
                s3={"addressing_style": config.addressing_style},
                retries={"mode": "standard", "total_max_attempts": config.max_attempts},
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
                max_pool_connections=config.max_pool_connections,
                # Ceph RGW, B2, R2 and older MinIO reject the CRC checksum headers and
                # trailers botocore sends by default since 1.36 (s3_presets.py)
                request_checksum_calculation=config.checksum_mode,
                response_checksum_validation=config.checksum_mode,
            ),
        }
        if config.credentials is not None:
            access, secret, token = config.credentials
            options["aws_access_key_id"] = access
            options["aws_secret_access_key"] = secret.reveal()
            options["aws_session_token"] = token.reveal() if token else None
        return options

    async def client(self) -> Any:
        """The aiobotocore client, created on first use (on the running event loop)."""
        if self._client is None:
            async with self._client_lock:
                if self._client is None:
                    stack = contextlib.AsyncExitStack()
                    with self.errors("cannot create the S3 client"):
                        creator = self._session.create_client("s3", **self._client_options())
                        client = await stack.enter_async_context(creator)
                    client.meta.events.register_first("needs-retry.s3", self._observe_region)
                    self._client_region = client.meta.region_name
                    self._client, self._stack = client, stack
                    _guard_logs(self.config)  # botocore creates some loggers only now
        return self._client

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        retired, self._retired = self._retired, []
        for old in [*retired, stack]:
            if old is not None:
                await old.aclose()

    # -- a bucket in another region ----------------------------------------------------------

    def _observe_region(self, response: Any = None, **_: Any) -> None:
        """botocore hook (``needs-retry``): note the region an error answer names.

        S3 answers a request signed for the wrong region with a 301 ``PermanentRedirect`` (or a
        400 ``AuthorizationHeaderMalformed``) naming the bucket's region in the
        ``x-amz-bucket-region`` header or a ``<Region>`` element. botocore then retries that
        one request in that region; :meth:`_follow_region` moves the whole client there.
        """
        if not response or response[0] is None or response[0].status_code not in _REDIRECTS:
            return
        parsed = response[1] or {}
        headers = parsed.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        region = headers.get("x-amz-bucket-region") or parsed.get("Error", {}).get("Region")
        if isinstance(region, str) and region and region != self._client_region:
            self._hinted_region = region

    async def _follow_region(self) -> bool:
        """Re-create the client in the region the server named, once; True when it did."""
        region = self._hinted_region
        if region is None or region == self._client_region or self.followed_region is not None:
            return False
        async with self._client_lock:
            if self.followed_region is None:
                logger.warning(
                    "the S3 bucket %r is in region %r, not %r: using %r from now on "
                    "(set SATCHEL_S3_REGION=%s to skip the redirect)",
                    self.bucket, region, self._client_region, region, region,
                )  # fmt: skip
                self.followed_region = self.region = region
                if self._stack is not None:  # calls in flight may still use the old client
                    self._retired.append(self._stack)
                self._client = self._stack = None
        return True

    async def check_region(self) -> None:
        """Before signing a URL no request has checked yet: one HeadBucket, whose answer moves
        the client to the bucket's region if it is elsewhere (errors are left to the URL)."""
        if not self._region_checked:
            self._region_checked = True
            with contextlib.suppress(ArtifactStoreError):
                await self.call("head_bucket", "cannot check the bucket's region")

    def errors(self, what: str) -> mapped_errors:
        return mapped_errors(what, self.bucket, self.config.redact)

    async def call(
        self, operation: str, what: str, *, retry: bool = True, **params: Any
    ) -> dict[str, Any]:
        """``client.<operation>(Bucket=…, **params)``, errors mapped, transient ones retried.

        An answer naming another region for the bucket moves the client there (once, logged),
        and a call that failed for it is made again.
        """

        async def once() -> dict[str, Any]:
            method = getattr(await self.client(), operation)
            with self.errors(what):
                result: dict[str, Any] = await method(Bucket=self.bucket, **params)
                return result

        async def attempt() -> dict[str, Any]:
            return await (
                once() if not retry else retrying(once, attempts=self.config.max_attempts)
            )

        try:
            result = await attempt()
        except ArtifactStoreError:
            if not await self._follow_region():
                raise
            return await attempt()
        self._region_checked = True
        await self._follow_region()
        return result

    # -- small operations --------------------------------------------------------------------

    async def size_of(self, key: str, *, encrypted: bool = True) -> int | None:
        """Size of the object at *key*, or None when there is none."""
        params = self.config.encryption.read_params() if encrypted else {}
        try:
            found = await self.call("head_object", f"cannot look up {key}", Key=key, **params)
        except BlobNotFoundError:
            return None
        return int(found["ContentLength"])

    async def delete_key(self, key: str) -> None:
        """Delete *key* (no error when it is not there)."""
        with contextlib.suppress(BlobNotFoundError):
            await self.call("delete_object", f"cannot delete {key}", Key=key)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort a multipart upload (no error when it is already gone)."""
        with contextlib.suppress(ArtifactNotFoundError):
            await self.call(
                "abort_multipart_upload",
                f"cannot abort the multipart upload of {key}",
                Key=key,
                UploadId=upload_id,
            )

    async def cleanup(self, *keys_and_uploads: tuple[str, str | None]) -> None:
        """Abort uploads / delete keys, shielded from cancellation, never raising.

        Runs on failure paths, where the first error is the one to report.
        """

        async def run() -> None:
            for key, upload_id in keys_and_uploads:
                with contextlib.suppress(Exception):
                    if upload_id is not None:
                        await self.abort_multipart(key, upload_id)
                    else:
                        await self.delete_key(key)

        with contextlib.suppress(Exception):
            await asyncio.shield(run())

    async def read(
        self,
        key: str,
        what: str,
        start: int,
        end: int | None,
        chunk_size: int,
        *,
        encrypted: bool = True,
    ) -> AsyncIterator[bytes]:
        """Yield bytes ``[start, end)`` of *key* in pieces of at most *chunk_size*.

        Objects never change once written, so a connection lost mid-body is resumed with a
        new ranged GET from where it broke (up to ``max_attempts`` times in a row).
        """
        position, failures = start, 0
        while end is None or position < end:
            body = await self._open(key, what, position, end, encrypted=encrypted)
            if body is None:
                return
            try:
                async with body:
                    while end is None or position < end:
                        want = chunk_size if end is None else min(chunk_size, end - position)
                        with self.errors(what):
                            chunk = await _read_up_to(body, want)
                        if not chunk:
                            return
                        position += len(chunk)
                        failures = 0
                        yield chunk
                    return
            except S3TransientError:
                failures += 1
                if failures >= self.config.max_attempts:
                    raise
                await asyncio.sleep(0.1 * 2**failures)

    async def _open(
        self, key: str, what: str, position: int, end: int | None, *, encrypted: bool
    ) -> Any:
        """The streaming body of a (ranged) GET, or None when the range starts past the end."""
        params = self.config.encryption.read_params() if encrypted else {}
        if position > 0 or end is not None:
            params["Range"] = f"bytes={position}-{'' if end is None else end - 1}"
        try:
            response = await self.call("get_object", what, Key=key, **params)
        except BlobNotFoundError:
            raise BlobNotFoundError(f"{what}: not found") from None
        except ProviderError as exc:
            if s3_code(exc) != "InvalidRange":
                raise
            if await self.size_of(key, encrypted=encrypted) is None:
                raise BlobNotFoundError(f"{what}: not found") from None
            return None  # S3 answers 416 for a range past the end (or of an empty object)
        return response["Body"]

    # -- publishing --------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def publishing(self, digest: str) -> AsyncIterator[None]:
        """Serialise this process's publications of one digest (so one of them 'creates')."""
        lock, users = self._publish_locks.get(digest, (asyncio.Lock(), 0))
        self._publish_locks[digest] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._publish_locks[digest]
            if users <= 1:
                del self._publish_locks[digest]
            else:
                self._publish_locks[digest] = (lock, users - 1)

    async def complete_multipart(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], what: str
    ) -> None:
        """Complete a multipart upload from its parts (numbers and ETags).

        Some S3 look-alikes answer a part without an ETag, or complete with an empty one: the
        parts' ETags are then asked for with ListParts, and the answer's ETag is never used.
        """
        if any(not part.get("ETag") for part in parts):
            parts = await self.list_parts(key, upload_id)
        await self.call(
            "complete_multipart_upload",
            what,
            retry=False,  # a retry after a lost answer would find the upload gone
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )

    async def list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        """The parts S3 holds for a multipart upload, as CompleteMultipartUpload wants them."""
        parts: list[dict[str, Any]] = []
        marker = 0
        while True:
            page = await self.call(
                "list_parts",
                f"cannot list the parts of {key}",
                Key=key,
                UploadId=upload_id,
                PartNumberMarker=marker,
            )
            for part in page.get("Parts", []):
                parts.append({"PartNumber": part["PartNumber"], "ETag": part.get("ETag", "")})
            if not page.get("IsTruncated"):
                return parts
            marker = int(page.get("NextPartNumberMarker") or parts[-1]["PartNumber"])


async def _read_up_to(body: Any, size: int) -> bytes:
    """Up to *size* bytes of *body*: fewer only at its end (aiohttp hands out what it has)."""
    first: bytes = await body.read(size)
    if len(first) >= size or not first:
        return first
    pieces, got = [first], len(first)
    while got < size:
        more: bytes = await body.read(size - got)
        if not more:
            break
        pieces.append(more)
        got += len(more)
    return b"".join(pieces)
