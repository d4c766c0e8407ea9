"""Presigned download URLs and signed-URL verification.

With the S3 backend (and no SSE-C key) a presigned download URL is S3's own, signed by the
backend after the access check, with the artifact's filename and type as response headers.
For memory, filesystem and sqlite backends a presigned URL points at ``satchel serve``
(``{SATCHEL_PUBLIC_URL}/v1/signed/{token}``); the token is an HMAC-signed, method-bound,
expiring grant (:mod:`satchel.core.signing`). The store signs; the service verifies with the
same key, so a URL made by the embedded library works against a server sharing its data dir.
"""

from __future__ import annotations

from satchel.core.access import Caller
from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.models import ArtifactRecord
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.core.signing import PresignedURL, SignedGrant, sign_grant, verify_grant
from satchel.store.base import StoreBase
from satchel.store.direct import direct_transfers

__all__ = ["PresignMixin"]


class PresignMixin(StoreBase):
    def _check_expires(self, expires: object) -> int:
        limit = self.settings.presign_max_seconds
        if isinstance(expires, bool) or not isinstance(expires, int) or not 1 <= expires <= limit:
            raise InvalidRequestError(f"expires must be a whole number of seconds, 1 to {limit}")
        return expires

    def _signed_url(self, grant: SignedGrant) -> PresignedURL:
        token = sign_grant(grant, self.signing_key())
        return PresignedURL(f"{self.settings.resolved_public_url()}/v1/signed/{token}")

    def verify_signed(self, token: str, method: str) -> SignedGrant:
        """Check a presigned URL's token for *method*; AccessDeniedError when tampered/expired."""
        grant = verify_grant(token, self.signing_key(), method=method, now=self._now())
        if grant.sandbox_id != self.sandbox_id:
            raise AccessDeniedError("signed URL belongs to another sandbox")
        return grant

    async def presign(
        self,
        artifact_id: str,
        expires: int = DEFAULT_PRESIGN_EXPIRES,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
    ) -> PresignedURL:
        """A URL that lets anyone holding it GET the artifact's content until it expires.

        The caller must be allowed to read the artifact. ``repr()`` of the result hides the
        signature; ``str()`` is the full URL (hand it to a client or curl).
        """
        seconds = self._check_expires(expires)
        record = await self._load(artifact_id, await self._caller(user_id, session_id))
        transfers = direct_transfers(self.blobs_for(record))
        if transfers is not None:
            # The backend serves the URL without asking Satchel: it must not outlive the artifact.
            if record.expires_at is not None:
                seconds = max(1, min(seconds, int(record.expires_at - self._now())))
            url = await transfers.presign_get(
                record.sha256, seconds, filename=record.filename, content_type=record.mime
            )
            return PresignedURL(url)
        return self._signed_url(
            SignedGrant(
                method="GET",
                kind="download",
                sandbox_id=self.sandbox_id,
                expires_at=int(self._now()) + seconds,
                artifact_id=record.artifact_id,
            )
        )

    async def presign_short(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 15 minutes."""
        return await self.presign(artifact_id, 900, user_id=user_id, session_id=session_id)

    async def presign_medium(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 1 hour."""
        return await self.presign(artifact_id, 3600, user_id=user_id, session_id=session_id)

    async def presign_long(
        self, artifact_id: str, *, user_id: str | None = None, session_id: str | None = None
    ) -> PresignedURL:
        """A presigned download URL valid for 24 hours."""
        return await self.presign(artifact_id, 86400, user_id=user_id, session_id=session_id)

    async def signed_download(self, token: str) -> ArtifactRecord:
        """The live artifact a GET presigned URL grants (for the service's signed route)."""
        grant = self.verify_signed(token, "GET")
        if grant.kind != "download" or grant.artifact_id is None:
            raise AccessDeniedError("this signed URL is not a download URL")
        return await self._load(grant.artifact_id, Caller())
