"""Crash recovery for `satchel serve`.

Each running server keeps a marker file named for its process in ``{data_dir}/run/`` and
removes it when it stops cleanly. A server that starts and finds the marker of a process of
this host that no longer runs knows that process was killed, and repairs what a kill can leave
(``check_storage(repair=True)``, in the background while it serves): bytes stored but never
committed go to garbage collection, half-written temp files and staged bodies are removed, the
ledger is mended. Acknowledged writes need no recovery: they were durable before the answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from satchel._process import name_owner_is_dead, named_for_this_process
from satchel.core.api import ArtifactStoreAPI

__all__ = ["RunMarker", "recover"]

logger = logging.getLogger("satchel.server")


class RunMarker:
    """This server's marker in ``{data_dir}/run/``, and the markers crashed servers left."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / "run"
        self.path: Path | None = None

    def start(self) -> list[str]:
        """Place this process's marker; return (and remove) those of dead processes."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        crashed = []
        for entry in os.scandir(self.directory):
            if name_owner_is_dead(entry.name) is True:
                crashed.append(entry.name)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
        self.path = self.directory / named_for_this_process("serve")
        self.path.touch(mode=0o600)
        return crashed

    def stop(self) -> None:
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.path = None


async def recover(store: ArtifactStoreAPI, crashed: list[str]) -> None:
    """Repair what the killed servers *crashed* left behind, and log what was done."""
    logger.warning("a previous server was killed (%s): checking storage", ", ".join(crashed))
    try:
        report = await store.check_storage(repair=True)
    except Exception:
        logger.exception("crash recovery failed; run `satchel storage check --repair`")
        return
    level = logging.WARNING if report["unresolved"] else logging.INFO
    logger.log(
        level,
        "crash recovery: %d repaired, %d unresolved, %d in flight (%s)",
        report["repaired"],
        report["unresolved"],
        report["in_flight"],
        report["counts"],
    )
