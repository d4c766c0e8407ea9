"""The pull-through cache's hits against nginx serving the same files, in one run.

    .venv/bin/python bench/proxy.py [--big-mib 1024] [--seconds 5] [--runs 3]

nginx (Debian's package, sendfile on) serves 200 files of 4 KiB and one big file; it is both
the upstream and the baseline. `satchel serve`'s app under uvicorn (uvloop + httptools, one
process; filesystem blobs, SQLite catalog, fsync on) has a remotes file naming that nginx.
Each run: the big file is fetched once through the cache (a miss: upstream to the client while
it is stored), then wrk drives 4 KiB GETs at 32 connections and curl downloads the big file,
once from nginx directly and once from Satchel's cache (hits); the same 4 KiB files are also
read as artifacts (GET /v1/artifacts/{id}/content), which shows what the cache's lookup adds.
Every figure is the median of --runs, printed with its ratio to the baseline from the same run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
from servers import GET_LUA, TOKEN, curl_seconds, free_port, nginx_rounds, start, wrk
from service import NGINX_GET_LUA, UVICORN, start_nginx

PROXY_GET_LUA = """
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/origin/small/" .. (n % 200) .. ".bin")
end
"""


def one_run(big: Path, seconds: int, root: Path) -> dict[str, float]:
    size_mib = big.stat().st_size / 2**20
    www = root / "www"
    (www / "small").mkdir(parents=True)
    (www / "put").mkdir()
    for index in range(200):
        (www / "small" / f"{index}.bin").write_bytes(os.urandom(4096))
    shutil.copy(big, www / "big.bin")
    nginx_port = free_port()
    (root / "nginx").mkdir()
    nginx = start_nginx(root / "nginx", www, nginx_port)
    origin = f"http://127.0.0.1:{nginx_port}"
    result: dict[str, float] = {}
    try:
        result["nginx GET 4 KiB /s"] = wrk(NGINX_GET_LUA, origin, seconds, root)
        result["nginx download MiB/s"] = size_mib / curl_seconds([f"{origin}/big.bin"])

        remotes = root / "remotes.yaml"
        remotes.write_text(
            f'remotes:\n  origin:\n    base_url: "{origin}"\n    include_patterns: [".*"]\n'
        )
        data_dir = root / "satchel"
        data_dir.mkdir()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start(UVICORN, data_dir, port, {"SATCHEL_REMOTES_FILE": str(remotes)})
        try:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                paths = [f"small/{index}.bin" for index in range(200)]
                done = http.post("/cache-artifact", json={"remote": "origin", "paths": paths})
                done.raise_for_status()
                assert {r["status"] for r in done.json()["results"]} == {"fetched"}
                listed = http.get("/artifacts/origin", params={"prefix": "small/", "limit": 1000})
                cached = listed.json()["items"]
            auth = ["-H", f"Authorization: Bearer {TOKEN}"]
            miss = curl_seconds([*auth, f"{base}/api/origin/big.bin"])
            result["Satchel miss download MiB/s"] = size_mib / miss
            hit = curl_seconds([*auth, f"{base}/api/origin/big.bin"])
            result["Satchel hit download MiB/s"] = size_mib / hit
            result["Satchel hit GET 4 KiB /s"] = wrk(PROXY_GET_LUA, base, seconds, data_dir)
            ids = [item["artifact_id"] for item in cached]
            (data_dir / "ids.txt").write_text("\n".join(ids) + "\n")
            result["Satchel artifact GET 4 KiB /s"] = wrk(
                GET_LUA % {"ids": data_dir / "ids.txt"}, base, seconds, data_dir
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
    return result


COMPARED = [
    # (label, ours, nginx's)
    ("GET 4 KiB hits, 32 connections", "Satchel hit GET 4 KiB /s", "nginx GET 4 KiB /s"),
    (
        "GET 4 KiB hits vs artifact GETs",
        "Satchel hit GET 4 KiB /s",
        "Satchel artifact GET 4 KiB /s",
    ),
    ("big file, cache hit", "Satchel hit download MiB/s", "nginx download MiB/s"),
    ("big file, miss (fetch + store)", "Satchel miss download MiB/s", "nginx download MiB/s"),
]


def main() -> None:
    median = nginx_rounds(one_run, "bench-proxy", __doc__ or "")
    for key, value in median.items():
        print(f"{key:44}{value:12.1f}")
    print()
    print(f"{'':34}{'Satchel':>10}{'baseline':>10}{'ratio':>8}")
    for label, ours, theirs in COMPARED:
        ratio = median[ours] / median[theirs]
        print(f"{label:34}{median[ours]:10.1f}{median[theirs]:10.1f}{ratio:8.2f}")


if __name__ == "__main__":
    main()
