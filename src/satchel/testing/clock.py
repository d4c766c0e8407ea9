"""A clock tests move by hand (pass it as ``ArtifactStore(clock=...)``)."""

from __future__ import annotations

import time

__all__ = ["ManualClock"]


class ManualClock:
    """Real time plus however far it has been moved: ``clock()`` reads it, ``advance(s)`` moves
    it forward (or back), ``set(t)`` makes it read *t* now. Time keeps passing underneath, so
    things stored one after the other keep their order; ``ManualClock(frozen=t)`` reads *t*
    until moved instead."""

    def __init__(self, *, frozen: float | None = None) -> None:
        self._frozen = frozen is not None
        self._offset = frozen if frozen is not None else 0.0

    def _base(self) -> float:
        return 0.0 if self._frozen else time.time()

    def __call__(self) -> float:
        return self._base() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock *seconds* forward; return the new time."""
        self._offset += seconds
        return self()

    def set(self, now: float) -> None:
        """Make the clock read *now* (and go on from there)."""
        self._offset = now - self._base()

    def __repr__(self) -> str:
        return f"ManualClock(now={self()!r}, frozen={self._frozen})"
