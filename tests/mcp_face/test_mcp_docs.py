"""docs/mcp.md stays true: each MCP client configuration it shows starts and answers, as a client
would start it, and its tool table is the server's tool list."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from tests.mcp_face.helpers import CLIENT_INFO, call, http_client
from tests.test_docs_examples import ROOT, VENV_BIN, _blocks, _clean_env

from satchel.mcp.tools_files import FILE_TOOLS
from satchel.mcp.tools_read import READ_TOOLS
from satchel.mcp.tools_write import WRITE_TOOLS

DOC = ROOT / "docs" / "mcp.md"
HOME = "/home/me"
SERVER = "http://127.0.0.1:8000"
KEY = "satk_your_agents_key"


def _configurations() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for where, _, source in _blocks("json"):
        if where.startswith("docs/mcp.md#"):
            for name, entry in json.loads(source)["mcpServers"].items():
                found.append((f"{where}:{name}", entry))
    return found


def _replace(value: str, home: Path, url: str, key: str) -> str:
    return value.replace(HOME, str(home)).replace(SERVER, url).replace(KEY, key)


async def test_every_client_configuration_starts(tmp_path: Path, launch_server: Any) -> None:
    configurations = _configurations()
    assert len(configurations) == 3
    server = launch_server()
    admin = server.headers("admin")
    async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=30) as http:
        made = await http.post("/v1/keys", json={"user_id": "alice", "name": "alice's agent"})
        key = made.json()["token"]
    home = tmp_path / "home"
    (home / "exchange").mkdir(parents=True)
    for where, entry in configurations:
        if "command" in entry:
            env = {k: _replace(v, home, server.url, key) for k, v in entry.get("env", {}).items()}
            params = StdioServerParameters(
                command=str(VENV_BIN / entry["command"]),
                args=[_replace(arg, home, server.url, key) for arg in entry["args"]],
                env=_clean_env(**env),
                cwd=tmp_path,
            )
            async with Client(params, client_info=CLIENT_INFO, read_timeout_seconds=60) as client:
                who = await call(client, "whoami")
                names = {tool.name for tool in (await client.list_tools()).tools}
        else:
            assert entry["type"] == "http"
            assert entry["url"] == SERVER + "/mcp"
            headers = {k: _replace(v, home, server.url, key) for k, v in entry["headers"].items()}
            async with http_client(server.url, headers) as client:
                who = await call(client, "whoami")
                names = {tool.name for tool in (await client.list_tools()).tools}
        assert "whoami" in names, where
        if "SATCHEL_DATA_DIR" in entry.get("env", {}):
            assert (who["user_id"], who["writes"]) == ("me", True), where
            assert who["allowed_dirs"] == [str(home / "exchange")], where
            assert "write_artifact" in names
        else:
            assert (who["user_id"], who["principal"]) == ("alice", "alice's agent"), where


def test_the_tool_table_is_the_tool_list() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|", DOC.read_text(), re.MULTILINE)
    documented = {name: (offered.strip(), hints.strip()) for name, offered, hints in rows}
    specs = [*READ_TOOLS, *WRITE_TOOLS, *FILE_TOOLS]
    assert list(documented) == [spec.name for spec in specs]
    flags = {"write": "`--allow-write`", "delete": "`--allow-delete`", "dirs": "`--allow-dir`"}
    for spec in specs:
        offered, hints = documented[spec.name]
        expected = " and ".join(flags[need] for need in sorted(spec.needs, key=list(flags).index))
        assert offered == (expected or "always"), spec.name
        assert hints.startswith("read-only") == spec.read_only, spec.name
        assert hints.startswith("destructive") == spec.destructive, spec.name
        assert ("idempotent" in hints) == (spec.idempotent and not spec.read_only), spec.name
