"""Test helpers for Satchel and for code built on it: a clock to move by hand, and the blob
store conformance suite (:mod:`satchel.testing.blobstore`)."""

from satchel.testing.clock import ManualClock

__all__ = ["ManualClock"]
