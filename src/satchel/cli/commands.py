"""Commands of the ``satchel`` CLI: put, get, ls, rm, cat, presign, health, migrate, keys, storage.

Each works on the embedded store (the local store of :class:`~satchel.config.Settings`: SQLite
catalog and files under ``SATCHEL_DATA_DIR``, default ``./var``) or, with ``--url`` /
``SATCHEL_URL`` (and ``--token`` / ``SATCHEL_TOKEN``), against a running ``satchel serve`` —
both through :func:`satchel.connect`. Transfers draw rich progress bars on stderr; ``--json``
prints machine-readable output on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from satchel.core.errors import ArtifactStoreError, InvalidRequestError
from satchel.core.unset import UNSET, Unset

if TYPE_CHECKING:  # the client and its models load when a command runs, not for --help
    from rich.table import Table

    from satchel.client.sync import SyncArtifactStore
    from satchel.core.apikeys import ApiKey
    from satchel.core.models import ArtifactMetadata

__all__ = ["keys_app", "register", "storage_app"]

stdout = Console() if sys.stdout.isatty() else Console(width=400)  # pipes: never truncate
stderr = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=400)

URL_OPTION = typer.Option(None, "--url", help="server URL (default SATCHEL_URL; none: embedded)")
TOKEN_OPTION = typer.Option(None, "--token", help="bearer token (default SATCHEL_TOKEN)")
USER_OPTION = typer.Option(None, "--user", help="act as this user")
SESSION_OPTION = typer.Option(None, "--session", help="act in / list this session")
JSON_OPTION = typer.Option(False, "--json", help="machine-readable JSON on stdout")

keys_app = typer.Typer(help="API keys (bearer tokens) for `satchel serve`.", no_args_is_help=True)
storage_app = typer.Typer(help="Storage integrity (fsck).", no_args_is_help=True)


# -- plumbing -------------------------------------------------------------------------------


def _fail(message: str, code: int = 1) -> typer.Exit:
    stderr.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def _exit_code(exc: ArtifactStoreError) -> int:
    return 2 if isinstance(exc, InvalidRequestError) else 1


@contextmanager
def _store(url: str | None, token: str | None) -> Iterator[SyncArtifactStore]:
    """The store a command works on; store errors become a message and exit status 1 (2 for
    bad input)."""
    try:
        from satchel.client.sync import connect_sync

        store = connect_sync(url, token, default_backend="filesystem")
    except ArtifactStoreError as exc:
        raise _fail(f"{exc.code}: {exc.message}", _exit_code(exc)) from None
    try:
        yield store
    except ArtifactStoreError as exc:
        raise _fail(f"{exc.code}: {exc.message}", _exit_code(exc)) from None
    finally:
        with suppress(ArtifactStoreError):
            store.close()


@contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int, int | None], None]]:
    """A transfer bar on stderr (only on a terminal); yields the library's progress callback."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    task = progress.add_task(description, total=total)

    def report(done: int, total_bytes: int | None) -> None:
        progress.update(task, completed=done, total=total_bytes)

    with progress:
        yield report


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
    sys.stdout.flush()


def _meta_option(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise _fail(f"--meta is not JSON: {exc}", 2) from None
    if not isinstance(value, dict):
        raise _fail("--meta must be a JSON object", 2)
    return value


def _ttl_option(raw: str | None) -> int | Unset | None:
    if raw is None:
        return UNSET
    if raw.lower() == "none":
        return None
    if not raw.isdigit():
        raise _fail("--ttl is a number of seconds or 'none'", 2)
    return int(raw)


def _default_scope(store: SyncArtifactStore, user: str | None) -> str:
    """The scope of what the CLI stores when none is named: the caller's user scope where it
    has one (``--user``, or a user's token), else the sandbox's."""
    if user is not None:
        return "user"
    who = store.whoami()
    return "user" if who["user_id"] and not who["admin"] else "sandbox"


def _ids(user: str | None, session: str | None) -> dict[str, str | None]:
    return {"user_id": user, "session_id": session}


def _metadata_table(items: list[ArtifactMetadata]) -> Table:
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    columns = ("artifact_id", "filename", "size", "mime", "scope", "stored_at", "expires")
    for column in columns:
        if column == "size":
            table.add_column(column, justify="right")
        else:
            table.add_column(column, no_wrap=column == "artifact_id")
    for item in items:
        table.add_row(
            item.artifact_id,
            item.filename or "",
            human_size(item.bytes),
            item.mime,
            str(item.scope.value),
            _minutes(item.stored_at),
            _minutes(item.expires_at) if item.expires_at else "never",
        )
    return table


def human_size(size: int) -> str:
    """*size* bytes as people read it: ``512 B``, ``4.0 KiB``, ``1.5 GiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _minutes(iso: str) -> str:
    """An ISO 8601 UTC time to the minute (``2026-12-01 01:45``)."""
    return iso[:16].replace("T", " ")


# -- artifact commands ----------------------------------------------------------------------


def put(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    mime: str = typer.Option(None, "--mime", help="media type (default: guessed from the name)"),
    summary: str = typer.Option("", "--summary"),
    scope: str = typer.Option(
        None,
        "--scope",
        help="session | user | sandbox (default: your user's scope when you have one, else "
        "the sandbox's)",
    ),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    ttl: str = typer.Option(
        None, "--ttl", help="seconds to live (default: kept until deleted; 'none' too)"
    ),
    meta: str = typer.Option(None, "--meta", help="custom metadata, a JSON object"),
    filename: str = typer.Option(None, "--name", help="artifact filename (default: the file's)"),
    dedup: bool = typer.Option(
        True,
        "--dedup/--no-dedup",
        help="reuse an artifact that is exactly this upload (same content, name, type, "
        "summary, metadata, scope; neither expires); the bytes are stored once either way",
    ),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Upload FILE (streamed) and print the new artifact's id; where it went and how long it is
    kept are said on stderr. Unlike the library (seed 000's session scope, 15 minutes), what
    the CLI stores is kept until deleted unless --ttl says otherwise."""
    custom = _meta_option(meta)
    expiry = _ttl_option(ttl)
    if expiry is UNSET:
        expiry = None
    with _store(url, token) as store:
        scope = scope or _default_scope(store, user)
        with _progress(f"put {file.name}", file.stat().st_size) as report:
            artifact_id = store.upload_file(
                file,
                mime=mime,
                summary=summary,
                scope=scope,
                user_id=user,
                session_id=session,
                meta=custom,
                dedup=dedup,
                filename=filename,
                ttl=expiry,
                progress=report,
            )
        stored = store.metadata(artifact_id, **_ids(user, session))
        if as_json:
            _print_json(stored.to_dict())
        else:
            typer.echo(artifact_id)
        owner = f" of {stored.owner_id}" if stored.scope == "user" and stored.owner_id else ""
        kept = "kept until deleted" if stored.expires_at is None else f"expires {stored.expires_at}"
        stderr.print(f"{stored.filename}: scope {stored.scope}{owner}, {kept}", highlight=False)


def get(
    artifact_id: str = typer.Argument(...),
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="where to write (default: its filename, here)"),
    ] = None,
    metadata_only: bool = typer.Option(False, "--meta", help="print the metadata, not the bytes"),
    force: bool = typer.Option(False, "--force", "-f", help="overwrite an existing file"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Download an artifact to a file (``-o -`` writes to stdout), or show its metadata."""
    ids = _ids(user, session)
    with _store(url, token) as store:
        meta = store.metadata(artifact_id, **ids)
        if metadata_only:
            if as_json:
                _print_json(meta.to_dict())
            else:
                for name, value in meta.to_dict().items():
                    typer.echo(f"{name}: {value}")
            return
        if output is not None and str(output) == "-":
            for chunk in store.iter_chunks(
                artifact_id, 1024 * 1024, user_id=user, session_id=session
            ):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        target = output or Path((meta.filename or artifact_id).rsplit("/", 1)[-1] or artifact_id)
        if target.is_dir():
            target = target / (meta.filename or artifact_id).rsplit("/", 1)[-1]
        if target.exists() and not force:
            raise _fail(f"{target} exists (--force overwrites it)")
        with _progress(f"get {target.name}", meta.bytes) as report:
            store.download_file(artifact_id, target, progress=report, **ids)
        if as_json:
            _print_json({**meta.to_dict(), "path": str(target)})
        else:
            typer.echo(str(target))


def cat(
    artifact_id: str = typer.Argument(...),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Write an artifact's content to stdout."""
    with _store(url, token) as store:
        for chunk in store.iter_chunks(artifact_id, 1024 * 1024, user_id=user, session_id=session):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()


def ls(
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    scope: str = typer.Option(None, "--scope", help="session | user | sandbox"),
    mime_prefix: str = typer.Option(None, "--mime-prefix"),
    prefix: str = typer.Option(None, "--prefix", help="directory prefix within --session"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    cursor: str = typer.Option(None, "--cursor", help="next_cursor of an earlier page"),
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """List a session's artifacts (--session), or search by user, scope and MIME prefix."""
    with _store(url, token) as store:
        if session is not None and prefix is not None:
            page = store.get_directory_contents(session, prefix, limit, user_id=user)
        elif session is not None and scope is None and mime_prefix is None:
            page = store.list_by_session(session, limit, cursor=cursor, user_id=user)
        else:
            page = store.search(
                user_id=user,
                scope=scope,
                mime_prefix=mime_prefix,
                limit=limit,
                session_id=session,
                cursor=cursor,
            )
    if as_json:
        _print_json({"items": [item.to_dict() for item in page], "next_cursor": page.next_cursor})
        return
    if not page:
        stderr.print("no artifacts")
        return
    stdout.print(_metadata_table(list(page)))
    if page.next_cursor:
        stderr.print(f"more: --cursor {page.next_cursor}", highlight=False)


def rm(
    artifact_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    if_match: str = typer.Option(None, "--if-match", help="delete only at this etag"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Delete artifacts (all that can be: exit 1 when some could not, naming them)."""
    failed = 0
    with _store(url, token) as store:
        for artifact_id in artifact_ids:
            try:
                store.delete(artifact_id, if_match=if_match, **_ids(user, session))
            except ArtifactStoreError as exc:
                failed += 1
                stderr.print(f"error: {artifact_id}: {exc.code}: {exc.message}", highlight=False)
                continue
            typer.echo(f"deleted {artifact_id}")
    if failed:
        raise _fail(f"{failed} of {len(artifact_ids)} not deleted")


def presign(
    artifact_id: str = typer.Argument(...),
    expires: int = typer.Option(3600, "--expires", min=1, help="seconds the URL is valid"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Print a presigned download URL (it points at SATCHEL_PUBLIC_URL / the server)."""
    with _store(url, token) as store:
        signed = store.presign(artifact_id, expires, **_ids(user, session))
    typer.echo(str(signed))


def health(
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Check the catalog, blob backend and session provider (exit status 1 when degraded)."""
    with _store(url, token) as store:
        checks: dict[str, Any] = store.validate_configuration()
    down = [name for name, check in checks.items() if check.get("status") != "ok"]
    body = {"status": "degraded" if down else "ok", "checks": checks}
    if as_json:
        _print_json(body)
    else:
        for name, check in checks.items():
            mark = "ok" if check.get("status") == "ok" else "FAILED"
            details = ", ".join(f"{k}={v}" for k, v in check.items() if k != "status")
            typer.echo(f"{name}: {mark}" + (f" ({details})" if details else ""))
        typer.echo(f"status: {body['status']}")
    if down:
        raise typer.Exit(1)


def migrate(
    url: str = URL_OPTION,
) -> None:
    """Open the embedded store, running catalog migrations up to the newest revision."""
    from satchel.config import Settings

    if url or Settings().url:
        raise _fail("migrate works on the embedded store; the server migrates at start", 2)
    with _store(None, None) as store:
        store.call(store.wrapped.open)
        stats: dict[str, Any] = store.get_stats()
    typer.echo(
        f"catalog up to date ({stats.get('storage_provider')} blobs, "
        f"{stats.get('total_artifacts', 0)} artifacts)"
    )


# -- storage --------------------------------------------------------------------------------


@storage_app.command("check")
def storage_check(
    repair: bool = typer.Option(False, "--repair", help="fix what is safe to fix"),
    verify: bool = typer.Option(False, "--verify", help="also re-hash every blob (reads all)"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check that the catalog, blobs and upload staging agree (exit status 1 if not clean).

    Finds lost or damaged content, stray bytes, leftovers of crashed writes and expired
    uploads; --repair removes leftovers, hands stray bytes to garbage collection, mends the
    ledger and purges expired uploads. Lost content is reported, never touched.
    """
    with _store(url, token) as store:
        report: dict[str, Any] = store.check_storage(repair=repair, verify=verify)
    if as_json:
        _print_json(report)
    else:
        checked = ", ".join(f"{name} {count}" for name, count in report["checked"].items())
        typer.echo(f"checked: {checked}")
        for problem in report["problems"]:
            state = "repaired" if problem["repaired"] else "FOUND"
            typer.echo(f"{state}  {problem['kind']}  {problem['subject']}  {problem['detail']}")
        listed = len(report["problems"])
        total = report["repaired"] + report["unresolved"]
        if total > listed:
            typer.echo(f"… {total - listed} more (see --json counts)")
        if report["in_flight"]:
            typer.echo(f"in flight (left alone): {report['in_flight']}")
        verdict = "clean" if report["clean"] else f"{report['unresolved']} problem(s) left"
        typer.echo(f"repaired: {report['repaired']}; {verdict}")
    if not report["clean"]:
        raise typer.Exit(1)


@storage_app.command("verify")
def storage_verify(
    backend: str | None = typer.Option(None, "--backend", help="one backend (default: all)"),
    sample: int | None = typer.Option(None, "--sample", min=1, help="this many, at random"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-read stored blobs and recompute their sha256 (exit status 1 if any failed).

    Records a verification event per blob; corrupt or missing ones are marked failed (their
    reads answer an integrity error and /health is degraded) until a verification finds them
    intact again.
    """
    with _store(url, token) as store:
        report: dict[str, Any] = store.verify_storage(backend, sample=sample)
    if as_json:
        _print_json(report)
    else:
        for failure in report["failures"]:
            typer.echo(f"FAILED  {failure['backend']}  {failure['digest']}  {failure['failure']}")
        typer.echo(
            f"verified {report['checked']} on {', '.join(report['backends'])}: "
            f"{report['intact']} intact, {report['failed']} failed"
            + (f", {report['unreachable']} unreachable" if report["unreachable"] else "")
            + (f", {report['restored']} restored" if report["restored"] else "")
        )
    if report["failed"]:
        raise typer.Exit(1)


# -- keys -----------------------------------------------------------------------------------


def _key_state(key: ApiKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "live" if key.usable(time.time()) else "expired"


def _key_row(key: ApiKey) -> str:
    role = "admin" if key.is_admin else "user"
    state = _key_state(key)
    expires = key.to_dict()["expires_at"] or "never"
    name = f"  {key.name}" if key.name else ""
    return f"{key.key_id}  {key.user_id}@{key.sandbox_id}  {role}  {state}  expires {expires}{name}"


@keys_app.command("create")
def keys_create(
    user: str = typer.Option(..., "--user", help="the user the key acts as"),
    admin: bool = typer.Option(False, "--admin", help="give the key the admin role"),
    name: str = typer.Option("", "--name", help="a label for the key (who or what uses it)"),
    ttl: int = typer.Option(
        None, "--ttl", min=1, help="seconds until the key expires (default never)"
    ),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API key and print its token (shown only now; the catalog keeps a digest).

    Embedded, the key goes straight into the local catalog; with --url it is created through
    the server (needs an admin token). `satchel serve` accepts it at once, no restart.
    """
    with _store(url, token) as store:
        secret, key = store.create_api_key(user, admin=admin, name=name, ttl=ttl)
    if as_json:
        _print_json({**key.to_dict(), "token": secret})
        return
    typer.echo(secret)
    stderr.print(f"key {key.key_id} for {key.user_id}; clients send it as SATCHEL_TOKEN")


@keys_app.command("list")
def keys_list(
    include_revoked: bool = typer.Option(False, "--all", help="include revoked keys"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List the sandbox's API keys (never their secrets)."""
    with _store(url, token) as store:
        keys: list[ApiKey] = store.list_api_keys(include_revoked=include_revoked)
    if as_json:
        _print_json([{**key.to_dict(), "state": _key_state(key)} for key in keys])
        return
    if not keys:
        stderr.print("no API keys (static tokens live in SATCHEL_AUTH_TOKENS)")
    for key in keys:
        typer.echo(_key_row(key))


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="the key id (from `satchel keys list`)"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke an API key; the server refuses it from the next request on."""
    with _store(url, token) as store:
        key: ApiKey = store.revoke_api_key(key_id)
    if as_json:
        _print_json(key.to_dict())
        return
    typer.echo(_key_row(key))


def register(app: typer.Typer) -> None:
    """Add these commands to the ``satchel`` app."""
    for command in (put, get, ls, rm, cat, presign, health, migrate):
        app.command()(command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(storage_app, name="storage")
