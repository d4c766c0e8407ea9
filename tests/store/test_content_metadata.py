"""An opened read carries the artifact's metadata, exactly what ``metadata()`` answers, however
it was opened (whole, a range, HEAD, not modified), on every backend and through the remote
client. The embedded store builds it only when asked for: a read that never asks (the
service's content GETs) does not pay for it."""

from __future__ import annotations

from typing import Any

from tests.store.internals import context_of

from satchel import ArtifactStore, ByteRange
from satchel.core.content import ArtifactContent


async def test_an_opened_read_carries_the_metadata(store: ArtifactStore) -> None:
    artifact = await store.store(
        b"0123456789", mime="text/plain", filename="digits.txt", summary="ten", meta={"k": 1}
    )
    expected = await store.metadata(artifact)
    opened = [
        await store.open_content(artifact),
        await store.open_content(artifact, byte_range=ByteRange.parse("bytes=2-4")),
        await store.open_content(artifact, head=True),
        await store.open_content(artifact, if_none_match=f'"{expected.etag}"'),
    ]
    for content in opened:
        async with content:
            assert content.metadata == expected
    assert [content.status for content in opened] == [200, 206, 200, 304]


async def test_the_store_builds_the_metadata_only_when_asked() -> None:
    built: list[str] = []
    async with ArtifactStore(storage_provider="memory") as store:
        artifact = await store.store(b"abc", mime="text/plain")
        context = context_of(store)
        describe = context.to_metadata

        def counting(record: Any) -> Any:
            built.append("built")
            return describe(record)

        context.to_metadata = counting  # type: ignore[method-assign]
        async with await store.open_content(artifact) as content:
            assert isinstance(content, ArtifactContent)
            assert await content.read() == b"abc"
            assert built == []
            first = content.metadata
            assert content.metadata is first
            assert built == ["built"]
            assert first is not None
            assert first.artifact_id == artifact
