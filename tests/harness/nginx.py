"""A throwaway nginx for the tests: 127.0.0.1 at a free port, in the foreground, with its pid,
logs and temporary files in a directory of its own, serving a site the test gives (the
``server``/``upstream`` blocks an operator writes, e.g. docs/operations.md's). Debian's
``nginx-light`` (scripts/system-deps.sh); a test that needs it fails, never skips, without it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.harness.processes import free_port, launch_on_a_free_port

__all__ = ["NginxServer", "start_nginx"]

_START_TIMEOUT = 20
_TEMPS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")

_MAIN = """\
daemon off;
master_process on;
worker_processes 1;
%(user)s
pid %(base)s/nginx.pid;
error_log %(base)s/error.log warn;
events { worker_connections 256; }
http {
    access_log %(base)s/access.log;
    default_type application/octet-stream;
%(temps)s
%(site)s
}
"""


@dataclasses.dataclass
class NginxServer:
    executable: str
    base: Path
    port: int
    site: Callable[[int], str]
    """The site's configuration for a port to listen on (127.0.0.1)."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.base / "error.log"

    def launch(self) -> None:
        temps = "\n".join(f"    {kind}_temp_path {self.base / 'temp' / kind};" for kind in _TEMPS)
        for kind in _TEMPS:
            (self.base / "temp" / kind).mkdir(parents=True, exist_ok=True)
        # as root, nginx's workers would run as nobody; the tests' files are the caller's own
        user = "user root;" if os.geteuid() == 0 else ""
        conf = self.base / "nginx.conf"
        conf.write_text(
            _MAIN % {"base": self.base, "user": user, "temps": temps, "site": self.site(self.port)}
        )
        argv = [self.executable, "-c", str(conf), "-p", str(self.base), "-e", str(self.log_path)]
        with open(self.base / "stderr.log", "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.process.returncode}): {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"nginx did not listen within {_START_TIMEOUT} s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # fast shutdown of the master and its workers
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, size: int = 3000) -> str:
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                text += (self.base / name).read_text(errors="replace")[-size:]
            except OSError:
                continue
        return text or "(no log)"


def start_nginx(base: Path, site: Callable[[int], str]) -> NginxServer:
    """An nginx serving *site* from *base*, listening once this returns."""
    executable = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(executable).exists():
        raise RuntimeError(
            "nginx is not installed: run `make system-deps` (scripts/system-deps.sh)"
        )
    base.mkdir(parents=True, exist_ok=True)
    server = NginxServer(executable=executable, base=base, port=free_port(), site=site)
    return launch_on_a_free_port(server, in_use="Address already in use")
