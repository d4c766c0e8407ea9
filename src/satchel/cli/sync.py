"""``satchel sync``: make a directory and the artifacts under a name prefix agree, either way.

One side is a local directory, the other ``store:PREFIX`` (the artifacts whose filename starts
with PREFIX, in the scope ``put`` would use). Files are compared by size, then sha256; only
what differs moves. Uploading a changed file replaces the content of the artifact of that name
(same id, a new version, conditional on its etag); a name held by several artifacts counts as
its newest. ``--delete`` removes what the source does not have; ``--dry-run`` says what would
happen and changes nothing.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from satchel.cli.artifacts import SCOPE_HELP, default_scope, upload_one, walk
from satchel.cli.common import (
    JSON_OPTION,
    QUIET_OPTION,
    SESSION_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    Outcome,
    fail,
    open_store,
    progress_bars,
)
from satchel.core.errors import ArtifactStoreError

if TYPE_CHECKING:
    from satchel.client.sync import SyncArtifactStore
    from satchel.core.models import ArtifactMetadata

__all__ = ["register", "sync"]

STORE_SIDE = "store:"


@dataclass
class _Plan:
    """What one run does; *outcome* reports each action as it is done."""

    store: SyncArtifactStore
    outcome: Outcome
    dry_run: bool
    quiet: bool
    ids: dict[str, Any]
    unchanged: int = 0

    def act(self, action: str, name: str, path: Path, artifact_id: str | None = None) -> None:
        record = {"action": action, "name": name, "path": str(path), "dry_run": self.dry_run}
        if artifact_id is not None:
            record["artifact_id"] = artifact_id
        label = "(dry run) " if self.dry_run else ""
        self.outcome.ok(record, f"{label}{action}: {name}")

    def same(self, path: Path, meta: ArtifactMetadata) -> bool:
        """Whether local *path* holds exactly *meta*'s content (size first, then sha256)."""
        from satchel.client.localfiles import file_sha256

        if path.stat().st_size != meta.bytes:
            return False
        with progress_bars(quiet=self.quiet) as bars:
            digest, _ = file_sha256(path, bars.bar(f"hash {path.name}", meta.bytes))
        return digest == meta.sha256


def _remote(
    store: SyncArtifactStore, prefix: str, scope: str, ids: dict[str, Any]
) -> dict[str, list[ArtifactMetadata]]:
    """Every live artifact under *prefix* the caller can read in *scope* (and its session,
    with --session), by name, newest first."""
    found: dict[str, list[ArtifactMetadata]] = {}
    cursor = None
    while True:
        page = store.search(
            **ids,
            scope=scope,
            filename_glob=glob.escape(prefix) + "*",
            order="-stored_at",
            limit=1000,
            cursor=cursor,
        )
        for item in page:
            found.setdefault(item.filename or "", []).append(item)
        cursor = page.next_cursor
        if cursor is None:
            return found


def _relative(name: str, prefix: str) -> str | None:
    """The local path (POSIX) of artifact *name*, or None when it could not be one safely
    (absolute, ``..``, empty parts, NUL, backslashes)."""
    rest = name[len(prefix) :]
    if "\\" in rest or "\0" in rest:
        return None
    if any(part in ("", ".", "..") for part in rest.split("/")):  # also absolute, "a//b", "a/"
        return None
    return rest


def _inside(root: Path, path: Path) -> bool:
    """Whether *path*, with every symbolic link on the way followed, stays under *root*."""
    return path.resolve().is_relative_to(root.resolve())


def _local(root: Path) -> Iterator[tuple[str, Path]]:
    if root.is_dir():
        for path in walk(root):
            yield path.relative_to(root).as_posix(), path


def _up(plan: _Plan, root: Path, prefix: str, delete: bool, fields: dict[str, Any]) -> None:
    remote = _remote(plan.store, prefix, fields["scope"], plan.ids)
    local = dict(_local(root))
    for relative, path in local.items():
        name = prefix + relative
        try:
            versions = remote.get(name)
            newest = versions[0] if versions else None
            if newest is not None and plan.same(path, newest):
                plan.unchanged += 1
                continue
            if plan.dry_run:
                plan.act("upload", name, path)
                continue
            if newest is None:
                made = upload_one(plan.store, path, name, quiet=plan.quiet, **fields)
            else:
                with progress_bars(quiet=plan.quiet) as bars:
                    made = plan.store.update_from_file(
                        newest.artifact_id,
                        path,
                        if_match=newest.etag,
                        progress=bars.bar(f"put {name}", path.stat().st_size),
                        **plan.ids,
                    )
        except (ArtifactStoreError, OSError) as exc:
            plan.outcome.error(str(path), exc)
            continue
        plan.act("upload", name, path, made.artifact_id)
    if delete:
        for name, versions in remote.items():
            relative = name[len(prefix) :]
            if relative in local:
                continue
            for meta in versions:
                _remove_artifact(plan, meta, root / relative)


def _remove_artifact(plan: _Plan, meta: ArtifactMetadata, path: Path) -> None:
    name = meta.filename or meta.artifact_id
    if not plan.dry_run:
        try:
            plan.store.delete(meta.artifact_id, if_match=meta.etag, **plan.ids)
        except ArtifactStoreError as exc:
            plan.outcome.error(name, exc)
            return
    plan.act("delete", name, path, meta.artifact_id)


def _down(plan: _Plan, root: Path, prefix: str, delete: bool, scope: str) -> None:
    remote = _remote(plan.store, prefix, scope, plan.ids)
    wanted: set[str] = set()
    for name, versions in sorted(remote.items()):
        relative = _relative(name, prefix)
        if relative is None:
            plan.outcome.error(name, "cannot be a file name under the directory; left out")
            continue
        wanted.add(relative)
        newest, path = versions[0], root / relative
        if not _inside(root, path):
            plan.outcome.error(name, f"{path} leads outside {root} (a symbolic link); left out")
            continue
        try:
            if path.is_file() and plan.same(path, newest):
                plan.unchanged += 1
                continue
            if not plan.dry_run:
                with progress_bars(quiet=plan.quiet) as bars:
                    bar = bars.bar(f"get {name}", newest.bytes)
                    plan.store.download_file(newest.artifact_id, path, progress=bar, **plan.ids)
        except (ArtifactStoreError, OSError) as exc:
            plan.outcome.error(name, exc)
            continue
        plan.act("download", name, path, newest.artifact_id)
    if delete:
        for relative, path in list(_local(root)):
            if relative in wanted:
                continue
            if not plan.dry_run:
                try:
                    path.unlink()
                except OSError as exc:
                    plan.outcome.error(str(path), exc)
                    continue
            plan.act("delete", prefix + relative, path)


def sync(
    source: str = typer.Argument(..., metavar="SOURCE", help="a directory, or store:PREFIX"),
    target: str = typer.Argument(..., metavar="TARGET", help="store:PREFIX, or a directory"),
    delete: bool = typer.Option(False, "--delete", help="remove what SOURCE does not have"),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="say what would change; do not"),
    scope: str = typer.Option(None, "--scope", metavar="SCOPE", help=SCOPE_HELP),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Make TARGET match SOURCE: 'satchel sync ./out store:runs/7/' uploads what is new or
    changed (by sha256), 'satchel sync store:runs/7/ ./copy' downloads it.

    --delete also removes from TARGET what SOURCE does not have; --dry-run only says what
    would change. Each action is printed as it is done (--json: one object per line).
    """
    up = target.startswith(STORE_SIDE)
    if up == source.startswith(STORE_SIDE):
        raise fail("one side is a directory and the other store:PREFIX", 2)
    prefix = (target if up else source)[len(STORE_SIDE) :]
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # a prefix names a directory, as aws s3 sync reads it
    root = Path(source if up else target)
    if up and not root.is_dir():
        raise fail(f"{root} is not a directory", 2)
    if not up and root.exists() and not root.is_dir():
        raise fail(f"{root} is not a directory", 2)
    outcome = Outcome("synced", as_json=as_json, quiet=quiet)
    with open_store(url, token) as store:
        chosen = scope or default_scope(store, user)
        ids = {"user_id": user, "session_id": session}
        plan = _Plan(store, outcome, dry_run, quiet, ids)
        if up:
            fields = {"scope": chosen, "ttl": None, "dedup": True, **ids}
            _up(plan, root, prefix, delete, fields)
        else:
            _down(plan, root, prefix, delete, chosen)
    changed = "to change" if dry_run else "changed"
    outcome.note(f"{outcome.done} {changed}, {plan.unchanged} unchanged, {outcome.failed} failed")
    outcome.finish()


def register(app: typer.Typer) -> None:
    app.command()(sync)
