"""Odd inputs that once escaped the error tree as raw Python or driver errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.store.internals import catalog_of

from satchel import ArtifactStore, InvalidRequestError, NotSupportedError, ProviderError, Settings


# (a bare postgresql:// URL means asyncpg, which is installed: see tests/catalog/test_postgres.py)
@pytest.mark.parametrize("url", ["postgresql+psycopg2://prod/db", "nosuch://x"])
async def test_unusable_catalog_urls_are_not_supported(url: str) -> None:
    with pytest.raises(NotSupportedError, match="catalog URL"):
        await ArtifactStore(database_url=url).open()


async def test_cursor_with_an_absurd_time_is_malformed(store: ArtifactStore) -> None:
    # base64 of [1e308, "x"]: decodes fine, but no artifact was ever stored then.
    with pytest.raises(InvalidRequestError, match="cursor"):
        await store.search(cursor="WzFlMzA4LCJ4Il0")


async def test_meta_filters_on_unusual_keys_and_huge_integers_still_match(
    store: ArtifactStore,
) -> None:
    wanted = await store.store(
        b"x", mime="text/plain", meta={'quote"key': "v", "big": 2**64, "plain": 1}
    )
    await store.store(b"y", mime="text/plain", meta={'quote"key': "w", "big": 1, "plain": 1})
    for meta_filter in ({'quote"key': "v"}, {"big": 2**64}, {"plain": 1, "big": 2**64}):
        found = await store.search(meta_filter=meta_filter)
        assert [m.artifact_id for m in found] == [wanted], meta_filter


async def test_deeply_nested_meta_is_refused(store: ArtifactStore) -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = {"a": deep}
    with pytest.raises(InvalidRequestError, match="meta"):
        await store.store(b"x", mime="text/plain", meta=deep)
    assert (await store.get_stats())["total_artifacts"] == 0


async def test_text_encodings_are_checked(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"caf\xc3\xa9", mime="text/plain")
    with pytest.raises(InvalidRequestError, match="encoding"):
        await store.read_file(artifact_id, as_text=True, encoding="no-such-codec")
    with pytest.raises(InvalidRequestError, match="encoding"):
        await store.write_file("x", filename="a.txt", encoding="no-such-codec")
    with pytest.raises(InvalidRequestError, match="ascii"):
        await store.write_file("café", filename="a.txt", encoding="ascii")
    assert await store.read_file(artifact_id, as_text=True) == "café"


async def test_streaming_methods_want_their_request_models(store: ArtifactStore) -> None:
    with pytest.raises(InvalidRequestError, match="StreamUploadRequest"):
        await store.stream_upload({"data_stream": None})  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="StreamDownloadRequest"):
        async for _ in store.stream_download({"artifact_id": "x"}):  # type: ignore[arg-type]
            pass


async def test_a_driver_failure_on_the_hot_lookup_is_a_provider_error(tmp_path: Any) -> None:
    """The artifact lookup runs on the sqlite3 cursor itself (HotQuery); a driver failure
    there is still an error of the tree, like one under SQLAlchemy."""
    settings = Settings(data_dir=tmp_path)
    async with ArtifactStore(settings=settings, storage_provider="filesystem") as store:
        artifact_id = await store.store(b"hello", mime="text/plain")
        await store.metadata(artifact_id)
        catalog_of(store)._reader.sync.connection.driver_connection.close()  # the reads' connection
        await asyncio.sleep(0)  # a new turn of the loop: the record cache asks SQLite again
        with pytest.raises(ProviderError, match="closed database"):
            await store.metadata(artifact_id)
