"""How fast the `satchel` command answers: `--help`, `version` and `ls` against a running server,
each against the floor every Python command pays (starting the interpreter) and, for `ls`, the
same listing fetched by curl (the HTTP round trip alone), measured in the same run. `ls` runs
twice: as the console script runs it (the lean path, `satchel.cli.fastls`) and through the full
command line (typer and the client library: what the lean path saves, and what any `ls` it
hands over costs).

    .venv/bin/python bench/startup.py [--runs 9]

A server (`satchel serve`'s app under uvicorn, fresh data directory, 20 artifacts) runs on a
free loopback port. Each command runs --runs times in a fresh process (wall time, so imports,
the request and exit all count); the median is printed with its ratio to the baselines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from servers import TOKEN, free_port, start

VENV = Path(sys.executable).parent


def wall(argv: list[str], runs: int, env: dict[str, str]) -> float:
    """Median seconds of *runs* fresh runs of *argv* (each must exit 0)."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="satchel-bench-startup-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(["uvicorn", "--loop", "uvloop", "--http", "httptools"], root / "data", port)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        for number in range(20):
            httpx.post(
                f"{url}/v1/artifacts?filename=f{number}.txt&scope=sandbox",
                content=b"x" * 4096,
                headers=headers,
            ).raise_for_status()
        env = {  # the server is on loopback: no proxy (one would also send ls to the full CLI)
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SATCHEL_") and k.lower() not in ("http_proxy", "all_proxy")
        }
        env.update(SATCHEL_URL=url, SATCHEL_TOKEN=TOKEN, SATCHEL_DATA_DIR=str(root / "cli"))
        satchel = str(VENV / "satchel")
        floor = wall([sys.executable, "-c", "pass"], args.runs, env)
        curl = shutil.which("curl")
        listing = f"{url}/v1/artifacts?view=search&order=-stored_at&limit=100"
        http = (
            wall([curl, "-sf", "-H", f"Authorization: Bearer {TOKEN}", listing], args.runs, env)
            if curl
            else None
        )
        full_cli = [sys.executable, "-c", "from satchel.cli import run_app; run_app()"]
        rows = [
            ("satchel version", wall([satchel, "version"], args.runs, env)),
            ("satchel --help", wall([satchel, "--help"], args.runs, env)),
            ("satchel ls (server)", wall([satchel, "ls"], args.runs, env)),
            ("satchel ls (server, full CLI)", wall([*full_cli, "ls"], args.runs, env)),
        ]
        print(f"python -c pass (interpreter start): {floor * 1000:6.0f} ms")
        if http is not None:
            print(f"curl of the same listing:           {http * 1000:6.0f} ms")
        for name, seconds in rows:
            ratio = f"{seconds / floor:5.1f}x the interpreter"
            if name.startswith("satchel ls") and http is not None:
                ratio += f", {seconds / http:5.1f}x curl"
            if name.endswith("full CLI)"):
                target = "no target: the way the lean path hands over"
            else:
                target = ("meets" if seconds < 0.3 else "misses") + " the 300 ms target"
            print(f"{name:34}  {seconds * 1000:6.0f} ms  ({ratio}; {target})")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
