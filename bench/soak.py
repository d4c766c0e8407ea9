"""A bounded soak of `satchel serve`: mixed put/get/list/delete/presign at 64 connections for
two minutes, on the embedded default and on PostgreSQL + S3, checking every answer.

    .venv/bin/python bench/soak.py [--config embedded|postgres+s3|both] [--seconds 120]
        [--warmup 15] [--connections 64] [--seed 1] [--s3 moto|ceph] [--keep]
        [--server-log-level warning]

Each configuration gets a fresh `satchel serve` (one process, `--log-level warning`, its log in
`server.log` of a fresh data directory) on 127.0.0.1 with three static tokens (ops:admin, alice,
bob) and nothing else inherited from SATCHEL_* variables:

- ``embedded``: the default, SQLite catalog + filesystem blobs in the data directory;
- ``postgres+s3``: a throwaway PostgreSQL (tests/harness/postgres.py: Debian's binaries,
  fsync off) as the catalog and an S3 bucket for blobs and staging, on moto's server (its own
  process, in memory) or, with ``--s3 ceph``, a single-node Ceph RGW (tests/harness/ceph_rgw.py,
  memstore: 4 GiB of RAM, so keep such runs short).

--connections asyncio workers (one process, uvloop when installed; each worker its own httpx
client, so one keep-alive connection to the server) run --warmup + --seconds. Each worker acts
as alice or bob (alternately) in four sessions of its own and is sequential, so it knows exactly
what it stored: put 30 % (a unique body: a 48-byte prefix naming the run, worker and counter,
then bytes of a random pool; sizes log-uniform, 80 % in 4-64 KiB and 20 % in 64 KiB-8 MiB; the
answer's sha256 and size must be the client's), get 35 % (the body's sha256 must be the one
acknowledged), list 15 % (the session's listing must be exactly the worker's live artifacts in
it), delete 10 % (204, then forgotten), presign 10 % (POST /presign, then a GET of the URL
without a token, sha256 checked; "signed get" row). Get, list, delete and presign pick among
the worker's own artifacts, so no 404 is expected: every non-2xx answer, transport error,
digest or listing mismatch is a failure.

Latencies and throughput count the operations started in the measured window (after warm-up;
the window ends when the last of them finishes); MiB/s counts bodies up and down. The server's
RSS (VmRSS of its process tree) is sampled every second; growth is end of window against end of
warm-up, and the RSS at each tenth of the window is printed too. Then every artifact
acknowledged and not deleted is read back and checked, and up to 500 deleted ones must be 404.
Also printed: the TCP connections the client opened (one per worker when the server keeps
them all alive; moto closes each connection after its answer), and the CPU each party used in
the window (server, this client, PostgreSQL + S3, anything else on the machine) from /proc.
A failure's line says what was sent, the answer (status, request id, body) or the transport
error with the request's steps and the connection's age; `--server-log-level info` adds
uvicorn's access log (client ports) to the server log.

PASS needs zero failed requests (warm-up, window and read-back), every read-back verified and
RSS growth <= 20 %. Exits 1 on FAIL. The client shares the machine's cores with the server (and
with PostgreSQL and the S3 server): the figures are those of the pair, not of the server alone.
The data directory is removed at the end unless a configuration fails or --keep is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import importlib.util
import math
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from servers import free_port, tree_kib, tree_pids

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("sniffio") is None:
    # httpcore runs `import sniffio` on every request; absent, each failed import searches
    # sys.path again (a fifth of the client's CPU). None in sys.modules fails it at once.
    sys.modules["sniffio"] = None  # type: ignore[assignment]
sys.path.insert(0, str(ROOT))  # for tests.harness (PostgreSQL, Ceph RGW, S3 endpoints)

TLS = ssl.create_default_context()
TOKENS = {"admin": "admin-token-0001", "alice": "alice-token-0001", "bob": "bob-token-00001"}
TOKEN_SPEC = "admin-token-0001=ops:admin,alice-token-0001=alice,bob-token-00001=bob"
USERS = ("alice", "bob")
SESSIONS_PER_WORKER = 4
OPS = {"put": 30, "get": 35, "list": 15, "delete": 10, "presign": 10}
ROWS = ["put", "get", "list", "delete", "presign", "signed get"]
KiB, MiB = 1024, 1024 * 1024
SMALL, MEDIUM, LARGE = 4 * KiB, 64 * KiB, 8 * MiB
PREFIX_BYTES = 48
LIST_LIMIT = 100
RSS_GROWTH_LIMIT = 20.0
FAILURES_SHOWN = 10


def body_size(rng: random.Random) -> int:
    """80 % log-uniform in 4-64 KiB, 20 % log-uniform in 64 KiB-8 MiB."""
    low, high = (SMALL, MEDIUM) if rng.random() < 0.8 else (MEDIUM, LARGE)
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of *root*'s process tree so far (from /proc)."""
    total = 0
    for pid in tree_pids(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and I/O wait since boot."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else math.nan


# -- the servers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def moto_server(base: Path) -> Iterator[Any]:
    """moto's S3 server in a process of its own (not a thread of this one: the client's loop
    would share its GIL), on a free loopback port."""
    from tests.harness.s3 import S3Endpoint

    port = free_port()
    moto = Path(sys.executable).parent / "moto_server"
    with open(base / "moto.log", "ab") as log:
        proc = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    tail = read_tail(base / "moto.log")
                    raise RuntimeError(f"moto_server did not come up: {tail}") from None
                time.sleep(0.1)
        yield S3Endpoint(url=url, access_key="soak-access", secret_key="soak-secret"), [proc.pid]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def ceph_server(base: Path) -> Iterator[Any]:
    """A single-node Ceph RGW (a short path of its own: its admin sockets must fit)."""
    from tests.harness.ceph_rgw import start_ceph_rgw

    ceph_base = Path(tempfile.mkdtemp(prefix="satchel-ceph-"))
    try:
        cluster = start_ceph_rgw(ceph_base)
        try:
            yield cluster.endpoint(), list(cluster.pids.values())
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(ceph_base, ignore_errors=True)


@contextlib.contextmanager
def postgres_and_s3(base: Path, s3: str) -> Iterator[tuple[dict[str, str], list[int]]]:
    """The extra environment of the postgres+s3 configuration, its servers running, and their
    PIDs."""
    from tests.harness.postgres import start_postgres

    pg_base = Path(tempfile.mkdtemp(prefix="satchel-soak-pg-"))  # its own: chowned to postgres
    postgres = None
    try:
        postgres = start_postgres(pg_base)
        database = postgres.create_database(prefix="satchel_soak")
        with (moto_server if s3 == "moto" else ceph_server)(base) as (endpoint, s3_pids):
            bucket = endpoint.create_bucket(prefix="satchel-soak")
            pids = [pid for pid in [postgres.postmaster_pid(), *s3_pids] if pid is not None]
            env = {
                "SATCHEL_DATABASE_URL": postgres.url(database),
                "SATCHEL_BLOB_BACKEND": "s3",
                "SATCHEL_S3_BUCKET": bucket,
                "SATCHEL_S3_ENDPOINT_URL": endpoint.url,
                "SATCHEL_S3_REGION": endpoint.region,
                "SATCHEL_S3_ADDRESSING_STYLE": "path",
                "SATCHEL_S3_ACCESS_KEY_REF": "env:SOAK_S3_ACCESS",
                "SATCHEL_S3_SECRET_KEY_REF": "env:SOAK_S3_SECRET",
                "SOAK_S3_ACCESS": endpoint.access_key,
                "SOAK_S3_SECRET": endpoint.secret_key,
            }
            yield env, pids
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(pg_base, ignore_errors=True)


@contextlib.contextmanager
def satchel_serve(
    data_dir: Path, extra_env: dict[str, str], log_level: str = "warning"
) -> Iterator[tuple[Any, str]]:
    """`satchel serve` on a free port with *data_dir*; yields (process, base URL)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    env.update(
        SATCHEL_DATA_DIR=str(data_dir),
        SATCHEL_HOST="127.0.0.1",
        SATCHEL_PORT=str(port),
        SATCHEL_AUTH_TOKENS=TOKEN_SPEC,
        **extra_env,
    )
    argv = [sys.executable, "-m", "satchel", "serve", "--log-level", log_level]
    with open(data_dir / "server.log", "ab") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"satchel serve exited: {read_tail(data_dir / 'server.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"satchel serve not healthy: {read_tail(data_dir / 'server.log')}"
                )
            time.sleep(0.1)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def read_tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


# -- the load ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Stored:
    sha256: str
    size: int
    session: str


@dataclasses.dataclass
class Run:
    """What every worker of one configuration shares: the clock, the counters, the failures."""

    url: str
    pool: bytes
    tag: str
    ttl: int
    phase: str = "warm-up"  # warm-up -> window -> stop -> read-back
    requests: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    latencies: dict[str, list[float]] = dataclasses.field(
        default_factory=lambda: {row: [] for row in ROWS}
    )
    window_requests: int = 0
    window_bytes: int = 0
    last_done: float = 0.0

    def fail(self, what: str, response: httpx.Response | None = None, detail: str = "") -> None:
        if response is not None:
            request = response.request
            what += (
                f": {request.method} {request.url} -> {response.status_code} "
                f"request id {response.headers.get('x-request-id')} {response.text[:300]!r}"
            )
        self.failures.append(f"{time.strftime('%H:%M:%S')} [{self.phase}] {what} {detail}".strip())

    def record(self, row: str, began: float, in_window: bool, nbytes: int) -> None:
        done = time.perf_counter()
        if in_window:
            self.latencies[row].append(done - began)
            self.window_requests += 1
            self.window_bytes += nbytes
            self.last_done = max(self.last_done, done)


async def sha256_of(data: bytes) -> str:
    if len(data) > MiB:  # hashlib drops the GIL for big buffers: keep the loop serving
        return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
    return hashlib.sha256(data).hexdigest()


class Worker:
    """One sequential client, as *user*, in sessions of its own."""

    def __init__(self, run: Run, number: int, seed: int) -> None:
        self.run = run
        self.number = number
        self.user = USERS[number % len(USERS)]
        self.headers = {"Authorization": f"Bearer {TOKENS[self.user]}"}
        # A client (connection pool) per worker: httpcore scans every connection of its pool
        # for each request, which at 64+ connections in one pool costs more than the requests.
        self.client = httpx.AsyncClient(
            base_url=run.url,
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
            timeout=httpx.Timeout(120.0),
            verify=TLS,  # plain HTTP; one context for all, not one CA load per client
        )
        self.sessions = [f"soak-{self.user}-{number:03d}-{k}" for k in range(SESSIONS_PER_WORKER)]
        self.rng = random.Random(seed * 100_003 + number)
        self.owned: dict[str, Stored] = {}
        self.last_done = time.perf_counter()  # when this worker's previous request ended
        self.opened: list[tuple[float, int]] = []  # (when, local port) of each connection
        self.events: list[str] = []  # the current request's steps, for a failure's message
        self.deleted: list[str] = []
        self.puts = 0

    async def request(self, row: str, method: str, url: str, **kwargs: Any) -> Any:
        """(response or None, start time, in window?); a transport error is a failure."""
        run = self.run
        in_window = run.phase == "window"
        began = time.perf_counter()
        run.requests += 1
        self.events = []
        try:
            response = await self.client.request(
                method, url, extensions={"trace": self.trace}, **kwargs
            )
        except httpx.HTTPError as exc:
            opened = ", ".join(f"{when - began:+.3f} s :{port}" for when, port in self.opened[-3:])
            run.fail(
                f"{row}: {method} {url}: {type(exc).__name__}: {exc!r} after "
                f"{time.perf_counter() - began:.3f} s; the worker's previous request ended "
                f"{began - self.last_done:.3f} s before; its connections: {len(self.opened)} "
                f"opened (last: {opened}); trace {' > '.join(self.events)}"
            )
            return None, began, in_window
        finally:
            self.last_done = time.perf_counter()
        return response, began, in_window

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: the request's steps and each TCP connection opened."""
        self.events.append(event.removeprefix("http11.").removeprefix("connection."))
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            self.opened.append((time.perf_counter(), sock.getsockname()[1] if sock else 0))

    async def loop(self) -> None:
        names, weights = list(OPS), list(OPS.values())
        while self.run.phase != "stop":
            op = self.rng.choices(names, weights)[0]
            if op not in ("put", "list") and not self.owned:
                op = "put"
            await getattr(self, f"op_{op}")()

    def pick(self) -> tuple[str, Stored]:
        artifact_id = self.rng.choice(list(self.owned))
        return artifact_id, self.owned[artifact_id]

    async def op_put(self) -> None:
        self.puts += 1
        size = body_size(self.rng)
        prefix = f"{self.run.tag}:{self.number}:{self.puts}:".encode().ljust(PREFIX_BYTES, b".")
        offset = self.rng.randrange(len(self.run.pool) - size)
        body = prefix + self.run.pool[offset : offset + size - PREFIX_BYTES]
        digest = await sha256_of(body)
        session = self.rng.choice(self.sessions)
        params = {
            "filename": f"soak/{self.number}/{self.puts}.bin",
            "session_id": session,
            "mime": "application/octet-stream",
            "ttl": str(self.run.ttl),
        }
        response, began, in_window = await self.request(
            "put", "POST", "/v1/artifacts", params=params, content=body, headers=self.headers
        )
        if response is None:
            return
        self.run.record("put", began, in_window, size)
        if response.status_code != 201:
            self.run.fail("put", response)
            return
        meta = response.json()
        if meta.get("sha256") != f"sha256:{digest}" or meta.get("bytes") != size:
            self.run.fail("put: acknowledged digest or size differs", response, f"sent {digest}")
            return
        self.owned[meta["artifact_id"]] = Stored(digest, size, session)

    async def check_body(self, row: str, response: httpx.Response, stored: Stored) -> bool:
        if response.status_code != 200:
            self.run.fail(row, response)
            return False
        got = await sha256_of(response.content)
        if got != stored.sha256:
            self.run.fail(
                f"{row}: sha256 mismatch: {response.request.method} {response.request.url}",
                detail=f"want {stored.sha256} ({stored.size} B), got {got} "
                f"({len(response.content)} B)",
            )
            return False
        return True

    async def op_get(self) -> None:
        artifact_id, stored = self.pick()
        response, began, in_window = await self.request(
            "get", "GET", f"/v1/artifacts/{artifact_id}/content", headers=self.headers
        )
        if response is not None:
            self.run.record("get", began, in_window, len(response.content))
            await self.check_body("get", response, stored)

    async def op_list(self) -> None:
        session = self.rng.choice(self.sessions)
        params = {"view": "session", "session_id": session, "limit": str(LIST_LIMIT)}
        response, began, in_window = await self.request(
            "list", "GET", "/v1/artifacts", params=params, headers=self.headers
        )
        if response is None:
            return
        self.run.record("list", began, in_window, 0)
        if response.status_code != 200:
            self.run.fail("list", response)
            return
        listed = {item["artifact_id"] for item in response.json()["items"]}
        live = {key for key, stored in self.owned.items() if stored.session == session}
        if not listed <= live or len(listed) != min(len(live), LIST_LIMIT):
            self.run.fail(
                f"list: session {session} lists {len(listed)} ({len(listed - live)} unknown), "
                f"{len(live)} live"
            )

    async def op_delete(self) -> None:
        artifact_id, stored = self.pick()
        response, began, in_window = await self.request(
            "delete",
            "DELETE",
            f"/v1/artifacts/{artifact_id}",
            params={"session_id": stored.session},
            headers=self.headers,
        )
        if response is None:
            return
        self.run.record("delete", began, in_window, 0)
        if response.status_code != 204:
            self.run.fail("delete", response)
            return
        del self.owned[artifact_id]
        self.deleted.append(artifact_id)

    async def op_presign(self) -> None:
        artifact_id, stored = self.pick()
        response, began, in_window = await self.request(
            "presign",
            "POST",
            f"/v1/artifacts/{artifact_id}/presign",
            json={"expires": 600},
            headers=self.headers,
        )
        if response is None:
            return
        self.run.record("presign", began, in_window, 0)
        if response.status_code != 200:
            self.run.fail("presign", response)
            return
        url = response.json()["url"]
        response, began, in_window = await self.request("signed get", "GET", url)  # no token
        if response is not None:
            self.run.record("signed get", began, in_window, len(response.content))
            await self.check_body("signed get", response, stored)

    async def read_back(self, deleted_checks: int) -> tuple[int, int]:
        """(verified, deleted confirmed gone) after the load: every live artifact must read
        back with its sha256; the first *deleted_checks* deleted ones must be 404."""
        verified = gone = 0
        for artifact_id, stored in list(self.owned.items()):
            response, _, _ = await self.request(
                "read back", "GET", f"/v1/artifacts/{artifact_id}/content", headers=self.headers
            )
            if response is not None and await self.check_body("read back", response, stored):
                verified += 1
        for artifact_id in self.deleted[:deleted_checks]:
            response, _, _ = await self.request(
                "deleted", "GET", f"/v1/artifacts/{artifact_id}", headers=self.headers
            )
            if response is None:
                continue
            if response.status_code == 404:
                gone += 1
            else:
                self.run.fail("deleted artifact still answers", response)
        return verified, gone


def cpu_now(pid: int, helpers: list[int]) -> dict[str, float]:
    """CPU seconds so far of the server, this client, the helpers and the whole machine."""
    now = {
        "server": tree_cpu_seconds(pid),
        "client": time.process_time(),
        "postgres+s3": sum(tree_cpu_seconds(helper) for helper in helpers),
        "machine": machine_busy_seconds(),
    }
    now["other"] = now["machine"] - now["server"] - now["client"] - now["postgres+s3"]
    return now


def timeline(samples: list[tuple[float, int]], began: float, window: float) -> list[float]:
    """The server's RSS (MiB) at the end of warm-up and at each tenth of the window."""
    marks = [began + window * k / 10 for k in range(11)]
    found = []
    for mark in marks:
        nearest = min(samples, key=lambda sample: abs(sample[0] - mark))
        found.append(nearest[1] / 1024)
    return found


async def sample_rss(pid: int, samples: list[tuple[float, int]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append((time.perf_counter(), tree_kib(pid, "VmRSS")))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def drive(
    pid: int, helpers: list[int], url: str, args: argparse.Namespace, tag: str
) -> dict[str, Any]:
    """Run the load against the server *pid* at *url* (*helpers*: PostgreSQL, S3)."""
    rng = random.Random(args.seed)
    pool = rng.randbytes(LARGE + MEDIUM)
    samples: list[tuple[float, int]] = []
    stop_sampling = asyncio.Event()
    run = Run(url=url, pool=pool, tag=tag, ttl=args.warmup + args.seconds + 3600)
    workers = [Worker(run, n, args.seed) for n in range(args.connections)]
    async with contextlib.AsyncExitStack() as clients:
        for worker in workers:
            await clients.enter_async_context(worker.client)
        sampler = asyncio.create_task(sample_rss(pid, samples, stop_sampling))
        tasks = [asyncio.create_task(w.loop()) for w in workers]
        await asyncio.sleep(args.warmup)
        rss_warm = tree_kib(pid, "VmRSS")
        run.phase = "window"
        window_began = time.perf_counter()
        cpu_began = cpu_now(pid, helpers)
        failures_warmup = len(run.failures)
        await asyncio.sleep(args.seconds)
        run.phase = "stop"
        await asyncio.gather(*tasks)
        rss_end = tree_kib(pid, "VmRSS")
        window = max(run.last_done, window_began) - window_began
        cpu = {k: v - cpu_began[k] for k, v in cpu_now(pid, helpers).items()}
        stop_sampling.set()
        await sampler
        run.phase = "read-back"
        live = sum(len(w.owned) for w in workers)
        deleted_checks = max(1, 500 // args.connections)
        results = await asyncio.gather(*(w.read_back(deleted_checks) for w in workers))
    ordered = {row: sorted(values) for row, values in run.latencies.items()}
    return {
        "window s": window,
        "requests": run.window_requests,
        "req/s": run.window_requests / window,
        "MiB/s": run.window_bytes / MiB / window,
        "ops": {
            row: (len(v), percentile(v, 0.5) * 1e3, percentile(v, 0.99) * 1e3)
            for row, v in ordered.items()
        },
        "all requests": run.requests,
        "connections": sum(len(w.opened) for w in workers),
        "failures": run.failures,
        "failures in warm-up": failures_warmup,
        "live": live,
        "verified": sum(verified for verified, _ in results),
        "deleted gone": sum(gone for _, gone in results),
        "deleted checked": sum(min(len(w.deleted), deleted_checks) for w in workers),
        "rss warm MiB": rss_warm / 1024,
        "rss end MiB": rss_end / 1024,
        "rss max MiB": max(rss_end, *(kib for _, kib in samples)) / 1024,
        "rss start MiB": samples[0][1] / 1024,
        "rss growth %": (rss_end - rss_warm) / rss_warm * 100,
        "rss timeline MiB": timeline(samples, window_began, window),
        "cpu %": {k: v / window * 100 for k, v in cpu.items()},
    }


def soak(config: str, args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    base = Path(tempfile.mkdtemp(prefix=f"satchel-soak-{config.replace('+', '-')}-"))
    data_dir = base / "data"
    data_dir.mkdir()
    with contextlib.ExitStack() as stack:
        env: dict[str, str] = {}
        helpers: list[int] = []
        if config == "postgres+s3":
            env, helpers = stack.enter_context(postgres_and_s3(base, args.s3))
        proc, url = stack.enter_context(satchel_serve(data_dir, env, args.server_log_level))
        print(
            f"{config}: serving at {url} (pid {proc.pid}), data in {data_dir}; "
            f"{args.warmup} s warm-up + {args.seconds} s at {args.connections} connections",
            flush=True,
        )
        tag = f"{config}:{args.seed}:{time.time_ns()}"
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            result = runner.run(drive(proc.pid, helpers, url, args, tag))
        if proc.poll() is not None:
            result["failures"].append(f"satchel serve exited with {proc.returncode}")
    result["server log"] = read_tail(data_dir / "server.log", 6000)
    return result, base


def loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def verdicts(result: dict[str, Any]) -> dict[str, bool]:
    return {
        "zero failed requests": not result["failures"],
        "every acknowledged write read back": result["verified"] == result["live"],
        f"RSS growth <= {RSS_GROWTH_LIMIT:.0f} %": result["rss growth %"] <= RSS_GROWTH_LIMIT,
    }


def report(config: str, result: dict[str, Any]) -> bool:
    print(f"\n== {config}: {result['window s']:.1f} s window")
    print(f"{'operation':12}{'count':>9}{'p50 ms':>10}{'p99 ms':>10}")
    for row, (count, p50, p99) in result["ops"].items():
        print(f"{row:12}{count:>9,}{p50:>10.1f}{p99:>10.1f}")
    print(
        f"{'all':12}{result['requests']:>9,}  {result['req/s']:.1f} req/s, "
        f"{result['MiB/s']:.1f} MiB/s (bodies up and down)"
    )
    print(
        f"requests in all phases {result['all requests']:,}; failed {len(result['failures'])} "
        f"({result['failures in warm-up']} in warm-up); TCP connections opened "
        f"{result['connections']:,}"
    )
    print(
        f"read back {result['verified']:,} / {result['live']:,} live artifacts verified; "
        f"{result['deleted gone']} / {result['deleted checked']} deleted ones 404"
    )
    print(
        f"server RSS MiB: start {result['rss start MiB']:.1f}, after warm-up "
        f"{result['rss warm MiB']:.1f}, end {result['rss end MiB']:.1f} "
        f"({result['rss growth %']:+.1f} %), max {result['rss max MiB']:.1f}"
    )
    print(
        "server RSS MiB at the end of warm-up and each tenth of the window: "
        + " ".join(f"{mib:.0f}" for mib in result["rss timeline MiB"])
    )
    cpu = result["cpu %"]
    shown = ["server", "client", *(["postgres+s3"] if cpu["postgres+s3"] else []), "other"]
    print(
        f"CPU in the window, % of one core ({os.cpu_count()} cores): "
        + ", ".join(f"{k} {cpu[k]:.0f}" for k in shown)
        + f"; machine busy {cpu['machine']:.0f}"
    )
    for failure in result["failures"][:FAILURES_SHOWN]:
        print(f"  FAILED {failure}")
    if len(result["failures"]) > FAILURES_SHOWN:
        print(f"  ... and {len(result['failures']) - FAILURES_SHOWN} more")
    passed = True
    for criterion, ok in verdicts(result).items():
        print(f"  {'PASS' if ok else 'FAIL'}  {criterion}")
        passed &= ok
    if not passed and result["server log"].strip():
        print("server log (tail):\n" + result["server log"])
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=["embedded", "postgres+s3", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--s3", choices=["moto", "ceph"], default="moto")
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    parser.add_argument(
        "--server-log-level", default="warning", help="`satchel serve --log-level` (info: more)"
    )
    args = parser.parse_args()
    configs = ["embedded", "postgres+s3"] if args.config == "both" else [args.config]
    passed: dict[str, bool] = {}
    for config in configs:
        result, base = soak(config, args)
        passed[config] = report(config, result)
        if result["failures"]:
            (base / "failures.txt").write_text("\n".join(result["failures"]) + "\n")
        if passed[config] and not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base} (server log: {base / 'data' / 'server.log'})")
    print("\n" + ", ".join(f"{c}: {'PASS' if ok else 'FAIL'}" for c, ok in passed.items()))
    sys.exit(0 if all(passed.values()) else 1)


if __name__ == "__main__":
    main()
