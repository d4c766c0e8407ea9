"""Reuse the real-server harness of tests/server/conftest.py (``server``: admin/alice/bob).

The suite runs with ``--import-mode=importlib``, so the harness is loaded from its file and its
fixture re-exported here rather than imported as a package module.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from satchel.client import RemoteArtifactStore

_PATH = Path(__file__).resolve().parent.parent / "server" / "conftest.py"
_NAME = "satchel_tests_server_harness"


def _load() -> Any:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


harness = _load()
server = harness.server
TOKENS: dict[str, str] = harness.TOKENS


@pytest.fixture
async def remote(server: Any) -> AsyncIterator[Callable[..., RemoteArtifactStore]]:
    """``remote(who)`` → a RemoteArtifactStore with *who*'s token (closed after the test)."""
    made: list[RemoteArtifactStore] = []

    def make(who: str | None = "alice") -> RemoteArtifactStore:
        store = RemoteArtifactStore(server.url, TOKENS[who] if who else None, timeout=30)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()
