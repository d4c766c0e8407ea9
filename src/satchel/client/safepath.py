"""``SafePath``: a path that is also a context manager which leaves its file alone (seed 002:
``as_local_file(path)`` and a local-file artifact's ``as_local_file()`` are kept after a
``with``)."""

from __future__ import annotations

import pathlib
import sys
from types import TracebackType

__all__ = ["SafePath"]

if sys.platform == "win32":  # pragma: no cover - Satchel is tested on POSIX
    _ConcretePath = pathlib.WindowsPath
else:
    _ConcretePath = pathlib.PosixPath


class SafePath(_ConcretePath):
    """A :class:`pathlib.Path` usable in a ``with`` (sync or async): the file stays on exit."""

    def __enter__(self) -> SafePath:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    async def __aenter__(self) -> SafePath:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None
