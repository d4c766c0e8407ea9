"""Seed 000's README examples, transcribed with only the import changed to ``satchel``.

Each test keeps the seed's code as written (prints included) and adds assertions after it.
Where the seed leaves a name undefined (``data``, ``pdf_bytes``, ``session_id``…) the test
defines it first. Presigned and multipart URLs need the HTTP service, which this version does
not ship: those calls raise NotSupportedError, asserted on their own.

The tests are grouped by the seed's sections, one module each; this conftest holds what they
share, as fixtures (under ``--import-mode=importlib`` a test module cannot import a sibling).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from satchel.testing.env import is_configuration

WriteFile = Callable[[str, int], bytes]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No configuration leaks in: no SATCHEL_/ARTIFACT_/SESSION_ variables, cwd in tmp_path."""
    for name in list(os.environ):
        if is_configuration(name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SATCHEL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write_file(path: str, size: int) -> bytes:
    data = (hashlib.sha256(path.encode()).digest() * (size // 32 + 1))[:size]
    Path(path).write_bytes(data)
    return data


@pytest.fixture
def write_file() -> WriteFile:
    """``write_file(path, size)``: write ``size`` deterministic bytes to ``path``; return them."""
    return _write_file
