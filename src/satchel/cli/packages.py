"""Package commands of the ``satchel`` CLI: push, pull, manifest, packages. Like every command
they work on the embedded store or, with ``--url``, a server (retention, holds, gc and schemas
are in :mod:`satchel.cli.retention`)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    fail,
    meta_option,
    open_store,
    print_json,
    progress_bar,
    replacing,
    stderr,
    stdout,
)
from satchel.core.errors import InvalidRequestError, PackageFinalizedError
from satchel.core.validation import check_relative_path

if TYPE_CHECKING:
    from satchel.core.api import ArtifactStoreAPI

__all__ = ["register"]

_CHUNK = 1024 * 1024

packages_app = typer.Typer(
    rich_markup_mode=None, help="Packages: list, show, delete.", no_args_is_help=True
)


# -- files of a directory ----------------------------------------------------------------------


def _tree(root: Path) -> dict[str, Path]:
    """The regular files under *root* by relative path (``/``-separated, checked as the store
    checks it); symlinked directories are not followed."""
    found: dict[str, Path] = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            try:
                found[check_relative_path(relative)] = path
            except InvalidRequestError as exc:
                raise fail(f"{relative!r} cannot be a package path: {exc.message}", 2) from None
    return dict(sorted(found.items()))


def _digests(files: dict[str, Path], label: str) -> dict[str, tuple[str, int]]:
    """The sha256 and size of every file, with one bar over all of them (the hashing pass)."""
    from satchel.client.localfiles import file_sha256

    total = sum(path.stat().st_size for path in files.values())
    found: dict[str, tuple[str, int]] = {}
    with progress_bar(f"hash {label}", total) as report:
        hashed = 0

        def advance(done: int, _size: int | None) -> None:
            report(hashed + done, total)

        for relative, path in files.items():
            found[relative] = file_sha256(path, advance)
            hashed += found[relative][1]
    return found


async def _file_chunks(path: Path, advance: Callable[[int], None]) -> AsyncIterator[bytes]:
    import asyncio  # (here: the CLI starts without it)

    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, _CHUNK):
            advance(len(chunk))
            yield chunk
    finally:
        handle.close()


async def _upload_all(
    store: ArtifactStoreAPI,
    package_id: str,
    todo: list[tuple[str, Path, str]],
    *,
    parallel: int,
    advance: Callable[[int], None],
    actor: str | None,
    user_id: str | None,
) -> None:
    import asyncio

    gate = asyncio.Semaphore(parallel)

    async def one(relative: str, path: Path, digest: str) -> None:
        async with gate:
            await store.ingest_file(
                package_id,
                relative,
                None,
                _file_chunks(path, advance),
                actor,
                sha256=digest,
                user_id=user_id,
            )

    await asyncio.gather(*(one(*item) for item in todo))


def _resumable(store: Any, wanted: dict[str, Any], user: str | None) -> str | None:
    """My open package of the same push (name, producer, subject, retention class, scope,
    metadata and schema): a push without a version that stopped half-way resumes into it."""
    page = store.list_packages(
        name=wanted["name"],
        producer=wanted["producer"],
        subject=wanted["subject"],
        state="open",
        mine=True,
        user_id=user,
    )
    for item in page["items"]:
        schema = wanted["schema"]
        same_schema = (item["schema"] or None) == schema or (
            schema is not None
            and "@" not in schema
            and (item["schema"] or "").startswith(f"{schema}@")
        )
        if (
            same_schema
            and item["retention_class"] == wanted["retention_class"]
            and item["scope"] == wanted["scope"]
            and item["metadata"] == wanted["metadata"]
        ):
            return str(item["package_id"])
    return None


# -- push, pull, manifest ------------------------------------------------------------------------


def push(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, readable=True)],
    producer: str = typer.Option(..., "--producer", help="who made it (e.g. guide-board)"),
    subject: str = typer.Option(..., "--subject", help="what it is about"),
    retention_class: str = typer.Option(..., "--retention-class", help="e.g. raw-evidence"),
    name: str = typer.Option(None, "--name", help="package name (default: the directory's)"),
    version: str = typer.Option(None, "--version", help="written once: a re-push is a no-op"),
    schema: str = typer.Option(None, "--schema", help="metadata schema slug[@version]"),
    metadata: str = typer.Option(None, "--metadata", help="package metadata, a JSON object"),
    scope: str = typer.Option("sandbox", "--scope", help="sandbox (published) | user"),
    actor: str = typer.Option(None, "--actor", help="recorded in the package's history"),
    parallel: int = typer.Option(4, "--parallel", min=1, max=32, help="files sent at once"),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Push DIRECTORY as a package and finalize it; print its id and manifest address.

    Files already in the package (a push that stopped half-way: same name, producer and subject,
    or the same --version) are not sent again.
    """
    meta = meta_option(metadata) or {}
    files = _tree(directory)
    label = name or directory.resolve().name
    digests = _digests(files, label)
    with open_store(url, token) as store:
        wanted = {
            "name": label,
            "producer": producer,
            "subject": subject,
            "retention_class": retention_class,
            "scope": scope,
            "metadata": meta,
            "schema": schema,
        }
        package_id = None if version is not None else _resumable(store, wanted, user)
        if package_id is None:
            package_id = store.create_package(
                label,
                producer,
                subject,
                retention_class,
                actor,
                meta,
                version=version,
                schema=schema,
                scope=scope,
                user_id=user,
            )
        there = {f["relative_path"]: f["sha256"] for f in store.list_package_files(package_id)}
        package = store.get_package(package_id, user_id=user)
        if package["state"] == "finalized" and set(there) != set(files):
            raise fail(
                f"{label}@{version} is finalized with other files (package {package_id}); "
                "a name and version are written once",
                1,
            )
        extra = sorted(set(there) - set(files))
        if extra:  # the open package has files this directory lacks
            raise fail(
                f"the open package {package_id} holds files {directory} lacks "
                f"({', '.join(extra[:5])}{'…' if len(extra) > 5 else ''}); delete it with "
                f"`satchel packages rm {package_id}` or push under another name",
                1,
            )
        todo = [(r, files[r], digests[r][0]) for r in files if there.get(r) != digests[r][0]]
        total = sum(digests[r][1] for r, _, _ in todo)
        with progress_bar(f"push {label}", total) as report:
            done = [0]

            def advance(count: int) -> None:
                done[0] += count
                report(done[0], total)

            store.call(
                _upload_all,
                store.wrapped,
                package_id,
                todo,
                parallel=parallel,
                advance=advance,
                actor=actor,
                user_id=user,
            )
        try:
            address = store.finalize_package(package_id, actor, user_id=user)
        except PackageFinalizedError as exc:
            raise fail(f"{exc.code}: {exc.message}") from None
    result = {
        "package_id": package_id,
        "manifest_address": address,
        "files": len(files),
        "sent": len(todo),
        "bytes_sent": total,
    }
    if as_json:
        print_json(result)
        return
    typer.echo(f"package {package_id}")
    typer.echo(f"manifest {address}")
    stderr.print(f"{len(todo)} of {len(files)} files sent ({total} bytes)", highlight=False)


def _inside(root: Path, relative: str) -> Path:
    """Where *relative* goes under *root*; refuses anything that would land outside it."""
    target = (root / check_relative_path(relative)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise fail(f"{relative!r} would be written outside {root}", 1)
    return target


def pull(
    package_id: str = typer.Argument(...),
    directory: Annotated[Path, typer.Argument(file_okay=False)] = Path("."),
    force: bool = typer.Option(False, "--force", "-f", help="overwrite files that differ"),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Download a package's files into DIRECTORY, checking every sha256.

    For a finalized package the files must also be exactly the ones its manifest lists. A file
    already there with the same content is kept; one that differs is left alone (and named,
    exit status 1) unless --force.
    """
    refused: list[str] = []
    from satchel.client.localfiles import file_sha256

    with open_store(url, token) as store:
        files = store.list_package_files(package_id, user_id=user)
        package = store.get_package(package_id, user_id=user)
        if package["state"] == "finalized":
            body = store.get_manifest_bytes(package_id, "json", user_id=user)
            if "sha256:" + hashlib.sha256(body).hexdigest() != package["manifest_address"]:
                raise fail("the manifest does not match its address", 1)
            listed = {(f["relative_path"], f["sha256"]) for f in json.loads(body)["files"]}
            if listed != {(f["relative_path"], f["sha256"]) for f in files}:
                raise fail("the package's files differ from its manifest", 1)
        total = sum(f["size"] for f in files)
        fetched = 0
        with progress_bar(f"pull {package['name']}", total) as report:
            for entry in files:
                target = _inside(directory, entry["relative_path"])
                if target.is_file() and file_sha256(target)[0] == entry["sha256"]:
                    fetched += entry["size"]
                    report(fetched, total)
                    continue
                if target.exists() and not force:
                    refused.append(entry["relative_path"])
                    stderr.print(f"error: {target} exists and differs (--force overwrites it)")
                    continue
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise fail(f"cannot write {entry['relative_path']!r}: {exc}", 1) from None
                hasher = hashlib.sha256()
                content = store.open_package_file(package_id, entry["relative_path"], user_id=user)
                with content, replacing(target) as out:
                    for chunk in content:
                        hasher.update(chunk)
                        out.write(chunk)
                        fetched += len(chunk)
                        report(fetched, total)
                    if f"sha256:{hasher.hexdigest()}" != entry["sha256"]:
                        raise fail(f"{entry['relative_path']}: the bytes received hash otherwise")
    if refused:
        raise fail(f"{len(refused)} of {len(files)} files not written")
    if as_json:
        print_json({"package_id": package_id, "files": len(files), "bytes": total})
    else:
        typer.echo(f"{len(files)} files, {total} bytes, every sha256 checked: {directory}")


def manifest(
    package_id: str = typer.Argument(...),
    format: str = typer.Option("json", "--format", help="json (canonical) | cbor"),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write to a file")] = None,
    force: bool = typer.Option(False, "--force", "-f", help="overwrite an existing file"),
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Print a finalized package's manifest, byte for byte.

    The sha256 of the JSON form is the manifest's address.
    """
    if format not in ("json", "cbor"):
        raise fail("--format is json or cbor", 2)
    with open_store(url, token) as store:
        body: bytes = store.get_manifest_bytes(package_id, format, user_id=user)
    if output is not None:
        if output.exists() and not force:
            raise fail(f"{output} exists (--force overwrites it)")
        with replacing(output) as handle:
            handle.write(body)
        typer.echo(str(output))
        return
    if format == "cbor" and sys.stdout.isatty():
        raise fail("CBOR is binary: use -o FILE or a pipe", 2)
    sys.stdout.buffer.write(body + (b"\n" if format == "json" else b""))
    sys.stdout.buffer.flush()


# -- packages ----------------------------------------------------------------------------------


@packages_app.command("ls")
def packages_ls(
    name: str = typer.Option(None, "--name"),
    producer: str = typer.Option(None, "--producer"),
    subject: str = typer.Option(None, "--subject"),
    state: str = typer.Option(None, "--state", help="open | finalized"),
    mine: bool = typer.Option(False, "--mine", help="only my own packages"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    cursor: str = typer.Option(None, "--cursor"),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """List packages, newest first."""
    with open_store(url, token) as store:
        page: dict[str, Any] = store.list_packages(
            name=name,
            producer=producer,
            subject=subject,
            state=state,
            mine=mine,
            limit=limit,
            cursor=cursor,
            user_id=user,
        )
    if as_json:
        print_json(page)
        return
    if not page["items"]:
        stderr.print("no packages")
    for item in page["items"]:
        version = f"@{item['version']}" if item["version"] else ""
        stdout.print(
            f"{item['package_id']}  {item['name']}{version}  {item['state']}  "
            f"{item['producer']}/{item['subject']}  {item['retention_class']}  "
            f"{item['file_count']} files  {item['total_bytes']} bytes",
            highlight=False,
        )
    if page["next_cursor"]:
        stderr.print(f"more: --cursor {page['next_cursor']}", highlight=False)


@packages_app.command("show")
def packages_show(
    package_id: str = typer.Argument(...),
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """A package's attributes, retention and holds (JSON)."""
    with open_store(url, token) as store:
        print_json(store.get_package(package_id, user_id=user))


@packages_app.command("rm")
def packages_rm(
    package_id: str = typer.Argument(...),
    bypass_governance: bool = typer.Option(False, "--bypass-governance", help="admins only"),
    reason: str = typer.Option(None, "--reason", help="why (required with a bypass)"),
    actor: str = typer.Option(None, "--actor"),
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete a package (refused while held or retained)."""
    with open_store(url, token) as store:
        store.delete_package(
            package_id,
            bypass_governance=bypass_governance,
            reason=reason,
            actor=actor,
            user_id=user,
        )
    if as_json:
        print_json({"package_id": package_id, "deleted": True})
    else:
        typer.echo(f"deleted {package_id}")


def register(app: typer.Typer) -> None:
    """Add the package commands to the ``satchel`` app."""
    for command in (push, pull, manifest):
        app.command()(command)
    app.add_typer(packages_app, name="packages")
