"""The nginx mode (``SATCHEL_ACCEL_REDIRECT_PREFIX``) as Satchel answers it, in process: a GET
nginx can answer as Satchel would gets Satchel's headers, an empty body and
``X-Accel-Redirect: <prefix>sha256/ab/cd/<hex>``, after every check; anything else (HEAD,
conditions, odd ranges, refusals, blobs that are not local files) is answered as before.
tests/server/test_accel_nginx.py puts a real nginx in front."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.harness.s3 import S3Endpoint
from tests.server.inprocess import BOB, client, running_app

from satchel.config import Settings
from satchel.core.errors import InvalidRequestError

PREFIX = "/_satchel_blobs/"
DATA = hashlib.sha256(b"accel").digest() * 50_000  # 1.5 MiB
# what nginx keeps of Satchel's answer, or its internal location adds back
SATCHEL_HEADERS = (
    "content-type",
    "content-disposition",
    "cache-control",
    "etag",
    "repr-digest",
    "satchel-artifact-id",
    "x-content-type-options",
)


def _blob_file(data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    return f"sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Any]:
    async with running_app(tmp_path / "var", accel_redirect_prefix=PREFIX) as application:
        yield application


async def _upload(app: Any, data: bytes = DATA, **params: str) -> str:
    params = {"mime": "application/x-tar", "filename": "build/ünï 1.tar", **params}
    async with client(app) as http:
        response = await http.post("/v1/artifacts", content=data, params=params)
    assert response.status_code == 201, response.text
    artifact_id: str = response.json()["artifact_id"]
    return artifact_id


def _assert_redirected(answer: httpx.Response, described: httpx.Response, data: bytes) -> None:
    """*answer* hands the file of *data* to nginx, with the headers *described* (a HEAD)."""
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-length"] == "0"
    assert answer.headers["x-accel-redirect"] == PREFIX + _blob_file(data)
    for name in SATCHEL_HEADERS:
        assert answer.headers[name] == described.headers[name], name
    # nginx states these for what it sends (Accept-Ranges only on a 200)
    partial = "range" in answer.request.headers
    assert answer.headers.get("accept-ranges") == ("bytes" if partial else None)
    assert "content-range" not in answer.headers


async def test_a_plain_get_names_the_file_for_nginx(app: Any) -> None:
    artifact_id = await _upload(app)
    url = f"/v1/artifacts/{artifact_id}/content"
    async with client(app) as http:
        answer = await http.get(url)  # the fast path
        described = await http.head(url)
        dated = await http.get(url, headers={"If-Modified-Since": "Tue, 01 Dec 2026 00:00:00 GMT"})
        again = await http.get(url)  # its header list kept for the version
    _assert_redirected(answer, described, DATA)
    _assert_redirected(again, described, DATA)
    assert (dated.status_code, dated.content) == (200, DATA)  # streamed: nginx would test it
    assert "x-accel-redirect" not in dated.headers
    assert described.headers["content-length"] == str(len(DATA))  # HEAD: Satchel's own answer
    assert "x-accel-redirect" not in described.headers
    assert described.headers["content-disposition"].startswith("attachment;")
    blob = Path(app.state.settings.resolved_fs_root()) / _blob_file(DATA)
    assert blob.read_bytes() == DATA  # the file nginx is sent to holds the artifact's bytes


async def test_a_plain_range_is_left_to_nginx(app: Any) -> None:
    artifact_id = await _upload(app)
    url = f"/v1/artifacts/{artifact_id}/content"
    async with client(app) as http:
        described = await http.head(url)
        for spelling in ("bytes=10-19", "bytes=1000000-", "bytes=-100"):
            answer = await http.get(url, headers={"Range": spelling})  # the routed endpoint
            _assert_redirected(answer, described, DATA)
        beyond = await http.get(url, headers={"Range": f"bytes={len(DATA)}-"})
    assert beyond.status_code == 416  # decided by Satchel, never handed on
    assert beyond.headers["content-range"] == f"bytes */{len(DATA)}"
    assert "x-accel-redirect" not in beyond.headers


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({"If-None-Match": '"another"'}, 200, DATA),
        ({"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 200, DATA),
        ({"Range": "bytes=0-1,4-5"}, 200, DATA),  # several ranges: the whole content
        ({"Range": "bytes = 2-5"}, 206, DATA[2:6]),  # Satchel reads it; nginx would not
        ({"Range": "items=0-5"}, 200, DATA),
        ({"Range": "bytes=5-2"}, 200, DATA),  # invalid: ignored (nginx would answer 416)
    ],
)
async def test_what_nginx_would_answer_otherwise_streams_from_satchel(
    app: Any, headers: dict[str, str], status: int, body: bytes
) -> None:
    artifact_id = await _upload(app)
    async with client(app) as http:
        answer = await http.get(f"/v1/artifacts/{artifact_id}/content", headers=headers)
    assert answer.status_code == status
    assert answer.content == body
    assert "x-accel-redirect" not in answer.headers


async def test_conditions_are_satchels_and_stream(app: Any) -> None:
    artifact_id = await _upload(app)
    url = f"/v1/artifacts/{artifact_id}/content"
    async with client(app) as http:
        etag = (await http.head(url)).headers["etag"]
        unchanged = await http.get(url, headers={"If-None-Match": etag})
        matching = await http.get(url, headers={"If-Match": etag})
        resumed = await http.get(url, headers={"Range": "bytes=3-9", "If-Range": etag})
        stale = await http.get(url, headers={"If-Match": '"old"'})
        twice = await http.get(url, headers=[("Range", "bytes=0-1"), ("Range", "bytes=2-3")])
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert (matching.status_code, matching.content) == (200, DATA)
    assert (resumed.status_code, resumed.content) == (206, DATA[3:10])
    assert stale.status_code == 412
    assert (twice.status_code, twice.content) == (206, DATA[:2])  # the first, streamed
    for answer in (unchanged, matching, resumed, stale, twice):
        assert "x-accel-redirect" not in answer.headers


async def test_signed_urls_and_package_files_are_named_too(app: Any) -> None:
    artifact_id = await _upload(app)
    async with client(app) as http:
        presigned = await http.post(f"/v1/artifacts/{artifact_id}/presign", json={"expires": 60})
        path = "/" + presigned.json()["url"].split("/", 3)[3]
        async with client(app, token=None) as anonymous:  # the URL is the capability
            answer = await anonymous.get(path)
            described = await anonymous.head(path)
        _assert_redirected(answer, described, DATA)

        attributes = {
            "name": "e",
            "producer": "ci",
            "subject": "b",
            "retention_class": "raw-evidence",
        }
        package = await http.post("/v1/packages", json=attributes)
        assert package.status_code == 201, package.text
        package_id = package.json()["package_id"]
        data = b"package file " * 6000  # 78 KB: a file (smaller ones are kept in the catalog)
        url = f"/v1/packages/{package_id}/files/{quote('logs/run 1.txt')}"
        assert (await http.put(url, content=data)).status_code == 201
        answer = await http.get(url)
        described = await http.head(url)
    _assert_redirected(answer, described, data)
    assert described.headers["content-type"].startswith("text/plain")


async def test_content_kept_in_the_catalog_is_sent_by_satchel(app: Any) -> None:
    small = b"a small report\n" * 100  # under the inline limit: no file for nginx to send
    artifact_id = await _upload(app, small)
    url = f"/v1/artifacts/{artifact_id}/content"
    async with client(app) as http:
        whole = await http.get(url)
        part = await http.get(url, headers={"Range": "bytes=2-7"})
    assert (whole.status_code, whole.content) == (200, small)
    assert (part.status_code, part.content) == (206, small[2:8])
    for answer in (whole, part):
        assert "x-accel-redirect" not in answer.headers


async def test_refusals_are_satchels_json_and_name_no_file(app: Any) -> None:
    artifact_id = await _upload(app)
    url = f"/v1/artifacts/{artifact_id}/content"
    async with client(app, token=BOB) as bob, client(app, token=None) as anonymous:
        foreign = await bob.get(url)
        nobody = await anonymous.get(url)
        unknown = await bob.get("/v1/artifacts/art_doesnotexist/content")
        forged = await anonymous.get("/v1/signed/not-a-token")
    for answer in (foreign, nobody, unknown, forged):
        assert answer.status_code in (401, 403, 404), answer.status_code
        assert answer.headers["content-type"].startswith("application/json")
        assert "error" in answer.json()
        assert "x-accel-redirect" not in answer.headers


async def test_off_by_default(tmp_path: Path) -> None:
    async with running_app(tmp_path / "var") as app:
        artifact_id = await _upload(app)
        async with client(app) as http:
            answer = await http.get(f"/v1/artifacts/{artifact_id}/content")
            ranged = await http.get(
                f"/v1/artifacts/{artifact_id}/content", headers={"Range": "bytes=10-19"}
            )
    assert (answer.status_code, answer.content) == (200, DATA)
    assert (ranged.status_code, ranged.content) == (206, DATA[10:20])
    assert "x-accel-redirect" not in answer.headers
    assert "x-accel-redirect" not in ranged.headers


async def test_memory_blobs_stream(tmp_path: Path) -> None:
    async with running_app(
        tmp_path / "var", blob_backend="memory", accel_redirect_prefix=PREFIX
    ) as app:
        await _streams_whole(app)


async def test_s3_blobs_stream(
    tmp_path: Path, moto_s3: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_s3.secret_key)
    bucket = moto_s3.create_bucket()
    try:
        async with running_app(
            tmp_path / "var",
            blob_backend="s3",
            bucket=bucket,
            s3_endpoint_url=moto_s3.url,
            s3_region=moto_s3.region,
            s3_addressing_style="path",
            accel_redirect_prefix=PREFIX,
        ) as app:
            await _streams_whole(app)
    finally:
        moto_s3.destroy_bucket(bucket)


async def _streams_whole(app: Any) -> None:
    artifact_id = await _upload(app)
    url = f"/v1/artifacts/{artifact_id}/content"
    async with client(app) as http:
        answer = await http.get(url)
        ranged = await http.get(url, headers={"Range": "bytes=10-19"})
    assert (answer.status_code, answer.content) == (200, DATA)
    assert answer.headers["content-length"] == str(len(DATA))
    assert (ranged.status_code, ranged.content) == (206, DATA[10:20])
    assert "x-accel-redirect" not in answer.headers
    assert "x-accel-redirect" not in ranged.headers


@pytest.mark.parametrize(
    ("given", "kept"),
    [("", ""), ("  ", ""), ("/_satchel_blobs", "/_satchel_blobs/"), ("/a/b.c/", "/a/b.c/")],
)
def test_the_prefix_setting(given: str, kept: str) -> None:
    assert Settings(accel_redirect_prefix=given).accel_redirect_prefix == kept


@pytest.mark.parametrize(
    "bad", ["/", "blobs/", "/a b/", "/../", "/a/./", "/a?x/", "@blobs", "/%2e/"]
)
def test_a_prefix_nginx_would_not_read_as_a_location_is_refused(bad: str) -> None:
    with pytest.raises(InvalidRequestError, match="SATCHEL_ACCEL_REDIRECT_PREFIX"):
        Settings(accel_redirect_prefix=bad)
