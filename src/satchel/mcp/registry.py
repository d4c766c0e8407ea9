"""MCP tools: each a pydantic model of its arguments, a coroutine, and its MCP annotations.

The toolbox offers the tools the server's options allow, validates arguments, maps Satchel's
error tree onto tool errors (the message, never a stack trace), keeps every result within the
configured size, and records each call as a ``v1.mcp.tool_called`` event of the caller.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, ValidationError

from satchel.core.api import ArtifactStoreAPI
from satchel.core.errors import ArtifactStoreError, InvalidRequestError
from satchel.core.validation import check_id
from satchel.mcp.limits import MAX_MESSAGE, clip
from satchel.mcp.options import Actor, McpOptions

__all__ = ["MAX_MESSAGE", "Call", "Output", "ToolSpec", "Toolbox", "clip", "requested_ids"]

logger = logging.getLogger("satchel.mcp")

WRITE, DELETE, DIRS = "write", "delete", "dirs"
_FLAGS = {WRITE: "--allow-write", DELETE: "--allow-delete", DIRS: "--allow-dir"}


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """What a tool runs with: the store (the API contract), who calls, and the options."""

    store: ArtifactStoreAPI
    actor: Actor
    options: McpOptions


@dataclasses.dataclass(slots=True)
class Output:
    """A tool's result: structured *data* (also sent as JSON text unless *content* is given)
    and the ids it was about (recorded with the call)."""

    data: dict[str, Any]
    content: list[types.ContentBlock] | None = None
    subjects: list[str] = dataclasses.field(default_factory=list)
    structured: bool = True
    """False: *content* alone is the result (content a client must not replace by *data*)."""


Runner = Callable[[Call, Any], Awaitable[Output]]


@dataclasses.dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    title: str
    description: str
    params: type[BaseModel]
    run: Runner
    needs: frozenset[str] = frozenset()
    """Options the tool needs: write, delete, dirs."""
    read_only: bool = True
    destructive: bool = False
    idempotent: bool = True
    open_world: bool = False

    def offered(self, options: McpOptions) -> bool:
        have = {WRITE: options.allow_write, DELETE: options.allow_delete}
        have[DIRS] = bool(options.allow_dirs)
        return all(have[need] for need in self.needs)

    def describe(self) -> types.Tool:
        schema = self.params.model_json_schema()
        schema.pop("title", None)
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=schema,
            annotations=types.ToolAnnotations(
                title=self.title,
                read_only_hint=self.read_only,
                destructive_hint=self.destructive,
                idempotent_hint=self.idempotent,
                open_world_hint=self.open_world,
            ),
        )


def _error(code: str, message: str, status: int) -> types.CallToolResult:
    message = clip(message)
    data = {"error": {"code": code, "status": status, "message": message}}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"{code} ({status}): {message}")],
        structured_content=data,
        is_error=True,
    )


_URI_PREFIXES = ("satchel://artifact/", "satchel://package/")


def requested_ids(arguments: dict[str, Any]) -> list[str]:
    """The ids a call's arguments name (recorded with a call that failed, so an attempt on
    someone else's artifact is on record too)."""
    found = []
    for key in ("artifact_id", "package_id"):
        value = arguments.get(key)
        if isinstance(value, str):
            for prefix in _URI_PREFIXES:
                value = value.removeprefix(prefix)
            with contextlib.suppress(InvalidRequestError):  # not an id: nothing to record
                found.append(check_id(key, value))
    return found


def _invalid(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = []
    for err in errors[:10]:
        where = ".".join(clip(str(part), 64) for part in err["loc"]) or "arguments"
        parts.append(f"{where}: {clip(err['msg'], 200)}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return "invalid arguments: " + "; ".join(parts) + more


def _result(output: Output) -> types.CallToolResult:
    content = output.content
    if content is None:
        text = json.dumps(output.data, ensure_ascii=False, separators=(",", ":"), default=str)
        content = [types.TextContent(type="text", text=text)]
    if not output.structured:
        return types.CallToolResult(content=content)
    data = json.loads(json.dumps(output.data, default=str))
    return types.CallToolResult(content=content, structured_content=data)


class Toolbox:
    """The tools an MCP server offers under its options."""

    def __init__(self, specs: Iterable[ToolSpec], options: McpOptions) -> None:
        self.options = options
        self.all = {spec.name: spec for spec in specs}
        self.offered = {n: s for n, s in self.all.items() if s.offered(options)}
        self.described = [spec.describe() for spec in self.offered.values()]  # once

    def list(self) -> list[types.Tool]:
        return self.described

    def input_schema(self, name: str) -> dict[str, Any] | None:
        found = next((tool for tool in self.described if tool.name == name), None)
        return None if found is None else dict(found.input_schema)

    async def call(
        self, name: str, arguments: dict[str, Any], call: Call, *, client: str | None = None
    ) -> types.CallToolResult:
        spec = self.offered.get(name)
        asked = requested_ids(arguments)
        if spec is None:
            known = self.all.get(name)
            if known is None:
                raise MCPError(types.INVALID_PARAMS, f"unknown tool {clip(name, 64)!r}")
            await self.record(call, name, "not_offered", asked, client)
            flags = " and ".join(_FLAGS[need] for need in sorted(known.needs))
            raise MCPError(
                types.INVALID_PARAMS, f"tool {name!r} is off: this server runs without {flags}"
            )
        subjects: Sequence[str] = ()
        try:
            params = spec.params.model_validate(arguments)
        except ValidationError as exc:
            result, outcome = _error("invalid_request", _invalid(exc), 400), "invalid_request"
        else:
            result, outcome, subjects = await self._run(spec, call, params)
        await self.record(call, name, outcome, subjects or asked, client)
        return result

    async def _run(
        self, spec: ToolSpec, call: Call, params: BaseModel
    ) -> tuple[types.CallToolResult, str, Sequence[str]]:
        try:
            output = await spec.run(call, params)
        except ArtifactStoreError as exc:
            return _error(exc.code, str(exc), exc.status_code), exc.code, ()
        except Exception:
            logger.exception("MCP tool %s failed", spec.name)
            return (
                _error("internal_error", "the tool failed; see the server's log", 500),
                ("internal_error"),
                (),
            )
        result = _result(output)
        size = len(result.model_dump_json(by_alias=True, exclude_none=True).encode())
        limit = self.options.result_limit
        if size > limit:
            message = (
                f"the result would be {size} bytes, above this server's limit of {limit}: "
                "ask for less (a smaller limit, or a presigned URL for content)"
            )
            return _error("too_large", message, 413), "too_large", output.subjects
        return result, "ok", output.subjects

    async def record(
        self, call: Call, tool: str, outcome: str, subjects: Sequence[str], client: str | None
    ) -> None:
        try:
            await call.store.record_tool_call(
                tool,
                principal=call.actor.name or None,
                outcome=outcome,
                subjects=list(subjects)[:20],
                client="".join(ch for ch in client if ch.isprintable())[:200] if client else None,
                **call.actor.ids(),
            )
        except Exception:  # the call itself is done; a lost audit line is logged, not raised
            logger.exception("could not record the MCP call of %s", tool)
