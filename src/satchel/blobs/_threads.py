"""Running blocking file work in worker threads safely."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["in_thread"]

_T = TypeVar("_T")


async def in_thread(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run *func* in a worker thread and, if cancelled, wait for the thread to finish.

    A thread cannot be interrupted: returning early would let the caller close a file
    descriptor the thread still uses, and a reused descriptor number would then receive another
    blob's bytes.
    """
    future = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
