"""Satchel's own presigned URLs: HMAC-signed, method-bound, expiring grants.

For memory, filesystem and sqlite backends a presigned URL points at ``satchel serve``
(``{SATCHEL_PUBLIC_URL}/v1/signed/{token}``); the token is a grant signed with the store's key
(:mod:`satchel.core.signing`). The store signs and verifies with the same key, so a URL made by
the embedded library works against a server sharing its data directory.
"""

from __future__ import annotations

from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.signing import PresignedURL, SignedGrant, sign_grant, verify_grant
from satchel.store.context import StoreContext

__all__ = ["Signer"]


class Signer:
    def __init__(self, context: StoreContext) -> None:
        self.context = context

    def check_expires(self, expires: object) -> int:
        """A URL lifetime in seconds, from 1 to the configured maximum."""
        limit = self.context.settings.presign_max_seconds
        if isinstance(expires, bool) or not isinstance(expires, int) or not 1 <= expires <= limit:
            raise InvalidRequestError(f"expires must be a whole number of seconds, 1 to {limit}")
        return expires

    def grant(self, method: str, kind: str, expires_at: float, **subject: object) -> SignedGrant:
        """A grant of this sandbox (its expiry rounded down to a whole second)."""
        return SignedGrant(
            method=method,
            kind=kind,
            sandbox_id=self.context.sandbox_id,
            expires_at=int(expires_at),
            **subject,  # type: ignore[arg-type]
        )

    def url(self, grant: SignedGrant) -> PresignedURL:
        token = sign_grant(grant, self.context.signing_key())
        base = self.context.settings.resolved_public_url()
        return PresignedURL(f"{base}/v1/signed/{token}", float(grant.expires_at))

    def verify(self, token: str, method: str) -> SignedGrant:
        """The grant of a token for *method*; AccessDeniedError when tampered with or expired."""
        grant = verify_grant(
            token, self.context.signing_key(), method=method, now=self.context.now()
        )
        if grant.sandbox_id != self.context.sandbox_id:
            raise AccessDeniedError("signed URL belongs to another sandbox")
        return grant
