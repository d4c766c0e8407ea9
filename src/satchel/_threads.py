"""Running blocking work in worker threads safely."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

__all__ = ["in_thread", "settled", "started_in_thread"]

_T = TypeVar("_T")


async def in_thread(
    func: Callable[..., _T], *args: Any, executor: Executor | None = None, **kwargs: Any
) -> _T:
    """Run *func* in a worker thread (of *executor*, else the loop's default) and, if cancelled,
    wait for the thread to finish.

    A thread cannot be interrupted: returning early would let the caller close a file
    descriptor (or reuse a connection) the thread still uses, and a reused descriptor number
    would then receive another blob's bytes.
    """
    call = functools.partial(func, *args, **kwargs) if kwargs else func
    return await settled(started_in_thread(call, *(() if kwargs else args), executor=executor))


def started_in_thread(
    func: Callable[..., _T], *args: Any, executor: Executor | None = None
) -> asyncio.Future[_T]:
    """*func* started in a worker thread now; its result later, through :func:`settled`."""
    return asyncio.get_running_loop().run_in_executor(executor, func, *args)


async def settled(future: asyncio.Future[_T]) -> _T:
    """The result of a thread's *future*; if cancelled, wait for the thread to finish first."""
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise
