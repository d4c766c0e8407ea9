"""Satchel: a self-hosted artifact store.

Immutable content-addressed blobs plus typed metadata, with session / user / sandbox scopes
and real access control. ``ArtifactStore`` is the embedded async library; its method names and
parameters follow chuk-artifacts, so code written against that API runs by changing the import.
Every face (embedded, remote, synchronous) implements :class:`ArtifactStoreAPI`.

Every name is imported on first use, so ``import satchel`` costs almost nothing (the CLI starts
fast) and the remote client never loads the embedded store's database and storage libraries.
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from satchel._version import __version__

if _TYPE_CHECKING:
    from satchel.client import (
        RemoteArtifactStore,
        SyncArtifactStore,
        build_registry,
        connect,
        connect_sync,
    )
    from satchel.client.artifacts import (
        Artifact,
        Aspect,
        AsyncArtifact,
        AsyncLocalFileArtifact,
        AsyncSatchel,
        LocalFileArtifact,
        SafePath,
        Satchel,
    )
    from satchel.config import Settings
    from satchel.core.api import ArtifactStoreAPI
    from satchel.core.bulk import DeleteResult
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
    from satchel.core.models import (
        ArtifactList,
        ArtifactMetadata,
        GridKeyComponents,
    )
    from satchel.core.progress import TransferProgress
    from satchel.core.ranges import ByteRange
    from satchel.core.requests import (
        MultipartUploadCompleteRequest,
        MultipartUploadInitRequest,
        MultipartUploadPart,
        StreamDownloadRequest,
        StreamUploadRequest,
    )
    from satchel.core.scopes import (
        DEFAULT_PRESIGN_EXPIRES,
        DEFAULT_TTL,
        Scope,
        StorageScope,
    )
    from satchel.core.signing import PresignedURL
    from satchel.core.unset import (
        UNSET,
        Unset,
    )
    from satchel.core.uploads import (
        SignedUpload,
        UploadStatus,
    )
    from satchel.store import ArtifactStore

_WHERE = {
    "AccessDeniedError": "satchel.core.errors",
    "Artifact": "satchel.client.artifacts",
    "ArtifactContent": "satchel.core.content",
    "ArtifactExpiredError": "satchel.core.errors",
    "ArtifactList": "satchel.core.models",
    "ArtifactMetadata": "satchel.core.models",
    "ArtifactNotFoundError": "satchel.core.errors",
    "ArtifactStore": "satchel.store",
    "ArtifactStoreAPI": "satchel.core.api",
    "ArtifactStoreError": "satchel.core.errors",
    "Aspect": "satchel.client.artifacts",
    "AsyncArtifact": "satchel.client.artifacts",
    "AsyncLocalFileArtifact": "satchel.client.artifacts",
    "AsyncSatchel": "satchel.client.artifacts",
    "BlobNotFoundError": "satchel.core.errors",
    "ByteRange": "satchel.core.ranges",
    "ChecksumMismatchError": "satchel.core.errors",
    "ConflictError": "satchel.core.errors",
    "DEFAULT_PRESIGN_EXPIRES": "satchel.core.scopes",
    "DEFAULT_TTL": "satchel.core.scopes",
    "DeleteResult": "satchel.core.bulk",
    "DuplicateRelativePathError": "satchel.core.errors",
    "GridKeyComponents": "satchel.core.models",
    "InsufficientStorageError": "satchel.core.errors",
    "IntegrityError": "satchel.core.errors",
    "InternalError": "satchel.core.errors",
    "InvalidRequestError": "satchel.core.errors",
    "LocalFileArtifact": "satchel.client.artifacts",
    "MethodNotAllowedError": "satchel.core.errors",
    "MultipartUploadCompleteRequest": "satchel.core.requests",
    "MultipartUploadInitRequest": "satchel.core.requests",
    "MultipartUploadPart": "satchel.core.requests",
    "NotSupportedError": "satchel.core.errors",
    "PackageFinalizedError": "satchel.core.errors",
    "PreconditionFailedError": "satchel.core.errors",
    "PresignedURL": "satchel.core.signing",
    "ProviderError": "satchel.core.errors",
    "ProviderUnavailableError": "satchel.core.errors",
    "QuotaExceededError": "satchel.core.errors",
    "RangeNotSatisfiableError": "satchel.core.errors",
    "RemoteArtifactStore": "satchel.client",
    "RemoteUnavailableError": "satchel.core.errors",
    "RetainedError": "satchel.core.errors",
    "SafePath": "satchel.client.artifacts",
    "Satchel": "satchel.client.artifacts",
    "Scope": "satchel.core.scopes",
    "SessionError": "satchel.core.errors",
    "Settings": "satchel.config",
    "SignedUpload": "satchel.core.uploads",
    "StorageScope": "satchel.core.scopes",
    "StreamDownloadRequest": "satchel.core.requests",
    "StreamUploadRequest": "satchel.core.requests",
    "SyncArtifactStore": "satchel.client",
    "TransferProgress": "satchel.core.progress",
    "TooLargeError": "satchel.core.errors",
    "UNSET": "satchel.core.unset",
    "UnauthorizedError": "satchel.core.errors",
    "Unset": "satchel.core.unset",
    "UnsupportedMediaTypeError": "satchel.core.errors",
    "UploadStatus": "satchel.core.uploads",
    "UpstreamError": "satchel.core.errors",
    "UpstreamTimeoutError": "satchel.core.errors",
    "build_registry": "satchel.client",
    "connect": "satchel.client",
    "connect_sync": "satchel.client",
}
"""Where each public name lives (imported on first use)."""

__all__ = [
    "DEFAULT_PRESIGN_EXPIRES",
    "DEFAULT_TTL",
    "UNSET",
    "AccessDeniedError",
    "Artifact",
    "ArtifactContent",
    "ArtifactExpiredError",
    "ArtifactList",
    "ArtifactMetadata",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "ArtifactStoreAPI",
    "ArtifactStoreError",
    "Aspect",
    "AsyncArtifact",
    "AsyncLocalFileArtifact",
    "AsyncSatchel",
    "BlobNotFoundError",
    "ByteRange",
    "ChecksumMismatchError",
    "ConflictError",
    "DeleteResult",
    "DuplicateRelativePathError",
    "GridKeyComponents",
    "InsufficientStorageError",
    "IntegrityError",
    "InternalError",
    "InvalidRequestError",
    "LocalFileArtifact",
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
    "SafePath",
    "Satchel",
    "Scope",
    "SessionError",
    "Settings",
    "SignedUpload",
    "StorageScope",
    "StreamDownloadRequest",
    "StreamUploadRequest",
    "SyncArtifactStore",
    "TooLargeError",
    "TransferProgress",
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
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'satchel' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
