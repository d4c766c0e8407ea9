"""Waiting for new events (the feed's long poll, the webhook deliverer's idle wait) ends when its
task is cancelled, even when the cancellation arrives just as events are committed: a server's
shutdown cancels those tasks and waits for them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from satchel.catalog import Catalog


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_a_cancelled_wait_ends_even_as_events_arrive(tmp_path: Path, turns: int) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    await catalog.migrate()
    try:

        async def follow() -> None:  # as the deliverer and a long poll do
            while True:
                await catalog.wait_for_events(30)

        for _ in range(20):
            waiting = asyncio.create_task(follow())
            for _ in range(2):
                await asyncio.sleep(0)  # it is waiting now
            catalog.events_committed()
            for _ in range(turns):
                await asyncio.sleep(0)  # the wake-up is on its way
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(waiting, 5)
    finally:
        await catalog.close()
