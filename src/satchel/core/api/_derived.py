"""Marks the methods of the contract that are written once, in terms of the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["derived", "is_derived"]

_F = TypeVar("_F", bound=Callable[..., Any])
_MARK = "__satchel_derived__"


def derived(method: _F) -> _F:
    """Declare *method* derived: every face inherits this one implementation (a test checks
    that no face writes its own)."""
    setattr(method, _MARK, True)
    return method


def is_derived(method: object) -> bool:
    return bool(getattr(method, _MARK, False))
