"""Tools that move files between the store and the directories the server was started with
(``--allow-dir``), like the filesystem server's roots: the bytes never pass through the model."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

from pydantic import Field

from satchel.client.localfiles import file_chunks, file_sha256, fresh_file
from satchel.core.errors import ConflictError, InvalidRequestError
from satchel.core.mime import guess_mime
from satchel.core.requests import StreamDownloadRequest, StreamUploadRequest
from satchel.mcp.content import item
from satchel.mcp.registry import DIRS, WRITE, Call, Output, ToolSpec
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
    path = call.options.local_path(args.path)
    if not path.is_file():
        raise InvalidRequestError(f"{args.path} is not a regular file")
    name = args.filename or path.name
    size = path.stat().st_size
    ident = await call.store.stream_upload(
        StreamUploadRequest(
            data_stream=file_chunks(path),
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
    )
    meta = await call.store.metadata(ident, **call.actor.ids())
    return Output({**item(meta), "sha256": meta.sha256, "path": str(path)}, subjects=[ident])


class ExportArgs(ArtifactArgs):
    path: str = Field(description="where to write it: " + PATH + "; a directory keeps the name")
    overwrite: bool = Field(False, description="replace a file already there")


def _target(call: Call, raw: str, name: str) -> Path:
    path = call.options.local_path(raw)
    if path.is_dir():
        leaf = name.replace("\\", "/").rsplit("/", 1)[-1]
        if leaf in ("", ".", "..") or "\x00" in leaf:
            raise InvalidRequestError("name the file to write: the artifact's name is not one")
        path = call.options.local_path(str(path / leaf))
    if not path.parent.is_dir():
        raise InvalidRequestError(f"{path.parent} is not a directory")
    return path


async def _export(call: Call, args: ExportArgs) -> Output:
    ident = artifact_id(args.artifact_id)
    meta = await call.store.metadata(ident, **call.actor.ids())
    target = _target(call, args.path, meta.filename or ident)
    if target.exists() and not args.overwrite:
        raise ConflictError(f"{target} exists (pass overwrite to replace it)")
    fd, temp = await asyncio.to_thread(fresh_file, target)
    try:
        with os.fdopen(fd, "wb") as handle:
            chunks = call.store.stream_download(
                StreamDownloadRequest(artifact_id=ident, chunk_size=1 << 20, **call.actor.ids())
            )
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(os.fsync, handle.fileno())
        if args.overwrite:
            await asyncio.to_thread(os.replace, temp, target)
        else:  # link: never replaces a file that appeared meanwhile
            await asyncio.to_thread(os.link, temp, target)
    except FileExistsError:
        raise ConflictError(f"{target} exists (pass overwrite to replace it)") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    data = {"artifact_id": ident, "path": str(target), "bytes": meta.bytes, "sha256": meta.sha256}
    return Output(data, subjects=[ident])


class PushArgs(Args):
    path: str = Field(description="the directory to push: " + PATH)
    producer: str = Field(description="who made it")
    subject: str = Field(description="what it is about")
    retention_class: str = Field(description="e.g. raw-evidence (see the retention classes)")
    name: str | None = Field(None, description="default: the directory's name")
    version: str | None = Field(None, description="written once")
    scope: str = Field("sandbox", description="sandbox (published) or user")
    metadata: dict[str, Any] | None = None


def _tree(root: Path, call: Call) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in sorted(names):
            path = Path(dirpath) / name
            if path.is_symlink():  # a link may lead out of the allowed directories
                call.options.local_path(str(path))
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path
            if len(files) > MAX_PACKAGE_FILES:
                raise InvalidRequestError(
                    f"a package pushed here holds {MAX_PACKAGE_FILES} files at most"
                )
    return dict(sorted(files.items()))


async def _push(call: Call, args: PushArgs) -> Output:
    root = call.options.local_path(args.path)
    if not root.is_dir():
        raise InvalidRequestError(f"{args.path} is not a directory")
    files = await asyncio.to_thread(_tree, root, call)
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
        scope=args.scope,
        user_id=user,
    )
    total = 0
    for relative, path in files.items():
        digest, size = await asyncio.to_thread(file_sha256, path)
        await store.ingest_file(
            package_id,
            relative,
            guess_mime(relative),
            file_chunks(path),
            sha256=digest,
            user_id=user,
        )
        total += size
    address = await store.finalize_package(package_id, user_id=user)
    data = {
        "package_id": package_id,
        "manifest_address": address,
        "files": len(files),
        "bytes": total,
    }
    return Output(data, subjects=[package_id])


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
