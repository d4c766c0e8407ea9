"""What the CLI tests share: the satchel command run in a subprocess with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from satchel.testing.env import is_configuration

__all__ = ["cli_env", "lines", "run"]


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: no Satchel or seed configuration, data under tmp_path."""
    env = {key: value for key, value in os.environ.items() if not is_configuration(key)}
    env["SATCHEL_DATA_DIR"] = str(tmp_path / "data")
    env.update(extra)
    return env


def run(
    tmp_path: Path, *args: str, ok: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m satchel ARGS`` in *tmp_path*; with *ok*, it must exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "satchel", *args],
        cwd=tmp_path,
        env=cli_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def lines(text: str) -> list[Any]:
    """The objects of JSON-lines output (what ``--json`` prints for a stream of items)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
