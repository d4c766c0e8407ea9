"""Ceph RGW on BlueStore, the S3 server a self-hoster would run instead of Satchel, measured the
way bench/service.py measures nginx and Satchel: one round of `rgw_run` per run.

A fresh single-node Ceph (tests/harness/ceph_rgw.py: one monitor, one OSD, one radosgw on
127.0.0.1) whose OSD is on BlueStore with its defaults (durable: a write is acknowledged once
it is on disk), its block device a sparse file on the same disk as the other servers' data.
Setup uses boto3 (one bucket, the same 200 objects of 4 KiB); the measured requests are plain
HTTP with presigned URLs (SigV4, query-string auth), so no S3 SDK is on the measured path:

- GET 4 KiB: wrk (2 threads, 32 connections) cycles over one presigned GET URL per object;
- PUT 4 KiB: wrk PUTs unique 4 KiB bodies, each to a key of its own, through presigned PUT URLs
  made beforehand (``put_urls`` of them, each wrk thread its own disjoint half); a run that
  uses them all up fails rather than overwrite keys;
- 1 GiB: curl uploads the file with one presigned PUT (``curl -T``, a single request) and
  downloads it with a presigned GET.

The daemons are stopped by PID and the cluster's directory removed when the round ends.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from servers import curl_seconds, run_wrk

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for tests.harness.ceph_rgw

BUCKET = "bench"
URL_LIFETIME = 6 * 3600  # seconds a presigned URL stays valid: longer than any round

GET_LUA = """
local paths = {}
for line in io.lines("%(urls)s") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""

PUT_LUA = """
-- numbered threads (see bench/servers.py's PUT_LUA): thread i takes the presigned URLs of
-- put-i.txt, its own keys, and sends bodies unique across threads
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads)
end
local paths = {}
reused = 0
function init(args)
  for line in io.lines("%(root)s/put-" .. id .. ".txt") do paths[#paths + 1] = line end
end
local n = 0
local pad = string.rep("x", 4096 - 32)
request = function()
  n = n + 1
  if n > #paths then reused = reused + 1 end
  local body = string.format("%%08d%%024d", id, n) .. pad
  return wrk.format("PUT", paths[((n - 1) %% #paths) + 1], nil, body)
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("reused") end
  io.write("reused URLs: " .. total .. "\\n")
end
"""


def path_of(url: str) -> str:
    """The path and query of a presigned URL (wrk sends them to the host it was given)."""
    return re.sub(r"^https?://[^/]+", "", url)


def s3_client(endpoint: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def presign(client: Any, method: str, key: str) -> str:
    url: str = client.generate_presigned_url(
        method, Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=URL_LIFETIME
    )
    return url


def count_keys(client: Any, prefix: str) -> int:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sum(page.get("KeyCount", 0) for page in pages)


def rgw_run(
    big: Path, seconds: int, workdir: Path, smalls: list[bytes], put_urls: int
) -> dict[str, float]:
    """One round against a fresh Ceph RGW on BlueStore: 4 KiB GET and PUT rates (wrk), 1 GiB
    upload and download (curl), keyed as bench/service.py prints them."""
    from tests.harness.ceph_rgw import start_ceph_rgw

    size_mib = big.stat().st_size / 2**20
    workdir.mkdir()
    # a short directory of its own (Ceph's admin sockets must fit in a unix socket address),
    # on the same disk as the other servers' data
    base = Path(tempfile.mkdtemp(prefix="satchel-rgw-"))
    result: dict[str, float] = {}
    try:
        cluster = start_ceph_rgw(base, objectstore="bluestore")
        try:
            stores = cluster.osd_objectstores()
            if stores != ["bluestore"]:
                raise RuntimeError(f"the RGW baseline's OSD runs on {stores}, not bluestore")
            client = s3_client(cluster.endpoint())
            client.create_bucket(Bucket=BUCKET)
            for index, body in enumerate(smalls):
                client.put_object(Bucket=BUCKET, Key=f"small/{index}.bin", Body=body)
            gets = [path_of(presign(client, "get_object", f"small/{i}.bin")) for i in range(200)]
            (workdir / "get.txt").write_text("\n".join(gets) + "\n")
            half = put_urls // 2
            for thread in (1, 2):  # wrk -t2
                keys = (f"put/{thread}-{n}.bin" for n in range(1, half + 1))
                paths = [path_of(presign(client, "put_object", key)) for key in keys]
                (workdir / f"put-{thread}.txt").write_text("\n".join(paths) + "\n")
            big_put = presign(client, "put_object", "big.bin")
            big_get = presign(client, "get_object", "big.bin")

            url = cluster.url
            result["RGW GET 4 KiB /s"] = run_wrk(
                GET_LUA % {"urls": workdir / "get.txt"}, url, seconds, workdir, token=None
            )[0]
            rate, out = run_wrk(PUT_LUA % {"root": workdir}, url, seconds, workdir, token=None)
            reused = re.search(r"reused URLs: (\d+)", out)
            if reused is None or int(reused.group(1)):
                raise RuntimeError(
                    f"wrk ran out of presigned PUT URLs ({put_urls}): raise --rgw-put-urls\n{out}"
                )
            result["RGW PUT 4 KiB /s"] = rate
            answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
            stored = count_keys(client, "put/")
            if stored < answered:  # every answered PUT made an object of its own
                raise RuntimeError(f"{answered} PUTs answered but {stored} objects stored")
            up = curl_seconds(["-T", str(big), big_put])
            result["RGW upload MiB/s"] = size_mib / up
            down = curl_seconds([big_get])
            result["RGW download MiB/s"] = size_mib / down
            size = client.head_object(Bucket=BUCKET, Key="big.bin")["ContentLength"]
            if size != big.stat().st_size:
                raise RuntimeError(f"RGW stored {size} bytes of the big file")
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return result


def check_installed() -> None:
    """Exit with what to run if Ceph's daemons are missing."""
    if shutil.which("radosgw") is None or shutil.which("ceph-osd") is None:
        sys.exit("Ceph is missing (make bench-service installs it: scripts/system-deps.sh)")
