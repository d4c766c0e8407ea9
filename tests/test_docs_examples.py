"""Every ```python example in README.md and docs/*.md runs as written (top-level ``await``
allowed), in a fresh working directory with no Satchel configuration in the environment."""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
from pathlib import Path

import pytest

from satchel.testing.env import is_configuration

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _examples() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        text = document.read_text()
        for number, match in enumerate(_BLOCK.finditer(text), start=1):
            found.append((f"{document.relative_to(ROOT)}#{number}", match.group(1)))
    return found


EXAMPLES = _examples()


def test_the_documents_have_examples() -> None:
    assert len(EXAMPLES) >= 1


@pytest.mark.parametrize(("where", "source"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_the_example_runs(
    where: str, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if is_configuration(name):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    code = compile(source, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, object] = {"__name__": "__example__"}
    result = eval(code, namespace)  # an example is code of this repository's own docs
    if inspect.iscoroutine(result):
        asyncio.run(result)
