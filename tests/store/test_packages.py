"""Packages and manifests through the store API, on every backend and catalog and through the
remote client: create, ingest, finalize; byte-identical manifests; write-once; paths; access."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from satchel import (
    AccessDeniedError,
    ArtifactNotFoundError,
    ArtifactStore,
    ConflictError,
    DuplicateRelativePathError,
    InvalidRequestError,
    PackageFinalizedError,
    TooLargeError,
)
from satchel.core import manifest as manifests
from satchel.core.ranges import ByteRange
from satchel.manifest import decode

FILES = {"hello.txt": b"hello world", "data/table.csv": b"a,b\n1,2\n", "empty.bin": b""}


async def chunks(data: bytes, size: int = 4) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def expected_address(**attributes: Any) -> str:
    """The manifest address core.manifest computes for FILES with these attributes: what every
    backend and catalog must produce."""
    files = [
        manifests.ManifestFile(
            path, len(body), MEDIA[path], "sha256:" + hashlib.sha256(body).hexdigest()
        )
        for path, body in FILES.items()
    ]
    return manifests.address_of(manifests.build(files=files, **attributes))


MEDIA = {"hello.txt": "text/plain", "data/table.csv": "text/csv", "empty.bin": "application/x"}
ATTRIBUTES = {
    "name": "smoke-test",
    "producer": "ops",
    "subject": "example.org",
    "retention_class": "raw-evidence",
    "metadata": {"smoke": True, "run": {"n": 3, "tags": ["a", "é"]}},
}


async def push(store: Any, version: str | None = None, **overrides: Any) -> tuple[str, str]:
    attributes = {**ATTRIBUTES, **overrides}
    package_id = await store.create_package(
        attributes.pop("name"),
        attributes.pop("producer"),
        attributes.pop("subject"),
        attributes.pop("retention_class"),
        "ops",
        attributes.pop("metadata"),
        version=version,
        **attributes,
    )
    for path, body in FILES.items():
        await store.ingest_file(package_id, path, MEDIA[path], chunks(body), "ops")
    return package_id, await store.finalize_package(package_id, "ops")


async def test_manifest_is_the_same_bytes_everywhere(store: ArtifactStore) -> None:
    package_id, address = await push(store)
    assert address == expected_address(**ATTRIBUTES, version=None)
    as_json = await store.get_manifest_bytes(package_id, format="json")
    as_cbor = await store.get_manifest_bytes(package_id)  # cbor by default, as seed 001
    assert "sha256:" + hashlib.sha256(as_json).hexdigest() == address
    assert decode(as_json) == decode(as_cbor)
    assert as_cbor == manifests.encode(decode(as_json), "cbor")
    manifest = decode(as_cbor)
    assert [f.relative_path for f in manifest.files] == sorted(FILES)
    assert {f.relative_path: f.size for f in manifest.files} == {
        p: len(b) for p, b in FILES.items()
    }
    assert json.loads(as_json)["metadata"] == ATTRIBUTES["metadata"]

    package = await store.get_package(package_id)
    assert package["state"] == "finalized"
    assert package["manifest_address"] == address
    assert (package["file_count"], package["total_bytes"]) == (3, sum(map(len, FILES.values())))
    assert package["retain_until"] is not None  # raw-evidence: 90 days from finalizing
    # finalizing again answers the same address and changes nothing
    assert await store.finalize_package(package_id) == address


async def test_files_read_back_whole_and_in_ranges(store: ArtifactStore) -> None:
    package_id, _ = await push(store)
    listed = await store.list_package_files(package_id)
    assert [f["relative_path"] for f in listed] == sorted(FILES)
    content = await store.open_package_file(package_id, "hello.txt")
    assert (content.size, content.mime, content.filename) == (11, "text/plain", "hello.txt")
    assert b"".join([c async for c in content]) == b"hello world"
    part = await store.open_package_file(package_id, "hello.txt", byte_range=ByteRange(6, 10))
    assert (part.partial, b"".join([c async for c in part])) == (True, b"world")
    empty = await store.open_package_file(package_id, "empty.bin")
    assert b"".join([c async for c in empty]) == b""
    with pytest.raises(ArtifactNotFoundError):
        await store.open_package_file(package_id, "missing.txt")


async def test_an_open_package_has_no_manifest_yet(store: ArtifactStore) -> None:
    package_id = await store.create_package("p", "ops", "s", "transient")
    with pytest.raises(ConflictError):
        await store.get_manifest_bytes(package_id)
    assert (await store.get_package(package_id))["state"] == "open"


async def test_a_path_holds_one_content(store: ArtifactStore) -> None:
    package_id = await store.create_package("p", "ops", "s", "transient")
    first = await store.ingest_file(package_id, "a.txt", "text/plain", b"one")
    # the same bytes again change nothing (a resumed push); other bytes conflict
    assert await store.ingest_file(package_id, "a.txt", "text/plain", chunks(b"one")) == first
    with pytest.raises(DuplicateRelativePathError):
        await store.ingest_file(package_id, "a.txt", "text/plain", b"two")
    # a declared digest that matches what is there skips the bytes altogether
    again = await store.ingest_file(package_id, "a.txt", "text/plain", b"", sha256=first["sha256"])
    assert again == first
    with pytest.raises(InvalidRequestError):  # bytes that hash otherwise are refused
        await store.ingest_file(package_id, "b.txt", "text/plain", b"xyz", sha256=first["sha256"])
    assert [f["relative_path"] for f in await store.list_package_files(package_id)] == ["a.txt"]


BAD_PATHS = ["../up.txt", "/abs.txt", "a/../../b", "nul\x00.txt", "a//b", "C:/x", "a\\b", "", "."]


async def test_relative_paths_are_checked(store: ArtifactStore) -> None:
    package_id = await store.create_package("p", "ops", "s", "transient")
    for bad in BAD_PATHS:
        with pytest.raises(InvalidRequestError):
            await store.ingest_file(package_id, bad, "text/plain", b"x")
    assert await store.list_package_files(package_id) == []


async def test_paths_are_stored_in_nfc(store: ArtifactStore) -> None:
    package_id = await store.create_package("p", "ops", "s", "transient")
    await store.ingest_file(package_id, "cafe\u0301/re\u0301sume\u0301.txt", None, b"x")
    with pytest.raises(DuplicateRelativePathError):  # the composed spelling is the same path
        await store.ingest_file(package_id, "caf\u00e9/r\u00e9sum\u00e9.txt", None, b"y")
    [entry] = await store.list_package_files(package_id)
    assert entry["relative_path"] == "caf\u00e9/r\u00e9sum\u00e9.txt"
    assert entry["media_type"] == "text/plain"  # guessed from the name when not given


async def test_a_finalized_package_never_changes(store: ArtifactStore) -> None:
    package_id, address = await push(store)
    with pytest.raises(PackageFinalizedError):
        await store.ingest_file(package_id, "new.txt", "text/plain", b"new")
    with pytest.raises(PackageFinalizedError):
        await store.ingest_file(package_id, "hello.txt", "text/plain", b"changed")
    # the same bytes at the same path are no change
    await store.ingest_file(package_id, "hello.txt", "text/plain", FILES["hello.txt"])
    assert await store.finalize_package(package_id) == address
    assert len(await store.list_package_files(package_id)) == 3


async def test_name_and_version_are_written_once(store: ArtifactStore) -> None:
    first, address = await push(store, version="1.0.0")
    # the same content pushed again lands on the same package: idempotent
    again, again_address = await push(store, version="1.0.0")
    assert (again, again_address) == (first, address)
    # other attributes under that name and version are refused, not replaced
    with pytest.raises(PackageFinalizedError):
        await push(store, version="1.0.0", metadata={"smoke": False})
    with pytest.raises(PackageFinalizedError):
        await store.ingest_file(first, "extra.txt", "text/plain", b"more")
    # another version is another package
    other, other_address = await push(store, version="1.0.1")
    assert other != first
    assert other_address != address
    listed = await store.list_packages(name="smoke-test")
    assert {p["version"] for p in listed["items"]} == {"1.0.0", "1.0.1"}


async def test_an_open_version_resumes(store: ArtifactStore) -> None:
    package_id = await store.create_package("r", "ops", "s", "transient", version="2")
    await store.ingest_file(package_id, "one.txt", "text/plain", b"1")
    resumed = await store.create_package("r", "ops", "s", "transient", version="2")
    assert resumed == package_id
    assert [f["relative_path"] for f in await store.list_package_files(resumed)] == ["one.txt"]
    with pytest.raises(ConflictError):  # the same version opened with other attributes
        await store.create_package("r", "ops", "s", "raw-evidence", version="2")


async def test_packages_follow_the_access_rules(store: ArtifactStore) -> None:
    published = await store.create_package("pub", "ci", "s", "transient", user_id="alice")
    private = await store.create_package(
        "priv", "ci", "s", "transient", scope="user", user_id="alice"
    )
    await store.ingest_file(published, "a.txt", "text/plain", b"a", user_id="alice")
    # bob reads the published package but cannot change it; he never sees the private one
    assert (await store.get_package(published, user_id="bob"))["owner_id"] == "alice"
    with pytest.raises(AccessDeniedError):
        await store.ingest_file(published, "b.txt", "text/plain", b"b", user_id="bob")
    with pytest.raises(AccessDeniedError):
        await store.finalize_package(published, user_id="bob")
    with pytest.raises(ArtifactNotFoundError):
        await store.get_package(private, user_id="bob")
    with pytest.raises(ArtifactNotFoundError):
        await store.list_package_files(private, user_id="bob")
    seen_by_bob = {p["package_id"] for p in (await store.list_packages(user_id="bob"))["items"]}
    seen_by_alice = {p["package_id"] for p in (await store.list_packages(user_id="alice"))["items"]}
    assert published in seen_by_bob
    assert private not in seen_by_bob
    assert {published, private} <= seen_by_alice
    # the owner finalizes; the application (an admin) may too
    await store.finalize_package(published, user_id="alice")
    assert (await store.get_package(private))["owner_id"] == "alice"


async def test_listing_pages_and_filters(store: ArtifactStore) -> None:
    made = [
        await store.create_package("pager", "ops", f"subject-{n % 2}", "transient")
        for n in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_packages(name="pager", limit=2, cursor=cursor)
        seen += [p["package_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made)
    assert len(seen) == 5
    only = await store.list_packages(name="pager", subject="subject-1")
    assert len(only["items"]) == 2
    assert (await store.list_packages(name="pager", state="finalized"))["items"] == []
    hers = await store.create_package("pager", "ops", "subject-0", "transient", user_id="alice")
    assert [
        p["package_id"] for p in (await store.list_packages(mine=True, user_id="alice"))["items"]
    ] == [hers]
    mine = {p["package_id"] for p in (await store.list_packages(name="pager", mine=True))["items"]}
    assert mine == set(made)  # the application's own
    with pytest.raises(InvalidRequestError):
        await store.list_packages(state="gone")
    with pytest.raises(InvalidRequestError):
        await store.list_packages(cursor="not-a-cursor")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "a/b"),
        ("producer", "has space"),
        ("retention_class", "no-such-class"),
        ("metadata", {"big": 2**60}),
        ("metadata", {"x": float("nan")}),
        ("scope", "session"),
    ],
)
async def test_bad_attributes_are_refused(store: ArtifactStore, field: str, value: Any) -> None:
    attributes: dict[str, Any] = {
        "name": "n",
        "producer": "p",
        "subject": "s",
        "retention_class": "transient",
    }
    extra: dict[str, Any] = {}
    if field in attributes:
        attributes[field] = value
    else:
        extra[field] = value
    with pytest.raises(InvalidRequestError):
        await store.create_package(**attributes, **extra)
    assert (await store.list_packages(name="n"))["items"] == []


async def test_metadata_schemas(store: ArtifactStore) -> None:
    schema = {
        "type": "object",
        "required": ["run"],
        "properties": {
            "run": {
                "type": "object",
                "required": ["started_at"],
                "properties": {"started_at": {"type": "integer"}},
            }
        },
    }
    slug = "guide-board.run.v1"
    assert (await store.register_schema(slug, schema))["version"] == 1
    assert (await store.register_schema(slug, schema, version=1))["created"] is False
    with pytest.raises(ConflictError):
        await store.register_schema(slug, {"type": "object"}, version=1)
    with pytest.raises(InvalidRequestError):
        await store.register_schema("broken", {"type": 12})
    with pytest.raises(AccessDeniedError):
        await store.register_schema("mine", {"type": "object"}, user_id="alice")

    with pytest.raises(InvalidRequestError, match=r"metadata\.run\.started_at"):
        await store.create_package(
            "g", "guide-board", "s", "transient", metadata={"run": {"started_at": "x"}}, schema=slug
        )
    with pytest.raises(ArtifactNotFoundError):
        await store.create_package("g", "guide-board", "s", "transient", schema="unknown")
    package_id = await store.create_package(
        "g", "guide-board", "s", "transient", metadata={"run": {"started_at": 1}}, schema=slug
    )
    assert (await store.get_package(package_id))["schema"] == f"{slug}@1"
    assert (await store.get_schema(slug))["schema"] == schema
    assert [s["slug"] for s in await store.list_schemas()] == [slug]


@pytest.mark.embedded_only("a setting of the embedded store; the server reads it the same way")
async def test_blake3_digests_when_configured(make_store: Any) -> None:
    import blake3

    store = await make_store(manifest_blake3=True)
    package_id = await store.create_package("b3", "ops", "s", "transient")
    entry = await store.ingest_file(package_id, "a.bin", None, chunks(b"blake3 me" * 1000))
    assert entry["blake3"] == "blake3:" + blake3.blake3(b"blake3 me" * 1000).hexdigest()
    await store.finalize_package(package_id)
    [listed] = decode(await store.get_manifest_bytes(package_id)).files
    assert listed.blake3 == entry["blake3"]
    assert listed.sha256 == entry["sha256"]


async def test_a_name_and_version_belong_to_their_owner(store: ArtifactStore) -> None:
    """Write-once is per owner: another user's private package of the same name and version
    is neither revealed nor in the way."""
    hers = await store.create_package(
        "tool", "ci", "s", "transient", version="1", scope="user", user_id="alice"
    )
    await store.ingest_file(hers, "a.txt", "text/plain", b"alice", user_id="alice")
    await store.finalize_package(hers, user_id="alice")
    his = await store.create_package("tool", "ci", "s", "raw-evidence", version="1", user_id="bob")
    assert his != hers
    await store.ingest_file(his, "a.txt", "text/plain", b"bob", user_id="bob")
    await store.finalize_package(his, user_id="bob")
    with pytest.raises(ArtifactNotFoundError):
        await store.get_package(hers, user_id="bob")


async def test_a_push_resumes_across_schema_versions(store: ArtifactStore) -> None:
    await store.register_schema("run", {"type": "object"})
    package_id = await store.create_package(
        "s", "ci", "s", "transient", metadata={"n": 1}, version="7", schema="run"
    )
    await store.register_schema("run", {"type": "object", "required": ["board"]})  # v2
    again = await store.create_package(
        "s", "ci", "s", "transient", metadata={"n": 1}, version="7", schema="run"
    )
    assert again == package_id
    assert (await store.get_package(package_id))["schema"] == "run@1"
    with pytest.raises(InvalidRequestError, match="board"):  # a new package meets v2
        await store.create_package("s2", "ci", "s", "transient", metadata={"n": 1}, schema="run")


async def test_package_metadata_and_cursors_are_bounded(make_store: Any) -> None:
    store = await make_store(max_meta_bytes=1024)
    with pytest.raises(TooLargeError):
        await store.create_package("big", "ci", "s", "transient", metadata={"x": "y" * 2000})
    for cursor in ("WzFlKzMwLCJhIl0", "WzEsIngiXQ" * 20):  # [1e+30,"a"], and junk
        with pytest.raises(InvalidRequestError):
            await store.list_packages(cursor=cursor)


async def test_schemas_that_cannot_be_applied_are_refused(store: ArtifactStore) -> None:
    for schema in ({"$ref": "http://example.org/s.json"}, {"$ref": "#"}, {"$ref": "urn:x"}):
        with pytest.raises(InvalidRequestError):
            await store.register_schema("unusable", schema)
    assert await store.list_schemas() == []
