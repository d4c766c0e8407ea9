"""What every ``satchel`` command shares: the store it works on, options, output and errors.

Output follows mc and ``aws s3``: results on stdout (``--json``: one JSON object per line for
commands that report items, one object for the rest), notes and progress bars on stderr
(``-q`` silences both), errors on stderr always. Exit status: 0 all done, 1 something failed
(the rest was still done, and a summary says what), 2 bad usage or input.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

import typer
from rich.markup import escape

from satchel.cli.base import (
    console,
    human_size,
    minutes,
    open_store,
    print_error,
    print_json,
    report_error,
)
from satchel.core.errors import ArtifactStoreError, InvalidRequestError
from satchel.core.unset import UNSET, Unset

__all__ = [
    "JSON_OPTION",
    "QUIET_OPTION",
    "SESSION_OPTION",
    "TOKEN_OPTION",
    "URL_OPTION",
    "USER_OPTION",
    "Outcome",
    "fail",
    "human_size",
    "meta_option",
    "minutes",
    "open_store",
    "print_json",
    "progress_bar",
    "replacing",
    "report_error",
    "stderr",
    "stdout",
    "ttl_option",
]

stdout = console()
stderr = console(stderr=True)

URL_OPTION = typer.Option(
    None, "--url", metavar="URL", help="server URL (default SATCHEL_URL; none: embedded)"
)
TOKEN_OPTION = typer.Option(
    None, "--token", metavar="TOKEN", help="bearer token or API key (default SATCHEL_TOKEN)"
)
USER_OPTION = typer.Option(None, "--user", metavar="USER", help="act as this user")
SESSION_OPTION = typer.Option(
    None, "--session", metavar="SESSION", help="act in / list this session"
)
JSON_OPTION = typer.Option(False, "--json", help="machine-readable JSON on stdout")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="no notes or progress bars on stderr")


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print *message* as an error and return the exit to raise (1: failed, 2: bad usage)."""
    print_error(message)
    return typer.Exit(code)


ProgressCallback = Callable[[int, int | None], None]


class _Bars:
    """Rich progress bars on stderr (drawn only on a terminal, never with ``-q``)."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=True,
            disable=quiet or not stderr.is_terminal,
        )

    def bar(self, description: str, total: int | None) -> ProgressCallback:
        """A new bar; returns the library's progress callback for it."""
        task = self.progress.add_task(description, total=total)

        def report(done: int, total_bytes: int | None) -> None:
            self.progress.update(task, completed=done, total=total_bytes)

        return report


@contextmanager
def progress_bar(description: str, total: int | None, *, quiet: bool = False) -> Iterator[Any]:
    """One transfer bar; yields its progress callback."""
    with progress_bars(quiet=quiet) as bars:
        yield bars.bar(description, total)


@contextmanager
def progress_bars(*, quiet: bool = False) -> Iterator[_Bars]:
    """A set of bars (``bars.bar(description, total)`` adds one, e.g. hashing then upload)."""
    bars = _Bars(quiet)
    with bars.progress:
        yield bars


@contextmanager
def replacing(target: Path) -> Iterator[BinaryIO]:
    """A new file in *target*'s directory (a fresh name, never an existing file or a link
    followed) that becomes *target* when the block ends, and is removed if it fails; written
    with the permissions the umask gives new files."""
    from satchel.client.localfiles import fresh_file

    fd, temp = fresh_file(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise


class Outcome:
    """The items of a command that works on several: prints each result as it comes, keeps
    going past failures, and ends with a summary and exit status 1 when any failed."""

    def __init__(self, verb: str, *, as_json: bool, quiet: bool) -> None:
        self.verb = verb
        self.as_json = as_json
        self.quiet = quiet
        self.done = 0
        self.failed = 0
        self.bad_input = 0

    def ok(self, record: dict[str, Any], text: str) -> None:
        self.done += 1
        if self.as_json:
            print_json(record, lines=True)
        else:
            typer.echo(text)

    def note(self, text: str) -> None:
        if not self.quiet:
            stderr.print(text, highlight=False, markup=False)

    def error(self, subject: str, exc: ArtifactStoreError | OSError | str) -> None:
        self.failed += 1
        if isinstance(exc, InvalidRequestError):
            self.bad_input += 1
        if isinstance(exc, ArtifactStoreError):
            message = f"{exc.code}: {exc.message}"
        elif isinstance(exc, OSError):
            message = exc.strerror or str(exc)
        else:
            message = exc
        text = escape(f"{subject}: {message}")
        stderr.print(f"[red]error:[/red] {text}", highlight=False, markup=True)
        if self.as_json:
            print_json({"subject": subject, "error": message}, lines=True)

    def finish(self) -> None:
        """Exit 1 when some item failed (2 when nothing was done and every failure was bad
        input, as for a single item)."""
        if self.failed:
            total = self.done + self.failed
            usage = self.done == 0 and self.bad_input == self.failed
            raise fail(f"{self.failed} of {total} not {self.verb}", 2 if usage else 1)


def meta_option(raw: str | None, option: str = "--meta") -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise fail(f"{option} is not JSON: {exc}", 2) from None
    if not isinstance(value, dict):
        raise fail(f"{option} must be a JSON object", 2)
    return value


def ttl_option(raw: str | None) -> int | Unset | None:
    """``--ttl``: seconds, or ``none`` for no expiry; absent → UNSET."""
    if raw is None:
        return UNSET
    if raw.lower() == "none":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise fail("--ttl is a positive number of seconds or 'none'", 2)
    return int(raw)
