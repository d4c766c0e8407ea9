"""Seed 001's end-to-end library smoke test, as its operator guide prints it, with only its two
imports changed (``artifactstore.app`` → ``satchel``, ``artifactstore.manifest`` →
``satchel.manifest``); assertions follow the seed's code. Seed 001's ``.env`` names configure it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.harness.stored import stored_bytes

from satchel import build_registry
from satchel.manifest import decode as manifest_decode


def run_the_seeds_smoke_test() -> None:
    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        yield data

    async def main() -> None:
        registry = build_registry()
        try:
            pkg = await registry.create_package(
                name="smoke-test",
                producer="ops",
                subject="example.org",
                retention_class="raw-evidence",
                actor="ops",
                metadata={"smoke": True},
            )
            await registry.ingest_file(
                pkg, relative_path="hello.txt", media_type="text/plain",
                stream=chunks(b"hello world"), actor="ops",
            )  # fmt: skip
            manifest_addr = await registry.finalize_package(pkg, actor="ops")
            cbor = await registry.get_manifest_bytes(pkg, format="cbor")
            manifest = manifest_decode(cbor)
            print("package:", pkg)
            print("manifest digest:", manifest_addr)
            print("files in manifest:", [f.relative_path for f in manifest.files])
        finally:
            await registry.dispose()

    asyncio.run(main())


def test_the_smoke_test_runs_on_the_embedded_default(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_the_seeds_smoke_test()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("package: pkg-")
    address = lines[1].removeprefix("manifest digest: ")
    assert address.startswith("sha256:")
    assert len(address) == len("sha256:") + 64
    assert lines[2] == "files in manifest: ['hello.txt']"
    assert (isolated / "var" / "satchel.db").exists()  # SQLite + files under ./var

    # The same content gives the same manifest: run it again, same address, new package.
    run_the_seeds_smoke_test()
    again = capsys.readouterr().out.splitlines()
    assert again[1] == lines[1]
    assert again[0] != lines[0]
    stored = stored_bytes(isolated / "var", address)
    assert stored is not None, "the manifest's canonical JSON is one blob, named by its address"
    assert "sha256:" + hashlib.sha256(stored).hexdigest() == address


def test_the_smoke_test_runs_on_seed_001_settings(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator's ``.env`` from seed 001: its variable names, its SQLite URL form."""
    monkeypatch.delenv("SATCHEL_DATA_DIR")
    (isolated / ".env").write_text(
        "ARTIFACTSTORE_DATABASE_URL=sqlite+aiosqlite:///./var/artifactstore.db\n"
        "ARTIFACTSTORE_STORAGE_LOCAL_ROOT=./var/storage\n"
        "ARTIFACTSTORE_LOG_LEVEL=INFO\n"
        "ARTIFACTSTORE_RETENTION_CONFIG_PATH=\n"
        "ARTIFACTSTORE_RETENTION_SWEEP_INTERVAL_SECONDS=3600\n"
        "ARTIFACTSTORE_STORAGE_BACKENDS=local\n"
        "ARTIFACTSTORE_STORAGE_DEFAULT_BACKEND=local\n"
    )
    run_the_seeds_smoke_test()
    assert "files in manifest: ['hello.txt']" in capsys.readouterr().out
    assert (isolated / "var" / "artifactstore.db").exists()
    assert any((isolated / "var" / "storage").rglob("*"))


SEED_001_ENV = {
    # seed 001's variable -> (Satchel's setting, value given, value Satchel reads)
    "ARTIFACTSTORE_DATABASE_URL": ("database_url", "postgresql+asyncpg://u:p@db/a", None),
    "ARTIFACTSTORE_STORAGE_LOCAL_ROOT": ("fs_root", "/srv/storage", Path("/srv/storage")),
    "ARTIFACTSTORE_LOG_LEVEL": ("log_level", "WARNING", "warning"),
    "ARTIFACTSTORE_ANON_READ": ("anon_read", "true", True),
    "ARTIFACTSTORE_API_URL": ("url", "http://127.0.0.1:8000", None),
    "ARTIFACTSTORE_API_TOKEN": ("token", "secret-token", None),
    "ARTIFACTSTORE_RETENTION_CONFIG_PATH": (
        "retention_config_path",
        "/etc/r.toml",
        Path("/etc/r.toml"),
    ),
    "ARTIFACTSTORE_RETENTION_SWEEP_INTERVAL_SECONDS": (
        "retention_sweep_interval_seconds",
        "600",
        600,
    ),
    "ARTIFACTSTORE_STORAGE_BACKENDS": ("storage_backends", "local,s3", None),
    "ARTIFACTSTORE_STORAGE_DEFAULT_BACKEND": ("storage_default_backend", "s3", None),
    "ARTIFACTSTORE_STORAGE_BACKEND_ROUTES": ("storage_backend_routes", "*:*=local", None),
    "ARTIFACTSTORE_S3_ENDPOINT_URL": ("s3_endpoint_url", "https://rgw.example", None),
    "ARTIFACTSTORE_S3_REGION": ("s3_region", "eu-west-1", None),
    "ARTIFACTSTORE_S3_BUCKET": ("bucket", "artifact-store", None),
    "ARTIFACTSTORE_S3_KEY_PREFIX": ("s3_key_prefix", "prod/artifact-store", None),
    "ARTIFACTSTORE_S3_ACCESS_KEY_REF": ("s3_access_key_ref", "env:RGW_KEY", None),
    "ARTIFACTSTORE_S3_SECRET_KEY_REF": ("s3_secret_key_ref", "file:/run/secret", None),
    "ARTIFACTSTORE_S3_STORAGE_CLASS": ("s3_storage_class", "STANDARD", None),
    "ARTIFACTSTORE_S3_SSE": ("s3_sse", "AES256", None),
    "ARTIFACTSTORE_S3_MULTIPART_THRESHOLD_BYTES": (
        "s3_multipart_threshold_bytes",
        "67108864",
        67108864,
    ),
    "ARTIFACTSTORE_S3_MULTIPART_CHUNK_BYTES": ("s3_multipart_chunk_bytes", "8388608", 8388608),
    "ARTIFACTSTORE_AUTH_TOKENS": ("shared_tokens", "a-shared-secret-of-length", None),
}


def test_seed_001_variable_names_configure_satchel(monkeypatch: pytest.MonkeyPatch) -> None:
    from satchel import Settings

    for name, (_, given, _) in SEED_001_ENV.items():
        monkeypatch.setenv(name, given)
    settings = Settings()
    for name, (field, given, read) in SEED_001_ENV.items():
        assert getattr(settings, field) == (given if read is None else read), name
    # Satchel's own name wins where both are set
    monkeypatch.setenv("SATCHEL_S3_BUCKET", "mine")
    assert Settings().bucket == "mine"
