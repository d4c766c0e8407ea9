"""The public surface of ``satchel``: ``__all__`` and the error tree seed 000 documents."""

from __future__ import annotations

import re

import pytest

import satchel
from satchel.core import errors


def test_every_name_in_all_exists() -> None:
    missing = [name for name in satchel.__all__ if not hasattr(satchel, name)]
    assert missing == []


def _isort_style(name: str) -> tuple[int, list[int | str]]:
    """ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest; natural within each."""
    if name.isupper():
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    parts = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name) if p]
    return group, parts


def test_all_is_sorted_and_unique() -> None:
    assert len(set(satchel.__all__)) == len(satchel.__all__)
    assert satchel.__all__ == sorted(satchel.__all__, key=_isort_style)
    # The same order ruff (RUF022) enforces, so neither tool ever fights the other.
    assert satchel.__all__[0] == "DEFAULT_PRESIGN_EXPIRES"
    assert satchel.__all__[-1] == "connect_sync"  # lowercase names sort last


def test_all_lists_every_public_name() -> None:
    """Nothing public is imported into the package without being exported."""
    public = {
        name
        for name, value in vars(satchel).items()
        if not name.startswith("_") and not isinstance(value, type(satchel))
    }
    assert public <= set(satchel.__all__)


def test_star_import_gives_all() -> None:
    namespace: dict[str, object] = {}
    exec("from satchel import *", namespace)
    assert set(satchel.__all__) <= set(namespace)


def test_version_is_a_string() -> None:
    assert isinstance(satchel.__version__, str)
    assert satchel.__version__


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("ArtifactStoreError", 400),
        ("ArtifactNotFoundError", 404),
        ("ArtifactExpiredError", 410),
        ("AccessDeniedError", 403),
        ("PreconditionFailedError", 412),
        ("ProviderError", 502),
        ("SessionError", 500),
    ],
)
def test_seed_error_classes(name: str, status: int) -> None:
    assert name in satchel.__all__
    cls = getattr(satchel, name)
    assert cls is getattr(errors, name)
    assert issubclass(cls, satchel.ArtifactStoreError)
    assert cls.status_code == status
    error = cls("boom")
    assert error.status_code == status
    assert error.message == "boom"
    assert str(error) == "boom"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("InvalidRequestError", 400),
        ("BlobNotFoundError", 404),
        ("ConflictError", 409),
        ("TooLargeError", 413),
        ("NotSupportedError", 501),
        ("ProviderUnavailableError", 503),
    ],
)
def test_other_error_classes(name: str, status: int) -> None:
    cls = getattr(satchel, name)
    assert issubclass(cls, satchel.ArtifactStoreError)
    assert cls.status_code == status


def test_error_tree_shape() -> None:
    assert issubclass(satchel.BlobNotFoundError, satchel.ArtifactNotFoundError)
    assert issubclass(satchel.ProviderUnavailableError, satchel.ProviderError)
    assert issubclass(satchel.InvalidRequestError, ValueError)
    assert issubclass(satchel.ArtifactStoreError, Exception)


def test_seed_except_chain_order_catches_the_specific_error() -> None:
    """Seed 000's handler lists subclasses before the base; each lands in its own branch."""

    def handle(exc: Exception) -> int:
        try:
            raise exc
        except satchel.ArtifactNotFoundError:
            return 404
        except satchel.ArtifactExpiredError:
            return 410
        except satchel.AccessDeniedError:
            return 403
        except satchel.ProviderError:
            return 502
        except satchel.ArtifactStoreError:
            return 400

    assert handle(satchel.ArtifactNotFoundError()) == 404
    assert handle(satchel.ArtifactExpiredError()) == 410
    assert handle(satchel.AccessDeniedError()) == 403
    assert handle(satchel.ProviderError()) == 502
    assert handle(satchel.ProviderUnavailableError()) == 502
    assert handle(satchel.SessionError()) == 400
    assert handle(satchel.PreconditionFailedError()) == 400


def _error_classes() -> list[type[errors.ArtifactStoreError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.ArtifactStoreError)
    ]


def test_error_codes_are_unique() -> None:
    codes = [cls.code for cls in _error_classes()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_error_for_code_round_trips(cls: type[errors.ArtifactStoreError]) -> None:
    assert errors.error_for_code(cls.code) is cls
    assert getattr(satchel, cls.__name__) is cls


def test_error_for_unknown_code_is_the_base() -> None:
    assert errors.error_for_code("no_such_code") is satchel.ArtifactStoreError


def test_default_message_is_the_class_name() -> None:
    assert str(satchel.AccessDeniedError()) == "AccessDeniedError"
    assert satchel.AccessDeniedError().message == "AccessDeniedError"


def test_seed_names_importable() -> None:
    from satchel import (  # noqa: F401
        DEFAULT_PRESIGN_EXPIRES,
        DEFAULT_TTL,
        ArtifactMetadata,
        ArtifactStore,
        MultipartUploadCompleteRequest,
        MultipartUploadInitRequest,
        MultipartUploadPart,
        StorageScope,
        StreamDownloadRequest,
        StreamUploadRequest,
    )

    assert DEFAULT_TTL == 900
    assert StorageScope is satchel.Scope


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_every_status_maps_back_to_the_tree(cls: type[errors.ArtifactStoreError]) -> None:
    """An answer without an error body (a proxy's) raises the tree's class for its status:
    the same class, or the more general one that shares the status."""
    found = errors.error_for_status(cls.status_code)
    assert found.status_code == cls.status_code
    if cls is errors.ArtifactStoreError:  # the base stands for no status of its own
        assert found is errors.InvalidRequestError
    else:
        assert len(found.__mro__) <= len(cls.__mro__)  # the most general class of that status


def test_statuses_outside_the_tree() -> None:
    assert errors.error_for_status(504) is satchel.UpstreamTimeoutError  # a ProviderError
    assert errors.error_for_status(599) is satchel.ProviderError
    assert errors.error_for_status(418) is satchel.ArtifactStoreError
    assert errors.error_for_status(500) is satchel.InternalError


def test_the_remote_client_reads_statuses_through_the_tree() -> None:
    import httpx

    from satchel.client.transport import raise_for_response

    request = httpx.Request("GET", "http://proxy.example/v1/artifacts")
    for status, cls in ((502, satchel.ProviderError), (416, satchel.RangeNotSatisfiableError)):
        with pytest.raises(cls):
            raise_for_response(httpx.Response(status, text="<html>oops</html>", request=request))
    coded = httpx.Response(
        405, json={"error": "method_not_allowed", "message": "no"}, request=request
    )
    with pytest.raises(satchel.MethodNotAllowedError, match="no"):
        raise_for_response(coded)
