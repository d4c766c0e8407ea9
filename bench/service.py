"""The HTTP service against nginx serving the same files, plus the library's own 4 KiB store
rate, all measured in one run on this machine.

    .venv/bin/python bench/service.py [--big-mib 1024] [--seconds 5] [--runs 3] [--no-rgw]
        [--rgw-put-urls 60000] [--before OLD_CHECKOUT/src]

nginx (Debian's package: sendfile on, WebDAV PUT for uploads, its default `worker_processes
auto`) and `satchel serve`'s app under uvicorn (uvloop + httptools, one process) each serve
the same 200 files of 4 KiB and the same 1 GiB file from fresh directories on the same disk.
wrk drives 4 KiB GETs and PUTs at 32 connections; curl streams the 1 GiB upload (one PUT to
nginx, one POST /v1/artifacts to Satchel) and download. Satchel's peak RSS during the big
transfers comes from /proc (VmHWM). Each figure is the median of --runs and is printed with
its ratio to the baseline named by the issue: nginx, or for Satchel's 4 KiB PUTs the library's
store rate of workload (b) (bench/workloads.py) in the same run. Two more GET figures put the
first in context: Satchel with two worker processes (`satchel serve --workers 2`), and the
ceiling of uvicorn itself on this machine (bench/ceiling.py: a raw ASGI app answering a constant
4 KiB body, no framework, no storage).

The S3 server a self-hoster would run instead, Ceph RGW with its OSD on BlueStore (durable,
like Satchel), runs the same four rows in the same run (bench/rgw.py: a fresh single-node
cluster per run, presigned URLs driven by the same wrk settings and curl); Satchel's figures
are printed as ratios to RGW's too. `--no-rgw` skips it. `--before` names an earlier
checkout's `src/`: its 4 KiB GET and PUT are measured in each run too (a fresh one-worker server
on that code), so "faster than before" is a same-run ratio as well.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
from rgw import check_installed, rgw_run
from servers import (
    GET_LUA,
    PUT_LUA,
    TOKEN,
    big_transfers,
    curl_seconds,
    free_port,
    nginx_rounds,
    start,
    wait_up,
    wrk,
)

HERE = Path(__file__).resolve().parent
UVICORN = ["uvicorn", "--loop", "uvloop", "--http", "httptools"]

NGINX_CONF = """
daemon off;
worker_processes auto;
pid %(root)s/nginx.pid;
error_log %(root)s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path %(root)s/body;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:%(port)d;
        root %(www)s;
        location / {
            dav_methods PUT;
            create_full_put_path on;
        }
    }
}
"""

NGINX_GET_LUA = """
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/small/" .. (n % 200) .. ".bin")
end
"""

NGINX_PUT_LUA = """
-- numbered threads (see bench/servers.py's PUT_LUA): unique bodies and file names
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
  return wrk.format("PUT", "/put/" .. id .. "-" .. n .. ".bin", nil, body)
end
"""


def start_nginx(root: Path, www: Path, port: int) -> subprocess.Popen[bytes]:
    (root / "body").mkdir()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF % {"root": root, "www": www, "port": port})
    for path in (root, www, www / "put", root / "body"):  # workers run as an unprivileged user
        path.chmod(0o777)
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root)])
    try:
        return wait_up(proc, f"http://127.0.0.1:{port}/small/0.bin", "nginx")
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}: {(root / 'error.log').read_text()}") from None


def library_store_rate(root: Path) -> float:
    out = subprocess.run(
        [sys.executable, str(HERE / "workloads.py"), "satchel", "b", str(root), "--objects", "200"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r'"store_ops_per_s": ([\d.]+)', out).group(1))  # type: ignore[union-attr]


def small_rates(
    data_dir: Path, smalls: list[bytes], seconds: int, extra_env: dict[str, str] | None = None
) -> dict[str, float]:
    """4 KiB GET and PUT rates of a fresh one-worker Satchel (its code from *extra_env*'s
    PYTHONPATH when given: an earlier checkout's ``src``)."""
    data_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(UVICORN, data_dir, port, extra_env)
    try:
        ids = upload_smalls(base, smalls)
        (data_dir / "ids.txt").write_text("\n".join(ids) + "\n")
        get = wrk(GET_LUA % {"ids": data_dir / "ids.txt"}, base, seconds, data_dir)
        put = wrk(PUT_LUA, base, seconds, data_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"GET 4 KiB /s": get, "PUT 4 KiB /s": put}


def upload_smalls(base: str, smalls: list[bytes]) -> list[str]:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        ids = []
        for body in smalls:
            response = http.post(
                "/v1/artifacts",
                params={"mime": "application/octet-stream", "scope": "sandbox"},
                content=body,
            )
            response.raise_for_status()
            ids.append(response.json()["artifact_id"])
    return ids


def one_run(
    big: Path,
    seconds: int,
    root: Path,
    *,
    no_rgw: bool = False,
    rgw_put_urls: int = 60_000,
    before: Path | None = None,
) -> dict[str, float]:
    if not no_rgw:
        check_installed()
    size_mib = big.stat().st_size / 2**20
    smalls = [os.urandom(4096) for _ in range(200)]
    result: dict[str, float] = {}

    # nginx
    www = root / "www"
    (www / "small").mkdir(parents=True)
    (www / "put").mkdir()
    for index, body in enumerate(smalls):
        (www / "small" / f"{index}.bin").write_bytes(body)
    shutil.copy(big, www / "big.bin")
    port = free_port()
    (root / "nginx").mkdir()
    nginx = start_nginx(root / "nginx", www, port)
    base = f"http://127.0.0.1:{port}"
    try:
        result["nginx GET 4 KiB /s"] = wrk(NGINX_GET_LUA, base, seconds, root)
        result["nginx PUT 4 KiB /s"] = wrk(NGINX_PUT_LUA, base, seconds, root)
        up = curl_seconds(["-T", str(big), f"{base}/put/big-upload.bin"])
        result["nginx upload MiB/s"] = size_mib / up
        down = curl_seconds([f"{base}/big.bin"])
        result["nginx download MiB/s"] = size_mib / down
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
    shutil.rmtree(www)

    # the library's own 4 KiB store rate (workload b), fresh directory
    result["library store 4 KiB /s"] = library_store_rate(root / "library")

    # Satchel
    data_dir = root / "satchel"
    data_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(UVICORN, data_dir, port)
    try:
        ids = upload_smalls(base, smalls)
        (data_dir / "ids.txt").write_text("\n".join(ids) + "\n")
        result["Satchel GET 4 KiB /s"] = wrk(
            GET_LUA % {"ids": data_dir / "ids.txt"}, base, seconds, data_dir
        )
        result["Satchel PUT 4 KiB /s"] = wrk(PUT_LUA, base, seconds, data_dir)
        big_result = big_transfers(proc, base, big, data_dir)
        result["Satchel upload MiB/s"] = big_result["upload MiB/s"]
        result["Satchel download MiB/s"] = big_result["download MiB/s"]
        result["Satchel peak RSS, 1 GiB transfers, MiB"] = big_result["peak RSS MiB"]
        result["Satchel RSS growth, 1 GiB transfers, MiB"] = big_result["peak RSS growth MiB"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # the same data, served by two worker processes (satchel serve --workers 2)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start([*UVICORN, "--workers", "2"], data_dir, port)
    try:
        result["Satchel 2 workers GET 4 KiB /s"] = wrk(
            GET_LUA % {"ids": data_dir / "ids.txt"}, base, seconds, data_dir
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # the ASGI server's own ceiling: a raw ASGI app answering a constant 4 KiB body
    port = free_port()
    result["uvicorn ceiling GET 4 KiB /s"] = ceiling_rate(port, seconds, data_dir)

    # the code before this round, same machine, same run (--before: an earlier checkout's src)
    if before is not None:
        earlier = small_rates(root / "before", smalls, seconds, {"PYTHONPATH": str(before)})
        result.update({f"Satchel before {key}": value for key, value in earlier.items()})

    # Ceph RGW on BlueStore: the same small objects and big file, presigned URLs
    if not no_rgw:
        result.update(rgw_run(big, seconds, root / "rgw", smalls, rgw_put_urls))
    return result


def ceiling_rate(port: int, seconds: int, workdir: Path) -> float:
    venv = Path(sys.executable).parent
    argv = [str(venv / "uvicorn"), "ceiling:app", *UVICORN[1:], "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(argv, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(proc, f"http://127.0.0.1:{port}/", "the uvicorn ceiling app")
        return wrk(NGINX_GET_LUA, f"http://127.0.0.1:{port}", seconds, workdir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


TARGETS = [
    # (label, ours, baseline, target ratio): issue 20's
    ("1 GiB upload (single request)", "Satchel upload MiB/s", "nginx upload MiB/s", 0.70),
    ("1 GiB download", "Satchel download MiB/s", "nginx download MiB/s", 0.80),
    (
        "GET 4 KiB vs uvicorn's ceiling",
        "Satchel GET 4 KiB /s",
        "uvicorn ceiling GET 4 KiB /s",
        0.50,
    ),
    (
        "GET 4 KiB, 2 workers, vs nginx",
        "Satchel 2 workers GET 4 KiB /s",
        "nginx GET 4 KiB /s",
        0.20,
    ),
    ("GET 4 KiB, 1 worker, vs nginx", "Satchel GET 4 KiB /s", "nginx GET 4 KiB /s", 0.20),
    ("PUT 4 KiB vs library (b) store", "Satchel PUT 4 KiB /s", "library store 4 KiB /s", 0.50),
]
BEFORE_TARGETS = [
    ("PUT 4 KiB vs before", "Satchel PUT 4 KiB /s", "Satchel before PUT 4 KiB /s", 2.0),
    ("GET 4 KiB vs before", "Satchel GET 4 KiB /s", "Satchel before GET 4 KiB /s", 1.0),
]
RGW_TARGETS = [
    ("vs RGW: GET 4 KiB, 32 connections", "Satchel GET 4 KiB /s", "RGW GET 4 KiB /s", 1.0),
    ("vs RGW: PUT 4 KiB, 32 connections", "Satchel PUT 4 KiB /s", "RGW PUT 4 KiB /s", 1.0),
    ("vs RGW: 1 GiB upload", "Satchel upload MiB/s", "RGW upload MiB/s", 1.0),
    ("vs RGW: 1 GiB download", "Satchel download MiB/s", "RGW download MiB/s", 1.0),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--no-rgw", action="store_true", help="skip the Ceph RGW baseline")
    parser.add_argument(
        "--rgw-put-urls",
        type=int,
        default=60_000,
        help="presigned PUT URLs made per run for RGW's 4 KiB PUTs (one key per request)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="an earlier checkout's src/: its 4 KiB GET and PUT measured in the same run",
    )
    median = nginx_rounds(one_run, "bench-service", __doc__ or "", parser)
    for key, value in median.items():
        print(f"{key:44}{value:12.1f}")
    print()
    print(f"{'':34}{'Satchel':>10}{'baseline':>10}{'ratio':>8}{'target':>8}")
    targets = TARGETS + (RGW_TARGETS if "RGW GET 4 KiB /s" in median else [])
    targets += BEFORE_TARGETS if "Satchel before PUT 4 KiB /s" in median else []
    for label, ours, theirs, target in targets:
        ratio = median[ours] / median[theirs]
        mark = "met" if ratio >= target else "NOT met"
        print(
            f"{label:34}{median[ours]:10.1f}{median[theirs]:10.1f}{ratio:8.2f}{target:8.2f}  {mark}"
        )
    ceiling = median["uvicorn ceiling GET 4 KiB /s"]
    print(
        f"{'GET 4 KiB vs uvicorn ceiling':34}{median['Satchel GET 4 KiB /s']:10.1f}"
        f"{ceiling:10.1f}{median['Satchel GET 4 KiB /s'] / ceiling:8.2f}"
        f"  (ceiling / nginx: {ceiling / median['nginx GET 4 KiB /s']:.2f})"
    )
    peak = median["Satchel peak RSS, 1 GiB transfers, MiB"]
    print(f"{'server peak RSS (MiB)':34}{peak:10.1f}{'':10}{'':8}{'<150':>8}  ", end="")
    print("met" if peak < 150 else "NOT met")


if __name__ == "__main__":
    main()
