"""Which ASGI server runs `satchel serve` best: uvicorn (asyncio + h11), uvicorn (uvloop +
httptools) and granian, on the same app, data and machine, in one run.

    .venv/bin/python bench/servers.py [--big-mib 1024] [--seconds 5]

Each server gets a fresh data directory (filesystem blobs + SQLite catalog, fsync on). wrk
(Debian package) drives 4 KiB GETs and 4 KiB uploads (unique bodies, so every upload writes a
blob) at 32 connections; curl streams one big upload and download. The server's peak RSS growth
(VmHWM of its process tree) is read from /proc. Results print as a table, with each figure also
as a ratio to the first server (uvicorn asyncio + h11), measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

TOKEN = "bench-token-0001"
SERVERS = {
    "uvicorn (asyncio, h11)": ["uvicorn", "--loop", "asyncio", "--http", "h11"],
    "uvicorn (uvloop, httptools)": ["uvicorn", "--loop", "uvloop", "--http", "httptools"],
    "granian (uvloop)": ["granian"],
}

GET_LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/artifacts/" .. ids[(n %% #ids) + 1] .. "/content")
end
"""

PUT_LUA = """
-- each wrk thread runs its own copy of this script: number the threads in setup() so that
-- every body is unique across threads (a shared counter and seed would repeat bodies)
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local n = 0
local pad = string.rep("x", 4096 - 32)
request = function()
  n = n + 1
  local body = string.format("%08d%024d", id, n) .. pad
  return wrk.format("POST", "/v1/artifacts?mime=application/octet-stream&scope=sandbox", nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_pids(root: int) -> list[int]:
    found = [root]
    for pid in found:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        found.extend(int(child) for child in children)
    return found


def tree_kib(root: int, field: str) -> int:
    total = 0
    for pid in tree_pids(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
        total += int(match.group(1)) if match else 0
    return total


def reset_peaks(root: int) -> None:
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):  # reset VmHWM to the current RSS
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def start(
    kind: list[str], data_dir: Path, port: int, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env.update(
        SATCHEL_DATA_DIR=str(data_dir),
        SATCHEL_AUTH_TOKENS=f"{TOKEN}=bench:admin",
        SATCHEL_PURGE_INTERVAL_SECONDS="0",
        SATCHEL_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    env.update(extra_env or {})
    venv = Path(sys.executable).parent
    if kind[0] == "uvicorn":
        argv = [str(venv / "uvicorn"), "--factory", "satchel.server.app:create_app"]
        argv += [*kind[1:], "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    else:
        argv = [str(venv / "granian"), "--interface", "asgi", "--factory", "--loop", "uvloop"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        argv += ["--workers", "1", "satchel.server.app:create_app"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_up(proc, f"http://127.0.0.1:{port}/health", str(argv))


def wait_up(proc: subprocess.Popen[bytes], url: str, what: str) -> subprocess.Popen[bytes]:
    """*proc* once *url* answers 200 (within 30 s); else kill it and raise naming *what*."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{what} did not come up")


def nginx_rounds(
    one_run: Callable[..., dict[str, float]],
    make_target: str,
    about: str,
    parser: argparse.ArgumentParser | None = None,
) -> dict[str, float]:
    """The command line of a benchmark against nginx (``--big-mib``, ``--seconds``,
    ``--runs``, and any options *parser* already has): *one_run(big_file, seconds, directory,
    **other_options)* run that many times, each in a fresh directory beside one big file of
    random bytes; the median of each figure."""
    if parser is None:
        parser = argparse.ArgumentParser(description=about.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    options = {k: v for k, v in vars(args).items() if k not in ("big_mib", "seconds", "runs")}
    for tool in ("wrk", "nginx", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing (make {make_target} installs it with apt-get)")
    root = Path(tempfile.mkdtemp(prefix=f"satchel-{make_target}-"))
    root.chmod(0o755)  # nginx's workers (an unprivileged user) must reach the files
    try:
        big = root / "big.bin"
        with open(big, "wb") as out:
            for _ in range(args.big_mib):
                out.write(os.urandom(2**20))
        samples = []
        for run in range(args.runs):
            run_root = root / f"run-{run}"
            run_root.mkdir()
            run_root.chmod(0o755)
            samples.append(one_run(big, args.seconds, run_root, **options))
            shutil.rmtree(run_root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def wrk(script: str, url: str, seconds: int, workdir: Path) -> float:
    """Requests/s of *script* against *url* (2 threads, 32 connections, Satchel's token)."""
    return run_wrk(script, url, seconds, workdir)[0]


def run_wrk(
    script: str, url: str, seconds: int, workdir: Path, *, token: str | None = TOKEN
) -> tuple[float, str]:
    """Run wrk (2 threads, 32 connections) with *script*, sending ``Authorization: Bearer
    token`` unless *token* is None; its requests/s and its output. Raises on any non-2xx/3xx
    answer."""
    path = workdir / "wrk.lua"
    path.write_text(script)
    argv = ["wrk", "-t2", "-c32", f"-d{seconds}s", "-s", str(path), url]
    if token is not None:
        argv += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, out


def curl_seconds(args: list[str], out: str = "/dev/null") -> float:
    began = time.perf_counter()
    subprocess.run(["curl", "-sSf", "-o", out, *args], check=True)
    return time.perf_counter() - began


def big_transfers(
    proc: subprocess.Popen[bytes], base: str, big: Path, data_dir: Path
) -> dict[str, float]:
    """Upload *big* in one request and download it again with curl; MiB/s each, plus the
    server's peak RSS (VmHWM, reset first) and its growth during the two transfers."""
    size_mib = big.stat().st_size / 2**20
    auth = ["-H", f"Authorization: Bearer {TOKEN}"]
    baseline = tree_kib(proc.pid, "VmRSS")
    reset_peaks(proc.pid)
    up = curl_seconds(
        [
            *auth,
            "-X",
            "POST",
            "-T",
            str(big),
            "-H",
            "Content-Type: application/octet-stream",
            f"{base}/v1/artifacts?filename=big.bin&scope=sandbox",
        ],
        out=str(data_dir / "big.json"),
    )
    big_id = re.search(r'"artifact_id":"(\w+)"', (data_dir / "big.json").read_text())
    assert big_id is not None
    down = curl_seconds([*auth, f"{base}/v1/artifacts/{big_id.group(1)}/content"])
    peak = tree_kib(proc.pid, "VmHWM")
    return {
        "upload MiB/s": size_mib / up,
        "download MiB/s": size_mib / down,
        "peak RSS MiB": peak / 1024,
        "peak RSS growth MiB": (peak - baseline) / 1024,
    }


def measure(name: str, kind: list[str], big: Path, seconds: int, root: Path) -> dict[str, float]:
    data_dir = root / re.sub(r"\W+", "-", name)
    data_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(kind, data_dir, port)
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            ids = [
                http.post(
                    "/v1/artifacts",
                    params={"mime": "application/octet-stream", "scope": "sandbox"},
                    content=os.urandom(4096),
                ).json()["artifact_id"]
                for _ in range(200)
            ]
        (data_dir / "ids.txt").write_text("\n".join(ids) + "\n")
        result: dict[str, float] = {}
        result["GET 4 KiB /s"] = wrk(
            GET_LUA % {"ids": data_dir / "ids.txt"}, base, seconds, data_dir
        )
        result["PUT 4 KiB /s"] = wrk(PUT_LUA, base, seconds, data_dir)
        big_result = big_transfers(proc, base, big, data_dir)
        result["upload MiB/s"] = big_result["upload MiB/s"]
        result["download MiB/s"] = big_result["download MiB/s"]
        result["peak RSS growth MiB"] = big_result["peak RSS growth MiB"]
        result["RSS MiB"] = tree_kib(proc.pid, "VmRSS") / 1024
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    root = Path(tempfile.mkdtemp(prefix="satchel-bench-"))
    try:
        big = root / "big.bin"
        with open(big, "wb") as out:
            for _ in range(args.big_mib):
                out.write(os.urandom(2**20))
        rows = {
            name: measure(name, kind, big, args.seconds, root) for name, kind in SERVERS.items()
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    first = next(iter(rows.values()))
    print(f"{'server':30}" + "".join(f"{metric:>24}" for metric in first))
    for name, row in rows.items():
        cells = "".join(
            f"{value:>14.1f} ({value / first[metric]:4.2f}x)"
            if first[metric]
            else f"{value:>24.1f}"
            for metric, value in row.items()
        )
        print(f"{name:30}{cells}")


if __name__ == "__main__":
    main()
