"""botocore and aiohttp errors mapped to Satchel's error tree, and retries of transient ones.

    ClientError NoSuchKey / 404                     -> BlobNotFoundError
    ClientError NoSuchUpload                        -> ArtifactNotFoundError
    ClientError NoSuchBucket                        -> ProviderError (names the bucket)
    ClientError AccessDenied, bad or expired keys   -> S3AccessError (a ProviderError, 502:
                                                       the *backend's* credentials failed,
                                                       not the caller's)
    ClientError SlowDown, 5xx, RequestTimeout...    -> S3TransientError (ProviderUnavailable)
    ClientError EntityTooLarge                      -> TooLargeError
    ClientError InvalidPart, EntityTooSmall...      -> InvalidRequestError
    ClientError PreconditionFailed                  -> PreconditionFailedError
    ClientError NotImplemented                      -> NotSupportedError
    cannot connect (refused, DNS, connect timeout)  -> ProviderUnavailableError
    read timeout, connection lost mid-body          -> S3TransientError
    no credentials found                            -> ProviderError
    anything else from botocore                     -> ProviderError

Only :class:`S3TransientError` is retried by :func:`retrying` (botocore has already retried
connection failures by then). The original exception stays reachable as ``__cause__``;
:func:`s3_code` reads its S3 error code.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import aiohttp
from botocore import exceptions as boto  # type: ignore[import-untyped]

from satchel.core.errors import (
    ArtifactNotFoundError,
    ArtifactStoreError,
    BlobNotFoundError,
    InvalidRequestError,
    NotSupportedError,
    PreconditionFailedError,
    ProviderError,
    ProviderUnavailableError,
    TooLargeError,
)

__all__ = ["S3AccessError", "S3TransientError", "mapped_errors", "retrying", "s3_code"]

_T = TypeVar("_T")

_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion"})
_ACCESS = frozenset(
    {
        "AccessDenied",
        "403",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AllAccessDisabled",
        "AccountProblem",
    }
)
_TRANSIENT = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "ServiceUnavailable",
        "InternalError",
        "OperationAborted",
        "503",
        "500",
    }
)
_BAD_REQUEST = frozenset(
    {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML", "InvalidDigest"}
)
_CONNECT_ERRORS = (
    boto.EndpointConnectionError,
    boto.ConnectTimeoutError,
    boto.ProxyConnectionError,
    aiohttp.ClientConnectorError,
)
_STREAM_ERRORS = (
    boto.ReadTimeoutError,
    boto.ResponseStreamingError,
    boto.IncompleteReadError,
    boto.ConnectionClosedError,
    aiohttp.ClientPayloadError,
    aiohttp.ClientConnectionError,
    asyncio.TimeoutError,
    ConnectionError,
)


class S3TransientError(ProviderUnavailableError):
    """S3 failed in a way that may pass: throttling, a 5xx, a connection lost mid-transfer."""


class S3AccessError(ProviderError):
    """S3 refused the backend's own credentials or permissions (a configuration problem)."""


def s3_code(error: BaseException) -> str | None:
    """The S3 error code behind *error* (a mapped error or a ClientError), if any."""
    cause = error if isinstance(error, boto.ClientError) else error.__cause__
    if isinstance(cause, boto.ClientError):
        return str(cause.response.get("Error", {}).get("Code") or "") or None
    return None


def map_error(exc: BaseException, what: str, bucket: str) -> ArtifactStoreError:
    """The Satchel error for *exc*, raised while doing *what*."""
    if isinstance(exc, ArtifactStoreError):
        return exc
    if isinstance(exc, boto.ClientError):
        return _map_client_error(exc, what, bucket)
    if isinstance(exc, _CONNECT_ERRORS):
        return ProviderUnavailableError(f"{what}: cannot reach S3 ({exc})")
    if isinstance(exc, _STREAM_ERRORS):
        reason = str(exc) or type(exc).__name__
        return S3TransientError(f"{what}: the connection to S3 failed ({reason})")
    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return S3AccessError(f"{what}: no S3 credentials found ({exc})")
    return ProviderError(f"{what}: {type(exc).__name__}: {exc}")


def _map_client_error(exc: boto.ClientError, what: str, bucket: str) -> ArtifactStoreError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    detail = f"{code}: {error.get('Message')}" if error.get("Message") else code or str(status)
    message = f"{what}: {detail}"
    if code == "NoSuchBucket" or (code in _NOT_FOUND and exc.operation_name == "HeadBucket"):
        return ProviderError(f"{what}: the S3 bucket {bucket!r} does not exist")
    if code in _NOT_FOUND:
        return BlobNotFoundError(message)
    if code == "NoSuchUpload":
        return ArtifactNotFoundError(f"{what}: no such upload")
    if code in _ACCESS:
        return S3AccessError(f"{what}: S3 denied access ({detail}); check the credentials")
    if code == "NotImplemented":
        return NotSupportedError(message)
    if code in _TRANSIENT or status >= 500:
        return S3TransientError(message)
    if code == "EntityTooLarge":
        return TooLargeError(message)
    if code in _BAD_REQUEST:
        return InvalidRequestError(message)
    if code in ("PreconditionFailed", "412"):
        return PreconditionFailedError(message)
    return ProviderError(message)


class mapped_errors:
    """Context manager raising the Satchel error for any botocore/aiohttp error inside it.

    Messages pass through *redact*, so no secret the backend holds can leak through them.
    """

    __slots__ = ("bucket", "redact", "what")

    def __init__(self, what: str, bucket: str, redact: Callable[[str], str]) -> None:
        self.what = what
        self.bucket = bucket
        self.redact = redact

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, ArtifactStoreError):
            return  # success, cancellation, or already one of ours
        native = isinstance(exc, boto.BotoCoreError | aiohttp.ClientError)
        if not native and isinstance(exc, ValueError | TypeError | AttributeError | LookupError):
            return  # a programming error, not S3's
        mapped = map_error(exc, self.what, self.bucket)
        mapped.message = self.redact(mapped.message)
        mapped.args = (mapped.message,)
        if self.redact(str(exc)) != str(exc):
            raise mapped from None  # the native error names a secret: do not chain it
        raise mapped from exc


async def retrying(
    call: Callable[[], Awaitable[_T]], *, attempts: int, base_delay: float = 0.2
) -> _T:
    """Await ``call()``, again after an exponential, jittered pause on S3TransientError."""
    for attempt in range(attempts):
        try:
            return await call()
        except S3TransientError:
            if attempt + 1 >= attempts:
                raise
            await asyncio.sleep(base_delay * (2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")
