"""Bad input gets a clear error (InvalidRequestError or TooLargeError) and writes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from tests.store.internals import blobs_of

from satchel import (
    ArtifactStore,
    ArtifactStoreError,
    InvalidRequestError,
    StreamUploadRequest,
    TooLargeError,
)

BAD_FILENAMES = [
    "../x",
    "/etc/passwd",
    "a/../b",
    "a/..",
    "C:\\x",
    "C:/x",
    "a\\b",
    "a\x00b",
    "",
    "a//b",
    "./a",
    "a/",
    "a\nb",
    "x" * 256,  # one segment longer than 255 bytes
]

BAD_IDS = ["a/b", "a\\b", "..", "../x", "a..b", "a\x00b", "", "-leading-dash", "x" * 129, "a b"]


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
async def seeded(store: ArtifactStore) -> str:
    """One existing artifact (so 'writes nothing' is checked against a non-empty store)."""
    return await store.store(
        b"existing", mime="text/plain", session_id="s", filename="a.txt", meta={"k": 1}
    )


class Refusals:
    """Asserts that calls are refused with a clear error and write nothing.

    The state (catalog counts, stored blobs, every artifact's etag) is taken at the first check
    and every later refusal is compared with it; call :meth:`reset` after a legitimate write.
    """

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self.before: tuple[dict[str, Any], list[str], list[str]] | None = None

    async def state(self) -> tuple[dict[str, Any], list[str], list[str]]:
        page = await blobs_of(self.store).list_page(limit=1000)
        etags = sorted(m.etag for m in await self.store.search(limit=1000))
        return await self.store.get_stats(), sorted(b.digest for b in page.blobs), etags

    def reset(self) -> None:
        self.before = None

    async def __call__(
        self,
        call: Callable[[], Awaitable[Any]],
        error: type[ArtifactStoreError] = InvalidRequestError,
        *,
        mid_stream: bool = False,
        label: str = "",
    ) -> ArtifactStoreError:
        """*call* raises *error* (an ArtifactStoreError) and leaves everything unchanged.

        ``mid_stream`` marks failures found only while reading a stream's bytes; they too must
        leave nothing behind, not even the new session the upload would have created.
        """
        if self.before is None:
            self.before = await self.state()
        try:
            await call()
        except error as exc:
            caught: ArtifactStoreError = exc
        except BaseException as exc:
            exc.add_note(f"while checking: {label}")
            raise
        else:
            pytest.fail(f"not refused with {error.__name__}: {label}")
        assert isinstance(caught, ArtifactStoreError)
        assert caught.message
        stats, blobs, etags = await self.state()
        before_stats = dict(self.before[0])
        assert (stats, blobs, etags) == (before_stats, self.before[1], self.before[2]), label
        return caught


@pytest.fixture
def refused(store: ArtifactStore) -> Refusals:
    return Refusals(store)


def calls_with(
    value: Any, makers: dict[str, Callable[[Any], Awaitable[Any]]]
) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    """``(label, call)`` for each named call maker applied to *value*."""
    return [(f"{name}({value!r})", lambda m=make: m(value)) for name, make in makers.items()]


# -- filenames -------------------------------------------------------------------------------------


async def test_bad_filenames_are_refused_everywhere(
    store: ArtifactStore, refused: Refusals, seeded: str
) -> None:
    makers: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "store": lambda f: store.store(b"x", mime="text/plain", session_id="s", filename=f),
        "write_file": lambda f: store.write_file("x", filename=f, session_id="s"),
        "stream_upload": lambda f: store.stream_upload(
            StreamUploadRequest(data_stream=chunks(b"x"), session_id="s", filename=f)
        ),
        "store_batch": lambda f: store.store_batch([{"data": b"x", "filename": f}], session_id="s"),
        # (an empty name means "unchanged" for these, so NUL stands in for it)
        "copy_file": lambda f: store.copy_file(seeded, new_filename=f or "\x00"),
        "move_file": lambda f: store.move_file(seeded, new_filename=f or "\x00"),
        "update_metadata": lambda f: store.update_metadata(seeded, filename=f or "\x00"),
        "update_file": lambda f: store.update_file(seeded, data=b"new", filename=f or "\x00"),
    }
    for filename in BAD_FILENAMES:
        for label, call in calls_with(filename, makers):
            await refused(call, label=label)
    assert (await store.metadata(seeded)).filename == "a.txt"


async def test_bad_directory_prefixes_are_refused(store: ArtifactStore) -> None:
    for prefix in ["../", "/etc/", "a/../", "C:\\", "a\x00/", "a//"]:
        with pytest.raises(InvalidRequestError):
            await store.get_directory_contents("s", prefix)


async def test_good_nested_filenames_are_accepted(store: ArtifactStore) -> None:
    for name in ["docs/README.md", "a/b/c/d.txt", "Grüße/naïve file.txt", ".hidden", "a..b"]:
        artifact_id = await store.store(b"x", mime="text/plain", session_id="s", filename=name)
        assert (await store.metadata(artifact_id)).filename == name


# -- ids -------------------------------------------------------------------------------------------


async def test_bad_session_and_user_ids_are_refused(
    store: ArtifactStore, refused: Refusals, seeded: str
) -> None:
    makers: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "store(session_id)": lambda b: store.store(b"x", mime="text/plain", session_id=b),
        "store(user_id)": lambda b: store.store(b"x", mime="text/plain", user_id=b),
        "store(user scope)": lambda b: store.store(
            b"x", mime="text/plain", user_id=b, scope="user"
        ),
        "stream_upload": lambda b: store.stream_upload(
            StreamUploadRequest(data_stream=chunks(b"x"), user_id=b)
        ),
        "store_batch": lambda b: store.store_batch([{"data": b"x"}], session_id=b),
        "retrieve(user_id)": lambda b: store.retrieve(seeded, user_id=b),
        "retrieve(session_id)": lambda b: store.retrieve(seeded, session_id=b),
        "update_metadata": lambda b: store.update_metadata(seeded, summary="s", user_id=b),
        "delete": lambda b: store.delete(seeded, session_id=b),
        "copy_file": lambda b: store.copy_file(seeded, target_session_id=b),
        "move_file": lambda b: store.move_file(seeded, new_session_id=b),
        "list_by_session": lambda b: store.list_by_session(b),
        "get_directory_contents": lambda b: store.get_directory_contents(b),
        "search": lambda b: store.search(user_id=b),
        "create_session": lambda b: store.create_session(user_id=b),
        "retrieve(artifact_id)": lambda b: store.retrieve(b),
        "delete(artifact_id)": lambda b: store.delete(b),
    }
    for bad in BAD_IDS:
        for label, call in calls_with(bad, makers):
            await refused(call, label=label)
    assert await store.exists(seeded)


async def test_bad_artifact_ids_are_refused(store: ArtifactStore) -> None:
    for artifact_id in ["", "../x", "a/b", "a\x00", None, 5]:
        for call in (store.retrieve, store.metadata, store.delete, store.exists):
            with pytest.raises(InvalidRequestError):
                await call(artifact_id)


@pytest.mark.parametrize("sandbox_id", ["../x", "a/b", "a\\b", "..", "a\x00", ""])
def test_bad_sandbox_ids_are_refused_at_construction(sandbox_id: str) -> None:
    with pytest.raises(InvalidRequestError):
        ArtifactStore(sandbox_id=sandbox_id)


# -- data ------------------------------------------------------------------------------------------


async def test_bad_data_is_refused(store: ArtifactStore, refused: Refusals, seeded: str) -> None:
    makers: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "store": lambda d: store.store(d, mime="text/plain"),
        "store_batch": lambda d: store.store_batch([{"data": d}], session_id="s"),
    }
    for data in ["text, not bytes", None, 42, [b"a"]]:
        for label, call in calls_with(data, makers):
            await refused(call, label=label)
        if data is not None:  # update_file(data=None) means "no new content"
            await refused(lambda d=data: store.update_file(seeded, data=d), label=repr(data))
    assert await store.retrieve(seeded) == b"existing"


async def test_bytes_like_data_is_accepted(store: ArtifactStore) -> None:
    for data in (bytearray(b"array"), memoryview(b"view")):
        artifact_id = await store.store(data, mime="application/octet-stream", session_id="s")
        assert await store.retrieve(artifact_id) == bytes(data)


async def test_stream_of_non_bytes_is_refused(store: ArtifactStore, refused: Refusals) -> None:
    for bad_chunk in ["text", 7, None]:
        request = StreamUploadRequest(data_stream=chunks(b"ok", bad_chunk), session_id="s")
        await refused(
            lambda r=request: store.stream_upload(r), mid_stream=True, label=repr(bad_chunk)
        )


async def test_oversize_data(make_store: Any) -> None:
    store = await make_store(max_upload_bytes=10)
    refused = Refusals(store)
    existing = await store.store(b"0123456789", mime="text/plain", session_id="s")  # at the limit
    eleven = b"01234567890"
    await refused(lambda: store.store(eleven, mime="text/plain"), TooLargeError)
    await refused(lambda: store.write_file(eleven, filename="f", session_id="s"), TooLargeError)
    await refused(lambda: store.update_file(existing, data=eleven), TooLargeError)
    await refused(
        lambda: store.store_batch([{"data": b"1"}, {"data": eleven}], session_id="s"),
        TooLargeError,
    )
    # A declared length over the limit is refused before anything is read.
    request = StreamUploadRequest(
        data_stream=chunks(b"012345", b"67890"), session_id="new", content_length=11
    )
    await refused(lambda: store.stream_upload(request), TooLargeError)
    # A stream that turns out too big.
    request = StreamUploadRequest(data_stream=chunks(b"012345", b"67890"), session_id="s")
    await refused(lambda: store.stream_upload(request), TooLargeError, mid_stream=True)
    # A declared length that lies, then overshoots the limit.
    request = StreamUploadRequest(
        data_stream=chunks(b"012345", b"67890", b"xyz"), session_id="s", content_length=10
    )
    await refused(lambda: store.stream_upload(request), mid_stream=True)
    assert await store.retrieve(existing) == b"0123456789"


async def test_non_positive_content_length(store: ArtifactStore, refused: Refusals) -> None:
    for length in (0, -5):
        request = StreamUploadRequest(data_stream=chunks(b"x"), content_length=length)
        await refused(lambda r=request: store.stream_upload(r), label=str(length))


# -- ttl -------------------------------------------------------------------------------------------


async def test_bad_ttl_is_refused(store: ArtifactStore, refused: Refusals, seeded: str) -> None:
    makers: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "store": lambda t: store.store(b"x", mime="text/plain", ttl=t),
        "store(user scope)": lambda t: store.store(
            b"x", mime="text/plain", user_id="alice", scope="user", ttl=t
        ),
        "write_file": lambda t: store.write_file("x", filename="f", ttl=t),
        "store_batch": lambda t: store.store_batch([{"data": b"x"}], session_id="s", ttl=t),
        "store_batch(item)": lambda t: store.store_batch([{"data": b"x", "ttl": t}]),
        "update_metadata": lambda t: store.update_metadata(seeded, ttl=t),
        "update_file": lambda t: store.update_file(seeded, data=b"new", ttl=t),
        "extend_ttl": lambda t: store.extend_ttl(seeded, t),
    }
    for ttl in [-1, 0, -3600, 0.5, float("nan"), float("inf"), "900", True, 10**12]:
        for label, call in calls_with(ttl, makers):
            await refused(call, label=label)
        if type(ttl) is int:  # the request model itself refuses (or coerces) other types
            request = StreamUploadRequest(data_stream=chunks(b"x"), ttl=ttl)
            await refused(lambda r=request: store.stream_upload(r), label=f"stream {ttl}")
    assert (await store.metadata(seeded)).version == 1


# -- meta ------------------------------------------------------------------------------------------


async def test_non_json_meta_is_refused(
    store: ArtifactStore, refused: Refusals, seeded: str
) -> None:
    makers: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "store": lambda m: store.store(b"x", mime="text/plain", meta=m),
        "update_metadata": lambda m: store.update_metadata(seeded, meta=m),
        "update_metadata(replace)": lambda m: store.update_metadata(seeded, meta=m, merge=False),
        "update_file": lambda m: store.update_file(seeded, meta=m),
        "copy_file": lambda m: store.copy_file(seeded, new_meta=m),
        "move_file": lambda m: store.move_file(seeded, new_meta=m),
        "search": lambda m: store.search(meta_filter=m),
    }
    bad_metas: list[Any] = [
        {"tags": {"a", "b"}},  # a set is not JSON
        {"raw": b"bytes"},
        {1: "int key"},
        {"x": float("nan")},  # NaN and Infinity are not JSON either
        {"x": float("-inf")},
        {"x": [1, float("inf")]},
        {"x": object()},
        {"nul": "a\x00b"},
        ["not", "a", "dict"],
        "a string",
    ]
    for meta in bad_metas:
        for label, call in calls_with(meta, makers):
            await refused(call, label=label)
    assert (await store.metadata(seeded)).meta == {"k": 1}


async def test_oversized_meta(make_store: Any) -> None:
    store = await make_store(max_meta_bytes=1024)
    refused = Refusals(store)
    big = {"blob": "x" * 2000}
    artifact_id = await store.store(b"x", mime="text/plain", session_id="s", meta={"a": "y" * 700})
    await refused(lambda: store.store(b"x", mime="text/plain", meta=big), TooLargeError)
    await refused(lambda: store.update_metadata(artifact_id, meta=big), TooLargeError)
    await refused(lambda: store.update_file(artifact_id, meta=big), TooLargeError)
    await refused(lambda: store.store_batch([{"data": b"x", "meta": big}]), TooLargeError)
    # Each half fits, but merged they would not: the stored document stays within the bound.
    half = {"b": "z" * 700}
    await refused(lambda: store.update_metadata(artifact_id, meta=half, merge=True), TooLargeError)
    await refused(lambda: store.move_file(artifact_id, new_meta=half), TooLargeError)
    await refused(lambda: store.copy_file(artifact_id, new_meta=half), TooLargeError)
    assert (await store.metadata(artifact_id)).meta == {"a": "y" * 700}
    # Replacing instead of merging is fine.
    replaced = await store.update_metadata(artifact_id, meta=half, merge=False)
    assert replaced.meta == half


# -- scope, mime, summary --------------------------------------------------------------------------


async def test_unknown_scope_is_refused(store: ArtifactStore, refused: Refusals) -> None:
    makers: dict[str, Callable[[Any], Awaitable[Any]]] = {
        "store": lambda s: store.store(b"x", mime="text/plain", scope=s),
        "store_batch": lambda s: store.store_batch([{"data": b"x", "scope": s}]),
        "write_file": lambda s: store.write_file("x", filename="f", scope=s),
    }
    for scope in ["galaxy", "", None, 3, "sessions"]:
        for label, call in calls_with(scope, makers):
            await refused(call, label=label)
        if scope is not None:  # search(scope=None) means "any scope"
            await refused(lambda s=scope: store.search(scope=s), label=f"search {scope!r}")


async def test_scope_names_are_case_insensitive(store: ArtifactStore) -> None:
    artifact_id = await store.store(b"x", mime="text/plain", user_id="alice", scope="USER")
    assert (await store.metadata(artifact_id)).scope == "user"


async def test_bad_mime_is_refused(store: ArtifactStore, refused: Refusals, seeded: str) -> None:
    bad_mimes: list[Any] = [
        "",
        "text",
        "not a mime",
        "text/",
        "/plain",
        "text/plain\x00",
        5,
        "a" * 300 + "/x",
    ]
    for mime in bad_mimes:
        await refused(lambda m=mime: store.store(b"x", mime=m), label=repr(mime))
        if mime:  # an empty mime means "unchanged" for updates
            await refused(lambda m=mime: store.update_metadata(seeded, mime=m), label=repr(mime))


async def test_bad_summary_is_refused(store: ArtifactStore, refused: Refusals, seeded: str) -> None:
    for summary in ["a\x00b", "s" * 5000, 42]:
        await refused(
            lambda s=summary: store.store(b"x", mime="text/plain", summary=s), label=repr(summary)
        )
        await refused(
            lambda s=summary: store.update_metadata(seeded, summary=s), label=repr(summary)
        )


async def test_user_scope_needs_a_user(store: ArtifactStore, refused: Refusals) -> None:
    error = await refused(lambda: store.store(b"x", mime="text/plain", scope="user"))
    assert "user_id" in error.message
    # A session nobody owns does not name a user either.
    await store.store(b"x", mime="text/plain", session_id="unowned")
    refused.reset()
    await refused(
        lambda: store.store(b"x", mime="text/plain", scope="user", session_id="unowned"),
    )
    request = StreamUploadRequest(data_stream=chunks(b"x"), scope="user")
    await refused(lambda: store.stream_upload(request))


# -- listings: limits and cursors ------------------------------------------------------------------


async def test_bad_limit_is_refused(store: ArtifactStore) -> None:
    for limit in [0, -1, 10_000, 1001, True, "10", 1.5, None]:
        with pytest.raises(InvalidRequestError):
            await store.list_by_session("s", limit=limit)
        with pytest.raises(InvalidRequestError):
            await store.search(limit=limit)
        with pytest.raises(InvalidRequestError):
            await store.get_directory_contents("s", "", limit)
    assert len(await store.search(limit=1000)) == 0  # the bounds themselves are fine
    assert len(await store.list_by_session("s", limit=1)) == 0


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def test_malformed_cursor_is_refused(store: ArtifactStore) -> None:
    for i in range(3):
        await store.store(b"%d" % i, mime="text/plain", session_id="s", user_id="alice")
    cursors: list[Any] = [
        "not a cursor!!",
        "",
        "%%%%",
        _b64("a string"),
        _b64([1]),
        _b64([1, "a", "b"]),
        _b64(["x", "y"]),  # well-formed base64 JSON, wrong types
        _b64([[1], "y"]),
        _b64([1.5, 7]),
        _b64([True, "y"]),
        _b64([None, None]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        123,
    ]
    for cursor in cursors:
        for call in (
            lambda c: store.list_by_session("s", limit=1, cursor=c),
            lambda c: store.search(user_id="alice", limit=1, cursor=c),
            lambda c: store.search(user_id="alice", meta_filter={"k": 1}, cursor=c),
        ):
            try:
                with pytest.raises(InvalidRequestError):
                    await call(cursor)
            except BaseException as exc:
                exc.add_note(f"cursor={cursor!r}")
                raise
