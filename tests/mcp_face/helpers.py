"""MCP clients for the tests: the SDK's own, in process, over stdio and over streamable HTTP."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

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
    return len(json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True)))
