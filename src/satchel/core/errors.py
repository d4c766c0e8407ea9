"""The one error tree every face of Satchel raises and maps.

    ArtifactStoreError                 400  (base; seed-compatible generic error)
    ├── InvalidRequestError            400  (also a ValueError)
    │   ├── ChecksumMismatchError      460  (tus checksum extension)
    │   ├── RangeNotSatisfiableError   416  (a byte range beyond the content)
    │   └── UnsupportedMediaTypeError  415  (a body of the wrong Content-Type)
    ├── ArtifactNotFoundError          404
    │   └── BlobNotFoundError          404  (bytes missing in a blob backend)
    ├── MethodNotAllowedError          405
    ├── ArtifactExpiredError           410
    ├── AccessDeniedError              403
    │   └── UnauthorizedError          401  (no or bad credentials)
    ├── PreconditionFailedError        412  (stale If-Match etag)
    ├── ConflictError                  409
    ├── TooLargeError                  413
    ├── QuotaExceededError             429  (a per-user limit: open uploads, sessions)
    ├── NotSupportedError              501  (feature needs another face or backend)
    ├── ProviderError                  502  (blob backend / catalog failure)
    │   ├── ProviderUnavailableError   503
    │   │   └── RemoteUnavailableError 503  (a proxy remote blocked or offline)
    │   ├── InsufficientStorageError   507  (the data disk is full)
    │   └── UpstreamError              502  (a proxy remote failed or lied)
    │       └── UpstreamTimeoutError   504
    ├── InternalError                  500  (a failure Satchel did not foresee)
    └── SessionError                   500

Each class carries ``status_code`` (its HTTP status) and ``code`` (a stable, machine-readable
name used in JSON error bodies), so the HTTP service, the CLI and the remote client map them
the same way: :func:`error_for_code` and :func:`error_for_status` read this tree.
"""

from __future__ import annotations

import errno

__all__ = [
    "AccessDeniedError",
    "ArtifactExpiredError",
    "ArtifactNotFoundError",
    "ArtifactStoreError",
    "BlobNotFoundError",
    "ChecksumMismatchError",
    "ConflictError",
    "DuplicateRelativePathError",
    "InsufficientStorageError",
    "IntegrityError",
    "InternalError",
    "InvalidRequestError",
    "MethodNotAllowedError",
    "NotSupportedError",
    "PackageFinalizedError",
    "PreconditionFailedError",
    "ProviderError",
    "ProviderUnavailableError",
    "QuotaExceededError",
    "RangeNotSatisfiableError",
    "RemoteUnavailableError",
    "RetainedError",
    "SessionError",
    "TooLargeError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "UpstreamError",
    "UpstreamTimeoutError",
    "error_for_answer",
    "error_for_code",
    "error_for_status",
    "is_disk_full",
]


class ArtifactStoreError(Exception):
    """Base of every error Satchel raises on purpose."""

    status_code: int = 400
    code: str = "artifact_store_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers an answer carrying this error must have (e.g. ``Content-Range``)."""
        return {}


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


class DuplicateRelativePathError(ConflictError):
    """A package already has a file at that relative path (seed 001's name)."""

    code = "duplicate_relative_path"


class PackageFinalizedError(ConflictError):
    """A finalized package never changes; a name and version once finalized keep their content."""

    code = "package_finalized"


class RetainedError(ConflictError):
    """A legal hold or unexpired retention forbids deleting (or replacing) the item."""

    code = "retained"


class TooLargeError(ArtifactStoreError):
    """A payload or metadata document exceeds a configured bound."""

    status_code = 413
    code = "too_large"


class QuotaExceededError(ArtifactStoreError):
    """A per-user limit is reached (open uploads, live sessions); finish or drop some first."""

    status_code = 429
    code = "quota_exceeded"


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


class InsufficientStorageError(ProviderError):
    """The disk holding the store is full (HTTP 507): new content is refused until space is
    freed; reads, deletes and garbage collection keep working."""

    status_code = 507
    code = "insufficient_storage"


class UpstreamError(ProviderError):
    """A pull-through cache's remote failed: an error status, a refused connection, or an
    answer that was short or did not match its declared size or digest (HTTP 502)."""

    status_code = 502
    code = "upstream_error"
    blames_upstream = True
    """False when the failure was Satchel's own (no free connection): it does not count
    against the remote (its breaker)."""


class UpstreamTimeoutError(UpstreamError):
    """A pull-through cache's remote did not answer in time (HTTP 504)."""

    status_code = 504
    code = "upstream_timeout"


class RemoteUnavailableError(ProviderUnavailableError):
    """A pull-through cache's remote is not asked now: set offline, or blocked after failing
    again and again (HTTP 503, ``Retry-After`` when it will be asked again)."""

    status_code = 503
    code = "remote_unavailable"

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, int(self.retry_after + 0.999)))}


def is_disk_full(exc: BaseException) -> bool:
    """True when *exc* (an OS, SQLite or PostgreSQL error, or one wrapping it) says the disk or
    the quota is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(current, "sqlite_errorname", None) == "SQLITE_FULL":
            return True
        if getattr(current, "sqlstate", None) == "53100":  # PostgreSQL disk_full
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


class InternalError(ArtifactStoreError):
    """A failure Satchel did not foresee (HTTP 500); the server logs the details."""

    status_code = 500
    code = "internal_error"


class IntegrityError(ArtifactStoreError):
    """Stored bytes failed verification (corrupt or missing); they are never served (HTTP
    500 ``integrity_error``) until restored and verified again."""

    status_code = 500
    code = "integrity_error"


class SessionError(ArtifactStoreError):
    """The session system failed, or a session cannot be used."""

    status_code = 500
    code = "session_error"


class ChecksumMismatchError(InvalidRequestError):
    """Uploaded bytes do not match the checksum the client declared (tus: 460)."""

    status_code = 460
    code = "checksum_mismatch"


class UnauthorizedError(AccessDeniedError):
    """No valid credentials were presented (HTTP 401)."""

    status_code = 401
    code = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        """RFC 9110: a 401 names the scheme that would be accepted."""
        return {"WWW-Authenticate": 'Bearer realm="satchel"'}


class RangeNotSatisfiableError(InvalidRequestError):
    """A byte range lies beyond the content (HTTP 416, with ``Content-Range: bytes */size``)."""

    status_code = 416
    code = "range_not_satisfiable"

    def __init__(self, message: str = "", *, size: int = 0) -> None:
        super().__init__(message or f"the content has {size} bytes")
        self.size = size

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Range": f"bytes */{self.size}", "Accept-Ranges": "bytes"}


class UnsupportedMediaTypeError(InvalidRequestError):
    """A request body of a Content-Type the operation does not take (HTTP 415)."""

    status_code = 415
    code = "unsupported_media_type"


class MethodNotAllowedError(ArtifactStoreError):
    """The resource exists but does not answer this HTTP method (HTTP 405, with ``Allow``)."""

    status_code = 405
    code = "method_not_allowed"

    def __init__(self, message: str = "", *, allow: str = "") -> None:
        super().__init__(message)
        self.allow = allow

    @property
    def headers(self) -> dict[str, str]:
        return {"Allow": self.allow} if self.allow else {}


def _tree(cls: type[ArtifactStoreError] = ArtifactStoreError) -> list[type[ArtifactStoreError]]:
    """Every class of the tree, breadth first (nearest the root first), in declaration order."""
    found: list[type[ArtifactStoreError]] = []
    level = [cls]
    while level:
        found.extend(level)
        level = [sub for parent in level for sub in parent.__subclasses__()]
    return found


def error_for_code(code: str) -> type[ArtifactStoreError]:
    """The error class whose ``code`` is *code* (``ArtifactStoreError`` if unknown)."""
    for cls in _tree():
        if cls.code == code:
            return cls
    return ArtifactStoreError


def error_for_status(status: int) -> type[ArtifactStoreError]:
    """The most general class of the tree answering HTTP *status* (the base excluded): what an
    answer without a known error code raises. Unknown 5xx statuses are ProviderError (a proxy
    or backend failed), other unknown statuses the base class."""
    for cls in _tree()[1:]:
        if cls.status_code == status:
            return cls
    return ProviderError if 500 <= status < 600 else ArtifactStoreError


def error_for_answer(status: int, body: object, path: str) -> ArtifactStoreError:
    """The error an HTTP error answer (*status* 400 or more) stands for: the class its JSON
    body's ``error`` code names, with the body's ``message``; without a code this tree knows (a
    proxy's answer, no body), the class of the status. *body* is the parsed JSON body (None when
    there is none or it is not JSON); *path* names the request in the message of an answer that
    gave none."""
    code: str | None = None
    message = ""
    if isinstance(body, dict):
        code = body.get("error") if isinstance(body.get("error"), str) else None
        message = str(body.get("message") or "")
    cls = error_for_code(code) if code else ArtifactStoreError
    if cls is ArtifactStoreError and code != ArtifactStoreError.code:
        cls = error_for_status(status)
    return cls(message or f"HTTP {status} from {path}")
