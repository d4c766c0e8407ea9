"""CLI tests: reuse the real-server harness of tests/server/conftest.py (``server``).

The suite runs with ``--import-mode=importlib``, so the harness is loaded from its file and its
fixture re-exported here rather than imported as a package module.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

_PATH = Path(__file__).resolve().parent.parent / "server" / "conftest.py"
_NAME = "satchel_tests_server_harness"


def _load() -> Any:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


harness = _load()
server = harness.server
