"""The command-line face (``satchel``)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "main", "run_app"]


def main() -> None:
    """Entry point of the ``satchel`` console script."""
    argv = sys.argv[1:]
    if argv in (["--version"], ["version"]):  # answered before typer and rich load
        from satchel._version import __version__

        print(__version__)
        return
    if argv[:1] == ["ls"]:  # against a server: answered without typer, pydantic and httpx
        from satchel.cli.fastls import answer

        status = answer(argv[1:])
        if status is not None:
            sys.exit(status)
    run_app()


def run_app() -> None:
    """The full command line (typer), for every command."""
    # httpx imports its own command line (click, rich, pygments) when imported, 70-100 ms of
    # every command's start; this process never runs it, so that import is skipped (only in
    # the CLI's process: the library leaves httpx as it is).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from satchel.cli.app import app
    from satchel.cli.common import report_error
    from satchel.core.errors import ArtifactStoreError

    try:
        app()
    except (ArtifactStoreError, OSError) as exc:  # what a command did not catch: one line
        sys.exit(report_error(exc))


def __getattr__(name: str) -> Any:
    if name == "app":
        from satchel.cli.app import app

        return app
    raise AttributeError(name)
