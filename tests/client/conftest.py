"""Remote-client tests: ``remote(who)`` builds a client of the harness's ``server``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from satchel.client import RemoteArtifactStore


@pytest.fixture
async def remote(server: Any) -> AsyncIterator[Callable[..., RemoteArtifactStore]]:
    """``remote(who)`` → a RemoteArtifactStore with *who*'s token (closed after the test)."""
    made: list[RemoteArtifactStore] = []

    def make(who: str | None = "alice") -> RemoteArtifactStore:
        store = RemoteArtifactStore(server.url, server.token(who) if who else None, timeout=30)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()
