"""The progress contract of every transfer, stated once.

A progress callback is called as ``callback(done, total)``: *done* is the number of bytes
transferred so far and never decreases; *total* is the size when it is known (``None`` while it
is not). Every transfer that completes ends with exactly one call whose *done* equals *total*
(``(0, 0)`` for an empty one; a transfer of unknown size ends with ``(done, done)``). A
callback may be a plain function or a coroutine function.

A callback that raises aborts the transfer: its exception reaches the caller unchanged, and
nothing partial is kept (an upload stores no artifact, a download to a file leaves no file).

:class:`TransferProgress` adds up the parts of one transfer sent in parallel, from tasks or
threads, and reports the sum through one callback under a lock: calls never overlap, *done*
strictly increases and the last call is ``(total, total)``, however the parts interleave.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from satchel.core.errors import InvalidRequestError

__all__ = ["ProgressCallback", "ProgressReporter", "TransferProgress"]

ProgressCallback = Callable[[int, int | None], Any]
"""Called as ``callback(bytes_done, total_bytes_or_None)``; see the module's contract."""


async def _call(callback: ProgressCallback, done: int, total: int | None) -> None:
    result = callback(done, total)
    if inspect.isawaitable(result):
        await result


class ProgressReporter:
    """The one reporting point of a single stream: counts bytes as they pass and calls the
    callback by the contract above (nothing when there is no callback)."""

    __slots__ = ("_callback", "_done", "_finished", "_total")

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self._total = total
        self._done = 0
        self._finished = False

    @property
    def done(self) -> int:
        return self._done

    async def advance(self, size: int) -> None:
        """*size* more bytes went through (an empty chunk reports nothing)."""
        if size <= 0:
            return
        self._done += size
        if self._callback is not None:
            self._finished = self._total is not None and self._done == self._total
            await _call(self._callback, self._done, self._total)

    async def finish(self) -> None:
        """The stream ended whole: make the last call ``(done, done)`` unless it was already."""
        if self._callback is None or self._finished:
            return
        self._finished = True
        await _call(self._callback, self._done, self._done)


class TransferProgress:
    """One transfer's progress, summed over parts that may be sent in parallel (threads or
    tasks): give each part :meth:`part` as its progress callback.

    Args:
        callback: a plain function (it is called under a lock, from whichever thread reports).
        total: the size of the whole transfer, when known.

    Example::

        progress = TransferProgress(print, total=len(first) + len(second))
        await asyncio.gather(
            store.upload_part(upload_id, 1, first, progress_callback=progress.part()),
            store.upload_part(upload_id, 2, second, progress_callback=progress.part()),
        )
    """

    def __init__(self, callback: Callable[[int, int | None], object], total: int | None) -> None:
        if total is not None and (isinstance(total, bool) or total < 0):
            raise InvalidRequestError(f"total {total!r} is out of range")
        self._callback = callback
        self._total = total
        self._done = 0
        self._reported = -1
        self._lock = threading.Lock()

    @property
    def done(self) -> int:
        return self._done

    def part(self) -> ProgressCallback:
        """A progress callback for one part: it takes that part's own ``(done, total)``."""
        seen = 0

        def report(done: int, total: int | None) -> None:
            nonlocal seen
            with self._lock:
                if done <= seen:
                    return
                self._done += done - seen
                seen = done
                if self._done > self._reported:
                    self._reported = self._done
                    self._callback(self._done, self._total)

        return report

    def finish(self) -> None:
        """Every part is sent: a transfer of unknown size reports ``(done, done)`` last."""
        with self._lock:
            if self._total is None or self._reported != self._total:
                self._reported = self._done
                self._callback(self._done, self._total if self._total is not None else self._done)
