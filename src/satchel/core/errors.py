"""The one error tree every face of Satchel raises and maps.

    ArtifactStoreError                 400  (base; seed-compatible generic error)
    ├── InvalidRequestError            400  (also a ValueError)
    │   └── ChecksumMismatchError      460  (tus checksum extension)
    ├── ArtifactNotFoundError          404
    │   └── BlobNotFoundError          404  (bytes missing in a blob backend)
    ├── ArtifactExpiredError           410
    ├── AccessDeniedError              403
    │   └── UnauthorizedError          401  (no or bad credentials)
    ├── PreconditionFailedError        412  (stale If-Match etag)
    ├── ConflictError                  409
    ├── TooLargeError                  413
    ├── NotSupportedError              501  (feature needs another face or backend)
    ├── ProviderError                  502  (blob backend / catalog failure)
    │   └── ProviderUnavailableError   503
    └── SessionError                   500

Each class carries ``status_code`` (its HTTP status) and ``code`` (a stable, machine-readable
name used in JSON error bodies), so the HTTP service, the CLI and the remote client map them
the same way.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "ArtifactExpiredError",
    "ArtifactNotFoundError",
    "ArtifactStoreError",
    "BlobNotFoundError",
    "ChecksumMismatchError",
    "ConflictError",
    "InvalidRequestError",
    "NotSupportedError",
    "PreconditionFailedError",
    "ProviderError",
    "ProviderUnavailableError",
    "SessionError",
    "TooLargeError",
    "UnauthorizedError",
    "error_for_code",
]


class ArtifactStoreError(Exception):
    """Base of every error Satchel raises on purpose."""

    status_code: int = 400
    code: str = "artifact_store_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__


class InvalidRequestError(ArtifactStoreError, ValueError):
    """The caller's input is malformed: bad id, path, size, scope, ttl or metadata."""

    status_code = 400
    code = "invalid_request"


class ArtifactNotFoundError(ArtifactStoreError):
    """No artifact (or upload, or session) has that id."""

    status_code = 404
    code = "not_found"


class BlobNotFoundError(ArtifactNotFoundError):
    """A blob backend holds no bytes under that digest."""

    code = "blob_not_found"


class ArtifactExpiredError(ArtifactStoreError):
    """The artifact's TTL has passed; it answers this until it is purged."""

    status_code = 410
    code = "expired"


class AccessDeniedError(ArtifactStoreError):
    """The caller may not perform this operation on this artifact or scope."""

    status_code = 403
    code = "access_denied"


class PreconditionFailedError(ArtifactStoreError):
    """An ``if_match`` etag no longer matches the artifact's current version."""

    status_code = 412
    code = "precondition_failed"


class ConflictError(ArtifactStoreError):
    """The operation conflicts with the current state (e.g. registering twice)."""

    status_code = 409
    code = "conflict"


class TooLargeError(ArtifactStoreError):
    """A payload or metadata document exceeds a configured bound."""

    status_code = 413
    code = "too_large"


class NotSupportedError(ArtifactStoreError):
    """The operation needs a face or backend that this store is not running with."""

    status_code = 501
    code = "not_supported"


class ProviderError(ArtifactStoreError):
    """A storage backend or the catalog failed."""

    status_code = 502
    code = "provider_error"


class ProviderUnavailableError(ProviderError):
    """A storage backend or the catalog cannot be reached right now."""

    status_code = 503
    code = "provider_unavailable"


class SessionError(ArtifactStoreError):
    """The session system failed, or a session cannot be used."""

    status_code = 500
    code = "session_error"


def _all_subclasses(cls: type[ArtifactStoreError]) -> list[type[ArtifactStoreError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


def error_for_code(code: str) -> type[ArtifactStoreError]:
    """Return the error class whose ``code`` is *code* (``ArtifactStoreError`` if unknown)."""
    for cls in _all_subclasses(ArtifactStoreError):
        if cls.code == code:
            return cls
    return ArtifactStoreError


class ChecksumMismatchError(InvalidRequestError):
    """Uploaded bytes do not match the checksum the client declared (tus: 460)."""

    status_code = 460
    code = "checksum_mismatch"


class UnauthorizedError(AccessDeniedError):
    """No valid credentials were presented (HTTP 401)."""

    status_code = 401
    code = "unauthorized"
