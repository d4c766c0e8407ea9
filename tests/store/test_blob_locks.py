"""BlobLocks decides per blob: a longer lock already on one blob never spreads to the others,
and compliance is never weakened (a fake lockable backend records what it is told)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from satchel.blobs.s3_lock import ObjectLockState
from satchel.core.retention import RetentionMode
from satchel.store.locks import BlobLocks

NOW = 1_800_000_000.0


class FakeLockable:
    def __init__(self, states: dict[str, ObjectLockState]) -> None:
        self.states = states
        self.calls: list[tuple[str, str, dt.datetime]] = []

    async def object_lock(self, digest: str) -> ObjectLockState:
        return self.states.get(digest, ObjectLockState(None, None, False))

    async def put_retention(
        self, digest: str, mode: str, until: dt.datetime, *, bypass_governance: bool = False
    ) -> None:
        self.calls.append((digest, mode, until))
        self.states[digest] = ObjectLockState(mode, until, False)

    async def set_legal_hold(self, digest: str, on: bool) -> None:
        state = self.states.get(digest, ObjectLockState(None, None, False))
        self.states[digest] = dataclasses.replace(state, legal_hold=on)


@dataclasses.dataclass
class FakeContext:
    blobs: Any

    def now(self) -> float:
        return NOW

    def blob_backend(self, backend: str | None = None) -> Any:
        return self.blobs


async def test_each_blob_keeps_its_own_end() -> None:
    far = dt.datetime(2125, 1, 1, tzinfo=dt.UTC)
    backend = FakeLockable({"sha256:aa": ObjectLockState("GOVERNANCE", far, False)})
    locks = BlobLocks(FakeContext(backend))  # type: ignore[arg-type]
    until = NOW + 86_400
    await locks.retain(
        [("s3", "sha256:aa"), ("s3", "sha256:bb"), ("s3", "sha256:cc")],
        RetentionMode.COMPLIANCE,
        until,
    )
    ends = {digest: (mode, end) for digest, mode, end in backend.calls}
    assert ends["sha256:aa"] == ("COMPLIANCE", far)  # stronger mode, its own longer end
    wanted = dt.datetime.fromtimestamp(until, dt.UTC) + dt.timedelta(seconds=1)
    assert ends["sha256:bb"] == ("COMPLIANCE", wanted)
    assert ends["sha256:cc"] == ("COMPLIANCE", wanted)


async def test_compliance_is_never_weakened_nor_shortened() -> None:
    end = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    backend = FakeLockable({"sha256:aa": ObjectLockState("COMPLIANCE", end, False)})
    locks = BlobLocks(FakeContext(backend))  # type: ignore[arg-type]
    await locks.retain([("s3", "sha256:aa")], RetentionMode.GOVERNANCE, NOW + 60)
    assert backend.calls == []  # a longer compliance lock is on it already
    await locks.retain([("s3", "sha256:aa")], RetentionMode.GOVERNANCE, None)  # forever
    [(_, mode, until)] = backend.calls
    assert mode == "COMPLIANCE"
    assert until > end


async def test_retention_ending_within_seconds_is_not_mirrored() -> None:
    """Duration 0 (or a few seconds) would end during the bucket round trips, and the bucket
    refuses an end in the past; the catalog alone guards so short a retention."""
    backend = FakeLockable({})
    locks = BlobLocks(FakeContext(backend))  # type: ignore[arg-type]
    for until in (NOW - 10, NOW, NOW + 2):
        assert await locks.retain([("s3", "sha256:aa")], RetentionMode.GOVERNANCE, until) == 0
    assert backend.calls == []
    assert await locks.retain([("s3", "sha256:aa")], RetentionMode.GOVERNANCE, NOW + 60) == 1
