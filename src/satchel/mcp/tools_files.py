"""Tools that move files between the store and the directories the server was started with
(``--allow-dir``), like the filesystem server's roots: the bytes never pass through the model."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from satchel.core.errors import AccessDeniedError, InvalidRequestError
from satchel.core.mime import guess_mime
from satchel.core.requests import StreamDownloadRequest, StreamUploadRequest
from satchel.core.validation import check_relative_path
from satchel.mcp.content import item
from satchel.mcp.registry import DIRS, WRITE, Call, Output, ToolSpec
from satchel.mcp.roots import Roots, fd_chunks, os_error
from satchel.mcp.tools_read import Args, ArtifactArgs, artifact_id
from satchel.mcp.tools_write import Placement, scope_of, session_of

__all__ = ["FILE_TOOLS"]

PATH = "absolute, or relative to the first allowed directory"
MAX_PACKAGE_FILES = 10_000


class ImportArgs(Placement):
    path: str = Field(description="the file to store: " + PATH)
    filename: str | None = Field(None, description="default: the file's name")
    mime: str | None = Field(None, description="default: from the filename")


async def _import(call: Call, args: ImportArgs) -> Output:
    roots = call.options.roots_for(call.actor)
    fd, path, size = await asyncio.to_thread(roots.open_file, args.path)
    name = args.filename or path.name
    request = StreamUploadRequest(
        data_stream=fd_chunks(fd),
        mime=args.mime or guess_mime(name),
        summary=args.summary,
        filename=name,
        meta=args.meta,
        session_id=session_of(call, args),
        user_id=call.actor.user_id,
        scope=scope_of(call, args),
        ttl=None if args.ttl == "none" else args.ttl,
        content_length=size,
    )
    try:
        ident = await call.store.stream_upload(request)
    finally:
        os.close(fd)
    meta = await call.store.metadata(ident, **call.actor.ids())
    return Output({**item(meta), "sha256": meta.sha256, "path": str(path)}, subjects=[ident])


class ExportArgs(ArtifactArgs):
    path: str = Field(description="where to write it: " + PATH + "; a directory keeps the name")
    overwrite: bool = Field(
        False, description="replace a file already there (needs a server that allows writes)"
    )


def _target(roots: Roots, raw: str, name: str) -> Path:
    path = roots.resolve(raw)
    try:
        if path.is_dir():
            leaf = name.replace("\\", "/").rsplit("/", 1)[-1]
            if leaf in ("", ".", "..") or "\x00" in leaf:
                raise InvalidRequestError("name the file to write: the artifact's name is not one")
            path = roots.resolve(str(path / leaf))
        if not path.parent.is_dir():
            raise InvalidRequestError(f"{path.parent} is not a directory")
    except OSError as exc:
        raise os_error(exc, raw) from None
    return path


async def _export(call: Call, args: ExportArgs) -> Output:
    if args.overwrite and not call.options.allow_write:
        raise AccessDeniedError("overwrite replaces a file: this server runs without --allow-write")
    ident = artifact_id(args.artifact_id)
    meta = await call.store.metadata(ident, **call.actor.ids())
    roots = call.options.roots_for(call.actor)
    target = await asyncio.to_thread(_target, roots, args.path, meta.filename or ident)
    request = StreamDownloadRequest(artifact_id=ident, chunk_size=1 << 20, **call.actor.ids())
    async with roots.new_file(target, overwrite=args.overwrite) as fd:
        async for chunk in call.store.stream_download(request):
            await asyncio.to_thread(_write_all, fd, chunk)
    data = {"artifact_id": ident, "path": str(target), "bytes": meta.bytes, "sha256": meta.sha256}
    return Output(data, subjects=[ident])


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class PushArgs(Args):
    path: str = Field(description="the directory to push: " + PATH)
    producer: str = Field(description="who made it")
    subject: str = Field(description="what it is about")
    retention_class: str = Field(description="e.g. raw-evidence (see the retention classes)")
    name: str | None = Field(None, description="default: the directory's name")
    version: str | None = Field(None, description="written once")
    scope: Literal["user", "sandbox"] | None = Field(
        None, description="user (yours) or sandbox (published); default: the user's"
    )
    metadata: dict[str, Any] | None = Field(None, max_length=1000)


async def _push(call: Call, args: PushArgs) -> Output:
    roots = call.options.roots_for(call.actor)
    root = await asyncio.to_thread(roots.resolve, args.path)
    files = await asyncio.to_thread(lambda: list(roots.walk(args.path)))
    if len(files) > MAX_PACKAGE_FILES:
        raise InvalidRequestError(f"a package pushed here holds {MAX_PACKAGE_FILES} files at most")
    await asyncio.to_thread(_check_all, roots, files)  # before a package is made
    user = call.actor.user_id
    store = call.store
    package_id = await store.create_package(
        args.name or root.name,
        args.producer,
        args.subject,
        args.retention_class,
        call.actor.name or None,
        args.metadata,
        version=args.version,
        scope=args.scope or ("user" if user is not None else "sandbox"),
        user_id=user,
    )
    total = 0
    for relative, path in files:
        fd, _, size = await asyncio.to_thread(roots.open_file, path)
        try:
            chunks = fd_chunks(fd)
            await store.ingest_file(
                package_id, relative, guess_mime(relative), chunks, user_id=user
            )
        finally:
            os.close(fd)
        total += size
    address = await store.finalize_package(package_id, user_id=user)
    data = {
        "package_id": package_id,
        "manifest_address": address,
        "files": len(files),
        "bytes": total,
    }
    return Output(data, subjects=[package_id])


def _check_all(roots: Roots, files: list[tuple[str, str]]) -> None:
    """Every file has a name a package takes, and is a regular file inside the allowed
    directories (each opened and closed): nothing is made of a directory that cannot be
    pushed whole."""
    for relative, path in files:
        check_relative_path(relative)
        os.close(roots.open_file(path)[0])


FILE_TOOLS = [
    ToolSpec(
        "import_file",
        "Import a file",
        "Store a file from a directory this server may read (its bytes never pass through the "
        "conversation). Returns the new artifact.",
        ImportArgs,
        _import,
        needs=frozenset({WRITE, DIRS}),
        read_only=False,
        idempotent=False,
    ),
    ToolSpec(
        "export_file",
        "Export a file",
        "Write an artifact's content to a file in a directory this server may write (a new "
        "file unless overwrite).",
        ExportArgs,
        _export,
        needs=frozenset({DIRS}),
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        "push_package",
        "Push a package",
        "Make a package of a directory this server may read and finalize it: an immutable "
        "manifest of its files with sha256 digests.",
        PushArgs,
        _push,
        needs=frozenset({WRITE, DIRS}),
        read_only=False,
        idempotent=False,
    ),
]
