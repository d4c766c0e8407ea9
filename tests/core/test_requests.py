"""Seed 000's request models validate as seed 000's do: pydantic ValidationErrors when built."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from satchel import (
    DEFAULT_TTL,
    InvalidRequestError,
    MultipartUploadCompleteRequest,
    MultipartUploadInitRequest,
    MultipartUploadPart,
    Scope,
    StreamUploadRequest,
)
from satchel.core.requests import build_request


@pytest.mark.parametrize("number", [0, -1, 10_001, 1.5, "one"])
def test_a_part_number_is_1_to_10000(number: object) -> None:
    with pytest.raises(ValidationError):
        MultipartUploadPart(PartNumber=number, ETag="abc")  # type: ignore[arg-type]
    assert MultipartUploadPart(PartNumber=10_000, ETag="abc").PartNumber == 10_000


@pytest.mark.parametrize("etag", ["", '""', "   "])
def test_a_part_needs_an_etag(etag: str) -> None:
    with pytest.raises(ValidationError, match="ETag"):
        MultipartUploadPart(PartNumber=1, ETag=etag)


def test_a_part_is_immutable() -> None:
    part = MultipartUploadPart(PartNumber=1, ETag="abc")
    with pytest.raises(ValidationError):
        part.ETag = "other"
    assert hash(part) == hash(MultipartUploadPart(PartNumber=1, ETag="abc"))


def test_completing_needs_at_least_one_part_and_a_valid_upload_id() -> None:
    with pytest.raises(ValidationError, match="at least 1"):
        MultipartUploadCompleteRequest(upload_id="u1", parts=[])
    with pytest.raises(ValidationError, match="upload_id"):
        MultipartUploadCompleteRequest(
            upload_id="../x", parts=[MultipartUploadPart(PartNumber=1, ETag="e")]
        )
    done = MultipartUploadCompleteRequest(
        upload_id="u1", parts=[MultipartUploadPart(PartNumber=1, ETag="e")]
    )
    assert done.summary == "Multipart upload"


def test_the_init_request_defaults_its_ttl_by_scope_as_seed_000_documents() -> None:
    session = MultipartUploadInitRequest(filename="temp_render.mp4", mime_type="video/mp4")
    assert (session.scope, session.ttl, session.ttl_given()) == (Scope.SESSION, DEFAULT_TTL, False)
    user = MultipartUploadInitRequest(filename="v.mp4", user_id="alice", scope="user")
    assert (user.scope, user.ttl, user.ttl_given()) == (Scope.USER, None, False)
    given = MultipartUploadInitRequest(filename="v.mp4", scope="sandbox", ttl=86400 * 90)
    assert (given.ttl, given.ttl_given()) == (86400 * 90, True)
    forever = MultipartUploadInitRequest(filename="v.mp4", ttl=None)
    assert (forever.ttl, forever.ttl_given()) == (None, True)
    assert "ttl" not in session.model_dump(exclude_unset=True)  # the default is not sent on


@pytest.mark.parametrize(
    "fields",
    [{"scope": "galaxy"}, {"filename": "../escape.mp4"}, {"filename": ""}, {"ttl": "soon"}],
)
def test_the_init_request_refuses_bad_fields(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MultipartUploadInitRequest(**{"filename": "ok.bin", **fields})


def test_a_missing_mime_is_left_to_the_store() -> None:
    async def nothing() -> object:  # pragma: no cover - never iterated
        yield b""

    assert StreamUploadRequest(data_stream=nothing()).mime is None
    assert MultipartUploadInitRequest(filename="a.pdf").mime_type is None


def test_build_request_turns_validation_errors_into_the_tree() -> None:
    with pytest.raises(InvalidRequestError, match="PartNumber"):
        build_request(MultipartUploadPart, PartNumber=0, ETag="x")
