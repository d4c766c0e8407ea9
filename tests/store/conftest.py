"""Fixtures of the ArtifactStore library tests: one store per blob backend.

Every test that takes ``store`` (or ``make_store``) runs once per backend: ``memory`` (with an
in-memory catalog), ``filesystem`` and ``sqlite`` (each with a SQLite catalog file under the
test's ``tmp_path``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from satchel import ArtifactStore, Settings

BACKENDS = {
    # fixture id -> (storage_provider argument, the store's normalised backend name)
    "memory": (None, "memory"),
    "filesystem": ("filesystem", "filesystem"),
    "sqlite": ("vfs-sqlite", "sqlite"),
}

_LEAKY_PREFIXES = ("SATCHEL_", "ARTIFACT_", "SESSION_")
_LEAKY_NAMES = ("SANDBOX_ID",)

MakeStore = Callable[..., Awaitable[ArtifactStore]]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No configuration from the environment or a ./.env file reaches a test's store."""
    for name in list(os.environ):
        if name.upper().startswith(_LEAKY_PREFIXES) or name.upper() in _LEAKY_NAMES:
            monkeypatch.delenv(name, raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    """The blob backend under test (its normalised name)."""
    return BACKENDS[request.param][1]


@pytest.fixture
async def make_store(backend: str, tmp_path: Path) -> AsyncIterator[MakeStore]:
    """A factory of opened stores on the backend under test: ``await make_store(**settings)``.

    Keyword arguments are Settings fields (``max_meta_bytes=1024``…) except ``sandbox_id``,
    which goes to the constructor. Every store is closed at teardown.
    """
    made: list[ArtifactStore] = []
    provider = next(p for p, name in BACKENDS.values() if name == backend)

    async def factory(**overrides: Any) -> ArtifactStore:
        sandbox_id = overrides.pop("sandbox_id", None)
        data_dir = overrides.pop("data_dir", tmp_path / f"data{len(made)}")
        settings = Settings(data_dir=data_dir, **{"gc_grace_seconds": 0, **overrides})
        kwargs: dict[str, Any] = {"settings": settings, "sandbox_id": sandbox_id}
        if provider is not None:
            kwargs["storage_provider"] = provider
        store = ArtifactStore(**kwargs)
        made.append(store)
        await store.open()
        return store

    yield factory
    for store in made:
        await store.close()


@pytest.fixture
async def store(make_store: MakeStore, backend: str) -> ArtifactStore:
    """An opened store with default settings on the backend under test."""
    opened = await make_store()
    assert opened.storage_provider == backend
    return opened


# -- helpers shared by the test modules (as fixtures) ----------------------------------------------


async def _snapshot(store: ArtifactStore) -> tuple[dict[str, Any], set[str]]:
    found: set[str] = set()
    cursor: str | None = None
    while True:
        page = await store.blobs.list_page(cursor=cursor, limit=1000)
        found.update(info.digest for info in page.blobs)
        cursor = page.next_cursor
        if cursor is None:
            return await store.get_stats(), found


Snapshot = Callable[[ArtifactStore], Awaitable[tuple[dict[str, Any], set[str]]]]


@pytest.fixture
def snapshot() -> Snapshot:
    """``await snapshot(store)``: catalog counts plus stored blobs; equal means nothing written."""
    return _snapshot


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def sha() -> Callable[[bytes], str]:
    """``sha(data)``: the ``sha256:<hex>`` digest a store reports for ``data``."""
    return _sha
