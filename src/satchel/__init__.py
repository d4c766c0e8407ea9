"""Satchel: a self-hosted artifact store.

Immutable content-addressed blobs plus typed metadata, with session / user / sandbox scopes
and real access control. ``ArtifactStore`` is the embedded async library; its method names and
parameters follow chuk-artifacts, so code written against that API runs by changing the import.
Every face (embedded, remote, synchronous) implements :class:`ArtifactStoreAPI`.

``ArtifactStore`` is imported on first use, so ``import satchel`` (and the remote client)
never loads the embedded store's database and storage libraries until it is needed.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from satchel._version import __version__
from satchel.client import (
    RemoteArtifactStore,
    SyncArtifactStore,
    build_registry,
    connect,
    connect_sync,
)
from satchel.config import Settings
from satchel.core.api import ArtifactStoreAPI
from satchel.core.content import ArtifactContent
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    BlobNotFoundError,
    ChecksumMismatchError,
    ConflictError,
    DuplicateRelativePathError,
    InsufficientStorageError,
    IntegrityError,
    InternalError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotSupportedError,
    PackageFinalizedError,
    PreconditionFailedError,
    ProviderError,
    ProviderUnavailableError,
    QuotaExceededError,
    RangeNotSatisfiableError,
    RemoteUnavailableError,
    RetainedError,
    SessionError,
    TooLargeError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    UpstreamError,
    UpstreamTimeoutError,
)
from satchel.core.models import ArtifactList, ArtifactMetadata, GridKeyComponents
from satchel.core.ranges import ByteRange
from satchel.core.requests import (
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    StreamDownloadRequest,
    StreamUploadRequest,
)
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES, DEFAULT_TTL, Scope, StorageScope
from satchel.core.signing import PresignedURL
from satchel.core.unset import UNSET, Unset
from satchel.core.uploads import SignedUpload, UploadStatus

if _TYPE_CHECKING:
    from satchel.store import ArtifactStore

__all__ = [
    "DEFAULT_PRESIGN_EXPIRES",
    "DEFAULT_TTL",
    "UNSET",
    "AccessDeniedError",
    "ArtifactContent",
    "ArtifactExpiredError",
    "ArtifactList",
    "ArtifactMetadata",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "ArtifactStoreAPI",
    "ArtifactStoreError",
    "BlobNotFoundError",
    "ByteRange",
    "ChecksumMismatchError",
    "ConflictError",
    "DuplicateRelativePathError",
    "GridKeyComponents",
    "InsufficientStorageError",
    "IntegrityError",
    "InternalError",
    "InvalidRequestError",
    "MethodNotAllowedError",
    "MultipartUploadCompleteRequest",
    "MultipartUploadInitRequest",
    "MultipartUploadPart",
    "NotSupportedError",
    "PackageFinalizedError",
    "PreconditionFailedError",
    "PresignedURL",
    "ProviderError",
    "ProviderUnavailableError",
    "QuotaExceededError",
    "RangeNotSatisfiableError",
    "RemoteArtifactStore",
    "RemoteUnavailableError",
    "RetainedError",
    "Scope",
    "SessionError",
    "Settings",
    "SignedUpload",
    "StorageScope",
    "StreamDownloadRequest",
    "StreamUploadRequest",
    "SyncArtifactStore",
    "TooLargeError",
    "UnauthorizedError",
    "Unset",
    "UnsupportedMediaTypeError",
    "UploadStatus",
    "UpstreamError",
    "UpstreamTimeoutError",
    "__version__",
    "build_registry",
    "connect",
    "connect_sync",
]


def __getattr__(name: str) -> _Any:
    if name == "ArtifactStore":
        from satchel.store import ArtifactStore

        globals()["ArtifactStore"] = ArtifactStore
        return ArtifactStore
    raise AttributeError(f"module 'satchel' has no attribute {name!r}")
