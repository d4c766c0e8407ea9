"""Package commands of the ``satchel`` CLI: push, pull, manifest, packages, retention, hold, gc,
schemas. Like every command they work on the embedded store or, with ``--url``, a server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from satchel.cli.commands import (
    JSON_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    _fail,
    _meta_option,
    _print_json,
    _progress,
    _store,
    stderr,
    stdout,
)
from satchel.core.api import ArtifactStoreAPI
from satchel.core.errors import InvalidRequestError, PackageFinalizedError
from satchel.core.validation import check_relative_path

__all__ = ["register"]

_CHUNK = 1024 * 1024

packages_app = typer.Typer(help="Packages: list, show, delete.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention: classes, sweep, set, history.", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: apply, release, list.", no_args_is_help=True)
schemas_app = typer.Typer(help="Metadata schemas (JSON Schema).", no_args_is_help=True)

KIND_OPTION = typer.Option("package", "--kind", help="package | artifact")


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
                raise _fail(f"{relative!r} cannot be a package path: {exc.message}", 2) from None
    return dict(sorted(found.items()))


def _digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return f"sha256:{hasher.hexdigest()}", size


async def _file_chunks(path: Path, advance: Callable[[int], None]) -> AsyncIterator[bytes]:
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
    meta = _meta_option(metadata) or {}
    files = _tree(directory)
    label = name or directory.resolve().name
    digests = {relative: _digest(path) for relative, path in files.items()}
    with _store(url, token) as store:
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
            raise _fail(
                f"{label}@{version} is finalized with other files (package {package_id}); "
                "a name and version are written once",
                1,
            )
        extra = sorted(set(there) - set(files))
        if extra:  # the open package has files this directory lacks
            raise _fail(
                f"the open package {package_id} holds files {directory} lacks "
                f"({', '.join(extra[:5])}{'…' if len(extra) > 5 else ''}); delete it with "
                f"`satchel packages rm {package_id}` or push under another name",
                1,
            )
        todo = [(r, files[r], digests[r][0]) for r in files if there.get(r) != digests[r][0]]
        total = sum(digests[r][1] for r, _, _ in todo)
        with _progress(f"push {label}", total) as report:
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
            raise _fail(f"{exc.code}: {exc.message}") from None
    result = {
        "package_id": package_id,
        "manifest_address": address,
        "files": len(files),
        "sent": len(todo),
        "bytes_sent": total,
    }
    if as_json:
        _print_json(result)
        return
    typer.echo(f"package {package_id}")
    typer.echo(f"manifest {address}")
    stderr.print(f"{len(todo)} of {len(files)} files sent ({total} bytes)", highlight=False)


def _inside(root: Path, relative: str) -> Path:
    """Where *relative* goes under *root*; refuses anything that would land outside it."""
    target = (root / check_relative_path(relative)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise _fail(f"{relative!r} would be written outside {root}", 1)
    return target


def pull(
    package_id: str = typer.Argument(...),
    directory: Annotated[Path, typer.Argument(file_okay=False)] = Path("."),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Download a package's files into DIRECTORY, checking every sha256 (and, for a finalized
    package, that the files are the ones its manifest lists)."""
    with _store(url, token) as store:
        files = store.list_package_files(package_id, user_id=user)
        package = store.get_package(package_id, user_id=user)
        if package["state"] == "finalized":
            body = store.get_manifest_bytes(package_id, "json", user_id=user)
            if "sha256:" + hashlib.sha256(body).hexdigest() != package["manifest_address"]:
                raise _fail("the manifest does not match its address", 1)
            listed = {(f["relative_path"], f["sha256"]) for f in json.loads(body)["files"]}
            if listed != {(f["relative_path"], f["sha256"]) for f in files}:
                raise _fail("the package's files differ from its manifest", 1)
        total = sum(f["size"] for f in files)
        fetched = 0
        with _progress(f"pull {package['name']}", total) as report:
            for entry in files:
                target = _inside(directory, entry["relative_path"])
                if target.is_file() and _digest(target)[0] == entry["sha256"]:
                    fetched += entry["size"]
                    report(fetched, total)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(target.name + ".satchel-part")
                hasher = hashlib.sha256()
                content = store.open_package_file(package_id, entry["relative_path"], user_id=user)
                with content, partial.open("wb") as out:
                    for chunk in content:
                        hasher.update(chunk)
                        out.write(chunk)
                        fetched += len(chunk)
                        report(fetched, total)
                if f"sha256:{hasher.hexdigest()}" != entry["sha256"]:
                    partial.unlink()
                    raise _fail(f"{entry['relative_path']}: the bytes received hash otherwise", 1)
                partial.replace(target)
    if as_json:
        _print_json({"package_id": package_id, "files": len(files), "bytes": total})
    else:
        typer.echo(f"{len(files)} files, {total} bytes, every sha256 checked: {directory}")


def manifest(
    package_id: str = typer.Argument(...),
    format: str = typer.Option("json", "--format", help="json (canonical) | cbor"),
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write to a file")] = None,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Print a finalized package's manifest (its exact bytes: the sha256 of the JSON is its
    address)."""
    if format not in ("json", "cbor"):
        raise _fail("--format is json or cbor", 2)
    with _store(url, token) as store:
        body: bytes = store.get_manifest_bytes(package_id, format, user_id=user)
    if output is not None:
        output.write_bytes(body)
        typer.echo(str(output))
        return
    if format == "cbor" and sys.stdout.isatty():
        raise _fail("CBOR is binary: use -o FILE or a pipe", 2)
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
    with _store(url, token) as store:
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
        _print_json(page)
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
    with _store(url, token) as store:
        _print_json(store.get_package(package_id, user_id=user))


@packages_app.command("rm")
def packages_rm(
    package_id: str = typer.Argument(...),
    bypass_governance: bool = typer.Option(False, "--bypass-governance", help="admins only"),
    reason: str = typer.Option(None, "--reason", help="why (required with a bypass)"),
    actor: str = typer.Option(None, "--actor"),
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Delete a package (refused while held or retained)."""
    with _store(url, token) as store:
        store.delete_package(
            package_id,
            bypass_governance=bypass_governance,
            reason=reason,
            actor=actor,
            user_id=user,
        )
    typer.echo(f"deleted {package_id}")


# -- retention, holds, gc --------------------------------------------------------------------


@retention_app.command("classes")
def retention_classes(
    as_json: bool = JSON_OPTION, url: str = URL_OPTION, token: str = TOKEN_OPTION
) -> None:
    """The configured retention classes."""
    with _store(url, token) as store:
        classes: list[dict[str, Any]] = store.retention_classes()
    if as_json:
        _print_json(classes)
        return
    for item in classes:
        seconds = item["duration_seconds"]
        kept = "forever" if seconds is None else f"{seconds} s"
        keep = f"  keep_last {item['keep_last']}" if item["keep_last"] else ""
        typer.echo(f"{item['name']}  {kept}  {item['mode']}{keep}")


@retention_app.command("sweep")
def retention_sweep(
    dry_run: bool = typer.Option(False, "--dry-run", help="report, record nothing"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Record which finalized packages may be deleted, and the rule that decided each."""
    with _store(url, token) as store:
        report: dict[str, Any] = store.sweep_retention(dry_run=dry_run)
    if as_json:
        _print_json(report)
        return
    for item in report["eligible"]:
        typer.echo(f"eligible  {item['package_id']}  {item['rule']}")
    verb = "would be" if dry_run else "are"
    typer.echo(
        f"checked {report['checked']}: {len(report['eligible'])} {verb} eligible, "
        f"{report['kept']} kept"
    )


@retention_app.command("set")
def retention_set(
    target_id: str = typer.Argument(...),
    until: str = typer.Argument(..., help="ISO 8601 time, epoch seconds, or 'forever'"),
    kind: str = KIND_OPTION,
    bypass_governance: bool = typer.Option(False, "--bypass-governance"),
    reason: str = typer.Option(None, "--reason"),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Extend (or, governance mode, shorten as an admin) an item's retention."""
    value: float | str | None = None if until == "forever" else until
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        value = float(value)
    with _store(url, token) as store:
        result = store.set_retention(
            target_id,
            value,
            kind=kind,
            bypass_governance=bypass_governance,
            reason=reason,
            user_id=user,
        )
    if as_json:
        _print_json(result)
    else:
        typer.echo(f"{target_id} retained until {result['retain_until'] or 'forever'}")


@retention_app.command("history")
def retention_history(
    target_id: str = typer.Argument(...),
    kind: str = KIND_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Who changed what about an item's lifecycle, when and why."""
    with _store(url, token) as store:
        events: list[dict[str, Any]] = store.retention_history(target_id, kind=kind, user_id=user)
    if as_json:
        _print_json(events)
        return
    for event in events:
        payload = json.dumps(event["payload"], separators=(",", ":"), default=str)
        typer.echo(f"{event['seq']}  {event['type']}  {event['actor'] or '-'}  {payload}")


@hold_app.command("apply")
def hold_apply(
    target_id: str = typer.Argument(...),
    name: str = typer.Argument(..., help="the hold's name (e.g. a case number)"),
    reason: str = typer.Option(..., "--reason"),
    kind: str = KIND_OPTION,
    actor: str = typer.Option(None, "--actor"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Put a legal hold on a package or artifact (admins)."""
    with _store(url, token) as store:
        hold = store.apply_hold(target_id, name, reason, kind=kind, actor=actor)
    if as_json:
        _print_json(hold)
    else:
        typer.echo(hold["hold_id"])


@hold_app.command("release")
def hold_release(
    hold_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason"),
    actor: str = typer.Option(None, "--actor"),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Release a legal hold (admins)."""
    with _store(url, token) as store:
        store.release_hold(hold_id, reason, actor=actor)
    typer.echo(f"released {hold_id}")


@hold_app.command("ls")
def hold_ls(
    target_id: str = typer.Argument(...),
    kind: str = KIND_OPTION,
    include_released: bool = typer.Option(False, "--all", help="released holds too"),
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """The holds on a package or artifact."""
    with _store(url, token) as store:
        holds: list[dict[str, Any]] = store.list_holds(
            target_id, kind=kind, include_released=include_released, user_id=user
        )
    if as_json:
        _print_json(holds)
        return
    for hold in holds:
        state = "released" if hold["released_at"] else "in force"
        typer.echo(f"{hold['hold_id']}  {hold['name']}  {state}  {hold['reason']}")


def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="report, delete nothing"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Delete eligible and abandoned packages, then bytes nothing references (after the grace
    period); report the bytes freed."""
    with _store(url, token) as store:
        report: dict[str, Any] = store.gc(dry_run=dry_run)
    if as_json:
        _print_json(report)
        return
    verb = "would delete" if dry_run else "deleted"
    for item in report["packages_deleted"]:
        typer.echo(f"{verb}  {item['package_id']}  {item['rule']}")
    for package_id in report["abandoned_deleted"]:
        typer.echo(f"{verb}  {package_id}  abandoned open package")
    typer.echo(f"blobs removed: {report['blobs_removed']}; bytes freed: {report['bytes_freed']}")


# -- schemas -----------------------------------------------------------------------------------


@schemas_app.command("register")
def schemas_register(
    slug: str = typer.Argument(..., help="e.g. guide-board.run.v1"),
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)] = ...,  # type: ignore[assignment]
    version: int = typer.Option(None, "--version", min=1),
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Register the JSON Schema in FILE under SLUG (admins)."""
    try:
        document = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise _fail(f"{file}: {exc}", 2) from None
    with _store(url, token) as store:
        result = store.register_schema(slug, document, version=version)
    typer.echo(f"{result['slug']}@{result['version']}")


@schemas_app.command("ls")
def schemas_ls(
    as_json: bool = JSON_OPTION, url: str = URL_OPTION, token: str = TOKEN_OPTION
) -> None:
    """Registered metadata schemas."""
    with _store(url, token) as store:
        schemas: list[dict[str, Any]] = store.list_schemas()
    if as_json:
        _print_json(schemas)
        return
    for item in schemas:
        typer.echo(f"{item['slug']}@{item['version']}")


def register(app: typer.Typer) -> None:
    """Add the package commands to the ``satchel`` app."""
    for command in (push, pull, manifest, gc):
        app.command()(command)
    app.add_typer(packages_app, name="packages")
    app.add_typer(retention_app, name="retention")
    app.add_typer(hold_app, name="hold")
    app.add_typer(schemas_app, name="schemas")
