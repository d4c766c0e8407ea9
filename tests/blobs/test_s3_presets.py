"""Provider presets (``SATCHEL_S3_PROVIDER``): pure resolution, settings to backend, and a
preset-configured store working for real on moto and Ceph RGW."""

from __future__ import annotations

import os
from typing import Any

import pytest
from tests.harness.s3 import S3Endpoint

from satchel.blobs.s3 import S3BlobStore
from satchel.blobs.s3_presets import apply_preset
from satchel.config import Settings
from satchel.core.errors import InvalidRequestError
from satchel.testing.blobstore import read_all, stream
from satchel.testing.env import is_configuration


def resolve(environ: dict[str, str] | None = None, **options: Any) -> dict[str, Any]:
    return apply_preset(options, environ or {})


def test_custom_is_the_default_and_changes_nothing() -> None:
    given = {"endpoint_url": None, "region": None, "addressing_style": "auto"}
    assert resolve(**given) == {**given, "provider": "custom"}
    assert resolve(provider="auto", **given)["provider"] == "custom"


def test_b2_region_endpoint_style_and_its_own_credentials() -> None:
    env = {"B2_KEY_ID": "0041234", "B2_APP_KEY": "K004secret"}
    options = resolve(env, provider="b2")
    assert options["region"] == "us-west-004"
    assert options["endpoint_url"] == "https://s3.us-west-004.backblazeb2.com"
    assert options["addressing_style"] == "virtual"
    assert options["access_key_ref"] == "env:B2_KEY_ID"
    assert options["secret_key_ref"] == "env:B2_APP_KEY"
    # the region given picks the endpoint; credentials given win over B2_*
    other = resolve(env, provider="B2", region="eu-central-003", access_key="a", secret_key="s")
    assert other["endpoint_url"] == "https://s3.eu-central-003.backblazeb2.com"
    assert "access_key_ref" not in other
    # no B2_* variables: botocore's chain, as for any backend
    assert "access_key_ref" not in resolve(provider="b2")


def test_b2_half_a_credential_pair_names_the_missing_variable() -> None:
    with pytest.raises(InvalidRequestError, match="B2_KEY_ID is set but B2_APP_KEY is not"):
        resolve({"B2_KEY_ID": "0041234"}, provider="b2")


def test_r2_needs_an_endpoint_or_an_account_id() -> None:
    with pytest.raises(InvalidRequestError, match="SATCHEL_S3_ACCOUNT_ID"):
        resolve(provider="r2")
    options = resolve(provider="r2", account_id="abc123")
    assert options["endpoint_url"] == "https://abc123.r2.cloudflarestorage.com"
    assert options["region"] == "auto"
    assert "account_id" not in options
    given = resolve(provider="r2", endpoint_url="https://r2.example.net", region="weur")
    assert (given["endpoint_url"], given["region"]) == ("https://r2.example.net", "weur")
    with pytest.raises(InvalidRequestError, match="account_id="):
        resolve(provider="r2", account_id="evil.example/x")


@pytest.mark.parametrize("provider", ["minio", "ceph"])
def test_minio_and_ceph_are_path_style_and_need_an_endpoint(provider: str) -> None:
    with pytest.raises(InvalidRequestError, match="SATCHEL_S3_ENDPOINT_URL"):
        resolve(provider=provider)
    options = resolve(provider=provider, endpoint_url="http://rgw:7480", addressing_style="auto")
    assert options["addressing_style"] == "path"
    assert resolve(provider=provider, endpoint_url="http://x", addressing_style="virtual")[
        "addressing_style"
    ] == ("virtual")


def test_aws_is_virtual_style_with_the_standard_chain() -> None:
    options = resolve({"B2_KEY_ID": "x", "B2_APP_KEY": "y"}, provider="aws", region="eu-west-1")
    assert options == {"provider": "aws", "region": "eu-west-1", "addressing_style": "virtual",
                       "endpoint_url": None}  # fmt: skip


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match="provider='wasabi': unknown S3 provider"):
        resolve(provider="wasabi")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if is_configuration(name) or name.startswith(("B2_", "AWS_")):
            monkeypatch.delenv(name)
    return monkeypatch


def test_unknown_provider_setting_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SATCHEL_S3_PROVIDER", "wasabi")
    with pytest.raises(InvalidRequestError, match=r"SATCHEL_S3_PROVIDER='wasabi': unknown"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    clean_env.setenv("SATCHEL_S3_PROVIDER", "b2")
    clean_env.setenv("SATCHEL_S3_CHECKSUM_MODE", "always")
    with pytest.raises(InvalidRequestError, match=r"SATCHEL_S3_CHECKSUM_MODE='always'"):
        Settings(_env_file=None)  # type: ignore[call-arg]


async def test_b2_settings_reach_the_backend_and_hide_the_secret(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("SATCHEL_S3_PROVIDER", "b2")
    clean_env.setenv("SATCHEL_S3_BUCKET", "my-bucket")
    clean_env.setenv("SATCHEL_S3_REGION", "us-east-005")
    clean_env.setenv("B2_KEY_ID", "005keyid")
    clean_env.setenv("B2_APP_KEY", "K005-the-application-key")
    store = S3BlobStore(**Settings(_env_file=None).s3_blob_options())  # type: ignore[call-arg]
    try:
        config = store.config
        assert config.provider == "b2"
        assert config.endpoint_url == "https://s3.us-east-005.backblazeb2.com"
        assert config.region == "us-east-005"
        assert config.addressing_style == "virtual"
        assert config.checksum_mode == "when_required"
        assert config.credentials is not None
        assert config.credentials[0] == "005keyid"
        assert config.credentials[1].reveal() == "K005-the-application-key"
        assert "K005-the-application-key" not in repr(config) + repr(store)
        # an explicit setting wins over the preset's default
        clean_env.setenv("SATCHEL_S3_ENDPOINT_URL", "https://b2.internal.example")
        clean_env.setenv("SATCHEL_S3_CHECKSUM_MODE", "when_supported")
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        other = S3BlobStore(**settings.s3_blob_options())
        assert other.config.endpoint_url == "https://b2.internal.example"
        assert other.config.checksum_mode == "when_supported"
        await other.close()
    finally:
        await store.close()


def test_invalid_public_url_base_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match="public_url_base='ftp://x'"):
        S3BlobStore("b", public_url_base="ftp://x")
    with pytest.raises(InvalidRequestError, match="checksum_mode='sometimes'"):
        S3BlobStore("b", checksum_mode="sometimes")


async def test_a_preset_store_works_on_a_real_server(
    s3_endpoint: S3Endpoint, s3_bucket: str
) -> None:
    """``provider=ceph`` with only an endpoint and keys: path style, region and checksum mode
    come from the preset, and the store writes and reads on moto and on Ceph RGW."""
    store = S3BlobStore(
        s3_bucket,
        provider="ceph",
        endpoint_url=s3_endpoint.url,
        access_key=s3_endpoint.access_key,
        secret_key=s3_endpoint.secret_key,
    )
    try:
        assert (store.config.addressing_style, store.config.region) == ("path", "us-east-1")
        info = await store.put_stream(stream([b"preset ", b"bytes"]))
        assert await read_all(store, info.digest) == b"preset bytes"
        assert s3_endpoint.keys(s3_bucket) == [store._s3.content_key(info.digest)]
    finally:
        await store.close()
