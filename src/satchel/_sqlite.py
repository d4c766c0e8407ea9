"""SQLite helpers shared by the catalog engine and the SQLite blob backend."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

__all__ = ["enable_wal"]


def enable_wal(cursor: Any, timeout_seconds: float = 30) -> None:
    """Switch the database behind *cursor* to WAL, retrying while another connection does too.

    Two processes opening a new file at once both try to convert it; SQLite answers the loser
    "database is locked" at once, without consulting the busy timeout (deadlock avoidance).
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
