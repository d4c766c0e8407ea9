"""Presigned URL tokens: HMAC-SHA256 signed, method-bound, expiring capabilities. Pure.

A token is ``<payload>.<signature>``, both base64url without padding (any other spelling is
refused). The payload is compact JSON naming what the bearer may do: ``m`` (HTTP method),
``k`` (kind: ``download``, ``upload``, ``part``), ``s`` (sandbox), ``a`` (artifact id), ``c``
(the start of the content's sha256, for downloads), ``u`` (upload id), ``n`` (part number) and
``e`` (expiry, epoch seconds). Verification checks the signature in constant time, then the method
and the expiry.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from typing import Any

from satchel.core.errors import AccessDeniedError

__all__ = ["PresignedURL", "SignedGrant", "sign_grant", "verify_grant"]


@dataclasses.dataclass(frozen=True, slots=True)
class SignedGrant:
    """What a presigned URL allows."""

    method: str
    kind: str
    sandbox_id: str
    expires_at: int
    artifact_id: str | None = None
    upload_id: str | None = None
    part_number: int | None = None
    content: str | None = None
    """For a download: the start of the content's sha256 it was made for (the URL stops
    working when the content is replaced)."""

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "m": self.method,
            "k": self.kind,
            "s": self.sandbox_id,
            "e": self.expires_at,
        }
        if self.artifact_id is not None:
            payload["a"] = self.artifact_id
        if self.upload_id is not None:
            payload["u"] = self.upload_id
        if self.part_number is not None:
            payload["n"] = self.part_number
        if self.content is not None:
            payload["c"] = self.content
        return payload


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Decode unpadded base64url, refusing any other spelling of the same bytes (padding,
    other alphabets, stray characters): a token has exactly one valid form."""
    decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(decoded) != text:
        raise ValueError("not canonical base64url")
    return decoded


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def sign_grant(grant: SignedGrant, key: bytes) -> str:
    """The token for *grant*, signed with *key*."""
    payload = _b64(json.dumps(grant.to_payload(), separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(key, payload))}"


def verify_grant(token: str, key: bytes, *, method: str, now: float) -> SignedGrant:
    """Check *token* for *method* at time *now*; raise AccessDeniedError with a clear reason."""
    try:
        payload, signature = token.split(".", 1)
        given = _unb64(signature)
    except (ValueError, TypeError) as exc:
        raise AccessDeniedError("malformed signed URL") from exc
    if not hmac.compare_digest(given, _mac(key, payload)):
        raise AccessDeniedError("signed URL signature does not match (tampered or wrong key)")
    try:
        data = json.loads(_unb64(payload))
        grant = SignedGrant(
            method=str(data["m"]),
            kind=str(data["k"]),
            sandbox_id=str(data["s"]),
            expires_at=int(data["e"]),
            artifact_id=data.get("a"),
            upload_id=data.get("u"),
            part_number=data.get("n"),
            content=data.get("c"),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise AccessDeniedError("malformed signed URL") from exc
    if grant.method != method.upper():
        raise AccessDeniedError(f"this signed URL allows {grant.method}, not {method.upper()}")
    if grant.expires_at <= now:
        raise AccessDeniedError("signed URL has expired")
    return grant


class PresignedURL(str):
    """A presigned URL: usable as the plain ``str`` it is, while ``repr()`` hides its signature.

    ``url`` is the full URL; ``expires_at`` the epoch second it stops working (None when the
    issuer did not say).
    """

    expires_at: float | None

    def __new__(cls, url: str, expires_at: float | None = None) -> PresignedURL:
        made = super().__new__(cls, url)
        made.expires_at = expires_at
        return made

    @property
    def url(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __reduce__(self) -> tuple[type[PresignedURL], tuple[str, float | None]]:
        return (PresignedURL, (self.url, self.expires_at))

    def __repr__(self) -> str:
        base, query_mark, _ = self.partition("?")
        if query_mark:  # a backend's URL (S3): the signature is in the query string
            return f"PresignedURL('{base}?<signature redacted>')"
        head, _, token = self.rpartition("/")
        payload = token.split(".", 1)[0]
        return f"PresignedURL('{head}/{payload}.<signature redacted>')"
