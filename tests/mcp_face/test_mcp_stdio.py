"""``satchel mcp`` as an MCP client launches it: a subprocess speaking on stdin/stdout, on the
embedded store under its data directory or on a server by URL and token."""

from __future__ import annotations

import base64
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from tests.cli.helpers import cli_env, lines, run
from tests.conftest import ServerProcess
from tests.harness.processes import free_port
from tests.mcp_face.helpers import CLIENT_INFO, call, every_tool_and_resource, failure
from tests.mcp_face.test_mcp_tools import READ_ONLY, WRITES


@contextlib.asynccontextmanager
async def stdio_client(tmp_path: Path, *args: str, **env: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "satchel", "mcp", *args],
        env=cli_env(tmp_path, **env),
        cwd=tmp_path,
    )
    async with Client(params, client_info=CLIENT_INFO, read_timeout_seconds=60) as client:
        yield client


async def test_on_the_embedded_store(tmp_path: Path) -> None:
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    (exchange / "data.json").write_text('{"rows": 3}')
    flags = ("--allow-write", "--allow-delete", "--allow-dir", str(exchange), "--user", "alice")
    async with stdio_client(tmp_path, *flags) as client:
        assert client.server_info is not None
        assert client.server_info.name == "satchel"
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools == READ_ONLY | WRITES | {
            "delete_artifact",
            "import_file",
            "export_file",
            "push_package",
        }
        who = await call(client, "whoami")
        assert (who["user_id"], who["writes"], who["allowed_dirs"]) == (
            "alice",
            True,
            [str(exchange)],
        )
        imported = await call(client, "import_file", path="data.json", summary="rows")
        read = await client.call_tool("read_artifact", {"artifact_id": imported["artifact_id"]})
        assert isinstance(read.content[0], types.TextContent)
        assert read.content[0].text == '{"rows": 3}'
        kept = await call(client, "write_artifact", filename="kept.txt", text="stays")
        doomed = await call(
            client, "write_artifact", filename="gone.bin", base64=base64.b64encode(b"x").decode()
        )
        assert (await call(client, "delete_artifact", artifact_id=doomed["artifact_id"]))["deleted"]
        resources = await client.list_resources()
        assert {r.uri for r in resources.resources} == {imported["uri"], kept["uri"]}
        assert (await client.read_resource(kept["uri"])).contents[0].text == "stays"
        assert (await failure(client, "import_file", path="/etc/hostname"))["status"] == 403
    # what the agent stored is in the data directory, where the CLI finds it
    listed = lines(run(tmp_path, "ls", "--user", "alice", "--json").stdout)
    assert sorted(item["filename"] for item in listed) == ["data.json", "kept.txt"]


async def test_every_tool_and_resource(tmp_path: Path) -> None:
    """On the embedded store; presigned URLs are answered by `satchel serve` on the same data
    directory (as docs/mcp.md says), here on a port of its own."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    (tmp_path / "data").mkdir()
    beside = ServerProcess(data_dir=tmp_path / "data", port=free_port(), extra_env={})
    beside.start()
    try:
        flags = ("--allow-write", "--allow-delete", "--allow-dir", str(exchange), "--user", "alice")
        port = str(beside.port)
        async with stdio_client(tmp_path, *flags, SATCHEL_PORT=port) as client:
            await every_tool_and_resource(client, exchange)
    finally:
        beside.stop()


async def test_on_a_server_as_the_tokens_user(server: ServerProcess, tmp_path: Path) -> None:
    alice = server.headers("alice")
    async with httpx.AsyncClient(base_url=server.url, headers=alice, timeout=30) as http:
        made = await http.post(
            "/v1/artifacts", params={"filename": "from-http.txt", "scope": "user"}, content=b"hi"
        )
        assert made.status_code == 201, made.text
    env = {"SATCHEL_URL": server.url, "SATCHEL_TOKEN": server.token("alice")}
    async with stdio_client(tmp_path, **env) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == READ_ONLY
        who = await call(client, "whoami")
        assert (who["user_id"], who["admin"]) == ("alice", False)
        found = await call(client, "search_artifacts", filename_glob="from-*")
        assert [item["filename"] for item in found["items"]] == ["from-http.txt"]
        url = await call(client, "presign", artifact_id=found["items"][0]["artifact_id"])
        assert url["url"].startswith(server.url)
    async with httpx.AsyncClient(base_url=server.url, headers=alice, timeout=30) as http:
        page = await http.get(  # the calls were recorded on the server, as alice
            "/v1/events", params={"type": "v1.mcp.", "format": "json", "limit": 1000}
        )
        tools = [(e["payload"]["tool"], e["actor"]) for e in page.json()["events"]]
    assert ("search_artifacts", "alice") in tools


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--allow-dir", "/no/such/dir"), "is not a directory"),
        (("--result-limit", "10"), "--result-limit"),
        (("--allow-dir", "data/blobs"), "overlaps Satchel's own data"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "data" / "blobs").mkdir(parents=True)
    result = run(tmp_path, "mcp", *args, ok=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
