"""``satchel policy`` (public or private) and ``satchel collections`` (add, rm, ls, show):
sharing artifacts (seed 002's policies and collections), on the embedded store or a server."""

from __future__ import annotations

import typer

from satchel.cli.common import (
    JSON_OPTION,
    SESSION_OPTION,
    TOKEN_OPTION,
    URL_OPTION,
    USER_OPTION,
    open_store,
    print_json,
)

__all__ = ["register"]

collections_app = typer.Typer(
    rich_markup_mode=None,
    help="Collections: named sets of artifacts (ls --collection NAME lists one).",
    no_args_is_help=True,
)

IDS_ARGUMENT = typer.Argument(..., metavar="ID...", help="artifact ids or URNs")


def policy(
    artifact_id: str = typer.Argument(..., metavar="ID"),
    value: str = typer.Argument(..., metavar="POLICY", help="public (or open) | private"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Make an artifact public (anyone who has its id or URL reads it, without a token) or
    private again."""
    with open_store(url, token) as store:
        meta = store.set_policy(artifact_id, value, user_id=user, session_id=session)
    if as_json:
        print_json(meta.to_dict())
    else:
        typer.echo(f"{meta.artifact_id}  {meta.policy or 'private'}")


@collections_app.command("add")
def add(
    collection: str = typer.Argument(..., metavar="NAME"),
    artifact_ids: list[str] = IDS_ARGUMENT,
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Add artifacts to a collection (all or none: each needs your write access)."""
    with open_store(url, token) as store:
        added = store.add_to_collection(collection, artifact_ids, user_id=user, session_id=session)
    if as_json:
        print_json({"collection": collection, "added": added})
    else:
        typer.echo(f"added {added} to {collection}")


@collections_app.command("rm")
def remove(
    collection: str = typer.Argument(..., metavar="NAME"),
    artifact_ids: list[str] = IDS_ARGUMENT,
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Remove artifacts from a collection (the artifacts stay)."""
    with open_store(url, token) as store:
        removed = store.remove_from_collection(
            collection, artifact_ids, user_id=user, session_id=session
        )
    if as_json:
        print_json({"collection": collection, "removed": removed})
    else:
        typer.echo(f"removed {removed} from {collection}")


@collections_app.command("ls")
def list_collections(
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """List the collections holding artifacts you can read, with how many (JSON lines with
    --json)."""
    cursor: str | None = None
    with open_store(url, token) as store:
        while True:
            page = store.list_collections(cursor=cursor, user_id=user, session_id=session)
            for found in page["collections"]:
                if as_json:
                    print_json(found, lines=True)
                else:
                    typer.echo(f"{found['collection']}  {found['artifacts']}")
            cursor = page["next_cursor"]
            if cursor is None:
                return


@collections_app.command("show")
def show(
    artifact_id: str = typer.Argument(..., metavar="ID"),
    session: str = SESSION_OPTION,
    user: str = USER_OPTION,
    as_json: bool = JSON_OPTION,
    url: str = URL_OPTION,
    token: str = TOKEN_OPTION,
) -> None:
    """Print the collections an artifact belongs to, one per line."""
    with open_store(url, token) as store:
        names = store.get_collections(artifact_id, user_id=user, session_id=session)
    if as_json:
        print_json({"artifact_id": artifact_id, "collections": names})
    else:
        for name in names:
            typer.echo(name)


def register(app: typer.Typer) -> None:
    app.command()(policy)
    app.add_typer(collections_app, name="collections")
