"""``satchel aspects`` (add, update, get, ls, retract) and ``satchel lineage``: aspects and
provenance (seed 002), on the embedded store or, with ``--url``, a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from satchel.cli.common import (
    JSON_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    fail,
    open_store,
    print_json,
)

__all__ = ["register"]

aspects_app = typer.Typer(
    rich_markup_mode=None,
    help="Aspects: typed metadata about entities.",
    no_args_is_help=True,
)

SCHEMA_OPTION = typer.Option(None, "--schema", help="slug[@N] or a built-in schema (else $schema)")
CONTENT_ARGUMENT = typer.Argument(..., help="the aspect as JSON, or @FILE")


def _content(raw: str) -> dict[str, Any]:
    try:
        text = Path(raw[1:]).read_text() if raw.startswith("@") else raw
        value = json.loads(text)
    except (OSError, ValueError) as exc:
        raise fail(f"the aspect is not JSON: {exc}", 2) from None
    if not isinstance(value, dict):
        raise fail("the aspect is a JSON object", 2)
    return value


def _show(aspect: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(aspect)
        return
    state = "" if aspect["state"] == "active" else f"  ({aspect['state']})"
    content = json.dumps(aspect["content"], separators=(",", ":"))
    typer.echo(f"{aspect['aspect_id']}  {aspect['entity']}  {aspect['schema']}{state}  {content}")


def _write(
    method: str,
    entity: str,
    content: str,
    schema: str | None,
    policy: str | None,
    as_json: bool,
    user: str | None,
    url: str | None,
    token: str | None,
) -> None:
    aspect = _content(content)
    with open_store(url, token) as store:
        found = getattr(store, method)(entity, aspect, schema=schema, policy=policy, user_id=user)
    _show(found, as_json)


@aspects_app.command("add")
def aspects_add(
    entity: str = typer.Argument(..., help="an artifact or package id, or a URN"),
    content: str = CONTENT_ARGUMENT,
    schema: str = SCHEMA_OPTION,
    policy: str = typer.Option(None, "--policy"),
    as_json: bool = JSON_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Add an aspect about ENTITY."""
    _write("add_aspect", entity, content, schema, policy, as_json, user, url, token)


@aspects_app.command("update")
def aspects_update(
    entity: str = typer.Argument(...),
    content: str = CONTENT_ARGUMENT,
    schema: str = SCHEMA_OPTION,
    policy: str = typer.Option(None, "--policy"),
    as_json: bool = JSON_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Replace ENTITY's aspects of the schema with this one."""
    _write("update_aspect", entity, content, schema, policy, as_json, user, url, token)


@aspects_app.command("get")
def aspects_get(
    aspect_id: str = typer.Argument(...),
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """One aspect as JSON."""
    with open_store(url, token) as store:
        print_json(store.get_aspect(aspect_id, user_id=user))


@aspects_app.command("ls")
def aspects_ls(
    entity: str = typer.Option(None, "--entity"),
    schema: str = typer.Option(None, "--schema", help="slug (every version) or slug@N"),
    include_retracted: bool = typer.Option(False, "--all", help="retracted ones too"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
    as_json: bool = JSON_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """List aspects, oldest first."""
    with open_store(url, token) as store:
        page = store.list_aspects(
            entity, schema, include_retracted=include_retracted, limit=limit, user_id=user
        )
    if as_json:
        print_json(page)
        return
    for aspect in page["items"]:
        _show(aspect, False)


@aspects_app.command("retract")
def aspects_retract(
    aspect_id: str = typer.Argument(...),
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Retract an aspect."""
    with open_store(url, token) as store:
        _show(store.retract_aspect(aspect_id, user_id=user), as_json)


def lineage(
    entity: str = typer.Argument(...),
    down: bool = typer.Option(False, "--down", help="what used ENTITY (default: its inputs)"),
    depth: int = typer.Option(3, "--depth", min=1, max=20, help="job hops"),
    as_json: bool = JSON_OPTION,
    user: str = USER_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Provenance: the jobs and inputs ENTITY came from (or, --down, what used it)."""
    with open_store(url, token) as store:
        graph = store.lineage(entity, "down" if down else "up", depth, user_id=user)
    if as_json:
        print_json(graph)
        return
    for edge in graph["edges"]:
        typer.echo(f"{edge['entity']}  {edge['relation']}  {edge['job']}")


def register(app: typer.Typer) -> None:
    """Add ``aspects`` and ``lineage`` to the ``satchel`` app."""
    app.add_typer(aspects_app, name="aspects")
    app.command()(lineage)
