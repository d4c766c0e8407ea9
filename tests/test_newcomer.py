"""A newcomer's first ten minutes, as the README tells them: from a fresh clone, `make run` (which
creates the virtualenv and installs the runtime), then every shell example of the README, in
order, in a second shell. Nothing is shortened or rewritten on the way: if a README command
stops working, this fails."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.harness.processes import free_port

from satchel.testing.env import is_configuration

ROOT = Path(__file__).resolve().parent.parent
_BASH = re.compile(r"^```bash\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _readme_blocks() -> list[str]:
    return [match.group(1) for match in _BASH.finditer((ROOT / "README.md").read_text())]


def _newcomer_env(port: int) -> dict[str, str]:
    """A shell as a newcomer has one: no Satchel configuration, no virtualenv active."""
    env = {k: v for k, v in os.environ.items() if not is_configuration(k)}
    env.pop("VIRTUAL_ENV", None)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env["SATCHEL_PORT"] = str(port)
    return env


@pytest.mark.timeout(900)
def test_the_readme_from_a_fresh_clone(tmp_path: Path) -> None:
    setup, *examples = _readme_blocks()
    commands = [line.split("#")[0].strip() for line in setup.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]  # the two set-up commands; this is `make test`
    assert len(examples) >= 2

    clone = tmp_path / "satchel"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    port = free_port()
    env = _newcomer_env(port)
    log = (tmp_path / "make-run.log").open("wb")
    server = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: make, and the server it starts
    )
    try:
        _wait_for(server, f"http://127.0.0.1:{port}/health", tmp_path / "make-run.log")
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", "\n".join(examples)],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert ran.returncode == 0, f"{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"
        assert "scope user of alice, kept until deleted" in ran.stderr
        assert (clone / "copy.txt").read_text() == "quarterly numbers\n"
        installed = subprocess.run(
            [str(clone / ".venv" / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.lower()
        for tool in ("pytest", "mypy", "ruff", "moto", "asyncpg"):  # make run: runtime only
            assert f"\n{tool}==" not in f"\n{installed}", tool
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _wait_for(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until *url* answers (make run first creates the virtualenv and installs: minutes)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"make run exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"make run did not serve within 10 minutes:\n{log.read_text()[-3000:]}")
