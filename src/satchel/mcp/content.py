"""How an artifact comes back to a model: text inline, an image as image content, anything
larger (or binary) as a resource link and a presigned URL — never a truncated body."""

from __future__ import annotations

import base64
import json
import shlex
from typing import Any

import mcp_types as types

from satchel.core.models import ArtifactMetadata
from satchel.mcp.registry import Call, Output

__all__ = [
    "IMAGE_TYPES",
    "artifact_uri",
    "curl_get",
    "is_text",
    "item",
    "local_name",
    "read_output",
]

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""Images MCP clients show; others come back as links."""

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/javascript",
        "application/x-ndjson",
        "application/csv",
        "application/sql",
    }
)
_ENVELOPE = 4096
"""Room kept in a result for what surrounds the content."""


def artifact_uri(artifact_id: str) -> str:
    return f"satchel://artifact/{artifact_id}"


def is_text(mime: str) -> bool:
    base = mime.split(";", 1)[0].strip().lower()
    return (
        base.startswith("text/")
        or base in _TEXT_TYPES
        or base.endswith("+json")
        or base.endswith("+xml")
    )


def item(meta: ArtifactMetadata) -> dict[str, Any]:
    """An artifact as lists show it: what identifies and describes it, not its metadata."""
    return {
        "artifact_id": meta.artifact_id,
        "uri": artifact_uri(meta.artifact_id),
        "filename": meta.filename,
        "mime": meta.mime,
        "bytes": meta.bytes,
        "scope": meta.scope.value,
        "session_id": meta.session_id,
        "owner_id": meta.owner_id,
        "summary": meta.summary,
        "stored_at": meta.stored_at,
        "expires_at": meta.expires_at,
    }


def local_name(meta: ArtifactMetadata) -> str:
    """The file name a download takes: the last part of the filename, or the id when that
    could not be a file name."""
    leaf = (meta.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if leaf in ("", ".", "..") or "\x00" in leaf:
        return meta.artifact_id
    # never an option ("-" is stdout), never a hidden file (".bashrc")
    return "_" + leaf if leaf[0] in "-." else leaf


def curl_get(meta: ArtifactMetadata, url: str) -> str:
    """The shell line that downloads *url* to the artifact's name (quoted for the shell)."""
    return f"curl -fsS -o {shlex.quote(local_name(meta))} {shlex.quote(url)}"


def _decoded(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


async def link_output(call: Call, meta: ArtifactMetadata, reason: str, expires: int) -> Output:
    """A resource link, and a presigned URL the agent's environment can fetch."""
    url = await call.store.presign(meta.artifact_id, expires, **call.actor.ids())
    name = meta.filename or meta.artifact_id
    text = (
        f"{name} ({meta.bytes} bytes, {meta.mime}) is not returned inline: {reason}. "
        f"Fetch it outside the conversation: {curl_get(meta, url.url)} "
        f"(the URL works for {expires} seconds), or read {artifact_uri(meta.artifact_id)}."
    )
    link = types.ResourceLink(
        type="resource_link",
        uri=artifact_uri(meta.artifact_id),
        name=name,
        mime_type=meta.mime,
        size=meta.bytes,
        description=meta.summary or None,
    )
    data = {
        "artifact": item(meta),
        "sha256": meta.sha256,
        "inline": False,
        "reason": reason,
        "presigned_url": url.url,
        "expires_at": url.expires_at,
    }
    return Output(data, [link, types.TextContent(type="text", text=text)], [meta.artifact_id])


async def read_output(
    call: Call, meta: ArtifactMetadata, *, max_inline: int, expires: int
) -> Output:
    """The artifact inline when it fits (text up to *max_inline* bytes, images up to what a
    result holds), else as a link."""
    limit = call.options.result_limit - _ENVELOPE
    textual = is_text(meta.mime)
    image = meta.mime.split(";", 1)[0].strip().lower() in IMAGE_TYPES
    if textual and meta.bytes > max_inline:
        return await link_output(
            call, meta, f"text above the inline limit of {max_inline} bytes", expires
        )
    if image and (meta.bytes + 2) // 3 * 4 > limit:
        return await link_output(
            call, meta, f"an image above what a result holds ({limit} bytes)", expires
        )
    if not (textual or image):
        return await link_output(call, meta, f"{meta.mime} is not text or an image", expires)
    data = await call.store.retrieve(meta.artifact_id, **call.actor.ids())
    summary = {"artifact": item(meta), "sha256": meta.sha256, "inline": True}
    about = types.TextContent(type="text", text=json.dumps(summary, separators=(",", ":")))
    if image:
        encoded = base64.b64encode(data).decode("ascii")
        block: types.ContentBlock = types.ImageContent(
            type="image", data=encoded, mime_type=meta.mime
        )
        return Output(summary, [block, about], [meta.artifact_id], structured=False)
    body = _decoded(data)
    if body is None:
        return await link_output(call, meta, "its bytes are not UTF-8 text", expires)
    if len(json.dumps(body)) > limit:
        reason = f"escaped, it exceeds what a result holds ({limit} bytes)"
        return await link_output(call, meta, reason, expires)
    text = types.TextContent(type="text", text=body)
    return Output(summary, [text, about], [meta.artifact_id], structured=False)
