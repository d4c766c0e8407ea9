"""``UNSET``: the value of an argument the caller left out.

Several arguments mean different things when left out and when given as ``None``: ``ttl`` left
out takes the scope's default, ``ttl=None`` means "never expires". ``Unset`` is a one-member
enum, so ``ttl: int | None | Unset = UNSET`` type-checks and ``if ttl is UNSET`` narrows it.
"""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["UNSET", "Unset"]


class Unset(enum.Enum):
    """The type of :data:`UNSET`."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = Unset.UNSET
"""Marks an argument the caller did not give."""
