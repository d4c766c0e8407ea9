"""How ``Satchel()`` chooses its mode (seed 002's decision table with ``SATCHEL_*`` names), whom
it acts as, and the scope its uploads get."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from satchel import AccessDeniedError, InvalidRequestError, Satchel, SyncArtifactStore
from satchel.testing.env import is_configuration


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if is_configuration(name):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _scope(client: Satchel, artifact_id: str) -> str:
    return str(client.store.metadata(artifact_id).scope)


def test_local_mode_without_a_url(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("SATCHEL_DATA_DIR", str(tmp_path / "here"))
    with Satchel() as client:
        assert not client.platform
        artifact = client.upload_artifact(name="a.txt", io_stream=io.BytesIO(b"a"))
        assert _scope(client, artifact.artifact_id) == "sandbox"  # the application's own
    assert (tmp_path / "here" / "satchel.db").exists()
    clean_env.delenv("SATCHEL_DATA_DIR")
    with Satchel.local(user_id="alice") as client:  # ./var by default
        artifact = client.upload_artifact(name="b.txt", io_stream=io.BytesIO(b"b"))
        assert _scope(client, artifact.artifact_id) == "user"
    assert (tmp_path / "var" / "satchel.db").exists()


def test_a_token_without_a_url_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidRequestError, match="SATCHEL_URL"):
        Satchel(token="secret")
    clean_env.setenv("SATCHEL_TOKEN", "secret")
    with pytest.raises(InvalidRequestError, match="SATCHEL_URL"):
        Satchel()
    with pytest.raises(ValueError, match="SATCHEL_URL"):  # a ValueError, as IVCAP raises
        Satchel()


def test_platform_mode_from_the_environment(
    clean_env: pytest.MonkeyPatch, platform_server: Any, tmp_path: Path
) -> None:
    clean_env.setenv("SATCHEL_URL", platform_server.url)
    clean_env.setenv("SATCHEL_TOKEN", platform_server.token("alice"))
    with Satchel() as client:
        assert client.platform
        artifact = client.upload_artifact(name="p.txt", io_stream=io.BytesIO(b"p"))
        assert _scope(client, artifact.artifact_id) == "user"  # alice's token is a user's
        assert client.store.metadata(artifact.artifact_id).owner_id == "alice"
        with pytest.raises(AccessDeniedError):  # only admins write sandbox-scoped artifacts
            Satchel(store=client.store, scope="sandbox").upload_artifact(
                name="s.txt", io_stream=io.BytesIO(b"s")
            )
    with Satchel.local(base_dir=tmp_path / "forced") as local:  # whatever SATCHEL_URL says
        assert not local.platform
        local.upload_artifact(name="l.txt", io_stream=io.BytesIO(b"l"))
    assert (tmp_path / "forced" / "satchel.db").exists()


def test_an_existing_store_is_wrapped(tmp_path: Path) -> None:
    sync = SyncArtifactStore(Satchel.local(base_dir=tmp_path).store.wrapped)
    with Satchel(store=sync, user_id="carol", scope="session") as client:
        assert client.store is sync
        artifact = client.upload_artifact(name="c.txt", io_stream=io.BytesIO(b"c"))
        meta = sync.metadata(artifact.artifact_id, user_id="carol")
        assert (str(meta.scope), meta.owner_id) == ("session", "carol")
    with pytest.raises(InvalidRequestError):
        Satchel.local(base_dir=tmp_path, scope="everyone")
