"""What the ``satchel`` commands share that loads neither typer nor the client library: the
consoles, error lines and their exit status, JSON lines, sizes and times, and the store a
command works on (its client loaded when it is opened). rich loads on first print.

:mod:`satchel.cli.common` offers all of it to the commands; ``satchel ls`` against a server
(:mod:`satchel.cli.fastls`) uses it directly, so both print through the same code.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from satchel.core.errors import ArtifactStoreError, InvalidRequestError

if TYPE_CHECKING:
    from rich.console import Console

    from satchel.client.sync import SyncArtifactStore

__all__ = [
    "console",
    "echo",
    "human_size",
    "minutes",
    "open_store",
    "print_error",
    "print_json",
    "report_error",
]

# Markup is off: what is printed holds names and messages callers chose ("[bold]" in a filename
# is text). Pipes get a width no table reaches, so nothing is cut.
_PIPE_WIDTH = 1 << 16


def console(*, stderr: bool = False) -> Console:
    """The console of stdout (or *stderr*): a terminal's width, or unbounded on a pipe."""
    return _console(stderr)


@functools.cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, markup=False)
    return Console(stderr=stderr, markup=False, width=_PIPE_WIDTH)


def print_error(message: str) -> None:
    """*message* as an error line on stderr (``error:`` in red on a terminal)."""
    from rich.markup import escape

    console(stderr=True).print(f"[red]error:[/red] {escape(message)}", highlight=False, markup=True)


def report_error(exc: ArtifactStoreError | OSError) -> int:
    """Print what a command did not catch as one line (never a traceback) and return its exit
    status: 2 for bad input, 1 otherwise (:func:`satchel.cli.main` does this for every
    command)."""
    if isinstance(exc, ArtifactStoreError):
        code = 2 if isinstance(exc, InvalidRequestError) else 1
        print_error(f"{exc.code}: {exc.message}")
        return code
    where = f": {exc.filename}" if exc.filename else ""  # a local file that cannot be used
    print_error(f"{exc.strerror or exc}{where}")
    return 1


def echo(text: str) -> None:
    """*text* as a line on stdout, at once (an id, a name)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_json(value: Any, *, lines: bool = False) -> None:
    """*value* as JSON on stdout: indented, or on one line (``lines``: one item of a stream)."""
    text = json.dumps(value, default=str) if lines else json.dumps(value, indent=2, default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def human_size(size: int) -> str:
    """*size* bytes as people read it: ``512 B``, ``4.0 KiB``, ``1.5 GiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def minutes(iso: str) -> str:
    """An ISO 8601 UTC time to the minute (``2026-12-01 01:45``)."""
    return iso[:16].replace("T", " ")


@contextmanager
def open_store(url: str | None, token: str | None) -> Iterator[SyncArtifactStore]:
    """The store a command works on (:func:`satchel.connect`'s rule: a URL → that server; none →
    the embedded store under the data directory), closed when the command ends."""
    from satchel.client.sync import connect_sync

    store = connect_sync(url, token, default_backend="filesystem")
    try:
        yield store
    finally:
        with suppress(ArtifactStoreError):
            store.close()
