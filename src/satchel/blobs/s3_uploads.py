"""Presigned URLs of the S3 backend: downloads, and direct uploads that bypass Satchel.

A direct upload stages the client's bytes at ``{prefix}uploads/<upload id>``, written through
a presigned PUT (one request) or presigned UploadPart URLs (multipart). The client is not
trusted: :meth:`S3DirectUploads.complete_direct_upload` reads the staged bytes back through
sha256 (and the size and digest bounds), then publishes them at their content key and deletes
the staged object. Until then nothing the client sent is visible as a blob.

SSE-C: a presigned URL cannot carry the customer key without handing it to the client, so
presigned downloads are refused and staged uploads are stored without it; the published
content object is encrypted with the key by the server-side copy.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
import uuid
from collections.abc import Sequence
from typing import Any

from satchel.blobs.base import DEFAULT_CHUNK_SIZE, Digester
from satchel.blobs.s3_client import S3Connection
from satchel.blobs.s3_config import MAX_PARTS, S3Config
from satchel.blobs.s3_transfer import S3Writer
from satchel.core.digests import check_digest
from satchel.core.errors import (
    BlobNotFoundError,
    ConflictError,
    InvalidRequestError,
    NotSupportedError,
    ProviderError,
    TooLargeError,
)
from satchel.core.models import BlobInfo

__all__ = ["MAX_PRESIGN_SECONDS", "DirectUpload", "S3DirectUploads"]

MAX_PRESIGN_SECONDS = 7 * 24 * 3600
"""SigV4 presigned URLs live at most a week."""
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclasses.dataclass(frozen=True, slots=True)
class DirectUpload:
    """A direct upload in progress: Satchel's id, its staging key, S3's multipart id if any."""

    upload_id: str
    key: str
    multipart_id: str | None = None


def _check_expiry(expires_in: int) -> int:
    if not 1 <= expires_in <= MAX_PRESIGN_SECONDS:
        raise InvalidRequestError(f"expires_in must be between 1 and {MAX_PRESIGN_SECONDS} s")
    return int(expires_in)


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` and an RFC 5987 ``filename*`` (RFC 6266)."""
    name = filename.replace("\\", "_").replace("/", "_")
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"%' else "_" for c in name)
    encoded = urllib.parse.quote(name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


class S3DirectUploads:
    """Presigning and direct uploads, mixed into :class:`~satchel.blobs.s3.S3BlobStore`."""

    config: S3Config
    _s3: S3Connection
    _writer: S3Writer

    async def _presign(self, operation: str, params: dict[str, Any], expires_in: int) -> str:
        await self._s3.check_region()  # a URL signed for the wrong region would not work
        client = await self._s3.client()
        with self._s3.errors("cannot presign a URL"):
            url: str = await client.generate_presigned_url(
                operation,
                Params={"Bucket": self.config.bucket, **params},
                ExpiresIn=_check_expiry(expires_in),
            )
        return url

    async def presign_get(
        self,
        digest: str,
        expires_in: int,
        *,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """A URL that downloads the blob for *expires_in* seconds with a plain GET.

        *filename* makes S3 answer ``Content-Disposition: attachment``; *content_type* sets the
        answer's ``Content-Type``. The URL does not check that the blob exists.

        Raises:
            NotSupportedError: the backend encrypts with SSE-C.
            InvalidRequestError: malformed digest, or *expires_in* outside 1 s … 7 days.
        """
        if self.config.encryption.customer_key:
            raise NotSupportedError("presigned downloads are not possible with SSE-C encryption")
        params: dict[str, Any] = {"Key": self._s3.content_key(check_digest(digest))}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        if content_type:
            params["ResponseContentType"] = content_type
        return await self._presign("get_object", params, expires_in)

    # -- direct uploads ----------------------------------------------------------------------

    def direct_upload(self, upload_id: str, multipart_id: str | None = None) -> DirectUpload:
        """The :class:`DirectUpload` of ids kept elsewhere (e.g. in the catalog)."""
        if not _UPLOAD_ID.match(upload_id):
            raise InvalidRequestError(f"invalid direct upload id {upload_id!r}")
        return DirectUpload(upload_id, self._s3.uploads_root + upload_id, multipart_id)

    async def create_direct_upload(self, *, multipart: bool = False) -> DirectUpload:
        """Start a direct upload: one presigned PUT, or (*multipart*) presigned parts."""
        upload = self.direct_upload(uuid.uuid4().hex)
        if not multipart:
            return upload
        # SSE-S3 / SSE-KMS apply to the staged parts; an SSE-C key never goes to clients.
        encryption = self.config.encryption
        params = {} if encryption.customer_key else encryption.write_params()
        created = await self._s3.call(
            "create_multipart_upload",
            "cannot start a direct upload",
            Key=upload.key,
            ContentType="application/octet-stream",
            **params,
        )
        return dataclasses.replace(upload, multipart_id=created["UploadId"])

    async def presign_put(
        self, upload: DirectUpload, expires_in: int, *, content_type: str | None = None
    ) -> str:
        """A URL the client PUTs the whole content to (with *content_type*, if given here)."""
        upload = self._checked(upload)
        if upload.multipart_id is not None:
            raise InvalidRequestError("a multipart direct upload takes parts: presign_put_part")
        params: dict[str, Any] = {"Key": upload.key}
        if content_type:
            params["ContentType"] = content_type
        return await self._presign("put_object", params, expires_in)

    async def presign_put_part(
        self, upload: DirectUpload, part_number: int, expires_in: int
    ) -> str:
        """A URL the client PUTs part *part_number* (1 … 10 000) to; all but the last ≥ 5 MiB."""
        upload = self._checked(upload)
        if upload.multipart_id is None:
            raise InvalidRequestError("not a multipart direct upload: use presign_put")
        if not 1 <= part_number <= MAX_PARTS:
            raise InvalidRequestError(f"part_number must be between 1 and {MAX_PARTS}")
        params = {"Key": upload.key, "UploadId": upload.multipart_id, "PartNumber": part_number}
        return await self._presign("upload_part", params, expires_in)

    async def complete_direct_upload(
        self,
        upload: DirectUpload,
        *,
        parts: Sequence[tuple[int, str]] | None = None,
        max_bytes: int | None = None,
        expected_digest: str | None = None,
    ) -> BlobInfo:
        """Verify what the client uploaded and publish it as a blob.

        Args:
            upload: the direct upload.
            parts: ``(part number, ETag)`` pairs the client reports for a multipart upload;
                None asks S3 which parts it holds.
            max_bytes: largest acceptable size.
            expected_digest: the digest the content must have.

        Returns:
            The blob's digest and size (``created`` False when identical content existed).

        Raises:
            ConflictError: nothing was uploaded.
            TooLargeError, InvalidRequestError: size or digest check failed.
            ArtifactNotFoundError: S3 no longer knows the multipart upload.

        The upload is used up either way: its staged bytes are deleted.
        """
        upload = self._checked(upload)
        what = f"cannot complete direct upload {upload.upload_id}"
        verified = upload.key
        try:
            if upload.multipart_id is not None:
                # Once completed here, no part URL can change the object any more.
                await self._complete_parts(upload, parts, what)
            else:
                # The single PUT URL stays usable until it expires: a client could replace the
                # object between its verification and its publication. Verify and publish a
                # private copy instead (a single PUT is at most 5 GiB: one CopyObject).
                verified = await self._private_copy(upload.key, what)
            size = await self._s3.size_of(verified, encrypted=False)
            if size is None:
                raise ConflictError("nothing has been uploaded")
            if max_bytes is not None and size > max_bytes:
                raise TooLargeError(f"content exceeds the limit of {max_bytes} bytes")
            digester = Digester(max_bytes=max_bytes, expected_digest=expected_digest)
            async for chunk in self._s3.read(
                verified, what, 0, None, DEFAULT_CHUNK_SIZE, encrypted=False
            ):
                digester.update(chunk)
            digest = digester.finish()
            if digester.size != size:
                raise ProviderError(f"{what}: the staged object changed while being verified")
            created = await self._writer.publish(verified, digest, size, encrypted=False)
            return BlobInfo(digest=digest, size=size, created=created)
        finally:
            await self._s3.cleanup((upload.key, None), (verified, None))

    async def _private_copy(self, key: str, what: str) -> str:
        """Copy the client's object at *key* to a staging key only Satchel writes; its key,
        or ConflictError when nothing was uploaded."""
        private = self._s3.staging_key()
        try:
            await self._s3.call(
                "copy_object",
                what,
                Key=private,
                CopySource={"Bucket": self._s3.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType="application/octet-stream",
            )
        except BlobNotFoundError:
            raise ConflictError("nothing has been uploaded") from None
        return private

    async def _complete_parts(
        self, upload: DirectUpload, parts: Sequence[tuple[int, str]] | None, what: str
    ) -> None:
        assert upload.multipart_id is not None
        if parts is None:
            listed = await self._s3.list_parts(upload.key, upload.multipart_id)
        else:
            listed = [{"PartNumber": int(n), "ETag": str(etag)} for n, etag in sorted(parts)]
        if not listed:
            await self._s3.cleanup((upload.key, upload.multipart_id))
            raise ConflictError("nothing has been uploaded")
        try:
            await self._s3.complete_multipart(upload.key, upload.multipart_id, listed, what)
        except BaseException:
            await self._s3.cleanup((upload.key, upload.multipart_id))
            raise

    async def abort_direct_upload(self, upload: DirectUpload) -> None:
        """Forget a direct upload and whatever was staged for it (idempotent)."""
        upload = self._checked(upload)
        if upload.multipart_id is not None:
            await self._s3.abort_multipart(upload.key, upload.multipart_id)
        await self._s3.delete_key(upload.key)

    def _checked(self, upload: DirectUpload) -> DirectUpload:
        """The upload as this backend would name it (its key is never taken from outside)."""
        return self.direct_upload(upload.upload_id, upload.multipart_id)
