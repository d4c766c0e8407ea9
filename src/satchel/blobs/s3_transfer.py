"""Writing S3 objects: multipart uploads, and publishing staged objects at content keys.

Publishing prefers a server-side copy (CopyObject, or UploadPartCopy ranges past
``max_copy_bytes``). Some S3 look-alikes cannot copy encrypted objects (Ceph RGW before Reef
answers NotImplemented) or quietly drop the encryption a copy asks for; then the staged object
is streamed through this process into the content key instead, and server-side copies are not
tried again. With encryption configured, every published object is checked (HeadObject echoes
it): one the server did not encrypt is deleted and reported as NotSupportedError, so no
plaintext stays where encryption was asked for.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from satchel.blobs.base import DEFAULT_CHUNK_SIZE
from satchel.blobs.s3_client import S3Connection
from satchel.blobs.s3_config import MAX_PART_SIZE, MAX_PARTS
from satchel.core.errors import NotSupportedError, ProviderError, TooLargeError

__all__ = ["S3Writer", "part_size_for"]

_MD5_INLINE_BYTES = 256 * 1024
_PARTS_PER_SIZE_STEP = 1000


def part_size_for(part_size: int, number: int) -> int:
    """Size of part *number*: doubles every 1000 parts, so 10 000 parts reach S3's 5 TiB."""
    return min(part_size << ((number - 1) // _PARTS_PER_SIZE_STEP), MAX_PART_SIZE)


def _content_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


async def content_md5(data: bytes) -> str:
    """Content-MD5 of *data*, so S3 rejects a body damaged on the way (BadDigest)."""
    if len(data) <= _MD5_INLINE_BYTES:
        return _content_md5(data)
    return await asyncio.to_thread(_content_md5, data)  # hashlib lets go of the GIL


class S3Writer:
    """Puts, multipart uploads and publication for one :class:`S3Connection`."""

    def __init__(self, connection: S3Connection) -> None:
        self._s3 = connection
        self._config = connection.config
        self._server_copy: bool | None = None  # None: not tried yet

    def write_params(self, *, content: bool) -> dict[str, Any]:
        """Encryption (always) and storage class (content objects only) of a new object."""
        params = dict(self._config.encryption.write_params())
        if content and self._config.storage_class:
            params["StorageClass"] = self._config.storage_class
        return params

    def encryption_applied(self, answer: dict[str, Any]) -> bool:
        """Whether S3's answer (PutObject, HeadObject…) shows the configured encryption."""
        mode = self._config.encryption.mode
        if mode is None:
            return True
        if mode == "SSE-C":
            return answer.get("SSECustomerAlgorithm") == "AES256"
        return answer.get("ServerSideEncryption") == mode

    async def put_object(self, key: str, data: bytes, what: str, *, content: bool) -> None:
        """One PutObject; a content object the server did not encrypt is deleted and refused."""
        answer = await self._s3.call(
            "put_object",
            what,
            Key=key,
            Body=data,
            ContentMD5=await content_md5(data),
            ContentType="application/octet-stream",
            **self.write_params(content=content),
        )
        if content and not self.encryption_applied(answer):
            await self._refuse_unencrypted(key)

    async def _refuse_unencrypted(self, key: str) -> None:
        await self._s3.cleanup((key, None))
        mode = self._config.encryption.mode
        raise NotSupportedError(
            f"the S3 server did not apply the configured encryption ({mode}) to {key}; "
            "it was deleted"
        )

    async def upload_multipart(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        what: str,
        *,
        buffer: bytearray | None = None,
        observe: Callable[[bytes], None] | None = None,
        before_complete: Callable[[], object] | None = None,
        content: bool = False,
    ) -> None:
        """Upload *buffer* then *chunks* as a multipart upload to *key*, one part in memory.

        *observe* sees every chunk (hashing, size limits) and *before_complete* runs once all
        parts are sent; if either raises, or anything fails, the upload is aborted.
        """
        created = await self._s3.call(
            "create_multipart_upload",
            what,
            Key=key,
            ContentType="application/octet-stream",
            **self.write_params(content=content),
        )
        upload_id: str = created["UploadId"]
        parts: list[dict[str, Any]] = []
        pending = bytearray() if buffer is None else buffer
        try:
            while True:
                size = part_size_for(self._config.part_size, len(parts) + 1)
                if len(pending) >= size:
                    part, pending = bytes(memoryview(pending)[:size]), pending[size:]
                    await self._send_part(key, upload_id, parts, part, what)
                    continue
                chunk = await anext(chunks, None)
                if chunk is None:
                    break
                if observe is not None:
                    observe(chunk)
                pending += chunk
            if pending or not parts:
                await self._send_part(key, upload_id, parts, bytes(pending), what)
            if before_complete is not None:
                before_complete()
            await self._s3.complete_multipart(key, upload_id, parts, what)
        except BaseException:
            if content:
                # Never delete a content key: it may be another replica's committed blob, and
                # a completed object there (an answer lost after CompleteMultipartUpload) holds
                # verified bytes anyway. Only this call's multipart upload is aborted.
                await self._s3.cleanup((key, upload_id))
            else:
                # A lost answer to CompleteMultipartUpload may hide a completed staging object.
                await self._s3.cleanup((key, upload_id), (key, None))
            raise

    async def _send_part(
        self, key: str, upload_id: str, parts: list[dict[str, Any]], data: bytes, what: str
    ) -> None:
        number = len(parts) + 1
        if number > MAX_PARTS:
            raise TooLargeError("the blob exceeds S3's 10 000 parts")
        sent = await self._s3.call(
            "upload_part",
            what,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ContentMD5=await content_md5(data),
            **self._config.encryption.read_params(),
        )
        parts.append({"PartNumber": number, "ETag": sent.get("ETag", "")})

    # -- publication -------------------------------------------------------------------------

    async def publish(self, source: str, digest: str, size: int, *, encrypted: bool) -> bool:
        """Copy the complete object at *source* to *digest*'s content key unless it is there.

        Returns True when this call created the content object. *encrypted*: the source was
        written with the configured SSE-C key. The caller deletes *source*.
        """
        target = self._s3.content_key(digest)
        async with self._s3.publishing(digest):
            if await self._s3.size_of(target) is not None:
                return False
            if self._server_copy is not False:
                try:
                    await self._copy(source, target, size, encrypted=encrypted)
                except NotSupportedError:
                    self._server_copy = False
                else:
                    self._server_copy = await self._is_encrypted(target)
                    if self._server_copy:
                        return True
                    # A plaintext copy: the stream copy below overwrites it encrypted (not
                    # deleted first: the key may already back another replica's artifact).
            await self._stream_copy(source, target, size, encrypted=encrypted)
            if not await self._is_encrypted(target):
                await self._refuse_unencrypted(target)
            return True

    async def _is_encrypted(self, key: str) -> bool:
        if self._config.encryption.mode is None:
            return True
        answer = await self._s3.call(
            "head_object",
            f"cannot look up {key}",
            Key=key,
            **self._config.encryption.read_params(),
        )
        return self.encryption_applied(answer)

    async def _copy(self, source: str, target: str, size: int, *, encrypted: bool) -> None:
        source_params = self._config.encryption.copy_source_params() if encrypted else {}
        if size > self._config.max_copy_bytes:
            await self._copy_in_parts(source, target, size, source_params)
            return
        await self._s3.call(
            "copy_object",
            f"cannot publish {target}",
            Key=target,
            CopySource={"Bucket": self._s3.bucket, "Key": source},
            MetadataDirective="REPLACE",
            ContentType="application/octet-stream",
            **source_params,
            **self.write_params(content=True),
        )

    async def _copy_in_parts(
        self, source: str, target: str, size: int, source_params: dict[str, Any]
    ) -> None:
        part_size = max(self._config.copy_part_size, -(-size // MAX_PARTS))
        what = f"cannot publish {target}"
        created = await self._s3.call(
            "create_multipart_upload",
            what,
            Key=target,
            ContentType="application/octet-stream",
            **self.write_params(content=True),
        )
        upload_id = created["UploadId"]
        parts = []
        try:
            for number, start in enumerate(range(0, size, part_size), start=1):
                copied = await self._s3.call(
                    "upload_part_copy",
                    what,
                    Key=target,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": self._s3.bucket, "Key": source},
                    CopySourceRange=f"bytes={start}-{min(start + part_size, size) - 1}",
                    **source_params,
                    **self._config.encryption.read_params(),
                )
                etag = copied.get("CopyPartResult", {}).get("ETag", "")
                parts.append({"PartNumber": number, "ETag": etag})
            await self._s3.complete_multipart(target, upload_id, parts, what)
        except BaseException:
            await self._s3.cleanup((target, upload_id))  # never the content key (see above)
            raise

    async def _stream_copy(self, source: str, target: str, size: int, *, encrypted: bool) -> None:
        """Copy through this process: read *source*, write *target* (one part in memory)."""
        what = f"cannot publish {target}"
        chunks = self._s3.read(source, what, 0, None, DEFAULT_CHUNK_SIZE, encrypted=encrypted)
        copied = 0

        def count(chunk: bytes) -> None:
            nonlocal copied
            copied += len(chunk)

        def check_size() -> None:
            if copied != size:
                raise ProviderError(f"{what}: the staged object changed while being copied")

        if size <= self._config.multipart_threshold:
            data = b"".join([chunk async for chunk in chunks])
            copied = len(data)
            check_size()
            await self.put_object(target, data, what, content=True)
            return
        await self.upload_multipart(
            target, chunks, what, observe=count, before_complete=check_size, content=True
        )
