"""A throwaway single-node Ceph with a RADOS gateway (S3) for the real-server test tier.

One monitor, one OSD on ``memstore`` (RAM, nothing touches the disk but logs and keyrings) and
one ``radosgw``, run as plain processes from Debian's ``ceph-mon``, ``ceph-osd`` and ``radosgw``
packages (``scripts/system-deps.sh`` installs them) under a fresh temporary directory, every
daemon bound to 127.0.0.1 on ports chosen free at start. Start-up takes about half a minute.

``ceph_rgw`` (session-scoped) starts it the first time a test asks and stops exactly the
processes it started, by PID, at the end of the run. If the cluster cannot start the fixture
fails with the daemons' logs: the real-server tier never skips.

``start_ceph_rgw(base, objectstore="bluestore")`` puts the OSD on BlueStore instead, durable
as a deployed one: its block device is a sparse file of ``BLUESTORE_BYTES`` under *base* (the
benchmarks use it; bench/rgw.py). BlueStore's own defaults are kept (syncs on).

Run ``python -m tests.harness.ceph_rgw [--bluestore]`` to keep one up by hand (Ctrl-C stops it).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.harness.processes import free_port, session_server
from tests.harness.s3 import S3Endpoint

__all__ = ["CephRGW", "ceph_rgw", "start_ceph_rgw"]

REQUIRED_BINARIES = ("ceph", "ceph-authtool", "monmaptool", "ceph-mon", "ceph-osd", "radosgw")
_STEP_TIMEOUT = 90.0
_MEMSTORE_BYTES = 4 * 1024**3
BLUESTORE_BYTES = 16 * 1024**3
"""The size of a BlueStore OSD's block file (sparse: it takes the disk its data takes)."""
OBJECTSTORES = ("memstore", "bluestore")
_ACCESS_KEY = "satchel-rgw-access"
_SECRET_KEY = "satchel-rgw-secret-" + "0" * 21
KMS_KEY_IDS = ("satchel-kms-1", "satchel-kms-2")
"""Key ids the gateway's built-in ``testing`` KMS backend knows (for SSE-KMS tests)."""


def _objectstore_config(base: Path, objectstore: str) -> str:
    if objectstore == "memstore":
        return f"osd objectstore = memstore\nmemstore device bytes = {_MEMSTORE_BYTES}\n"
    if objectstore == "bluestore":
        # the block device: a file BlueStore creates (sparse) at mkfs and links as `block`; RocksDB
        # (BlueFS) shares it
        return (
            "osd objectstore = bluestore\n"
            f"bluestore block path = {base}/osd/$name/block.file\n"
            "bluestore block create = true\n"
            f"bluestore block size = {BLUESTORE_BYTES}\n"
        )
    raise ValueError(f"objectstore must be one of {', '.join(OBJECTSTORES)}, not {objectstore!r}")


def _config(
    base: Path, fsid: str, mon_v1: int, mon_v2: int, rgw_port: int, objectstore: str = "memstore"
) -> str:
    kms_keys = " ".join(
        f"{key_id}={base64.b64encode(secrets.token_bytes(32)).decode()}" for key_id in KMS_KEY_IDS
    )
    mon_addr = f"[v2:127.0.0.1:{mon_v2},v1:127.0.0.1:{mon_v1}]"
    return f"""[global]
fsid = {fsid}
mon host = {mon_addr}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = {base}/keyring
run dir = {base}/run
admin socket = {base}/run/$name.asok
log file = {base}/log/$name.log
pid file = {base}/run/$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
mon warn on insecure global id reclaim allowed = false

[mon]
mon data = {base}/mon/$name
keyring = {base}/mon/$name/keyring
mon initial members = a

[osd]
osd data = {base}/osd/$name
keyring = {base}/osd/$name/keyring
{_objectstore_config(base, objectstore)}osd memory target = 1073741824
osd op num shards = 2
osd op num threads per shard = 2

[client.rgw.a]
keyring = {base}/rgw.keyring
rgw frontends = beast endpoint=127.0.0.1:{rgw_port} tcp_nodelay=1
rgw thread pool size = 64
# SSE-C and SSE-KMS over plain HTTP on loopback, KMS keys kept in this file
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = {kms_keys}
# deleted data lives in RAM until RGW's garbage collector runs: let it run every minute
rgw gc obj min wait = 60
rgw gc processor period = 60
"""


@dataclasses.dataclass
class CephRGW:
    """A running cluster: its directory, ports and the PIDs of the daemons this run started."""

    base: Path
    rgw_port: int
    mon_port: int
    mon_port_v2: int
    objectstore: str = "memstore"
    pids: dict[str, int] = dataclasses.field(default_factory=dict)
    started_in: float = 0.0
    _processes: list[subprocess.Popen[bytes]] = dataclasses.field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.base / "ceph.conf"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rgw_port}"

    def endpoint(self, *, alternate: bool = False) -> S3Endpoint:
        """Where and as whom to reach the gateway (``alternate``: a second, unrelated user)."""
        suffix = "-alt" if alternate else ""
        return S3Endpoint(
            url=self.url,
            access_key=_ACCESS_KEY + suffix,
            secret_key=_SECRET_KEY + suffix,
            region="us-east-1",
            # Pacific accepts SSE-S3 (AES256) requests but stores plaintext (Quincy added it)
            encryptions=frozenset({"aws:kms", "SSE-C"}),
        )

    # -- running commands and daemons --------------------------------------------------------

    def run(self, *argv: str, timeout: float = _STEP_TIMEOUT) -> str:
        """Run a ceph tool against this cluster; raise with its output when it fails."""
        try:
            done = subprocess.run(
                [argv[0], "-c", str(self.conf), *argv[1:]],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{' '.join(argv)} timed out after {timeout} s") from exc
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")
        return done.stdout

    def spawn(self, name: str, *argv: str) -> None:
        """Start a daemon in the foreground (``-f``) with its output in ``log/<name>.out``."""
        with open(self.base / "log" / f"{name}.out", "ab") as log:
            process = subprocess.Popen(
                [argv[0], "-c", str(self.conf), *argv[1:], "-f"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._processes.append(process)
        self.pids[name] = process.pid
        (self.base / "pids").write_text("".join(f"{n} {p}\n" for n, p in self.pids.items()))

    def wait_for(self, what: str, probe: Callable[[], bool]) -> None:
        deadline = time.monotonic() + _STEP_TIMEOUT
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a daemon exited ({process.args[0]}) waiting for {what}")
            if probe():
                return
            time.sleep(0.25)
        raise RuntimeError(f"timed out after {_STEP_TIMEOUT} s waiting for {what}")

    def _quietly(self, *argv: str) -> str | None:
        try:
            return self.run(*argv, timeout=10)
        except RuntimeError:
            return None

    # -- the three daemons -------------------------------------------------------------------

    def start(self) -> None:
        began = time.monotonic()
        for sub in ("mon", "osd", "run", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        fsid = str(uuid.uuid4())
        self.conf.write_text(
            _config(
                self.base, fsid, self.mon_port, self.mon_port_v2, self.rgw_port, self.objectstore
            )
        )
        self._start_monitor(fsid)
        self._start_osd()
        self._start_gateway()
        self._create_users()
        self.started_in = time.monotonic() - began

    def _start_monitor(self, fsid: str) -> None:
        keyring, monmap = str(self.base / "keyring"), str(self.base / "monmap")
        subprocess.run(
            ["ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.",
             "--cap", "mon", "allow *"],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["ceph-authtool", keyring, "--gen-key", "-n", "client.admin",
             "--cap", "mon", "allow *", "--cap", "osd", "allow *",
             "--cap", "mgr", "allow *", "--cap", "mds", "allow *"],
            check=True, capture_output=True,
        )  # fmt: skip
        address = f"[v2:127.0.0.1:{self.mon_port_v2},v1:127.0.0.1:{self.mon_port}]"
        subprocess.run(
            ["monmaptool", "--create", "--fsid", fsid, "--addv", "a", address, monmap],
            check=True, capture_output=True,
        )  # fmt: skip
        self.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", keyring)
        self.spawn("mon.a", "ceph-mon", "-i", "a")
        self.wait_for(
            "the monitor",
            lambda: self._quietly("ceph", "--connect-timeout", "3", "mon", "stat") is not None,
        )

    def _start_osd(self) -> None:
        osd_id = self.run("ceph", "osd", "create").strip()
        data = self.base / "osd" / f"osd.{osd_id}"
        data.mkdir(parents=True, exist_ok=True)
        self.run(
            "ceph-osd", "-i", osd_id, "--mkfs", "--mkkey", "--no-mon-config",
            "--osd-uuid", str(uuid.uuid4()),
        )  # fmt: skip
        self.run(
            "ceph", "auth", "add", f"osd.{osd_id}", "osd", "allow *",
            "mon", "allow profile osd", "mgr", "allow profile osd",
            "-i", str(data / "keyring"),
        )  # fmt: skip
        self.spawn(f"osd.{osd_id}", "ceph-osd", "-i", osd_id)

        def osd_up() -> bool:
            dump = self._quietly("ceph", "osd", "dump") or ""
            return any(line.startswith(f"osd.{osd_id} up") for line in dump.splitlines())

        self.wait_for(f"osd.{osd_id}", osd_up)

    def _start_gateway(self) -> None:
        self.run(
            "ceph", "auth", "get-or-create", "client.rgw.a",
            "mon", "allow rw", "osd", "allow rwx", "mgr", "allow rw",
            "-o", str(self.base / "rgw.keyring"),
        )  # fmt: skip
        self.spawn("rgw.a", "radosgw", "-n", "client.rgw.a")

        def answers() -> bool:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True  # any HTTP answer means the gateway is serving
            except OSError:
                return False

        self.wait_for("the gateway to answer HTTP", answers)

    def _create_users(self) -> None:
        for suffix in ("", "-alt"):
            self.run(
                "radosgw-admin", "-n", "client.admin", "user", "create",
                f"--uid=satchel{suffix}", f"--display-name=satchel{suffix}",
                f"--access-key={_ACCESS_KEY}{suffix}", f"--secret-key={_SECRET_KEY}{suffix}",
            )  # fmt: skip

    # -- stopping ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the daemons this object started (gateway first), by PID; then wait for them."""
        for process in reversed(self._processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def osd_objectstores(self) -> list[str]:
        """What each OSD reports it runs on (``ceph osd metadata``: memstore, bluestore)."""
        return [osd["osd_objectstore"] for osd in json.loads(self.run("ceph", "osd", "metadata"))]

    def logs(self, size: int = 2500) -> str:
        """The tail of every daemon's log, for a failure message."""
        parts = []
        for path in sorted((self.base / "log").glob("*")):
            with contextlib.suppress(OSError):
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-size:]}")
        return "\n".join(parts) or "(no logs)"


def start_ceph_rgw(base: Path, *, objectstore: str = "memstore") -> CephRGW:
    """Start a cluster under *base*, its OSD on *objectstore* (``memstore``: RAM; ``bluestore``:
    a sparse file under *base*); on failure stop what was started and raise with the logs."""
    if objectstore not in OBJECTSTORES:
        raise ValueError(f"objectstore must be one of {', '.join(OBJECTSTORES)}")
    missing = [name for name in REQUIRED_BINARIES if shutil.which(name) is None]
    if missing:
        raise RuntimeError(
            f"missing {', '.join(missing)}: run `make system-deps` "
            "(scripts/system-deps.sh installs ceph-mon, ceph-osd and radosgw)"
        )
    cluster = CephRGW(
        base=base,
        rgw_port=free_port(),
        mon_port=free_port(),
        mon_port_v2=free_port(),
        objectstore=objectstore,
    )
    try:
        cluster.start()
    except BaseException as exc:
        logs = cluster.logs()
        cluster.stop()
        raise RuntimeError(f"Ceph RGW did not start: {exc}\n{logs}") from exc
    return cluster


@pytest.fixture(scope="session")
def ceph_rgw() -> Iterator[CephRGW]:
    """A Ceph RGW for the whole run (fails, never skips, when it cannot start)."""
    yield from session_server("Ceph RGW", "satchel-ceph-", start_ceph_rgw)


def main() -> None:
    objectstore = "bluestore" if "--bluestore" in sys.argv[1:] else "memstore"
    base = Path(tempfile.mkdtemp(prefix="satchel-ceph-"))
    cluster = start_ceph_rgw(base, objectstore=objectstore)
    endpoint = cluster.endpoint()
    print(f"Ceph RGW up in {cluster.started_in:.1f} s at {endpoint.url} (pids {cluster.pids})")
    print(f"OSD objectstore: {', '.join(cluster.osd_objectstores())}, under {base}")
    print(f"AWS_ACCESS_KEY_ID={endpoint.access_key} AWS_SECRET_ACCESS_KEY={endpoint.secret_key}")
    for signum in (signal.SIGINT, signal.SIGTERM):  # stop cleanly on either, even in background
        signal.signal(signum, signal.default_int_handler)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
