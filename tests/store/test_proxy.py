"""The pull-through cache (seed 003): miss then hit, include patterns, index TTLs and
revalidation, the negative cache, stale-if-error and blocked remotes, integrity, redirects,
local remotes, listing, prefetch and eviction; against an upstream the tests start
(tests/harness/origin.py), embedded on filesystem, S3 and PostgreSQL, and through a server."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.harness.origin import Origin
from tests.store.conftest import MakeStore
from tests.store.internals import catalog_of

from satchel.catalog.proxy import ProxyRows
from satchel.core.errors import (
    AccessDeniedError,
    ArtifactNotFoundError,
    InvalidRequestError,
    ProviderError,
    RemoteUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from satchel.core.ranges import ByteRange
from satchel.testing import ManualClock

BACKENDS = pytest.mark.not_on("memory", "sqlite", reason="cached files on disk, S3 and PostgreSQL")
EMBEDDED = pytest.mark.embedded_only("moves the store's clock past a TTL")


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    started = Origin()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def remotes_file(origin: Origin, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file for the module, so remote stores share one server (paths differ per test)."""
    path = tmp_path_factory.mktemp("proxy") / "remotes.yaml"
    (path.parent / "token").write_text("s3cr3t-token\n", encoding="utf-8")
    path.write_text(
        f"""
remotes:
  files:
    base_url: "{origin.url}/files"
    type: remote
    package: generic
    description: release files
    include_patterns: ["[a-z0-9-]+/.*\\\\.(tar\\\\.gz|bin|txt)$"]
    redirect_hosts: ["localhost"]
    cache: {{file_ttl: 0, not_found_ttl: 60}}
  alpine:
    base_url: "{origin.url}/alpine"
    package: alpine
    include_patterns: [".*/x86_64/.*"]
    cache: {{file_ttl: 0, index_ttl: 300, not_found_ttl: 0}}
  dead:
    base_url: "http://127.0.0.1:9/"
    include_patterns: [".*"]
  quiet:
    base_url: "{origin.url}/quiet"
    include_patterns: [".*"]
    offline: true
  uploads:
    type: local
    description: our own files
  checked:
    base_url: "{origin.url}/checked"
    include_patterns: [".*"]
    checksum_suffix: ".sha256"
  small:
    base_url: "{origin.url}/small"
    include_patterns: [".*"]
    cache: {{max_bytes: 3500, pin_patterns: ["/keep-"]}}
  private:
    base_url: "{origin.url}/private"
    include_patterns: [".*"]
    redirect_hosts: ["localhost"]
    auth: {{type: bearer, token: "file:{path.parent / "token"}"}}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def files(origin: Origin) -> str:
    """A fresh directory of the ``files`` remote for this test (servers are shared)."""
    return f"t-{uuid.uuid4().hex[:12]}"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def _read(store: Any, remote: str, path: str, **kwargs: Any) -> tuple[Any, bytes]:
    answer = await store.open_remote_file(remote, path, **kwargs)
    try:
        return answer, await answer.read()
    finally:
        await answer.aclose()


@BACKENDS
async def test_a_miss_is_fetched_once_then_served_from_the_cache(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    body = bytes(range(256)) * 4000
    origin.files[f"files/{files}/tool_linux_amd64.tar.gz"] = body
    store = await make_store(remotes_file=remotes_file)
    path = f"{files}/tool_linux_amd64.tar.gz"

    first, data = await _read(store, "files", path)
    assert (first.source, data, first.size) == ("remote", body, len(body))
    assert first.mime == "application/gzip"  # detected from the name, not upstream's type
    again, data = await _read(store, "files", path)
    assert (again.source, data) == ("cache", body)
    assert again.content is not None
    assert again.content.sha256 == _sha(body)
    assert again.content.filename is not None
    assert again.content.filename.endswith("tool_linux_amd64.tar.gz")
    assert origin.gets[f"files/{path}"] == 1

    # ranges and conditions work on hits
    part, data = await _read(store, "files", path, byte_range=ByteRange(10, 19))
    assert data == body[10:20]
    assert part.content is not None
    assert part.content.partial
    same, data = await _read(store, "files", path, if_none_match=f'"{again.content.etag}"')
    assert same.content is not None
    assert same.content.not_modified
    assert data == b""
    assert origin.gets[f"files/{path}"] == 1

    # listed, with the sha256
    page = await store.list_cached_files("files", prefix=files)
    assert [(i["path"], i["sha256"], i["bytes"]) for i in page["items"]] == [
        (path, _sha(body), len(body))
    ]
    stats = (await store.proxy_stats())["remotes"]["files"]
    assert stats["cached_files"] >= 1


@BACKENDS
async def test_paths_outside_the_include_patterns_and_odd_paths_are_refused(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    origin.files[f"files/{files}/secret.key"] = b"x"
    with pytest.raises(AccessDeniedError):
        await store.open_remote_file("files", f"{files}/secret.key")
    for odd in ("../etc/passwd.txt", f"{files}/../x.txt", f"{files}//a.txt", "/abs.txt"):
        with pytest.raises(InvalidRequestError):
            await store.open_remote_file("files", odd)
    with pytest.raises(ArtifactNotFoundError):
        await store.open_remote_file("nope", "a.txt")
    assert origin.gets[f"files/{files}/secret.key"] == 0


@BACKENDS
async def test_an_upstream_404_is_remembered(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    path = f"{files}/gone.bin"
    for _ in range(3):
        with pytest.raises(ArtifactNotFoundError):
            await store.open_remote_file("files", path)
    assert origin.gets[f"files/{path}"] == 1


@EMBEDDED
@BACKENDS
async def test_index_files_expire_and_are_revalidated_with_a_304(
    make_store: MakeStore, origin: Origin, remotes_file: Path, clock: ManualClock
) -> None:
    store = await make_store(remotes_file=remotes_file)
    index = f"v3.{uuid.uuid4().hex[:6]}/main/x86_64/APKINDEX.tar.gz"
    package = index.replace("APKINDEX.tar.gz", "musl-1.2.apk")
    origin.files[f"alpine/{index}"] = b"index one"
    origin.files[f"alpine/{package}"] = b"package"
    for path in (index, package):
        await _read(store, "alpine", path)
    clock.advance(301)  # the index is stale now; the package is kept forever (file_ttl 0)
    answer, data = await _read(store, "alpine", index)
    assert (answer.source, data) == ("cache", b"index one")
    assert origin.gets[f"alpine/{index}"] == 2  # revalidated: a 304, no download
    assert origin.requests[-1]["headers"].get("If-None-Match")
    await _read(store, "alpine", package)
    assert origin.gets[f"alpine/{package}"] == 1
    events = (await store.list_events(types=["v1.proxy."]))["events"]
    assert [e["type"] for e in events][-1] == "v1.proxy.revalidated"

    # upstream changed: the next expiry downloads the new index and drops the old copy
    origin.files[f"alpine/{index}"] = b"index two"
    clock.advance(301)
    answer, data = await _read(store, "alpine", index)
    assert (answer.source, data) == ("remote", b"index two")
    answer, data = await _read(store, "alpine", index)
    assert (answer.source, data) == ("cache", b"index two")
    assert len((await store.list_cached_files("alpine"))["items"]) >= 2


@EMBEDDED
@BACKENDS
async def test_stale_copies_are_served_while_upstream_fails_and_a_failing_remote_is_blocked(
    make_store: MakeStore, origin: Origin, remotes_file: Path, clock: ManualClock
) -> None:
    store = await make_store(remotes_file=remotes_file, proxy_block_seconds=30)
    index = f"v3.{uuid.uuid4().hex[:6]}/main/x86_64/APKINDEX.tar.gz"
    origin.files[f"alpine/{index}"] = b"index"
    await _read(store, "alpine", index)
    clock.advance(400)
    origin.status[f"alpine/{index}"] = 503
    for _ in range(3):  # three failures in a row block the remote
        answer, data = await _read(store, "alpine", index)
        assert (answer.source, data) == ("cache", b"index")
        assert answer.stale_age is not None
        assert answer.stale_age >= 400
    asked = origin.gets[f"alpine/{index}"]
    answer, data = await _read(store, "alpine", index)  # blocked: upstream is not asked
    assert answer.stale_age is not None
    assert origin.gets[f"alpine/{index}"] == asked
    missing = f"v3.x/main/x86_64/{uuid.uuid4().hex}.apk"
    with pytest.raises(RemoteUnavailableError) as caught:
        await store.open_remote_file("alpine", missing)
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0
    remotes = {r["name"]: r for r in await store.list_remotes()}
    assert remotes["alpine"]["blocked_for"] is not None
    # the block ends: one request probes, upstream is back, the copy is fresh again
    del origin.status[f"alpine/{index}"]
    clock.advance(31)
    answer, data = await _read(store, "alpine", index)
    assert answer.stale_age is None
    assert data == b"index"
    assert origin.gets[f"alpine/{index}"] == asked + 1


@BACKENDS
async def test_without_a_copy_upstream_failures_are_errors(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    origin.status[f"files/{files}/a.bin"] = 500
    with pytest.raises(UpstreamError) as caught:
        await store.open_remote_file("files", f"{files}/a.bin")
    assert caught.value.status_code == 502
    with pytest.raises(UpstreamError):
        await store.open_remote_file("dead", "anything")
    with pytest.raises(RemoteUnavailableError):  # offline on purpose, nothing cached
        await store.open_remote_file("quiet", "a.txt")
    assert origin.gets["quiet/a.txt"] == 0


@BACKENDS
async def test_a_short_or_lying_download_is_never_cached(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    body = b"z" * 50_000
    short, wrong = f"{files}/short.bin", f"{files}/wrong.bin"
    origin.files[f"files/{short}"] = body
    origin.declared_length[f"files/{short}"] = len(body) + 1000  # ends early
    origin.files[f"files/{wrong}"] = body
    origin.declared_sha256[f"files/{wrong}"] = hashlib.sha256(b"other").hexdigest()
    for path in (short, wrong):
        answer = await store.open_remote_file("files", path)
        with pytest.raises(ProviderError):  # through a server: the body breaks off
            await answer.read()
        await answer.aclose()
        assert (await store.list_cached_files("files", prefix=path))["items"] == []
    origin.declared_length.clear()
    origin.declared_sha256.clear()
    answer, data = await _read(store, "files", short)  # upstream fixed: fetched, whole
    assert (answer.source, data) == ("remote", body)


@BACKENDS
async def test_redirects_are_followed_only_to_listed_hosts(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    origin.files["cdn/real.bin"] = b"real"
    ok, bad = f"{files}/ok.bin", f"{files}/bad.bin"
    origin.redirects[f"files/{ok}"] = f"http://localhost:{origin.port}/cdn/real.bin"
    origin.redirects[f"files/{bad}"] = "http://169.254.169.254/latest/meta-data.bin"
    _, data = await _read(store, "files", ok)
    assert data == b"real"
    with pytest.raises(UpstreamError) as caught:
        await store.open_remote_file("files", bad)
    assert "redirect_hosts" in caught.value.message


@BACKENDS
async def test_prefetch_and_eviction(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    for name in ("a.tar.gz", "b.tar.gz", "c.txt"):
        origin.files[f"files/{files}/{name}"] = name.encode()
    paths = [f"{files}/{name}" for name in ("a.tar.gz", "b.tar.gz", "c.txt", "nope.bin")]
    results = await store.prefetch_remote_files("files", paths, patterns=["*.tar.gz", "*.bin"])
    assert [r["status"] for r in results] == ["fetched", "fetched", "skipped", "missing"]
    assert results[0]["sha256"] == _sha(b"a.tar.gz")
    evil = ["(a|a)*b" * 3, "*" * 200]  # globs: no catastrophic backtracking either way
    slow = await store.prefetch_remote_files("files", ["a" * 800 + ".zip"], patterns=evil)
    assert [r["status"] for r in slow] == ["skipped"]
    with pytest.raises(InvalidRequestError):
        await store.prefetch_remote_files("files", paths, patterns=["x" * 257])
    again = await store.prefetch_remote_files("files", paths[:1])
    assert again[0]["status"] == "cached"
    page = await store.list_cached_files("files", prefix=files, limit=1)
    assert [i["path"] for i in page["items"]] == [paths[0]]
    rest = await store.list_cached_files("files", prefix=files, after=page["next"])
    assert [i["path"] for i in rest["items"]] == [paths[1]]
    assert rest["next"] is None

    done = await store.evict_cached_files("files", path=paths[0])
    assert done["evicted"] == [paths[0]]
    answer, _ = await _read(store, "files", paths[0])
    assert answer.source == "remote"  # fetched again
    held = results[1]["artifact_id"]
    assert held is not None
    hold = await store.apply_hold(held, "audit", "kept for the audit", kind="artifact")
    done = await store.evict_cached_files("files", prefix=files)
    assert done["evicted"] == [paths[0]]
    assert done["kept"] == [paths[1]]  # under a legal hold: not evicted
    assert done["forgotten"] == [paths[3]]  # the remembered 404
    await store.release_hold(hold["hold_id"], "audit over")
    done = await store.evict_cached_files("files", prefix=files)
    assert done["evicted"] == [paths[1]]
    assert (await store.list_cached_files("files", prefix=files))["items"] == []


@BACKENDS
async def test_local_remotes_take_uploads(
    make_store: MakeStore, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    stored = await store.put_remote_file("uploads", f"{files}/tool.bin", b"ours")
    assert stored["sha256"] == _sha(b"ours")
    answer, data = await _read(store, "uploads", f"{files}/tool.bin")
    assert (answer.source, data) == ("cache", b"ours")
    await store.put_remote_file("uploads", f"{files}/tool.bin", b"ours, v2")
    answer, data = await _read(store, "uploads", f"{files}/tool.bin")
    assert data == b"ours, v2"
    with pytest.raises(ArtifactNotFoundError):
        await store.open_remote_file("uploads", f"{files}/other.bin")
    with pytest.raises(InvalidRequestError):
        await store.put_remote_file("files", f"{files}/x.bin", b"no")


@BACKENDS
async def test_remotes_and_configuration_are_listed(
    make_store: MakeStore, remotes_file: Path
) -> None:
    store = await make_store(remotes_file=remotes_file)
    names = [r["name"] for r in await store.list_remotes()]
    assert names == ["alpine", "checked", "dead", "files", "private", "quiet", "small", "uploads"]
    config = await store.proxy_config()
    assert config["remotes"]["alpine"]["cache"]["index_ttl"] == 300
    assert config["remotes"]["uploads"]["type"] == "local"


@pytest.mark.not_on("memory", "sqlite", "postgres", "s3", reason="one store's concurrency")
async def test_concurrent_misses_make_one_upstream_request_and_stream_as_bytes_arrive(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    body = hashlib.sha256(files.encode()).digest() * 20_000  # 640 KB
    path = f"{files}/big.bin"
    origin.files[f"files/{path}"] = body
    release = origin.hold[f"files/{path}"] = threading.Event()
    try:
        answers = await asyncio.gather(*(store.open_remote_file("files", path) for _ in range(50)))
        assert {a.source for a in answers} == {"remote"}
        # every client has bytes while upstream still holds back the second half
        firsts = await asyncio.gather(*(anext(aiter(a)) for a in answers))
        assert not release.is_set()
        assert all(0 < len(first) < len(body) for first in firsts)
    finally:
        release.set()
    rests = await asyncio.gather(*(a.read() for a in answers))
    for answer in answers:
        await answer.aclose()
    digests = {
        hashlib.sha256(first + rest).hexdigest() for first, rest in zip(firsts, rests, strict=True)
    }
    assert digests == {hashlib.sha256(body).hexdigest()}
    assert origin.gets[f"files/{path}"] == 1
    answer, data = await _read(store, "files", path)
    assert (answer.source, data) == ("cache", body)
    assert origin.gets[f"files/{path}"] == 1


@BACKENDS
async def test_credentials_go_only_to_their_remote_and_never_show(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    origin.files[f"private/{files}/a.bin"] = b"private"
    origin.files[f"files/{files}/b.bin"] = b"public"
    origin.files["cdn/c.bin"] = b"elsewhere"
    origin.redirects[f"private/{files}/c.bin"] = f"http://localhost:{origin.port}/cdn/c.bin"
    for remote, path in (("private", "a.bin"), ("files", "b.bin"), ("private", "c.bin")):
        await _read(store, remote, f"{files}/{path}")
    sent = {r["path"]: r["headers"].get("Authorization") for r in origin.requests}
    assert sent[f"private/{files}/a.bin"] == "Bearer s3cr3t-token"
    assert sent[f"files/{files}/b.bin"] is None
    assert sent[f"private/{files}/c.bin"] == "Bearer s3cr3t-token"
    assert sent["cdn/c.bin"] is None  # the redirect's other host gets no credentials
    config = await store.proxy_config()
    assert config["remotes"]["private"]["auth"] == {"type": "bearer"}
    assert "s3cr3t" not in str(config)


@pytest.mark.not_on("memory", "sqlite", "s3", reason="a budget is a catalog matter")
async def test_a_budget_evicts_the_least_recently_used_files_but_never_pinned_ones(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    names = ["keep-c.bin", "a.bin", "b.bin", "d.bin", "e.bin"]  # about 1,000 bytes each
    for name in names:
        origin.files[f"small/{files}/{name}"] = name.encode() * (1000 // len(name) + 1)
    for name in names[:3]:  # three fit in the 3,500 bytes of the remote's budget
        await _read(store, "small", f"{files}/{name}")
    await _read(store, "small", f"{files}/a.bin")  # read again: b is now the oldest but c
    await _read(store, "small", f"{files}/d.bin")  # four do not fit: c is pinned, b goes
    cached = [i["path"] for i in (await store.list_cached_files("small", prefix=files))["items"]]
    assert cached == [f"{files}/{name}" for name in ("a.bin", "d.bin", "keep-c.bin")]
    await _read(store, "small", f"{files}/e.bin")  # then a, read before d was fetched
    cached = [i["path"] for i in (await store.list_cached_files("small", prefix=files))["items"]]
    assert cached == [f"{files}/{name}" for name in ("d.bin", "e.bin", "keep-c.bin")]
    evictions = (await store.list_events(types=["v1.proxy.evicted"]))["events"]
    mine = [e["payload"] for e in evictions if e["payload"]["path"].startswith(files)]
    assert [(p["path"], p["reason"]) for p in mine] == [
        (f"{files}/b.bin", "budget"),
        (f"{files}/a.bin", "budget"),
    ]
    answer, _ = await _read(store, "small", f"{files}/b.bin")
    assert answer.source == "remote"  # fetched again after its eviction


@BACKENDS
async def test_a_checksum_file_next_to_a_file_is_checked(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file)
    good, bad, bare = f"{files}/good.tar.gz", f"{files}/bad.tar.gz", f"{files}/bare.tar.gz"
    for path in (good, bad, bare):
        origin.files[f"checked/{path}"] = path.encode()
    digest = hashlib.sha256(good.encode()).hexdigest()
    origin.files[f"checked/{good}.sha256"] = f"{digest}  good.tar.gz\n".encode()
    origin.files[f"checked/{bad}.sha256"] = f"{'0' * 64}  bad.tar.gz\n".encode()
    _, data = await _read(store, "checked", good)
    assert data == good.encode()
    answer = await store.open_remote_file("checked", bad)
    with pytest.raises(ProviderError):  # upstream's file does not hash to its checksum file
        await answer.read()
    await answer.aclose()
    assert (await store.list_cached_files("checked", prefix=bad))["items"] == []
    _, data = await _read(store, "checked", bare)  # no checksum file: nothing to check
    assert data == bare.encode()
    cached = await store.list_cached_files("checked", prefix=files)
    assert [item["path"] for item in cached["items"]] == [bare, good]


@EMBEDDED
@BACKENDS
async def test_a_slow_or_rate_limiting_upstream_gets_a_timeout_or_the_stale_copy(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str, clock: ManualClock
) -> None:
    store = await make_store(remotes_file=remotes_file, proxy_timeout_seconds=0.5)
    index = f"{files}/main/x86_64/APKINDEX.tar.gz"
    origin.files[f"alpine/{index}"] = b"index"
    origin.files[f"alpine/{files}/main/x86_64/slow.apk"] = b"slow"
    origin.trickle[f"alpine/{index}"] = 0.01  # slow but steady: fine
    await _read(store, "alpine", index)
    origin.header_delay[f"alpine/{files}/main/x86_64/slow.apk"] = 2
    with pytest.raises(UpstreamTimeoutError) as caught:  # no answer in time, nothing cached
        await store.open_remote_file("alpine", f"{files}/main/x86_64/slow.apk")
    assert caught.value.status_code == 504
    clock.advance(400)  # the index is stale
    origin.header_delay[f"alpine/{index}"] = 2
    answer, data = await _read(store, "alpine", index)  # too slow: the stale copy
    assert (answer.source, data) == ("cache", b"index")
    assert answer.stale_age is not None
    del origin.header_delay[f"alpine/{index}"]
    origin.status[f"alpine/{index}"] = 429  # rate-limited: the stale copy too
    answer, data = await _read(store, "alpine", index)
    assert (answer.source, data, answer.stale_age is not None) == ("cache", b"index", True)


@EMBEDDED
@BACKENDS
async def test_prefetch_says_stale_when_only_an_expired_copy_could_be_kept(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str, clock: ManualClock
) -> None:
    store = await make_store(remotes_file=remotes_file)
    index = f"{files}/main/x86_64/APKINDEX.tar.gz"
    origin.files[f"alpine/{index}"] = b"index"
    assert [r["status"] for r in await store.prefetch_remote_files("alpine", [index])] == [
        "fetched"
    ]
    clock.advance(400)
    origin.status[f"alpine/{index}"] = 502
    [result] = await store.prefetch_remote_files("alpine", [index])
    assert result["status"] == "stale"
    del origin.status[f"alpine/{index}"]
    [result] = await store.prefetch_remote_files("alpine", [index])
    assert result["status"] == "revalidated"


@EMBEDDED
@pytest.mark.not_on("memory", "sqlite", "s3", reason="a catalog matter")
async def test_remembered_404s_that_lapsed_are_forgotten(
    make_store: MakeStore, origin: Origin, remotes_file: Path, files: str, clock: ManualClock
) -> None:
    store = await make_store(remotes_file=remotes_file)
    for name in ("a.bin", "b.bin"):
        with pytest.raises(ArtifactNotFoundError):
            await store.open_remote_file("files", f"{files}/{name}")
    clock.advance(61)  # not_found_ttl 60: both lapsed
    with pytest.raises(ArtifactNotFoundError):
        await store.open_remote_file("files", f"{files}/c.bin")
    async with catalog_of(store).read() as reader:
        remembered = await ProxyRows(reader.conn).listing(
            store.sandbox_id, "files", after=None, prefix=files, limit=10, cached_only=False
        )
    assert [entry.path for entry in remembered] == [f"{files}/c.bin"]


@pytest.mark.not_on("memory", "sqlite", "s3", reason="a budget is a catalog matter")
async def test_budgets_leave_uploads_to_local_remotes_alone(
    make_store: MakeStore, remotes_file: Path, files: str
) -> None:
    store = await make_store(remotes_file=remotes_file, proxy_budget_bytes=1000)
    for name in ("a.bin", "b.bin", "c.bin"):
        await store.put_remote_file("uploads", f"{files}/{name}", b"u" * 800)
    listed = await store.list_cached_files("uploads", prefix=files)
    assert len(listed["items"]) == 3  # 2,400 bytes over a 1,000 byte budget: the only copies
