"""Keep a long-running server's heap from creeping up.

Streaming moves bytes in 1 MiB chunks through the event loop and the blob I/O threads. CPython
frees each chunk at once, but glibc serves large blocks from per-thread arenas (up to eight per
core) and keeps what each arena once held, so under mixed load a server's resident size grows
for minutes though nothing leaks: +22 % to +35 % over two to six minutes of the soak while
tracemalloc stayed flat (docs/benchmarks.md, "Soak"). Two arenas keep it flat (+4.5 %) at the
same throughput. ``satchel serve`` sets the limit (``SATCHEL_HEAP_ARENAS``, 2; 0 leaves glibc's
default) before any thread starts, in the process and, through ``MALLOC_ARENA_MAX``, in its
workers. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["limit_arenas"]

_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at *arenas* (0: leave the default); True when it took effect.

    An operator's own ``MALLOC_ARENA_MAX`` wins.
    """
    if arenas <= 0 or "MALLOC_ARENA_MAX" in os.environ:
        return False
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)  # worker processes read it at start
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
