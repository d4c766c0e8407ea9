"""``satchel proxy`` (remotes, ls, get, prefetch, evict, stats): the pull-through cache, on the
embedded store (remotes from SATCHEL_REMOTES_FILE) or, with ``--url``, a server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    fail,
    open_store,
    print_json,
    progress_bar,
    replacing,
)

__all__ = ["register"]

proxy_app = typer.Typer(
    rich_markup_mode=None,
    help="The pull-through cache: remote release files, fetched once, served from the cache.",
    no_args_is_help=True,
)

OUTPUT_OPTION = typer.Option(None, "--output", "-o", help="file to write (default: stdout)")
PATHS_ARGUMENT = typer.Argument(..., help="paths to cache")
PATTERN_OPTION = typer.Option(
    None, "--pattern", help="only paths matching this glob ('*.tar.gz'); repeatable"
)


def _age(item: dict[str, Any]) -> str:
    return "fresh" if item["fresh"] else "stale"


@proxy_app.command("remotes")
def remotes(
    url: str | None = URL_OPTION, token: str | None = TOKEN_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """List the configured remotes."""
    with open_store(url, token) as store:
        listed = store.list_remotes()
    if as_json:
        print_json(listed)
        return
    for remote in listed:
        state = "offline" if remote["offline"] else "online"
        if remote["blocked_for"] is not None:
            state = f"blocked for {remote['blocked_for']:.0f} s"
        where = remote["base_url"] or "(local uploads)"
        typer.echo(f"{remote['name']}  {remote['type']}/{remote['package']}  {where}  {state}")


@proxy_app.command("ls")
def ls(
    remote: str = typer.Argument(..., help="the remote"),
    prefix: str | None = typer.Option(None, "--prefix", help="only paths starting so"),
    limit: int = typer.Option(100, "--limit", help="files per page"),
    after: str | None = typer.Option(None, "--after", help="the path the page starts after"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List a remote's cached files (path, size, sha256, fresh or stale)."""
    with open_store(url, token) as store:
        page = store.list_cached_files(remote, after=after, prefix=prefix, limit=limit)
    if as_json:
        print_json(page)
        return
    for item in page["items"]:
        typer.echo(f"{item['path']}  {item['bytes']}  {item['sha256']}  {_age(item)}")
    if page["next"] is not None:
        typer.echo(f"more: --after {page['next']}", err=True)


@proxy_app.command("get")
def get(
    remote: str = typer.Argument(..., help="the remote"),
    path: str = typer.Argument(..., help="the file's path below the remote"),
    output: Path | None = OUTPUT_OPTION,
    force: bool = typer.Option(False, "--force", "-f", help="overwrite an existing file"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Read a remote's file through the cache (fetching it on a miss): to stdout, or to a file
    with -o (never over an existing one without --force; written whole or not at all)."""
    if output is not None and output.exists() and not force:
        raise fail(f"{output} exists (--force overwrites it)")
    with open_store(url, token) as store:
        answer = store.open_remote_file(remote, path)
        try:
            if output is None:
                for chunk in answer:
                    sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
            else:
                with progress_bar(f"get {output.name}", answer.size) as report:
                    done = 0
                    with replacing(output) as handle:
                        for chunk in answer:
                            handle.write(chunk)
                            done += len(chunk)
                            report(done, answer.size)
        finally:
            answer.close()
    if as_json and output is not None:
        print_json({"remote": remote, "path": path, "source": answer.source, "file": str(output)})
    typer.echo(f"{answer.source}: {remote}/{path}", err=True)


@proxy_app.command("prefetch")
def prefetch(
    remote: str = typer.Argument(..., help="the remote"),
    paths: list[str] = PATHS_ARGUMENT,
    patterns: list[str] = PATTERN_OPTION,
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Cache files of a remote now (exit 1 if any failed, or only a stale copy is cached)."""
    with open_store(url, token) as store:
        results = store.prefetch_remote_files(remote, paths, patterns=patterns or None)
    if as_json:
        print_json(results)
    else:
        for result in results:
            error = f"  {result['error']}" if result.get("error") else ""
            typer.echo(f"{result['status']}  {result['path']}{error}")
    if any(result["status"] in ("failed", "stale") for result in results):
        raise typer.Exit(1)


@proxy_app.command("evict")
def evict(
    remote: str = typer.Argument(..., help="the remote"),
    path: str | None = typer.Argument(None, help="one cached file (or --prefix, or --all)"),
    prefix: str | None = typer.Option(None, "--prefix", help="every path starting so"),
    everything: bool = typer.Option(False, "--all", help="every cached file of the remote"),
    url: str | None = URL_OPTION,
    token: str | None = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Drop cached files (a hold or retention keeps theirs)."""
    if [path is not None, prefix is not None, everything].count(True) != 1:
        raise typer.BadParameter("name a path, --prefix or --all")
    with open_store(url, token) as store:
        done = store.evict_cached_files(remote, path=path, prefix="" if everything else prefix)
    if as_json:
        print_json(done)
        return
    typer.echo(f"evicted {len(done['evicted'])}, kept {len(done['kept'])} (held or retained)")


@proxy_app.command("stats")
def stats(
    url: str | None = URL_OPTION, token: str | None = TOKEN_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Per remote: hits, misses, bytes from the cache and fetched, cached files."""
    with open_store(url, token) as store:
        found = store.proxy_stats()
    if as_json:
        print_json(found)
        return
    for name, one in found["remotes"].items():
        ratio = "-" if one["hit_ratio"] is None else f"{one['hit_ratio']:.0%}"
        typer.echo(
            f"{name}  hits {one['hits']}  misses {one['misses']}  hit ratio {ratio}  "
            f"stale {one['stale']}  errors {one['upstream_errors']}  "
            f"cached {one['cached_files']} files, {one['cached_bytes']} bytes"
        )


def register(app: typer.Typer) -> None:
    """Add ``proxy`` to the ``satchel`` app."""
    app.add_typer(proxy_app, name="proxy")
