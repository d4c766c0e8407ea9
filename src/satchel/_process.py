"""Who this process is, in a form another process can check for liveness.

A lease records its holder as ``{boot id}:{pid}:{start time}``. On the same host (the same boot
id) a holder whose pid is gone, or now belongs to a process started at another time, is dead
for certain, so its lease can be taken over at once; a holder on another host is trusted until
its lease expires.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

__all__ = ["holder_is_dead", "name_owner_is_dead", "named_for_this_process", "process_identity"]


@functools.cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown-boot"


def _start_time(pid: int) -> str | None:
    """The start time of process *pid* in clock ticks since boot, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: fields after its closing parenthesis
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


@functools.lru_cache(maxsize=4)
def _own_start_time(pid: int) -> str | None:
    """This process's start time, read once per pid (a forked worker has its own pid): every
    temp file of a blob is named with it, and reading /proc on each one cost ~0.3 ms."""
    return _start_time(pid)


def process_identity() -> str:
    """This process, as ``{boot id}:{pid}:{start time}`` (per pid: a forked worker differs)."""
    pid = os.getpid()
    return f"{_boot_id()}:{pid}:{_own_start_time(pid) or '?'}"


def holder_is_dead(identity: object) -> bool:
    """True only when *identity* names a process of this host that no longer runs."""
    if not isinstance(identity, str):
        return False
    boot, _, rest = identity.partition(":")
    pid_text, _, started = rest.partition(":")
    if boot != _boot_id() or boot == "unknown-boot" or not pid_text.isdigit() or started == "?":
        return False
    return _start_time(int(pid_text)) != started


def named_for_this_process(suffix: str) -> str:
    """A file or key name that records its writer: ``{boot id[:8]}-{pid}-{start}-{suffix}``
    (letters, digits and dashes), so what a crashed writer left can be told from work in
    flight (:func:`name_owner_is_dead`)."""
    pid = os.getpid()
    return f"{_boot_id()[:8]}-{pid}-{_own_start_time(pid) or 0}-{suffix}"


def name_owner_is_dead(name: str) -> bool | None:
    """For a name made by :func:`named_for_this_process`: True when its writer was a process
    of this host that no longer runs, False when it still runs, None when that cannot be told
    (another host, or a name of another form)."""
    parts = name.split("-")
    if len(parts) < 4 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    boot = _boot_id()
    if boot == "unknown-boot" or parts[0] != boot[:8] or parts[2] == "0":
        return None
    return _start_time(int(parts[1])) != parts[2]
