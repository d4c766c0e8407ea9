"""Time as a store sees it: any zero-argument callable returning epoch seconds.

A store takes ``clock=`` (default :func:`time.time`); tests pass a
:class:`satchel.testing.ManualClock` and move it instead of patching or sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "system_clock"]

Clock = Callable[[], float]
"""Returns the current time in seconds since the epoch."""

system_clock: Clock = time.time
