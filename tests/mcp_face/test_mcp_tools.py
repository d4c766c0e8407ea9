"""Every MCP tool and resource, through the SDK's client connected in process to the server
``satchel mcp`` and ``/mcp`` build, over an embedded filesystem store."""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from tests.mcp_face.helpers import CLIENT_INFO, call, failure, size_of

from satchel import ArtifactStore
from satchel.config import Settings
from satchel.core.errors import InvalidRequestError
from satchel.mcp import Actor, McpOptions, build_server

ALICE = Actor(user_id="alice", name="alice")
READ_ONLY = {
    "whoami",
    "list_artifacts",
    "search_artifacts",
    "get_metadata",
    "read_artifact",
    "presign",
    "list_packages",
    "get_manifest",
    "list_events",
}
WRITES = {
    "write_artifact",
    "update_artifact",
    "copy_artifact",
    "move_artifact",
    "begin_upload",
    "finish_upload",
}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ArtifactStore]:
    settings = Settings(data_dir=tmp_path / "data")
    async with ArtifactStore(settings=settings, default_backend="filesystem") as opened:
        yield opened


def _client(store: ArtifactStore, options: McpOptions, actor: Actor = ALICE) -> Client:
    return Client(build_server(store, options, lambda ctx: actor), client_info=CLIENT_INFO)


@pytest.fixture
def exchange(tmp_path: Path) -> Path:
    path = tmp_path / "exchange"
    path.mkdir()
    return path


@pytest.fixture
def everything(exchange: Path) -> McpOptions:
    return McpOptions(allow_write=True, allow_delete=True, allow_dirs=(exchange,))


async def test_the_default_is_read_only(store: ArtifactStore) -> None:
    async with _client(store, McpOptions()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == READ_ONLY
        for tool in tools.values():
            assert tool.annotations is not None
            assert tool.annotations.read_only_hint is True
            assert tool.annotations.destructive_hint is False
        with pytest.raises(MCPError, match="runs without --allow-write"):
            await client.call_tool("write_artifact", {"filename": "a", "text": "x"})
        with pytest.raises(MCPError, match="unknown tool"):
            await client.call_tool("rm_rf", {})
        assert (await call(client, "whoami"))["writes"] is False


async def test_options_decide_the_tools_and_their_annotations(
    store: ArtifactStore, exchange: Path
) -> None:
    async with _client(store, McpOptions(allow_write=True)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == READ_ONLY | WRITES  # no delete, no directories
    async with _client(store, McpOptions(allow_dirs=(exchange,))) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == READ_ONLY | {"export_file"}  # importing writes to the store
    options = McpOptions(allow_write=True, allow_delete=True, allow_dirs=(exchange,))
    async with _client(store, options) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == READ_ONLY | WRITES | {
        "delete_artifact",
        "import_file",
        "export_file",
        "push_package",
    }
    hints = {name: tool.annotations for name, tool in tools.items()}
    assert hints["delete_artifact"].destructive_hint
    assert hints["delete_artifact"].idempotent_hint
    assert not hints["write_artifact"].read_only_hint
    assert not hints["write_artifact"].idempotent_hint
    assert all(tool.input_schema["type"] == "object" for tool in tools.values())
    assert all(tool.description for tool in tools.values())


async def test_write_read_list_search_and_change(
    store: ArtifactStore, everything: McpOptions
) -> None:
    async with _client(store, everything) as client:
        made = await call(
            client, "write_artifact", filename="notes/a.md", text="# hi", meta={"k": 1}
        )
        assert (made["scope"], made["owner_id"], made["mime"]) == ("user", "alice", "text/markdown")
        assert made["expires_at"] is None  # kept unless a ttl is given
        image = await call(
            client, "write_artifact", filename="dot.png", base64=base64.b64encode(PNG).decode()
        )
        blob = await call(client, "write_artifact", filename="x.bin", base64="AAEC", ttl=600)
        assert blob["expires_at"] is not None

        listed = await call(client, "list_artifacts", limit=2)
        assert [i["filename"] for i in listed["items"]] == ["x.bin", "dot.png"]  # newest first
        rest = await call(client, "list_artifacts", limit=2, cursor=listed["next_cursor"])
        assert [i["filename"] for i in rest["items"]] == ["notes/a.md"]
        found = await call(client, "search_artifacts", filename_glob="notes/*")
        assert [i["artifact_id"] for i in found["items"]] == [made["artifact_id"]]
        assert (await call(client, "search_artifacts", meta={"k": 1}))["items"][0][
            "filename"
        ] == "notes/a.md"
        assert len((await call(client, "search_artifacts", mime_prefix="image/"))["items"]) == 1
        by_digest = await call(client, "search_artifacts", sha256=made["sha256"])
        assert len(by_digest["items"]) == 1
        await store.add_to_collection("reef", [image["artifact_id"]], user_id="alice")
        members = await call(client, "search_artifacts", collection="urn:satchel:collection:reef")
        assert [i["artifact_id"] for i in members["items"]] == [image["artifact_id"]]
        by_urn = await call(
            client, "get_metadata", artifact_id=f"urn:satchel:artifact:{made['artifact_id']}"
        )
        assert by_urn["filename"] == "notes/a.md"

        text = await client.call_tool("read_artifact", {"artifact_id": made["uri"]})
        assert isinstance(text.content[0], types.TextContent)
        assert text.content[0].text == "# hi"
        shown = await client.call_tool("read_artifact", {"artifact_id": image["artifact_id"]})
        picture = shown.content[0]
        assert isinstance(picture, types.ImageContent)
        assert picture.mime_type == "image/png"
        assert base64.b64decode(picture.data) == PNG
        linked = await client.call_tool("read_artifact", {"artifact_id": blob["artifact_id"]})
        assert isinstance(linked.content[0], types.ResourceLink)
        assert linked.content[0].uri == blob["uri"]
        assert linked.content[0].size == 3
        assert "presigned_url" in (linked.structured_content or {})

        meta = await call(client, "get_metadata", artifact_id=made["artifact_id"])
        assert meta["meta"] == {"k": 1}
        assert meta["sha256"] == made["sha256"]
        changed = await call(
            client,
            "update_artifact",
            artifact_id=made["artifact_id"],
            meta={"j": 2},
            summary="s",
            ttl=300,
        )
        assert changed["summary"] == "s"
        assert changed["expires_at"] is not None
        assert (await call(client, "get_metadata", artifact_id=made["artifact_id"]))["meta"] == {
            "k": 1,
            "j": 2,
        }
        await call(
            client,
            "update_artifact",
            artifact_id=made["artifact_id"],
            meta={"z": 0},
            replace_meta=True,
            ttl="none",
        )
        again = await call(client, "get_metadata", artifact_id=made["artifact_id"])
        assert again["meta"] == {"z": 0}
        assert again["expires_at"] is None

        copy = await call(
            client, "copy_artifact", artifact_id=made["artifact_id"], new_filename="b.md"
        )
        assert copy["artifact_id"] != made["artifact_id"]
        assert copy["sha256"] == made["sha256"]
        moved = await call(
            client, "move_artifact", artifact_id=copy["artifact_id"], new_filename="c.md"
        )
        assert moved["filename"] == "c.md"
        url = await call(client, "presign", artifact_id=made["artifact_id"], expires=60)
        assert url["url"].startswith("http")
        assert url["expires_at"] is not None
        gone = await call(client, "delete_artifact", artifact_id=moved["artifact_id"])
        assert gone == {"artifact_id": moved["artifact_id"], "deleted": True}
        error = await failure(client, "get_metadata", artifact_id=moved["artifact_id"])
        assert (error["code"], error["status"]) == ("not_found", 404)


async def test_bad_arguments_and_store_errors_are_tool_errors(
    store: ArtifactStore, everything: McpOptions
) -> None:
    async with _client(store, everything) as client:
        error = await failure(client, "get_metadata", artifact_idx="x")
        assert error["code"] == "invalid_request"
        assert "artifact_id: Field required" in error["message"]
        assert "artifact_idx" in error["message"]
        both = await failure(client, "write_artifact", filename="a", text="x", base64="eA==")
        assert "one of them" in both["message"]
        assert (await failure(client, "write_artifact", filename="a", base64="%%%"))[
            "status"
        ] == 400
        assert (await failure(client, "list_artifacts", limit=0))["code"] == "invalid_request"
        assert (await failure(client, "get_metadata", artifact_id="../etc"))["status"] == 400
        too_big = await failure(
            client, "write_artifact", filename="a", text="x" * (everything.result_limit + 1)
        )
        assert too_big["status"] == 413
        assert "begin_upload" in too_big["message"]
        assert (await call(client, "list_artifacts"))["items"] == []  # nothing was stored


async def test_users_reach_only_their_own(
    store: ArtifactStore, everything: McpOptions, exchange: Path
) -> None:
    (exchange / "pkg").mkdir()
    (exchange / "pkg" / "private.txt").write_text("alice's")
    async with _client(store, everything) as alice:
        mine = await call(alice, "write_artifact", filename="secret.txt", text="alice's")
        package = await call(
            alice,
            "push_package",
            path="pkg",
            producer="ci",
            subject="s",
            retention_class="transient",
        )
        assert (await store.get_package(package["package_id"]))["scope"] == "user"  # not published
    bob = Actor(user_id="bob", name="bob")
    async with _client(store, everything, bob) as client:
        for tool in ("get_metadata", "read_artifact", "presign", "delete_artifact"):
            error = await failure(client, tool, artifact_id=mine["artifact_id"])
            assert error["status"] == 403, (tool, error)
        error = await failure(
            client, "update_artifact", artifact_id=mine["artifact_id"], summary="x"
        )
        assert error["status"] == 403
        assert (await call(client, "list_artifacts"))["items"] == []
        assert (await call(client, "search_artifacts", filename_glob="*"))["items"] == []
        with pytest.raises(MCPError) as denied:
            await client.read_resource(mine["uri"])
        assert "access denied" in denied.value.error.message
        assert (await client.list_resources()).resources == []
        hidden = await failure(client, "get_manifest", package_id=package["package_id"])
        assert hidden["status"] == 404  # a package a caller may not read is not there for it
        with pytest.raises(MCPError):
            await client.read_resource(f"satchel://package/{package['package_id']}")
        assert (await call(client, "list_packages"))["items"] == []
    # bob's attempts are on record, as bob's, naming what he asked for
    tried = await store.list_events(types=["v1.mcp."], user_id="bob", limit=100)
    outcomes = {(e["payload"]["tool"], e["payload"]["outcome"]) for e in tried["events"]}
    assert ("get_metadata", "access_denied") in outcomes
    assert ("read_resource", "access_denied") in outcomes
    denied_reads = [e for e in tried["events"] if e["payload"]["tool"] == "get_metadata"]
    assert denied_reads[0]["payload"]["subjects"] == [mine["artifact_id"]]
    assert {e["actor"] for e in tried["events"]} == {"bob"}


async def test_resources_and_templates(
    store: ArtifactStore, everything: McpOptions, exchange: Path
) -> None:
    (exchange / "pkg").mkdir()
    (exchange / "pkg" / "a.txt").write_text("a")
    async with _client(store, everything) as client:
        text = await call(client, "write_artifact", filename="t.txt", text="hello")
        binary = await call(
            client, "write_artifact", filename="b.bin", base64=base64.b64encode(b"\0\1").decode()
        )
        pushed = await call(
            client,
            "push_package",
            path="pkg",
            producer="ci",
            subject="s",
            retention_class="transient",
            scope="user",
        )
        first = await client.list_resources()
        assert {r.uri for r in first.resources} == {text["uri"], binary["uri"]}
        assert {r.mime_type for r in first.resources} == {"text/plain", "application/octet-stream"}
        packages = await client.list_resources(cursor=first.next_cursor)
        assert [r.uri for r in packages.resources] == [f"satchel://package/{pushed['package_id']}"]
        assert packages.next_cursor is None

        read = await client.read_resource(text["uri"])
        assert read.contents[0].text == "hello"
        assert read.contents[0].mime_type == "text/plain"
        raw = (await client.read_resource(binary["uri"])).contents[0]
        assert isinstance(raw, types.BlobResourceContents)
        assert base64.b64decode(raw.blob) == b"\0\1"
        manifest = (
            await client.read_resource(f"satchel://package/{pushed['package_id']}")
        ).contents[0]
        assert '"a.txt"' in manifest.text
        assert manifest.mime_type == "application/json"
        with pytest.raises(MCPError) as missing:
            await client.read_resource("satchel://artifact/nope")
        assert missing.value.error.code == -32002
        with pytest.raises(MCPError) as foreign:
            await client.read_resource("file:///etc/passwd")
        assert foreign.value.error.code == -32002
        templates = (await client.list_resource_templates()).resource_templates
        assert {t.uri_template for t in templates} == {
            "satchel://artifact/{artifact_id}",
            "satchel://package/{package_id}",
        }


async def test_files_move_only_within_the_allowed_directories(
    store: ArtifactStore, everything: McpOptions, exchange: Path, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    (exchange / "in.bin").write_bytes(data)
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    (exchange / "escape").symlink_to(outside)
    async with _client(store, everything) as client:
        made = await call(client, "import_file", path="in.bin", meta={"from": "disk"})
        assert made["sha256"] == "sha256:" + hashlib.sha256(data).hexdigest()
        for path in (str(outside), "../outside.txt", "escape", "/etc/passwd"):
            error = await failure(client, "import_file", path=path)
            assert error["status"] == 403
            assert "outside the allowed directories" in error["message"]
        assert (await failure(client, "import_file", path="nope.bin"))["status"] == 400

        out = await call(client, "export_file", artifact_id=made["artifact_id"], path="copies")
        assert out["path"] == str(exchange / "copies")
        assert (exchange / "copies").read_bytes() == data
        (exchange / "dir").mkdir()
        into = await call(client, "export_file", artifact_id=made["artifact_id"], path="dir")
        assert Path(into["path"]) == exchange / "dir" / "in.bin"
        exists = await failure(
            client, "export_file", artifact_id=made["artifact_id"], path="copies"
        )
        assert exists["status"] == 409  # never replaced unless asked
        (exchange / "copies").write_bytes(b"old")
        await call(
            client, "export_file", artifact_id=made["artifact_id"], path="copies", overwrite=True
        )
        assert (exchange / "copies").read_bytes() == data
        escape = await failure(
            client, "export_file", artifact_id=made["artifact_id"], path="escape", overwrite=True
        )
        assert escape["status"] == 403
        assert outside.read_text() == "not yours"
        left = sorted(p.name for p in exchange.iterdir())  # noqa: ASYNC240
        assert left == ["copies", "dir", "escape", "in.bin"]

        (exchange / "tree" / "sub").mkdir(parents=True)
        (exchange / "tree" / "one.txt").write_text("1")
        (exchange / "tree" / "sub" / "two.json").write_text("{}")
        pushed = await call(
            client,
            "push_package",
            path=str(exchange / "tree"),
            producer="ci",
            subject="run-1",
            retention_class="transient",
        )
        assert (pushed["files"], pushed["bytes"]) == (2, 3)
        manifest = await call(client, "get_manifest", package_id=pushed["package_id"])
        paths = sorted(f["relative_path"] for f in manifest["manifest"]["files"])
        assert paths == ["one.txt", "sub/two.json"]
        listed = await call(client, "list_packages", mine=True)
        assert pushed["package_id"] in [p["package_id"] for p in listed["items"]]
        (exchange / "tree" / "link").symlink_to(outside)
        refused = await failure(
            client,
            "push_package",
            path="tree",
            producer="ci",
            subject="run-2",
            retention_class="transient",
        )
        assert refused["status"] == 403


async def test_every_call_is_an_event_of_its_principal(
    store: ArtifactStore, everything: McpOptions
) -> None:
    async with _client(store, everything) as client:
        made = await call(client, "write_artifact", filename="a.txt", text="a")
        await failure(client, "get_metadata", artifact_id="missing")
        await client.read_resource(made["uri"])
        page = await call(client, "list_events", types=["v1.mcp."])
    calls = [e for e in page["events"] if e["type"] == "v1.mcp.tool_called"]
    seen = [(e["payload"]["tool"], e["payload"]["outcome"], e["actor"]) for e in calls]
    assert seen == [
        ("write_artifact", "ok", "alice"),
        ("get_metadata", "not_found", "alice"),
        ("read_resource", "ok", "alice"),
    ]
    assert calls[0]["payload"]["subjects"] == [made["artifact_id"]]
    assert calls[0]["payload"]["client"] == "satchel-tests"
    bob = await store.list_events(types=["v1.mcp."], user_id="bob")
    assert bob["events"] == []  # a user sees its own agents' calls, not another's


async def test_no_result_exceeds_the_limit(store: ArtifactStore, exchange: Path) -> None:
    options = McpOptions(
        allow_write=True, allow_delete=True, allow_dirs=(exchange,), result_limit=16 * 1024
    )
    big_meta = {f"key{i}": "v" * 200 for i in range(40)}  # 8 KiB of metadata each
    async with _client(store, options) as client:
        ids = []
        for number in range(30):
            text = 'é"\n' * 1500 if number % 2 else "x" * 12_000
            made = await call(
                client, "write_artifact", filename=f"f{number}.txt", text=text, meta=big_meta
            )
            ids.append(made["artifact_id"])
        image = await call(
            client,
            "write_artifact",
            filename="big.png",
            base64=base64.b64encode(PNG + os.urandom(14_000)).decode(),
        )
        results: list[Any] = []
        for limit in (1, 20, 100):
            results.append(await client.call_tool("list_artifacts", {"limit": limit}))
            results.append(
                await client.call_tool("search_artifacts", {"limit": limit, "meta": big_meta})
            )
            results.append(await client.call_tool("list_events", {"limit": limit}))
        for ident in [*ids[:4], image["artifact_id"]]:
            results.append(await client.call_tool("read_artifact", {"artifact_id": ident}))
            results.append(await client.call_tool("get_metadata", {"artifact_id": ident}))
        results.append(await client.call_tool("whoami", {}))
    sizes = [size_of(result) for result in results]
    assert max(sizes) <= options.result_limit, sizes
    errors = [r for r in results if r.is_error]
    assert errors
    assert all(r.structured_content["error"]["code"] == "too_large" for r in errors)
    assert any(
        isinstance(r.content[0], types.ResourceLink) for r in results
    )  # a link, not a cut body
    assert any(not r.is_error and len(r.structured_content.get("items", [])) == 1 for r in results)


async def test_a_name_cannot_reach_the_shell(store: ArtifactStore, everything: McpOptions) -> None:
    name = "$(touch pwned) `id` 'q'.bin"
    async with _client(store, everything) as client:
        made = await call(client, "write_artifact", filename=name, base64="AAE=")
        url = await call(client, "presign", artifact_id=made["artifact_id"])
        assert shlex.split(url["curl"]) == ["curl", "-fsS", "-o", name, url["url"]]
        linked = await client.call_tool("read_artifact", {"artifact_id": made["artifact_id"]})
        assert shlex.quote(name) in linked.content[1].text
        begun = await call(client, "begin_upload", filename=f"dir/{name}")
        assert shlex.split(begun["curl"]) == ["curl", "-fsS", "-T", name, begun["upload_url"]]


async def test_special_files_and_protected_directories(
    store: ArtifactStore, exchange: Path, tmp_path: Path
) -> None:
    os.mkfifo(exchange / "pipe")
    (exchange / "tree").mkdir()
    (exchange / "tree" / "ok.txt").write_text("ok")
    os.mkfifo(exchange / "tree" / "pipe")
    async with _client(store, McpOptions(allow_dirs=(exchange,), allow_write=True)) as client:
        refused = await failure(client, "import_file", path="pipe")  # returns: nothing blocks
        assert (refused["status"], refused["message"]) == (400, "pipe is not a regular file")
        push = await failure(
            client,
            "push_package",
            path="tree",
            producer="p",
            subject="s",
            retention_class="transient",
        )
        assert push["status"] == 400
        assert (await call(client, "list_packages"))["items"] == []  # no half-made package
        assert (await failure(client, "import_file", path="tree"))["status"] == 400
        assert (await failure(client, "import_file", path="missing"))["status"] == 400
    async with _client(store, McpOptions(allow_dirs=(exchange,))) as client:
        made = await store.store(b"x", filename="x.txt", user_id="alice", scope="user")
        (exchange / "x.txt").write_text("mine")
        denied = await failure(
            client, "export_file", artifact_id=made, path="x.txt", overwrite=True
        )
        assert denied["status"] == 403  # replacing a file needs a server that allows writes
        assert (exchange / "x.txt").read_text() == "mine"
    data = tmp_path / "data"
    for allowed in (data, data / "blobs", tmp_path):
        allowed.mkdir(exist_ok=True)
        with pytest.raises(InvalidRequestError, match="overlaps Satchel's own data"):
            McpOptions(allow_dirs=(allowed,), protected=(data,))


async def test_resource_lists_and_reads_stay_within_the_limit(store: ArtifactStore) -> None:
    options = McpOptions(allow_write=True, result_limit=16 * 1024)
    async with _client(store, options) as client:
        for number in range(60):
            await call(
                client,
                "write_artifact",
                filename=f"{number:02}-" + "n" * 200,
                text="x",
                summary="s" * 900,
            )
        controls = await call(client, "write_artifact", filename="c.txt", text="\x01" * 8000)
        pages, cursor = [], None
        while True:
            page = await client.list_resources(cursor=cursor)
            pages.append(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        listed = [r for page in pages for r in page.resources]
        assert len(listed) == 61
        assert len({r.uri for r in listed}) == 61  # nothing twice, nothing missed
        assert (
            max(len(p.model_dump_json(by_alias=True, exclude_none=True).encode()) for p in pages)
            <= 16 * 1024
        )
        with pytest.raises(MCPError) as big:  # 8000 bytes, 48000 as JSON
            await client.read_resource(controls["uri"])
        assert big.value.error.data["code"] == "too_large"
        assert big.value.error.data["presigned_url"].startswith("http")
        read = await client.call_tool("read_artifact", {"artifact_id": controls["artifact_id"]})
        assert size_of(read) <= 16 * 1024
        assert isinstance(read.content[0], types.ResourceLink)


async def test_what_a_caller_sends_is_never_echoed_at_length(
    store: ArtifactStore, everything: McpOptions
) -> None:
    async with _client(store, everything) as client:
        results = [
            await client.call_tool("list_events", {"types": [0] * 100_000}),
            await client.call_tool("get_metadata", {"artifact_id": "x", "k" * 100_000: 1}),
            await client.call_tool("get_metadata", {"artifact_id": "a" * 100_000}),
            await client.call_tool("import_file", {"path": "/" + "a" * 100_000}),
            await client.call_tool("search_artifacts", {"meta": {str(n): n for n in range(5000)}}),
        ]
        for result in results:
            assert result.is_error
            assert size_of(result) < 6000, result.content[0].text[:300]
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("t" * 100_000, {})
        assert len(unknown.value.error.message) < 200
        with pytest.raises(MCPError) as long_uri:
            await client.read_resource("satchel://artifact/" + "a" * 100_000)
        assert len(long_uri.value.error.message) < 200


async def test_odd_paths_are_clear_errors(store: ArtifactStore, exchange: Path) -> None:
    (exchange / "loop1").symlink_to(exchange / "loop2")
    (exchange / "loop2").symlink_to(exchange / "loop1")
    (exchange / "tree").mkdir()
    (exchange / "tree" / "back\\slash.txt").write_text("x")
    (exchange / "mine.txt").write_text("mine")
    (exchange / "linked.txt").hardlink_to(exchange / "mine.txt")
    options = McpOptions(allow_write=True, allow_dirs=(exchange,))
    async with _client(store, options) as client:
        for path in ("loop1", "x" * 300, f"{'d' * 300}/f"):
            assert (await failure(client, "import_file", path=path))["status"] == 400, path
        made = await call(client, "write_artifact", filename="a.txt", text="a")
        error = await failure(
            client, "export_file", artifact_id=made["artifact_id"], path="y" * 300
        )
        assert error["status"] == 400
        push = await failure(
            client,
            "push_package",
            path="tree",
            producer="p",
            subject="s",
            retention_class="transient",
        )
        assert push["status"] == 400
        assert (await call(client, "list_packages"))["items"] == []  # nothing half made
        assert (await call(client, "import_file", path="linked.txt"))[
            "bytes"
        ] == 4  # one user: fine
    shared = McpOptions(allow_write=True, allow_dirs=(exchange,), per_principal=True)
    (exchange / "alice").mkdir()
    (exchange / "alice" / "linked.txt").hardlink_to(exchange / "mine.txt")
    async with _client(store, shared) as client:
        linked = await failure(client, "import_file", path="linked.txt")
        assert (linked["status"], "hard links" in linked["message"]) == (403, True)


async def test_download_names_are_never_options_or_hidden_files(
    store: ArtifactStore, everything: McpOptions
) -> None:
    async with _client(store, everything) as client:
        for name, local in (("-", "_-"), ("dir/.bashrc", "_.bashrc"), ("-rf", "_-rf")):
            made = await call(client, "write_artifact", filename=name, text="x")
            url = await call(client, "presign", artifact_id=made["artifact_id"])
            assert shlex.split(url["curl"])[3] == local
        begun = await call(client, "begin_upload", filename="-")
        assert shlex.split(begun["curl"])[3] == "./-"
