"""Artifact commands of the ``satchel`` CLI: put, get, cat, cp, mv, stat, update, rm, presign.

They follow mc and ``aws s3``: several items per call, each reported as it is done (``--json``:
one JSON object per line), per-item errors do not stop the rest, and a summary with exit
status 1 ends a run where some failed. ``ls`` lives in :mod:`satchel.cli.listing`, ``sync`` in
:mod:`satchel.cli.sync`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    QUIET_OPTION,
    SESSION_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    Outcome,
    fail,
    meta_option,
    open_store,
    print_json,
    progress_bars,
    ttl_option,
)
from satchel.core.errors import ArtifactStoreError
from satchel.core.unset import UNSET

if TYPE_CHECKING:
    from satchel.client.sync import SyncArtifactStore
    from satchel.core.models import ArtifactMetadata

__all__ = ["SCOPE_HELP", "default_scope", "local_name", "register", "upload_one", "walk"]

SCOPE_HELP = (
    "session | user | sandbox (default: your user's scope when you have one, else the sandbox's)"
)


def default_scope(store: SyncArtifactStore, user: str | None) -> str:
    """The scope of what the CLI stores when none is named: the caller's user scope where it
    has one (``--user``, or a user's token), else the sandbox's."""
    if user is not None:
        return "user"
    who = store.whoami()
    return "user" if who["user_id"] and not who["admin"] else "sandbox"


def local_name(meta: ArtifactMetadata) -> str:
    """The file name a download takes: the last part of the artifact's filename, or its id when
    that part could not be a file name here (empty, ``.``, ``..``)."""
    name = (meta.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return meta.artifact_id if name in ("", ".", "..") or "\0" in name else name


def kept(meta: ArtifactMetadata) -> str:
    """Where an artifact went and how long it is kept, as ``put`` says it."""
    owner = f" of {meta.owner_id}" if meta.scope == "user" and meta.owner_id else ""
    until = "kept until deleted" if meta.expires_at is None else f"expires {meta.expires_at}"
    return f"scope {meta.scope}{owner}, {until}"


def upload_one(
    store: SyncArtifactStore, path: Path, name: str, *, quiet: bool, **fields: Any
) -> ArtifactMetadata:
    """Upload *path* as *name* with a bar for the hashing pass and one for the transfer."""
    size = path.stat().st_size
    with progress_bars(quiet=quiet) as bars:
        artifact_id = store.upload_file(
            path,
            filename=name,
            hashing=bars.bar(f"hash {name}", size),
            progress=bars.bar(f"put {name}", size),
            **fields,
        )
    ids = {"user_id": fields.get("user_id"), "session_id": fields.get("session_id")}
    return store.metadata(artifact_id, **ids)


def walk(root: Path) -> Iterator[Path]:
    """The files under *root*, in name order (symbolic links to files count as files)."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory, name)
            if path.is_file():
                yield path


def _sources(
    paths: list[Path], recursive: bool, prefix: str, outcome: Outcome
) -> Iterator[tuple[Path, str]]:
    """(file, artifact name) for each path: a file is named by its base name, a directory's
    files (with -r) by their path under it; *prefix* goes in front of every name."""
    for path in paths:
        if path.is_dir():
            if not recursive:
                outcome.error(str(path), "is a directory (-r uploads its files)")
                continue
            for file in walk(path):
                yield file, prefix + file.relative_to(path).as_posix()
        elif path.is_file():
            yield path, prefix + path.name
        else:
            outcome.error(str(path), "no such file")


def put(
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="files, and directories with -r")
    ],
    recursive: bool = typer.Option(
        False, "--recursive", "-r", help="upload each file under a directory, named by its path"
    ),
    prefix: str = typer.Option(
        "", "--prefix", metavar="PREFIX", help="put in front of every name (e.g. reports/)"
    ),
    filename: str = typer.Option(
        None, "--name", metavar="NAME", help="the artifact's filename (one file only)"
    ),
    mime: str = typer.Option(
        None, "--mime", metavar="TYPE", help="media type (default: guessed from the name)"
    ),
    summary: str = typer.Option("", "--summary", metavar="TEXT", help="a line about it"),
    scope: str = typer.Option(None, "--scope", metavar="SCOPE", help=SCOPE_HELP),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    ttl: str = typer.Option(
        None,
        "--ttl",
        metavar="SECONDS",
        help="seconds to live (default: kept until deleted; 'none' too)",
    ),
    meta: str = typer.Option(None, "--meta", metavar="JSON", help="custom metadata, an object"),
    dedup: bool = typer.Option(
        True,
        "--dedup/--no-dedup",
        help="reuse an artifact that is exactly this upload (same content, name, type, "
        "summary, metadata, scope; neither expires); the bytes are stored once either way",
    ),
    as_json: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Upload files (streamed) and print each new artifact's id; where each went and how long
    it is kept are said on stderr.

    Unlike the library (seed 000's session scope, 15 minutes), what the CLI stores is kept
    until deleted unless --ttl says otherwise. 'put -r DIR' names each file by its path under
    DIR (with --prefix in front).
    """
    if filename is not None and (len(paths) != 1 or recursive):
        raise fail("--name names one file; use --prefix for several", 2)
    custom = meta_option(meta)
    expiry = ttl_option(ttl)
    outcome = Outcome("uploaded", as_json=as_json, quiet=quiet)
    with open_store(url, token) as store:
        chosen = scope or default_scope(store, user)
        fields = {
            "mime": mime,
            "summary": summary,
            "scope": chosen,
            "user_id": user,
            "session_id": session,
            "meta": custom,
            "dedup": dedup,
            "ttl": None if expiry is UNSET else expiry,
        }
        for path, name in _sources(paths, recursive, prefix, outcome):
            try:
                stored = upload_one(store, path, filename or name, quiet=quiet, **fields)
            except (ArtifactStoreError, OSError) as exc:
                outcome.error(str(path), exc)
                continue
            outcome.ok({**stored.to_dict(), "path": str(path)}, stored.artifact_id)
            outcome.note(f"{stored.filename}: {kept(stored)}")
    outcome.finish()


def get(
    artifact_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            metavar="PATH",
            help="file to write (one id; '-' is stdout) or directory (default: here)",
        ),
    ] = None,
    metadata_only: bool = typer.Option(False, "--meta", help="print the metadata (as stat)"),
    force: bool = typer.Option(False, "--force", "-f", help="overwrite existing files"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Download artifacts to files named as they are (never over an existing file without
    --force), or one to stdout with '-o -'."""
    if metadata_only:
        stat(artifact_ids, session, user, as_json, url, token)
        return
    ids: dict[str, Any] = {"user_id": user, "session_id": session}
    several = len(artifact_ids) > 1
    if output == "-":
        if several:
            raise fail("-o - writes one artifact; use cat for several", 2)
        with open_store(url, token) as store:
            for chunk in store.iter_chunks(
                artifact_ids[0], 1024 * 1024, user_id=user, session_id=session
            ):
                sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    if several and output is not None and Path(output).exists() and not Path(output).is_dir():
        raise fail(f"-o {output} is a file; several artifacts go into a directory", 2)
    directory = output is not None and (several or output.endswith("/") or Path(output).is_dir())
    into = Path(output) if output is not None and directory else None
    if into is not None:
        into.mkdir(parents=True, exist_ok=True)
    outcome = Outcome("downloaded", as_json=as_json, quiet=quiet)
    with open_store(url, token) as store:
        for artifact_id in artifact_ids:
            try:
                meta = store.metadata(artifact_id, **ids)
                if output is not None and into is None:
                    target = Path(output)
                else:
                    target = (into or Path()) / local_name(meta)
                if target.exists() and not force:
                    outcome.error(str(target), "exists (--force overwrites it)")
                    continue
                with progress_bars(quiet=quiet) as bars:
                    bar = bars.bar(f"get {target.name}", meta.bytes)
                    store.download_file(artifact_id, target, progress=bar, **ids)
            except (ArtifactStoreError, OSError) as exc:
                outcome.error(artifact_id, exc)
                continue
            outcome.ok({**meta.to_dict(), "path": str(target)}, str(target))
    outcome.finish()


def cat(
    artifact_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Write artifacts' content to stdout, one after another."""
    outcome = Outcome("written", as_json=False, quiet=False)
    with open_store(url, token) as store:
        for artifact_id in artifact_ids:
            try:
                for chunk in store.iter_chunks(
                    artifact_id, 1024 * 1024, user_id=user, session_id=session
                ):
                    sys.stdout.buffer.write(chunk)
            except ArtifactStoreError as exc:
                outcome.error(artifact_id, exc)
                continue
            outcome.done += 1
        sys.stdout.buffer.flush()
    outcome.finish()


def stat(
    artifact_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Show artifacts' metadata: name, size, type, digest, scope, owner, expiry, etag."""
    outcome = Outcome("found", as_json=as_json, quiet=False)
    with open_store(url, token) as store:
        for number, artifact_id in enumerate(artifact_ids):
            try:
                meta = store.metadata(artifact_id, user_id=user, session_id=session)
            except ArtifactStoreError as exc:
                outcome.error(artifact_id, exc)
                continue
            fields = meta.to_dict()
            lines = [f"{name}: {value}" for name, value in fields.items()]
            outcome.ok(fields, ("\n" if number else "") + "\n".join(lines))
    outcome.finish()


def cp(
    artifact_id: str = typer.Argument(..., metavar="ID"),
    new_name: str = typer.Option(None, "--name", metavar="NAME", help="the copy's filename"),
    to_session: str = typer.Option(
        None, "--to-session", metavar="SESSION", help="copy into this session (yours)"
    ),
    meta: str = typer.Option(None, "--meta", metavar="JSON", help="the copy's custom metadata"),
    summary: str = typer.Option(None, "--summary", metavar="TEXT", help="the copy's summary"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Copy an artifact (the bytes are shared, not copied) and print the copy's id."""
    custom = meta_option(meta)
    ids = {"user_id": user, "session_id": session}
    with open_store(url, token) as store:
        copied = store.copy_file(
            artifact_id,
            new_filename=new_name,
            target_session_id=to_session,
            new_meta=custom,
            summary=summary,
            **ids,
        )
        made = store.metadata(copied, **ids)
    if as_json:
        print_json(made.to_dict(), lines=True)
    else:
        typer.echo(copied)


def mv(
    artifact_id: str = typer.Argument(..., metavar="ID"),
    new_name: str = typer.Option(None, "--name", metavar="NAME", help="the new filename"),
    to_session: str = typer.Option(
        None, "--to-session", metavar="SESSION", help="move into this session (yours)"
    ),
    meta: str = typer.Option(None, "--meta", metavar="JSON", help="replace custom metadata"),
    if_match: str = typer.Option(None, "--if-match", metavar="ETAG", help="only at this etag"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Rename an artifact or move it to another of your sessions (same id)."""
    if new_name is None and to_session is None and meta is None:
        raise fail("say where: --name, --to-session or --meta", 2)
    with open_store(url, token) as store:
        moved = store.move_file(
            artifact_id,
            new_filename=new_name,
            new_session_id=to_session,
            new_meta=meta_option(meta),
            user_id=user,
            session_id=session,
            if_match=if_match,
        )
    if as_json:
        print_json(moved.to_dict(), lines=True)
    else:
        typer.echo(f"{moved.artifact_id}  {moved.filename or ''}")


def update(
    artifact_id: str = typer.Argument(..., metavar="ID"),
    meta: str = typer.Option(
        None, "--meta", metavar="JSON", help="custom metadata to merge in (--replace: instead)"
    ),
    replace: bool = typer.Option(False, "--replace", help="--meta replaces, not merges"),
    summary: str = typer.Option(None, "--summary", metavar="TEXT"),
    new_name: str = typer.Option(None, "--name", metavar="NAME", help="a new filename"),
    mime: str = typer.Option(None, "--mime", metavar="TYPE", help="a new media type"),
    ttl: str = typer.Option(
        None, "--ttl", metavar="SECONDS", help="expire this long from now ('none': never)"
    ),
    extend: int = typer.Option(
        None, "--extend", metavar="SECONDS", min=1, help="add this much to its expiry"
    ),
    if_match: str = typer.Option(None, "--if-match", metavar="ETAG", help="only at this etag"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Change an artifact's metadata, name, type or expiry (its content never changes)."""
    custom = meta_option(meta)
    expiry = ttl_option(ttl)
    changes = (custom, summary, new_name, mime)
    if all(value is None for value in changes) and expiry is UNSET and extend is None:
        raise fail("nothing to change: --meta, --summary, --name, --mime, --ttl or --extend", 2)
    ids = {"user_id": user, "session_id": session}
    with open_store(url, token) as store:
        updated: ArtifactMetadata | None = None
        if any(value is not None for value in changes) or expiry is not UNSET:
            updated = store.update_metadata(
                artifact_id,
                summary=summary,
                meta=custom,
                merge=not replace,
                filename=new_name,
                mime=mime,
                ttl=expiry,
                if_match=if_match,
                **ids,
            )
        if extend is not None:
            updated = store.extend_ttl(artifact_id, extend, **ids)
    assert updated is not None
    if as_json:
        print_json(updated.to_dict(), lines=True)
    else:
        until = updated.expires_at or "never"
        typer.echo(f"{updated.artifact_id}  etag {updated.etag}  expires {until}")


def rm(
    artifact_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    if_match: str = typer.Option(None, "--if-match", metavar="ETAG", help="only at this etag"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Delete artifacts (all that can be: exit 1 when some could not, naming them).

    Many ids go in bulk deletes (one request per 1000 ids to a server); each is deleted as a
    single delete would be. With --if-match, each id is deleted alone, only at that etag.
    """
    from satchel.core.bulk import MAX_DELETE_IDS
    from satchel.core.validation import check_id

    outcome = Outcome("deleted", as_json=as_json, quiet=False)
    wanted: list[str] = []
    for artifact_id in dict.fromkeys(artifact_ids):  # a repeated id is deleted once
        try:
            wanted.append(check_id("artifact_id", artifact_id))
        except ArtifactStoreError as exc:
            outcome.error(artifact_id, exc)
    failures: dict[str, ArtifactStoreError | None] = {}
    with open_store(url, token) as store:
        if if_match is None:
            for start in range(0, len(wanted), MAX_DELETE_IDS):
                chunk = wanted[start : start + MAX_DELETE_IDS]
                for result in store.delete_many(chunk, user_id=user, session_id=session):
                    if not result.deleted:
                        failures[result.artifact_id] = result.error()
        else:
            for artifact_id in wanted:
                try:
                    store.delete(artifact_id, if_match=if_match, user_id=user, session_id=session)
                except ArtifactStoreError as exc:
                    failures[artifact_id] = exc
    for artifact_id in wanted:
        error = failures.get(artifact_id)
        if artifact_id in failures:
            outcome.error(artifact_id, error or "failed")
        else:
            outcome.ok({"artifact_id": artifact_id, "deleted": True}, f"deleted {artifact_id}")
    if not as_json and len(artifact_ids) > 1 and not outcome.failed:
        outcome.note(f"{outcome.done} deleted")
    outcome.finish()


def presign(
    artifact_id: str = typer.Argument(..., metavar="ID"),
    expires: int = typer.Option(
        3600, "--expires", metavar="SECONDS", min=1, help="how long the URL works"
    ),
    flavor: str = typer.Option(
        "auto",
        "--flavor",
        metavar="FLAVOR",
        help="auto (public URL of a public artifact, else presigned) | public | presigned",
    ),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Print a download URL: presigned (it points at SATCHEL_PUBLIC_URL / the server), or a
    public artifact's permanent URL."""
    with open_store(url, token) as store:
        signed = store.get_url(
            artifact_id, expires, policy=flavor, user_id=user, session_id=session
        )
    if as_json:
        print_json({"url": str(signed), "expires_at": signed.expires_at}, lines=True)
    else:
        typer.echo(str(signed))


def register(app: typer.Typer) -> None:
    """Add these commands to the ``satchel`` app."""
    for command in (put, get, cat, stat, cp, mv, update, rm, presign):
        app.command()(command)
