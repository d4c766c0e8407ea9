"""What the CLI tests share: the satchel command run in a child process with a clean environment.

:func:`run` forks the command from a warm interpreter (tests/harness/forkserver.py): a process
of its own with exactly the given environment, working directory, arguments and streams, that
runs ``satchel.cli.main`` as ``python -m satchel`` does and ends the way that process would,
without a second of interpreter start-up and imports each time. :func:`run_fresh` (or
``fresh_python=True``) runs the real ``python -m satchel`` instead: every CLI test module does
so for some of its commands, so each command family also runs in a new interpreter (where an
import that only works once another module was loaded would break).
"""

from __future__ import annotations

import io
import json
import locale
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.harness.forkserver import shared_fork_server

from satchel.testing.env import is_configuration

__all__ = ["cli_env", "lines", "run", "run_fresh"]

TIMEOUT = 120


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: no Satchel or seed configuration, data under tmp_path."""
    env = {key: value for key, value in os.environ.items() if not is_configuration(key)}
    env["SATCHEL_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def run(
    tmp_path: Path, *args: str, ok: bool = True, fresh_python: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m satchel ARGS`` in *tmp_path* (forked, or a new interpreter with
    *fresh_python*); with *ok*, it must exit 0."""
    argv = [sys.executable, "-m", "satchel", *args]
    if fresh_python:
        result = subprocess.run(
            argv,
            cwd=tmp_path,
            env=cli_env(tmp_path, **env),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    else:
        result = _forked(argv, tmp_path, cli_env(tmp_path, **env))
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def run_fresh(
    tmp_path: Path, *args: str, ok: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    """:func:`run` as a new ``python -m satchel`` process."""
    return run(tmp_path, *args, ok=ok, fresh_python=True, **env)


def _forked(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """What ``subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)`` returns,
    for the command forked from the warm interpreter (its output through temporary files)."""
    with tempfile.TemporaryDirectory(prefix="satchel-cli-") as scratch:
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        process = shared_fork_server().spawn(argv[3:], env, cwd, stdout=out, stderr=err)
        try:
            code = process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(argv, code, _text(out), _text(err))


def _text(path: Path) -> str:
    """*path* decoded as ``text=True`` decodes a pipe (locale encoding, universal newlines)."""
    data = path.read_bytes() if path.exists() else b""
    return io.TextIOWrapper(io.BytesIO(data), encoding=locale.getpreferredencoding(False)).read()


def lines(text: str) -> list[Any]:
    """The objects of JSON-lines output (what ``--json`` prints for a stream of items)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
