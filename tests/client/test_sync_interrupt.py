"""^C while the sync facade waits: the call it was waiting for is cancelled on the facade's loop
too, so closing the store afterwards does not wait for a request nobody will read."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from satchel import ArtifactStore
from satchel.client.sync import SyncArtifactStore


def test_an_interrupted_call_is_cancelled_on_the_loop() -> None:
    cancelled = threading.Event()

    async def waits_long() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    facade = SyncArtifactStore(ArtifactStore())
    # SIGINT as an interactive process has it (a test worker may run with it ignored)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # ^C as the terminal sends it: a real SIGINT (it interrupts the wait for the result)
        timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            facade.call(waits_long)
        timer.join()
        assert cancelled.wait(5), "the call went on running on the facade's loop"
        assert time.monotonic() - started < 10
    finally:
        signal.signal(signal.SIGINT, previous)
        facade.close()
