"""What the S3 tests share whichever server they run against (moto or Ceph RGW).

An :class:`S3Endpoint` says where a server is and as whom to talk to it; it makes plain boto3
clients (to arrange and inspect buckets behind the backend's back), fresh buckets for one test,
and the keyword options an :class:`~satchel.blobs.s3.S3BlobStore` needs to use them.
:class:`CallLog` records, and can fail, the S3 calls a store makes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from botocore.config import Config

if TYPE_CHECKING:
    from satchel.blobs.s3 import S3BlobStore

__all__ = ["CallLog", "MakeStore", "S3Endpoint", "http_get", "http_put"]

MakeStore = Callable[..., "S3BlobStore"]

_BUCKET_NUMBERS = itertools.count(1)


async def http_get(url: str) -> httpx.Response:
    """GET *url* (a presigned URL) with a plain HTTP client: no S3 credentials, no SDK."""
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.get(url)


async def http_put(url: str, content: bytes) -> httpx.Response:
    """PUT *content* to *url* (a presigned URL) with a plain HTTP client."""
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.put(url, content=content)


@dataclasses.dataclass(frozen=True)
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str = dataclasses.field(repr=False)
    region: str = "us-east-1"
    enforces: bool = True
    """False for moto, which neither checks signatures nor enforces SSE-C or object lock."""
    encryptions: frozenset[str] = frozenset({"AES256", "aws:kms", "SSE-C"})
    """The server-side encryption modes the server really applies."""

    def client(self) -> Any:
        """A synchronous boto3 S3 client (path-style, checksums only where S3 requires them)."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"mode": "standard", "total_max_attempts": 3},
            ),
        )

    def store_options(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """Keyword options of an S3BlobStore on *bucket* of this server."""
        return {
            "bucket": bucket,
            "endpoint_url": self.url,
            "region": self.region,
            "addressing_style": "path",
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            **extra,
        }

    def create_bucket(self, *, object_lock: bool = False, prefix: str = "satchel-test") -> str:
        """A new, empty bucket with a name unique to this run (versioned when locked)."""
        name = f"{prefix}-{os.getpid()}-{next(_BUCKET_NUMBERS)}"
        params: dict[str, Any] = {"Bucket": name}
        if object_lock:
            params["ObjectLockEnabledForBucket"] = True
        self.client().create_bucket(**params)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in *bucket* under *prefix*."""
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def multipart_uploads(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys of the multipart uploads in progress in *bucket* under *prefix*."""
        found = self.client().list_multipart_uploads(Bucket=bucket, Prefix=prefix)
        return [upload["Key"] for upload in found.get("Uploads", [])]

    def destroy_bucket(self, bucket: str) -> None:
        """Delete everything in *bucket* (every version, unfinished uploads) and the bucket.

        Best effort: what a retention period still protects stays, with its bucket.
        """
        client = self.client()
        for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            with contextlib.suppress(Exception):
                client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                with contextlib.suppress(Exception):
                    client.delete_object(
                        Bucket=bucket,
                        Key=item["Key"],
                        VersionId=item["VersionId"],
                        BypassGovernanceRetention=True,
                    )
        with contextlib.suppress(Exception):
            client.delete_bucket(Bucket=bucket)


class CallLog:
    """The S3 operations a store calls, with their parameters (bodies replaced by their size).

    ``fail(operation, error, after=n)`` makes the (n+1)-th and later calls of *operation* raise
    *error* before anything is sent.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._failures: dict[str, tuple[BaseException, int]] = {}

    @classmethod
    async def attach(cls, store: S3BlobStore) -> CallLog:
        log = cls()
        client = await store._s3.client()
        client.meta.events.register("before-parameter-build.s3", log._record)
        return log

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        shown = {key: value for key, value in params.items() if key != "Body"}
        if "Body" in params:
            body = params["Body"]  # botocore may have wrapped bytes in a BytesIO already
            shown["BodySize"] = body.getbuffer().nbytes if hasattr(body, "getbuffer") else len(body)
        self.calls.append((model.name, shown))
        failure = self._failures.get(model.name)
        if failure is not None:
            error, after = failure
            if self.names().count(model.name) > after:
                raise error

    def fail(self, operation: str, error: BaseException, *, after: int = 0) -> None:
        self._failures[operation] = (error, after)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]
