"""The remote client needs none of the embedded store's libraries: with SQLAlchemy (and the
catalog's and backends' other dependencies) unimportable, ``satchel.client`` imports and talks
to a server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

BLOCKED = ("sqlalchemy", "alembic", "asyncpg", "aiobotocore", "redis")

SCRIPT = textwrap.dedent(
    """
    import asyncio, importlib.abc, sys

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, Blocker())

    import satchel.client
    from satchel import RemoteArtifactStore, SyncArtifactStore, connect
    from satchel.core.unset import UNSET
    from satchel.core.models import ArtifactList

    async def main():
        async with connect(URL, TOKEN) as store:
            assert isinstance(store, RemoteArtifactStore)
            artifact_id = await store.store(b"no sqlalchemy here", filename="a.txt")
            assert await store.read_file(artifact_id) == b"no sqlalchemy here"
            assert isinstance(await store.search(), ArtifactList)

    asyncio.run(main())
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
    assert loaded == [], loaded
    try:
        import satchel
        satchel.ArtifactStore
    except ImportError as exc:
        print("embedded store unavailable:", exc)
    else:
        raise AssertionError("the embedded store imported without SQLAlchemy")
    print("ok")
    """
)


def test_the_client_imports_and_works_without_sqlalchemy(server: Any) -> None:
    preamble = f"BLOCKED = {BLOCKED!r}\nURL = {server.url!r}\nTOKEN = {server.token('alice')!r}\n"
    result = subprocess.run(
        [sys.executable, "-c", preamble + SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "ok"
    assert "embedded store unavailable" in result.stdout
