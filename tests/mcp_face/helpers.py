"""MCP clients for the tests: the SDK's own, in process, over stdio and over streamable HTTP."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

CLIENT_INFO = types.Implementation(name="satchel-tests", version="1.0")


@contextlib.asynccontextmanager
async def http_client(url: str, headers: dict[str, str]) -> AsyncIterator[Client]:
    """A client of the ``/mcp`` endpoint at *url* sending *headers* with every request."""
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(url + "/mcp", http_client=http)
        async with Client(transport, client_info=CLIENT_INFO) as client:
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured result; fails the test on a tool error."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, (tool, result.content)
    assert result.structured_content is not None, (tool, result.content)
    return result.structured_content


async def failure(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's error (code, status, message); fails the test when the call succeeded."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, (tool, result.content)
    text = result.content[0]
    assert isinstance(text, types.TextContent)
    assert "Traceback" not in text.text
    assert 'File "' not in text.text
    assert result.structured_content is not None
    error: dict[str, Any] = result.structured_content["error"]
    assert text.text.startswith(f"{error['code']} ({error['status']}): ")
    return error


def size_of(result: Any) -> int:
    """The bytes of *result* as JSON on the wire."""
    return len(result.model_dump_json(by_alias=True, exclude_none=True).encode())


class Recorder:
    """Calls tools through *client* and remembers which, so a scenario can prove it covered
    every tool the server offers."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.called: set[str] = set()

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        self.called.add(tool)
        return await call(self.client, tool, **arguments)

    async def raw(self, tool: str, **arguments: Any) -> types.CallToolResult:
        self.called.add(tool)
        return await self.client.call_tool(tool, arguments)


async def every_tool_and_resource(client: Client, exchange: Path) -> None:
    """One pass over every tool, resource and template a fully enabled server offers (the
    same on every transport), as user alice with *exchange* as its allowed directory."""
    use = Recorder(client)
    who = await use.ok("whoami")
    assert (who["user_id"], who["writes"], who["deletes"]) == ("alice", True, True)
    note = await use.ok("write_artifact", filename="scenario/note.txt", text="héllo", meta={"n": 1})
    assert note["bytes"] == len("héllo".encode())
    read = await use.raw("read_artifact", artifact_id=note["artifact_id"])
    assert isinstance(read.content[0], types.TextContent)
    assert read.content[0].text == "héllo"
    assert (await use.ok("get_metadata", artifact_id=note["uri"]))["meta"] == {"n": 1}
    assert note["artifact_id"] in str(await use.ok("list_artifacts", limit=100))
    found = await use.ok("search_artifacts", filename_glob="scenario/*", meta={"n": 1})
    assert [item["artifact_id"] for item in found["items"]] == [note["artifact_id"]]
    updated = await use.ok("update_artifact", artifact_id=note["artifact_id"], summary="a note")
    assert updated["summary"] == "a note"
    copy = await use.ok(
        "copy_artifact", artifact_id=note["artifact_id"], new_filename="scenario/copy.txt"
    )
    moved = await use.ok(
        "move_artifact", artifact_id=copy["artifact_id"], new_filename="scenario/moved.txt"
    )
    assert moved["filename"] == "scenario/moved.txt"
    url = await use.ok("presign", artifact_id=note["artifact_id"], expires=120)
    assert url["url"].startswith("http")

    begun = await use.ok("begin_upload", filename="scenario/up.bin")
    async with httpx.AsyncClient(timeout=30) as http:
        put = await http.put(begun["upload_url"], content=b"\x00uploaded")
    assert put.status_code in (200, 201), put.text
    done = await use.ok("finish_upload", artifact_id=begun["artifact_id"])
    assert done["sha256"] == "sha256:" + hashlib.sha256(b"\x00uploaded").hexdigest()

    (exchange / "scenario.csv").write_text("a,b\n")
    imported = await use.ok("import_file", path="scenario.csv")
    exported = await use.ok("export_file", artifact_id=imported["artifact_id"], path="back.csv")
    assert Path(exported["path"]).read_text() == "a,b\n"  # noqa: ASYNC240
    (exchange / "pkg-scenario").mkdir()
    (exchange / "pkg-scenario" / "f.txt").write_text("f")
    pushed = await use.ok(
        "push_package",
        path="pkg-scenario",
        producer="ci",
        subject="scenario",
        retention_class="transient",
        scope="user",
    )
    manifest = await use.ok("get_manifest", package_id=pushed["package_id"])
    assert [f["relative_path"] for f in manifest["manifest"]["files"]] == ["f.txt"]
    assert pushed["package_id"] in str(await use.ok("list_packages", mine=True))
    events = await use.ok("list_events", types=["v1.artifact.stored"], limit=100)
    assert note["artifact_id"] in {event["subject"] for event in events["events"]}
    assert (await use.ok("delete_artifact", artifact_id=moved["artifact_id"]))["deleted"] is True

    offered = {tool.name for tool in (await client.list_tools()).tools}
    assert use.called == offered

    listed = await client.list_resources()
    uris = {resource.uri for resource in listed.resources}
    assert {note["uri"], done["uri"], imported["uri"]} <= uris
    assert (await client.read_resource(note["uri"])).contents[0].text == "héllo"
    packages = (
        await client.list_resources(cursor=listed.next_cursor) if listed.next_cursor else None
    )
    package_uri = f"satchel://package/{pushed['package_id']}"
    assert packages is not None
    assert package_uri in {resource.uri for resource in packages.resources}
    assert '"f.txt"' in (await client.read_resource(package_uri)).contents[0].text
    templates = (await client.list_resource_templates()).resource_templates
    assert len(templates) == 2
