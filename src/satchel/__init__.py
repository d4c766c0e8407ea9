"""Satchel: a self-hosted artifact store.

Immutable content-addressed blobs plus typed metadata, with session / user / sandbox scopes
and real access control. ``ArtifactStore`` is the embedded async library; its method names and
parameters follow chuk-artifacts, so code written against that API runs by changing the import.
"""

from satchel._version import __version__
from satchel.client import RemoteArtifactStore, SyncArtifactStore, connect, connect_sync
from satchel.config import Settings
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactExpiredError,
    ArtifactNotFoundError,
    ArtifactStoreError,
    BlobNotFoundError,
    ChecksumMismatchError,
    ConflictError,
    InvalidRequestError,
    NotSupportedError,
    PreconditionFailedError,
    ProviderError,
    ProviderUnavailableError,
    SessionError,
    TooLargeError,
    UnauthorizedError,
)
from satchel.core.models import ArtifactMetadata, GridKeyComponents
from satchel.core.requests import (
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    StreamDownloadRequest,
    StreamUploadRequest,
)
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES, DEFAULT_TTL, Scope, StorageScope
from satchel.core.signing import PresignedURL
from satchel.store import ArtifactList, ArtifactStore

__all__ = [
    "DEFAULT_PRESIGN_EXPIRES",
    "DEFAULT_TTL",
    "AccessDeniedError",
    "ArtifactExpiredError",
    "ArtifactList",
    "ArtifactMetadata",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "ArtifactStoreError",
    "BlobNotFoundError",
    "ChecksumMismatchError",
    "ConflictError",
    "GridKeyComponents",
    "InvalidRequestError",
    "MultipartUploadCompleteRequest",
    "MultipartUploadInitRequest",
    "MultipartUploadPart",
    "NotSupportedError",
    "PreconditionFailedError",
    "PresignedURL",
    "ProviderError",
    "ProviderUnavailableError",
    "RemoteArtifactStore",
    "Scope",
    "SessionError",
    "Settings",
    "StorageScope",
    "StreamDownloadRequest",
    "StreamUploadRequest",
    "SyncArtifactStore",
    "TooLargeError",
    "UnauthorizedError",
    "__version__",
    "connect",
    "connect_sync",
]
