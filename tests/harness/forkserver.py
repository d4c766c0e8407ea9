"""Start ``satchel serve`` processes by forking a warm interpreter instead of starting Python.

A ``satchel serve`` subprocess spends most of its start-up (about 1.8 of 2.2 CPU-seconds on the
CI machine) importing Python modules. The store suite's ``remote`` backend takes a fresh server
for every test (hundreds per run), so :class:`ForkServer` keeps one helper process per test
worker that has imported what the server imports, and forks it for each server: the child sets
the server's environment, working directory and log file and runs the CLI's own entry point
(``satchel.cli.main`` with ``serve`` arguments), exactly what ``python -m satchel serve`` runs
after its imports. Each child is a real server process on its own port and data directory,
stopped by its own PID.

The helper is single-threaded when it forks (it checks), reaps its children and reports their
exit status when asked. The protocol is one JSON object per line on its stdin and stdout.

Run as a script (``python tests/harness/forkserver.py``) by :class:`ForkServer`; it imports
nothing from the tests.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["ForkServer", "ForkedProcess", "shared_fork_server"]

#: what ``satchel`` commands and ``satchel serve`` import lazily, besides satchel's own modules
#: (the helper loads all of them once; a module missing here is imported by the child as usual)
WARM_MODULES = (
    "aiobotocore.session",
    "aiosqlite",
    "alembic.command",
    "alembic.config",
    "alembic.runtime.migration",
    "alembic.script",
    "asyncpg",
    "httpx",
    "rich.console",
    "rich.markup",
    "rich.progress",
    "rich.table",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "typer",
    "uvicorn",
    "uvicorn.config",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.loops.uvloop",
    "uvicorn.main",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.websockets.auto",
    "uvicorn.server",
)


# -- the helper process ---------------------------------------------------------------------------


def _warm() -> None:
    import importlib
    import pkgutil

    import satchel

    names = [
        info.name
        for info in pkgutil.walk_packages(satchel.__path__, "satchel.")
        if not info.name.endswith("__main__")  # satchel.__main__ runs the CLI when imported
    ]
    for name in [*names, *WARM_MODULES]:
        with contextlib.suppress(ImportError):  # an optional extra the child would not load
            importlib.import_module(name)
    _main_path()
    gc.freeze()  # what was loaded stays out of the children's collections (and their pages)


def _main_path() -> str:
    import importlib.util

    spec = importlib.util.find_spec("satchel.__main__")
    assert spec is not None
    assert spec.origin is not None
    return spec.origin


def _redirect(fd: int, path: str, flags: int) -> None:
    opened = os.open(path, flags, 0o644)
    os.dup2(opened, fd)
    os.close(opened)


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become ``python -m satchel ARGS`` as *request* describes (its
    environment, working directory and standard streams) and exit as that process would;
    never returns."""
    import io

    # as a fresh interpreter has them: Python's ^C handler, SIGPIPE ignored (as here)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    appending = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    _redirect(0, request.get("stdin") or os.devnull, os.O_RDONLY)
    _redirect(1, request["stdout"], appending)
    _redirect(2, request["stderr"], appending)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [_main_path(), *request["args"]]  # as `python -m satchel` sets it
    from satchel.cli import main

    code = 0
    try:
        main()
    except SystemExit as exc:
        code = _exit_status(exc.code)
    except KeyboardInterrupt:
        import traceback

        traceback.print_exc()  # then, as the interpreter does, die of SIGINT
        _leave(signal.SIGINT)
    except BaseException:
        import traceback

        traceback.print_exc()  # as the interpreter reports an uncaught exception
        code = 1
    _leave(None, code)


def _leave(die_of: signal.Signals | None, code: int = 0) -> None:
    # What the interpreter does on the way out that a caller could notice: join non-daemon
    # threads, run atexit handlers, flush the streams. The rest of its finalisation (tearing
    # down every module the helper loaded) is skipped: it took seconds per child.
    threading._shutdown()  # type: ignore[attr-defined]
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if die_of is not None:
        signal.signal(die_of, signal.SIG_DFL)
        os.kill(os.getpid(), die_of)
    os._exit(code)


def _exit_status(code: object) -> int:
    """The exit status of ``sys.exit(code)``, as the interpreter computes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(Exception):
        print(code, file=sys.stderr)
    return 1


def _serve_forever() -> None:
    _warm()
    statuses: dict[int, int] = {}  # reaped children's return codes (Popen's convention)
    cpu: dict[int, float] = {}  # and the CPU time each used (for measurements)

    def reap(*_: object) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            statuses[pid] = os.waitstatus_to_exitcode(status)
            cpu[pid] = usage.ru_utime + usage.ru_stime

    signal.signal(signal.SIGCHLD, reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the test worker's ^C is not ours
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        if "status" in request:
            reap()
            pid = request["status"]
            answer: dict[str, Any] = {"returncode": statuses.get(pid), "cpu": cpu.get(pid)}
        else:
            if threading.active_count() != 1:
                answer = {"error": f"{threading.active_count()} threads: cannot fork safely"}
            else:
                out.flush()
                pid = os.fork()
                if pid == 0:
                    try:
                        _child(request)  # does not return
                    except BaseException:  # it failed before it could run satchel
                        import traceback

                        traceback.print_exc()
                    os._exit(1)
                answer = {"pid": pid}
        out.write(json.dumps(answer) + "\n")
        out.flush()


# -- the test side --------------------------------------------------------------------------------


class ForkServer:
    """One helper process; :meth:`spawn` starts ``satchel`` through it."""

    def __init__(self, env: dict[str, str]) -> None:
        self._lock = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            bufsize=1,
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        process = self._process
        assert process.stdin is not None
        assert process.stdout is not None
        with self._lock:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server exited ({process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def spawn(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path,
        stdout: Path,
        stderr: Path | None = None,
        stdin: Path | None = None,
    ) -> ForkedProcess:
        """``satchel ARGS`` in a forked child with exactly *env*, in *cwd*; its output appended
        to *stdout* and *stderr* (the same file if None), its input read from *stdin* (or
        /dev/null)."""
        request = {
            "args": args,
            "env": env,
            "cwd": str(cwd),
            "stdout": str(stdout),
            "stderr": str(stderr or stdout),
            "stdin": None if stdin is None else str(stdin),
        }
        return ForkedProcess(self, int(self._ask(request)["pid"]))

    def returncode(self, pid: int) -> int | None:
        code = self._ask({"status": pid})["returncode"]
        return None if code is None else int(code)

    def close(self) -> None:
        """Stop the helper (its children are stopped by whoever started them)."""
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


class ForkedProcess:
    """What the harness uses of :class:`subprocess.Popen`, for a child of the fork server
    (held by a pidfd, so a signal never reaches another process that reused the PID)."""

    def __init__(self, forks: ForkServer, pid: int) -> None:
        self._forks = forks
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd = os.pidfd_open(pid)

    def _exited(self, timeout: float = 0) -> bool:
        ready, _, _ = select.select([self._pidfd], [], [], timeout)
        return bool(ready)

    def poll(self) -> int | None:
        if self.returncode is None and self._exited():
            # the helper reaps its children as they exit; ask until it has
            while (code := self._forks.returncode(self.pid)) is None:
                time.sleep(0.005)
            self.returncode = code
            os.close(self._pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(f"satchel (pid {self.pid})", timeout or 0)
            self._exited(min(left, 1.0))
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it has just exited
                signal.pidfd_send_signal(self._pidfd, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_SHARED: list[ForkServer] = []


def shared_fork_server() -> ForkServer:
    """This process's fork server, started on first use and stopped when the process exits."""
    if not _SHARED:
        import atexit

        _SHARED.append(ForkServer(dict(os.environ)))
        atexit.register(_SHARED[0].close)
    return _SHARED[0]


if __name__ == "__main__":
    _serve_forever()
