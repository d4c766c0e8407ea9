"""``AsyncSatchel``: the same calls as ``Satchel``, awaited, in local and platform mode."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from satchel import AsyncArtifact, AsyncLocalFileArtifact, AsyncSatchel, InvalidRequestError

SCHEMA = {"type": "object"}


@pytest.fixture(params=["local", "platform"])
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "local":
        made = AsyncSatchel.local(base_dir=tmp_path / "data")
        await made.store.register_schema("tag", SCHEMA)
    else:
        server = request.getfixturevalue("platform_server")  # registered "tag" already
        made = AsyncSatchel(url=server.url, token=server.token("alice"))
    async with made:
        yield made


async def test_the_guide_awaited(client: AsyncSatchel, tmp_path: Path) -> None:
    path = tmp_path / "result.csv"
    path.write_bytes(b"a,b\n" * 50_000)
    artifact = await client.upload_artifact(name="result.csv", file_path=path)
    assert isinstance(artifact, AsyncArtifact)
    assert (await client.upload_artifact(name="result.csv", file_path=path)).id == artifact.id
    assert (await client.get_artifact(artifact.id)).size == path.stat().st_size
    assert [a.id for a in await client.list_artifacts(limit=1)] == [artifact.id]

    async with artifact.as_local_file() as temporary:
        assert temporary.read_bytes() == path.read_bytes()
    assert not temporary.exists()
    kept = await artifact.as_local_file(tmp_path / "kept.csv")
    assert kept.read_bytes() == path.read_bytes()
    with pytest.raises(InvalidRequestError):
        await artifact.as_local_file()  # a temporary file needs an 'async with'

    seen: list[tuple[int, int | None]] = []
    chunks = [c async for c in artifact.as_stream(65536, lambda d, t: seen.append((d, t)))]
    assert b"".join(chunks) == path.read_bytes()
    assert seen[-1] == (artifact.size, artifact.size)
    assert await artifact.read_range(4, 4) == b"a,b\n"

    streamed = await client.upload_artifact(io_stream=io.StringIO("x"), content_type="text/plain")
    assert streamed.name is not None
    assert streamed.name.endswith(".txt")
    aspect = await artifact.add_metadata({"$schema": "tag", "n": 1})
    assert [m.id for m in await artifact.metadata] == [aspect.id]
    assert (await client.get_aspect(aspect.id)).content == {"$schema": "tag", "n": 1}


async def test_local_files_awaited(client: AsyncSatchel, tmp_path: Path) -> None:
    data = os.urandom(1000)
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    artifact = await client.get_artifact("urn:" + path.as_uri())
    assert isinstance(artifact, AsyncLocalFileArtifact)
    async with artifact.as_local_file() as local:
        assert local == path
    assert path.exists()
    assert b"".join([c async for c in artifact.as_stream(100)]) == data
