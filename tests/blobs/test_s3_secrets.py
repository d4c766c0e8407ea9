"""Credentials, references to them, and server-side encryption of the S3 backend.

Secrets (the secret key, an SSE-C key) must never show in repr, str, error messages or logs.
Tests taking ``make_s3_store`` run on moto and on Ceph RGW.
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from tests.harness.s3 import MakeStore, S3Endpoint, http_put

from satchel.blobs.s3 import S3BlobStore
from satchel.blobs.s3_config import S3Config, resolve_reference
from satchel.core.errors import ArtifactStoreError, InvalidRequestError, NotSupportedError
from satchel.testing.blobstore import MiB, digest_of, make_data, read_all, stream

SSE_C_KEY = bytes(range(100, 132))
SPELLINGS = [base64.b64encode(SSE_C_KEY).decode(), SSE_C_KEY.hex(), repr(SSE_C_KEY)[2:-1]]


# -- credential references ---------------------------------------------------------------------


async def test_credentials_from_env_and_file_references(
    s3_endpoint: S3Endpoint, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATCHEL_TEST_S3_ACCESS", s3_endpoint.access_key)
    secret_file = tmp_path / "secret"
    secret_file.write_text(s3_endpoint.secret_key + "\n")
    options = s3_endpoint.store_options(s3_bucket, access_key_ref="env:SATCHEL_TEST_S3_ACCESS")
    options.update(access_key=None, secret_key=None, secret_key_ref=f"file:{secret_file}")
    store = S3BlobStore(**options)
    try:
        assert store.config.credentials is not None
        assert store.config.credentials[0] == s3_endpoint.access_key
        assert s3_endpoint.secret_key not in repr(store.config) + repr(store) + str(store)
        info = await store.put_stream(stream([b"with referenced keys"]))
        assert await read_all(store, info.digest) == b"with referenced keys"
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("env:SATCHEL_TEST_UNSET_VARIABLE", "SATCHEL_TEST_UNSET_VARIABLE is not set"),
        ("file:/nonexistent/satchel/secret", "cannot read /nonexistent/satchel/secret"),
        ("vault:secret/s3", "env:NAME or file:PATH"),
        ("env:", "env:NAME or file:PATH"),
        ("plain-secret-value", "env:NAME or file:PATH"),
    ],
)
def test_unresolvable_reference_is_an_error_at_start(reference: str, message: str) -> None:
    os.environ.pop("SATCHEL_TEST_UNSET_VARIABLE", None)
    with pytest.raises(InvalidRequestError, match=message):
        S3BlobStore("b", access_key_ref=reference, secret_key="s")


def test_empty_secret_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(InvalidRequestError, match="is empty"):
        resolve_reference(f"file:{tmp_path / 'empty'}", "secret_key_ref")


def test_reference_and_value_together_is_an_error() -> None:
    with pytest.raises(InvalidRequestError, match="not both"):
        S3Config("b", access_key="a", access_key_ref="env:HOME", secret_key="s")


# -- secrets never show ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given", [SSE_C_KEY, base64.b64encode(SSE_C_KEY).decode(), "env:SATCHEL_TEST_SSE_C_KEY"]
)
def test_sse_c_key_is_not_in_repr_or_str(
    given: bytes | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SATCHEL_TEST_SSE_C_KEY", base64.b64encode(SSE_C_KEY).decode())
    options: dict[str, object] = {"access_key": "a", "secret_key": "the-secret-key"}
    if isinstance(given, str) and given.startswith("env:"):
        options["sse_customer_key_ref"] = given
    else:
        options["sse_customer_key"] = given
    store = S3BlobStore("bucket", **options)
    assert store.config.encryption.customer_key
    shown = " ".join(
        [
            repr(store),
            str(store),
            repr(store.config),
            str(store.config),
            repr(store.config.encryption),
            str(store.config.encryption),
            repr(vars(store.config)),
        ]
    )
    for spelling in [*SPELLINGS, "the-secret-key"]:
        assert spelling not in shown
    assert "SSE-C" in repr(store)


async def test_sse_c_key_is_not_in_error_messages_or_logs(
    s3_endpoint: S3Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="botocore")
    caplog.set_level(logging.DEBUG, logger="aiobotocore")
    options = s3_endpoint.store_options("satchel-missing-bucket", sse_customer_key=SSE_C_KEY)
    store = S3BlobStore(**options)
    try:
        with pytest.raises(ArtifactStoreError) as caught:
            await store.put_stream(stream([b"secret content"]))
        with pytest.raises(ArtifactStoreError) as caught_read:
            await read_all(store, digest_of(b"secret content"))
    finally:
        await store.close()
    texts = [str(caught.value), repr(caught.value), str(caught_read.value), caplog.text]
    chain = caught.value.__cause__
    while chain is not None:
        texts.append(str(chain))
        chain = chain.__cause__
    assert "x-amz-server-side-encryption-customer-key" in caplog.text.lower()  # it was logged
    for spelling in SPELLINGS:
        assert all(spelling not in text for text in texts)


# -- server-side encryption round trips ---------------------------------------------------------


def key_of(digest: str) -> str:
    hexdigest = digest.split(":", 1)[1]
    return f"blobs/sha256/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"


@pytest.mark.parametrize("size", [100_000, 7 * MiB])
async def test_sse_c_round_trip(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint, size: int
) -> None:
    store = make_s3_store(sse_customer_key=SSE_C_KEY)
    data = make_data(size, seed=size)
    if "SSE-C" not in s3_endpoint.encryptions:  # the server would store plaintext: refused
        with pytest.raises(NotSupportedError, match="did not apply"):
            await store.put_stream(stream([data]))
        assert s3_endpoint.keys(store.config.bucket) == []
        return
    info = await store.put_stream(stream([data]))
    assert await read_all(store, info.digest) == data
    assert await read_all(store, info.digest, 10, 5000) == data[10:5000]
    assert await store.head(info.digest) is not None
    assert [blob.digest for blob in (await store.list_page()).blobs] == [info.digest]
    upload = await store.create_direct_upload()  # staged without the key, published with it
    other = make_data(4000, seed=99)
    (await http_put(await store.presign_put(upload, 60), other)).raise_for_status()
    uploaded = await store.complete_direct_upload(upload)
    assert await read_all(store, uploaded.digest) == other
    client, bucket = s3_endpoint.client(), store.config.bucket
    for digest in (info.digest, uploaded.digest):
        with pytest.raises(ClientError):
            client.get_object(Bucket=bucket, Key=key_of(digest))  # no key, no bytes
    keyless = S3BlobStore(**s3_endpoint.store_options(bucket))
    try:
        with pytest.raises(ArtifactStoreError):
            await read_all(keyless, info.digest)
    finally:
        await keyless.close()


@pytest.mark.parametrize("sse", ["AES256", "aws:kms"])
async def test_sse_s3_and_kms_round_trip(
    make_s3_store: MakeStore, s3_endpoint: S3Endpoint, sse: str
) -> None:
    options: dict[str, str] = {"sse": sse}
    if sse == "aws:kms":
        options["sse_kms_key_id"] = "satchel-kms-1"  # known to the Ceph harness's test KMS
    store = make_s3_store(**options)
    for size in (50_000, 6 * MiB):
        data = make_data(size, seed=size)
        if sse not in s3_endpoint.encryptions:
            with pytest.raises(NotSupportedError, match="did not apply"):
                await store.put_stream(stream([data]))
            assert (await store.list_page()).blobs == []
            continue
        info = await store.put_stream(stream([data]))
        assert await read_all(store, info.digest) == data
        head = s3_endpoint.client().head_object(Bucket=store.config.bucket, Key=key_of(info.digest))
        assert head.get("ServerSideEncryption") == sse
