"""``/mcp`` in a running ``satchel serve``: the SDK's client over streamable HTTP, one bearer
token per request, the access rules of every other route, and big files that never pass
through the model (a 20 MiB upload by begin_upload + curl + finish_upload, read back as a link
whose presigned URL curl fetches)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from tests.conftest import ServerProcess
from tests.harness.processes import free_port
from tests.mcp_face.helpers import call, every_tool_and_resource, failure, http_client
from tests.mcp_face.test_mcp_tools import READ_ONLY, WRITES
from tests.server.inprocess import ALICE, client, running_app

from satchel.config import Settings
from satchel.server import create_app

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exchange")


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory, exchange: Path) -> Iterator[ServerProcess]:
    """A server whose MCP endpoint offers every tool."""
    env = {
        "SATCHEL_MCP_ALLOW_WRITE": "true",
        "SATCHEL_MCP_ALLOW_DELETE": "true",
        "SATCHEL_MCP_ALLOW_DIRS": str(exchange),
    }
    srv = ServerProcess(
        data_dir=tmp_path_factory.mktemp("mcp-data"), port=free_port(), extra_env=env
    )
    srv.start()
    yield srv
    srv.stop()


def _curl(*args: str) -> None:
    subprocess.run(["curl", "-fsS", *args], check=True, capture_output=True, timeout=120)


def _sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_request_needs_a_valid_token(writer: ServerProcess) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    with httpx.Client(base_url=writer.url, timeout=30) as http:
        missing = http.post("/mcp", json=hello, headers=accept)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert missing.json()["error"] == "unauthorized"
        wrong = http.post(
            "/mcp", json=hello, headers={**accept, "Authorization": "Bearer nope-nope-nope"}
        )
        assert wrong.status_code == 401
        alice = {**accept, **writer.headers("alice")}
        port = writer.port
        for origin, host in (
            ("https://evil.example", None),
            (f"http://evil.example:{port}", f"evil.example:{port}"),  # DNS rebinding
        ):
            headers = {**alice, "Origin": origin, **({"Host": host} if host else {})}
            assert http.post("/mcp", json=hello, headers=headers).status_code == 403, origin
        for origin in (writer.url, f"http://localhost:{port}", "http://127.0.0.1:6274"):
            headers = {**alice, "Origin": origin}
            assert http.post("/mcp", json=hello, headers=headers).status_code == 200, origin
        as_bob = {**accept, **writer.headers("alice"), "X-Satchel-User": "bob"}
        assert http.post("/mcp", json=hello, headers=as_bob).status_code == 403


async def test_read_only_unless_the_server_allows_writes(server_pool: object) -> None:
    srv = server_pool.take()  # type: ignore[attr-defined]
    try:
        async with http_client(srv.url, srv.headers("alice")) as client:
            assert {tool.name for tool in (await client.list_tools()).tools} == READ_ONLY
            with pytest.raises(MCPError, match="--allow-write"):
                await client.call_tool("write_artifact", {"filename": "a.txt", "text": "a"})
            assert (await call(client, "whoami"))["user_id"] == "alice"
    finally:
        server_pool.release(srv)  # type: ignore[attr-defined]


async def test_principals_and_access_rules(writer: ServerProcess) -> None:
    async with http_client(writer.url, writer.headers("alice")) as alice:
        names = {tool.name for tool in (await alice.list_tools()).tools}
        assert names == READ_ONLY | WRITES | {
            "delete_artifact",
            "import_file",
            "export_file",
            "push_package",
        }
        mine = await call(alice, "write_artifact", filename="private/plan.txt", text="alice only")
        assert (mine["owner_id"], mine["scope"]) == ("alice", "user")
        who = await call(alice, "whoami")
        assert (who["user_id"], who["admin"], who["principal"]) == ("alice", False, "alice")
    async with http_client(writer.url, writer.headers("bob")) as bob:
        for tool in ("get_metadata", "read_artifact", "presign", "delete_artifact"):
            assert (await failure(bob, tool, artifact_id=mine["artifact_id"]))["status"] == 403
        assert mine["artifact_id"] not in str(await call(bob, "list_artifacts"))
        with pytest.raises(MCPError, match="access denied"):
            await bob.read_resource(mine["uri"])
    acting = {**writer.headers("admin"), "X-Satchel-User": "alice"}
    async with http_client(writer.url, acting) as admin_as_alice:
        seen = await call(admin_as_alice, "list_artifacts")
        assert [item["artifact_id"] for item in seen["items"]] == [mine["artifact_id"]]
        assert (await call(admin_as_alice, "whoami"))["user_id"] == "alice"
    async with http_client(writer.url, writer.headers("alice")) as alice:
        page = await call(alice, "list_events", types=["v1.mcp."], limit=100)
    calls = [
        (e["payload"]["tool"], e["payload"]["outcome"], e["actor"], e["payload"]["principal"])
        for e in page["events"]
    ]
    assert ("write_artifact", "ok", "alice", "alice") in calls
    assert ("list_artifacts", "ok", "alice", "ops") in calls  # the admin, on alice's behalf
    assert not any(call[0] == "get_metadata" for call in calls)  # bob's calls are bob's
    assert {e["payload"]["client"] for e in page["events"]} == {"satchel-tests"}


async def test_every_tool_and_resource(writer: ServerProcess, exchange: Path) -> None:
    mine = exchange / "alice"  # each user has a directory of its own on a shared server
    mine.mkdir(exist_ok=True)
    async with http_client(writer.url, writer.headers("alice")) as client:
        await every_tool_and_resource(client, mine)


async def test_an_api_key_is_a_principal(writer: ServerProcess) -> None:
    admin = writer.headers("admin")
    async with httpx.AsyncClient(base_url=writer.url, headers=admin, timeout=30) as http:
        made = await http.post("/v1/keys", json={"user_id": "carol", "name": "carol's agent"})
        assert made.status_code == 201, made.text
        token = made.json()["token"]
    async with http_client(writer.url, {"Authorization": f"Bearer {token}"}) as client:
        who = await call(client, "whoami")
        assert (who["user_id"], who["principal"]) == ("carol", "carol's agent")
        stored = await call(client, "write_artifact", filename="c.txt", text="c")
        assert stored["owner_id"] == "carol"


async def test_a_20_mib_file_never_passes_through_the_model(
    writer: ServerProcess, tmp_path: Path
) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(os.urandom(20 * MIB))
    async with http_client(writer.url, writer.headers("alice")) as client:
        begun = await call(client, "begin_upload", filename="weights/model.bin")
        assert begun["method"] == "PUT"
        assert len(str(begun)) < 2000
        _curl("-T", str(source), begun["upload_url"])
        finished = await call(
            client, "finish_upload", artifact_id=begun["artifact_id"], meta={"run": 7}
        )
        assert finished["bytes"] == 20 * MIB
        assert finished["sha256"] == _sha256(source)
        assert (finished["filename"], finished["owner_id"]) == ("weights/model.bin", "alice")

        read = await client.call_tool("read_artifact", {"artifact_id": begun["artifact_id"]})
        assert not read.is_error
        link = read.content[0]
        assert isinstance(link, types.ResourceLink)
        assert (link.uri, link.size) == (finished["uri"], 20 * MIB)
        assert len(read.model_dump_json()) < 4000  # a link, not 27 MiB of base64
        fetched = tmp_path / "fetched.bin"
        _curl("-o", str(fetched), read.structured_content["presigned_url"])
        assert _sha256(fetched) == finished["sha256"]

        with pytest.raises(MCPError) as too_big:
            await client.read_resource(finished["uri"])
        data = too_big.value.error.data
        assert data["bytes"] == 20 * MIB
        again = tmp_path / "again.bin"
        _curl("-o", str(again), data["presigned_url"])
        assert _sha256(again) == finished["sha256"]
        second = await failure(client, "finish_upload", artifact_id=begun["artifact_id"])
        assert second["status"] == 409  # registered once


async def test_each_user_has_its_own_directories(writer: ServerProcess, exchange: Path) -> None:
    (exchange / "alice").mkdir(exist_ok=True)
    (exchange / "alice" / "report.csv").write_text("a,b\n1,2\n")
    async with http_client(writer.url, writer.headers("alice")) as alice:
        assert (await call(alice, "whoami"))["allowed_dirs"] == [str(exchange / "alice")]
        made = await call(alice, "import_file", path="report.csv")
        assert made["mime"] == "text/csv"
        out = await call(alice, "export_file", artifact_id=made["artifact_id"], path="copy.csv")
        assert out["path"] == str(exchange / "alice" / "copy.csv")
        assert (exchange / "alice" / "copy.csv").stat().st_mode & 0o777 == 0o600
        assert (await failure(alice, "import_file", path="/etc/hostname"))["status"] == 403
    async with http_client(writer.url, writer.headers("bob")) as bob:
        assert (await call(bob, "whoami"))["allowed_dirs"] == [str(exchange / "bob")]
        assert (await failure(bob, "import_file", path="copy.csv"))["status"] == 400  # not his
        for path in ("../alice/copy.csv", str(exchange / "alice" / "copy.csv")):
            assert (await failure(bob, "import_file", path=path))["status"] == 403
        refused = await failure(bob, "export_file", artifact_id=made["artifact_id"], path="x")
        assert refused["status"] == 403  # nor alice's artifact
    async with http_client(writer.url, writer.headers("admin")) as admin:  # the application
        assert (await call(admin, "whoami"))["allowed_dirs"] == [str(exchange)]
        back = await call(admin, "import_file", path="alice/copy.csv")
        assert back["sha256"] == made["sha256"]


async def test_the_shell_line_of_a_link_runs_as_given(
    writer: ServerProcess, tmp_path: Path
) -> None:
    name = "$(touch pwned) `touch pwned2`.bin"
    async with http_client(writer.url, writer.headers("alice")) as client:
        made = await call(client, "write_artifact", filename=name, base64="AAECAw==")
        url = await call(client, "presign", artifact_id=made["artifact_id"])
    ran = await asyncio.create_subprocess_exec("bash", "-c", url["curl"], cwd=tmp_path)
    assert await ran.wait() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # noqa: ASYNC240
    assert (tmp_path / name).read_bytes() == b"\x00\x01\x02\x03"


async def test_the_endpoint_lives_with_the_app(tmp_path: Path) -> None:
    """/mcp answers while the app runs, is refused (not hung) once it stopped, and is not
    there when SATCHEL_MCP_ENABLED is off."""
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {ALICE}"}
    headers["MCP-Protocol-Version"] = "2025-06-18"
    settings = Settings(data_dir=tmp_path / "on", auth_tokens=f"{ALICE}=alice")
    app = create_app(settings, purge_interval=0)
    async with app.router.lifespan_context(app), client(app, None) as http:
        answer = await http.post("/mcp", json=hello, headers=headers)
        assert answer.status_code == 200, answer.text
        assert "whoami" in {tool["name"] for tool in answer.json()["result"]["tools"]}
    async with client(app, None) as http:
        assert (await http.post("/mcp", json=hello, headers=headers)).status_code == 503
    async with running_app(tmp_path / "off", mcp_enabled=False) as off, client(off, ALICE) as http:
        assert (await http.post("/mcp", json=hello, headers=headers)).status_code == 404
