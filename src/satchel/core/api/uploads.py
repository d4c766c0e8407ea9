"""The contract of presigned URLs and uploads: presigned, multipart and tus (resumable)."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any, Protocol

from satchel.core.api._derived import derived
from satchel.core.content import ArtifactContent
from satchel.core.progress import ProgressCallback
from satchel.core.ranges import ByteRange
from satchel.core.requests import MultipartUploadCompleteRequest, MultipartUploadInitRequest
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES, Scope
from satchel.core.signing import PresignedURL
from satchel.core.unset import UNSET, Unset
from satchel.core.uploads import SignedUpload, UploadStatus

__all__ = ["UploadsAPI"]


class UploadsAPI(Protocol):
    # -- presigned URLs --------------------------------------------------------------------

    async def presign(
        self,
        artifact_id: str,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        """A URL that lets anyone holding it GET the artifact's content for *expires* seconds.

        The caller must be allowed to read the artifact. ``repr()`` of the result hides the
        signature; ``str()`` (or ``.url``) is the full URL, ``.expires_at`` its expiry.
        A public artifact's URL is its permanent public URL (``expires_at`` None), as
        :meth:`get_url` gives it.
        """

    async def get_url(
        self,
        artifact_id: str,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        policy: str = "auto",
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        """A URL of the artifact's content, of the flavor *policy* asks for: ``auto`` (the
        permanent public URL of a public artifact, else a presigned one), ``public`` (the
        public URL; ConflictError when the artifact is private) or ``presigned`` (signed for
        *expires* seconds even when the artifact is public). The public URL is the bucket's
        (``SATCHEL_S3_PUBLIC_URL_BASE``) or Satchel's content route; ``expires_at`` is None.
        """

    async def presign_upload(
        self,
        session_id: str | None = None,
        filename: str | None = None,
        mime_type: str | None = None,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        scope: Scope | str = Scope.SESSION,
    ) -> tuple[PresignedURL, str]:
        """A URL a client PUTs a file to, and the artifact id it will have once registered
        (in *scope*: the session's, by default, or the user's or the sandbox's)."""

    async def register_uploaded_artifact(
        self,
        artifact_id: str,
        *,
        mime: str | None = None,
        summary: str = "",
        meta: dict[str, Any] | None = None,
        filename: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
        ttl: int | Unset | None = UNSET,
    ) -> bool:
        """Turn the bytes PUT to a presign_upload URL into the artifact *artifact_id*.

        Raises ConflictError before anything was uploaded or when registered already,
        ArtifactExpiredError after the upload expired, ArtifactNotFoundError for an unknown id.
        """

    async def open_signed_content(
        self,
        token: str,
        *,
        byte_range: ByteRange | None = None,
        if_range: str | None = None,
        if_none_match: str | None = None,
        head: bool = False,
        local_file: bool = False,
    ) -> ArtifactContent:
        """Open the content a presigned download URL grants (*token*: the URL's last segment),
        as :meth:`open_content` does. AccessDeniedError when tampered with or expired."""

    async def signed_put(
        self,
        token: str,
        data: bytes | AsyncIterable[bytes],
        *,
        length: int | None = None,
        sha256: str | None = None,
    ) -> SignedUpload:
        """Receive the body PUT to a presigned upload or part URL (*token*: its last segment).

        A body that fails, or differs from its declared *length* or *sha256*
        (``sha256:<hex>``), is not accepted. A presigned upload URL accepts one complete
        body: a failed attempt never replaces it, and a second body is refused (409).
        """

    # -- multipart uploads -------------------------------------------------------------------

    async def initiate_multipart_upload(
        self, request: MultipartUploadInitRequest
    ) -> dict[str, Any]:
        """Start a multipart upload; returns ``upload_id``, ``artifact_id``, ``session_id``,
        ``key`` and ``expires_at``."""

    async def get_part_upload_url(
        self,
        upload_id: str,
        part_number: int,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        """A URL a client PUTs part *part_number* (1-10000) to; the answer carries its ETag."""

    async def upload_part(
        self,
        upload_id: str,
        part_number: int,
        data: bytes | AsyncIterable[bytes],
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> str:
        """Store one part (bytes or an async byte stream; replacing an earlier upload of the
        same number); return its ETag.

        *progress_callback* follows this part's bytes (:mod:`satchel.core.progress`); parts
        sent in parallel add up through one :class:`~satchel.core.progress.TransferProgress`.
        A callback that raises fails the part, which is then not stored.
        """

    async def complete_multipart_upload(
        self,
        request: MultipartUploadCompleteRequest,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> str:
        """Assemble the listed parts, in order, into the upload's artifact; return its id.

        Refuses part numbers out of order or repeated, a part never uploaded, an ETag that
        does not match, and a part other than the last smaller than the minimum part size.
        """

    async def abort_multipart_upload(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> bool:
        """Abandon a multipart upload and reclaim its parts."""

    # -- resumable uploads (tus 1.0) -----------------------------------------------------------

    async def tus_create(
        self,
        *,
        length: int,
        metadata: dict[str, str] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> UploadStatus:
        """Start a resumable upload of *length* bytes described by tus ``Upload-Metadata``
        keys: ``filename``, ``mime`` (or ``filetype`` / ``content-type``), ``scope``,
        ``session_id``, ``summary``, ``meta`` (a JSON object) and ``ttl`` (seconds or ``none``).
        A length of 0 completes the (empty) artifact at once."""

    async def tus_info(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> UploadStatus:
        """Where a resumable upload stands (completed uploads included)."""

    async def tus_append(
        self,
        upload_id: str,
        offset: int,
        data: bytes | AsyncIterable[bytes],
        *,
        checksum: tuple[str, bytes] | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        progress_callback: ProgressCallback | None = None,
    ) -> UploadStatus:
        """Append *data* at *offset*; the artifact is created when the length is reached.

        *progress_callback* follows this request's bytes (:mod:`satchel.core.progress`); one
        that raises cuts the body short there (tus keeps what arrived; no artifact is made).

        Raises ConflictError when *offset* is not the upload's offset, TooLargeError past the
        declared length, ChecksumMismatchError when *checksum* ``(algorithm, digest)`` differs
        (the bytes are then discarded). Without a checksum, the bytes of a body cut short are
        kept and the offset moves past them, as tus expects.
        """

    async def tus_terminate(
        self, upload_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> None:
        """Abandon an unfinished resumable upload and reclaim its bytes."""

    # -- derived -------------------------------------------------------------------------------

    @derived
    async def presign_short(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 15 minutes."""
        return await self.presign(artifact_id, 900, user_id=user_id, session_id=session_id)

    @derived
    async def presign_medium(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 1 hour."""
        return await self.presign(artifact_id, 3600, user_id=user_id, session_id=session_id)

    @derived
    async def presign_long(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 24 hours."""
        return await self.presign(artifact_id, 86400, user_id=user_id, session_id=session_id)
