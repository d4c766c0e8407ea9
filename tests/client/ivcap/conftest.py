"""The IVCAP-style client in both of seed 002's modes: ``ivcap`` is a :class:`satchel.Satchel`
in local mode (the embedded store in a temporary directory) and in platform mode (alice's
token against a real ``satchel serve`` the harness starts). ``admin_store`` registers schemas
where the client's caller may not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from satchel import Satchel

SCHEMA = {"type": "object", "properties": {"tags": {"type": "array"}}}


@pytest.fixture(scope="module")
def platform_server(server_pool: Any) -> Iterator[Any]:
    """A server of this module's own (its data starts empty)."""
    server = server_pool.take()
    with Satchel(url=server.url, token=server.token("admin")) as admin:
        admin.store.register_schema("tag", SCHEMA)
    yield server
    server_pool.release(server)


@pytest.fixture
def make_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Satchel]]:
    """``make_client(mode, who="alice", **options)``: a client of this test's local store (the
    same data directory each time) or of the module's server, closed after the test."""
    made: list[Satchel] = []

    def make(mode: str, who: str = "alice", **options: Any) -> Satchel:
        if mode == "local":
            client = Satchel.local(base_dir=tmp_path / "data", **options)
            client.store.register_schema("tag", SCHEMA)
        else:
            server = request.getfixturevalue("platform_server")
            url = options.pop("url", server.url)
            client = Satchel(url=url, token=server.token(who), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(params=["local", "platform"])
def ivcap(request: pytest.FixtureRequest, make_client: Callable[..., Satchel]) -> Satchel:
    return make_client(request.param)
