"""Tools that store, change, copy, move (``--allow-write``) and delete (``--allow-delete``)."""

from __future__ import annotations

import base64
import binascii
import shlex
from typing import Any, Literal

from pydantic import Field

from satchel.core.errors import InvalidRequestError, TooLargeError
from satchel.core.mime import guess_mime
from satchel.core.scopes import DEFAULT_PRESIGN_EXPIRES
from satchel.core.unset import UNSET, Unset
from satchel.mcp.content import item
from satchel.mcp.registry import DELETE, WRITE, Call, Output, ToolSpec
from satchel.mcp.tools_read import Args, ArtifactArgs, artifact_id

__all__ = ["TTL", "WRITE_TOOLS", "Placement", "scope_of", "ttl_of"]

TTL = "seconds until it expires, or none to keep it (the default)"


class Placement(Args):
    """Where new content goes and how long it stays."""

    scope: Literal["session", "user", "sandbox"] | None = Field(
        None, description="default: the session's when acting in one, else the user's"
    )
    session_id: str | None = None
    summary: str = ""
    meta: dict[str, Any] | None = Field(
        None, max_length=1000, description="custom metadata (a JSON object)"
    )
    ttl: int | Literal["none"] = Field("none", description=TTL)


def scope_of(call: Call, args: Placement) -> str:
    return args.scope or call.actor.default_scope


def ttl_of(value: int | Literal["none"] | None) -> int | Unset | None:
    """A tool's ``ttl``: absent → unchanged, ``none`` → kept, else seconds."""
    if value is None:
        return UNSET
    return None if value == "none" else value


def session_of(call: Call, args: Placement) -> str | None:
    return args.session_id or call.actor.session_id


async def _described(call: Call, ident: str) -> Output:
    meta = await call.store.metadata(ident, **call.actor.ids())
    return Output({**item(meta), "sha256": meta.sha256}, subjects=[ident])


class WriteArgs(Placement):
    filename: str = Field(description="the artifact's name (may hold / like a path)")
    text: str | None = Field(None, description="the content as text (UTF-8)")
    base64: str | None = Field(None, description="the content as base64, for small binaries")
    mime: str | None = Field(None, description="default: from the filename")


async def _write(call: Call, args: WriteArgs) -> Output:
    if (args.text is None) == (args.base64 is None):
        raise InvalidRequestError("give the content as text or as base64 (one of them)")
    if args.text is not None:
        data = args.text.encode("utf-8")
    else:
        try:
            data = base64.b64decode(args.base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequestError(f"base64 is not valid base64: {exc}") from None
    limit = call.options.result_limit
    if len(data) > limit:
        raise TooLargeError(
            f"{len(data)} bytes is above what write_artifact takes ({limit}); upload bigger "
            "files with begin_upload (or import_file)"
        )
    ident = await call.store.store(
        data,
        mime=args.mime or guess_mime(args.filename),
        summary=args.summary,
        meta=args.meta,
        filename=args.filename,
        session_id=session_of(call, args),
        user_id=call.actor.user_id,
        ttl=ttl_of(args.ttl),
        scope=scope_of(call, args),
    )
    return await _described(call, ident)


class UpdateArgs(ArtifactArgs):
    meta: dict[str, Any] | None = Field(
        None, max_length=1000, description="custom metadata to merge (or replace)"
    )
    replace_meta: bool = Field(False, description="replace the custom metadata, not merge")
    summary: str | None = None
    filename: str | None = None
    mime: str | None = None
    ttl: int | Literal["none"] | None = Field(None, description="new expiry: " + TTL)
    extend: int | None = Field(None, ge=1, description="seconds to add to the expiry")


async def _update(call: Call, args: UpdateArgs) -> Output:
    ident = artifact_id(args.artifact_id)
    ids = call.actor.ids()
    await call.store.update_metadata(
        ident,
        summary=args.summary,
        meta=args.meta,
        merge=not args.replace_meta,
        filename=args.filename,
        mime=args.mime,
        ttl=ttl_of(args.ttl),
        **ids,
    )
    if args.extend is not None:
        await call.store.extend_ttl(ident, args.extend, **ids)
    return await _described(call, ident)


class CopyArgs(ArtifactArgs):
    new_filename: str | None = None
    target_session_id: str | None = None
    meta: dict[str, Any] | None = Field(
        None, max_length=1000, description="custom metadata of the copy"
    )
    summary: str | None = None


async def _copy(call: Call, args: CopyArgs) -> Output:
    new = await call.store.copy_file(
        artifact_id(args.artifact_id),
        new_filename=args.new_filename,
        target_session_id=args.target_session_id,
        new_meta=args.meta,
        summary=args.summary,
        **call.actor.ids(),
    )
    output = await _described(call, new)
    output.subjects.insert(0, artifact_id(args.artifact_id))
    return output


class MoveArgs(ArtifactArgs):
    new_filename: str | None = None
    new_session_id: str | None = None
    meta: dict[str, Any] | None = Field(None, max_length=1000, description="new custom metadata")


async def _move(call: Call, args: MoveArgs) -> Output:
    meta = await call.store.move_file(
        artifact_id(args.artifact_id),
        new_filename=args.new_filename,
        new_session_id=args.new_session_id,
        new_meta=args.meta,
        **call.actor.ids(),
    )
    return Output(item(meta), subjects=[meta.artifact_id])


class BeginArgs(Args):
    filename: str = Field(description="the artifact's name")
    mime: str | None = Field(None, description="default: from the filename")
    scope: Literal["session", "user", "sandbox"] | None = Field(
        None, description="default: the session's when acting in one, else the user's"
    )
    session_id: str | None = None
    expires: int = Field(DEFAULT_PRESIGN_EXPIRES, ge=1, description="seconds the URL works")


def _upload_name(filename: str) -> str:
    """The local file a begin_upload's curl line sends (never an option: - is stdin)."""
    leaf = filename.replace("\\", "/").rsplit("/", 1)[-1] or "FILE"
    return "./" + leaf if leaf.startswith("-") else leaf


async def _begin(call: Call, args: BeginArgs) -> Output:
    url, ident = await call.store.presign_upload(
        args.session_id or call.actor.session_id,
        args.filename,
        args.mime or guess_mime(args.filename),
        args.expires,
        user_id=call.actor.user_id,
        scope=args.scope or call.actor.default_scope,
    )
    data = {
        "artifact_id": ident,
        "upload_url": url.url,
        "method": "PUT",
        "expires_at": url.expires_at,
        "curl": f"curl -fsS -T {shlex.quote(_upload_name(args.filename))} " + shlex.quote(url.url),
        "next": "PUT the file's bytes to upload_url (the curl line), then call finish_upload "
        "with this artifact_id",
    }
    return Output(data, subjects=[ident])


class FinishArgs(Args):
    artifact_id: str = Field(description="the id begin_upload returned")
    filename: str | None = Field(None, description="default: the name given to begin_upload")
    mime: str | None = None
    summary: str = ""
    meta: dict[str, Any] | None = Field(
        None, max_length=1000, description="custom metadata (a JSON object)"
    )
    ttl: int | Literal["none"] = Field("none", description=TTL)


async def _finish(call: Call, args: FinishArgs) -> Output:
    ident = artifact_id(args.artifact_id)
    await call.store.register_uploaded_artifact(
        ident,
        mime=args.mime,
        summary=args.summary,
        meta=args.meta,
        filename=args.filename,
        ttl=ttl_of(args.ttl),
        **call.actor.ids(),
    )
    return await _described(call, ident)


async def _delete(call: Call, args: ArtifactArgs) -> Output:
    ident = artifact_id(args.artifact_id)
    deleted = await call.store.delete(ident, **call.actor.ids())
    return Output({"artifact_id": ident, "deleted": deleted}, subjects=[ident])


_W = frozenset({WRITE})

WRITE_TOOLS = [
    ToolSpec(
        "write_artifact",
        "Write an artifact",
        "Store small content given as text or base64 (at most the result limit; bigger files: "
        "begin_upload). Returns the new artifact.",
        WriteArgs,
        _write,
        needs=_W,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "update_artifact",
        "Update an artifact",
        "Change an artifact's custom metadata (merged unless replace_meta), summary, filename, "
        "MIME type or expiry.",
        UpdateArgs,
        _update,
        needs=_W,
        read_only=False,
        destructive=True,  # it replaces what was there
        idempotent=False,
    ),
    ToolSpec(
        "copy_artifact",
        "Copy an artifact",
        "A new artifact with the same content (stored once), optionally renamed, in another "
        "session, with new metadata.",
        CopyArgs,
        _copy,
        needs=_W,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "move_artifact",
        "Move an artifact",
        "Rename an artifact or move it to another session (its id stays).",
        MoveArgs,
        _move,
        needs=_W,
        read_only=False,
        destructive=True,  # it replaces what was there
        idempotent=False,
    ),
    ToolSpec(
        "begin_upload",
        "Begin an upload",
        "For files too big to pass through the conversation: a presigned URL the agent's "
        "environment PUTs the file to (curl -T FILE URL); then call finish_upload.",
        BeginArgs,
        _begin,
        needs=_W,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "finish_upload",
        "Finish an upload",
        "Register the file PUT to a begin_upload URL as an artifact; returns it with its sha256.",
        FinishArgs,
        _finish,
        needs=_W,
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "delete_artifact",
        "Delete an artifact",
        "Delete an artifact (refused while retention or a hold keeps it).",
        ArtifactArgs,
        _delete,
        needs=frozenset({DELETE}),
        read_only=False,
        destructive=True,
    ),
]
