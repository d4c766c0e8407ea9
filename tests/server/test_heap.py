"""``satchel serve`` caps glibc's malloc arenas before any thread starts (see
satchel/server/heap.py), and an operator's own MALLOC_ARENA_MAX wins."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import os; from satchel.server.heap import limit_arenas; "
    "print(limit_arenas(int(os.environ['ARENAS'])), os.environ.get('MALLOC_ARENA_MAX'))"
)


def _probe(arenas: int, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, "ARENAS": str(arenas), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_arena_limit_is_set_in_the_process_and_for_its_workers() -> None:
    assert _probe(2) == "True 2"


def test_zero_leaves_glibc_alone_and_the_operator_wins() -> None:
    assert _probe(0) == "False None"
    assert _probe(2, MALLOC_ARENA_MAX="4") == "False 4"
