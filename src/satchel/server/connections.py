"""Connection deadlines for `satchel serve`: slow or silent clients cannot hold sockets forever.

uvicorn closes idle keep-alive connections and can refuse work past a connection count, but a
socket that never finishes its request head, stops half-way through a body, or stops reading a
response is kept for as long as the peer likes. :class:`GuardedHttpProtocol` is uvicorn's
httptools protocol with a watchdog per connection:

- **head**: a new connection must complete its request line and headers within
  ``header_timeout`` (counted again from the first byte of each later request on the connection);
  a late one is answered ``408`` and closed;
- **body**: while the application waits for request body, the client must send some within
  ``body_timeout`` of the last bytes (time the application itself is not reading does not count);
- **send**: a response the client stops reading (the socket's send buffer stays full) is
  aborted after ``send_timeout``.

Time the application spends working on a request is never counted against the client.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ConnectionLimits", "GuardedHttpProtocol"]

log = logging.getLogger("satchel.server.connections")

_TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 36\r\n"
    b"connection: close\r\n\r\n"
    b"request not received in time; closed"
)


@dataclass(frozen=True)
class ConnectionLimits:
    """The deadlines of one connection, in seconds."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    send_timeout: float = 60.0

    @classmethod
    def from_settings(cls, settings: Any) -> ConnectionLimits:
        return cls(
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            send_timeout=settings.send_timeout_seconds,
        )

    @property
    def tick(self) -> float:
        """How often a connection's deadlines are checked."""
        return max(0.05, min(1.0, self.header_timeout / 4, self.body_timeout / 4))


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head, body and send deadlines."""

    #: Set by ``satchel serve`` before it starts; a worker process reads its environment.
    limits: ClassVar[ConnectionLimits | None] = None

    _phase: str
    _deadline: float
    _write_stalled_since: float | None
    _head_started: bool
    _watch: asyncio.TimerHandle | None

    # -- phases --------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._limits = self._current_limits()
        self._write_stalled_since = None
        self._head_started = False
        self._watch = None
        self._enter("head", self._limits.header_timeout)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True
        self._enter("head", self._limits.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._head_started = False
        self._enter("body", self._limits.body_timeout)

    def data_received(self, data: bytes) -> None:
        if self._phase == "body":
            self._deadline = time.monotonic() + self._limits.body_timeout
        super().data_received(data)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._enter("app", 0.0)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # What follows is the next request, or unread body the application answered early
        # (either must arrive in time; uvicorn's keep-alive timer closes a silent socket sooner).
        self._enter("head", self._limits.header_timeout)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_stalled_since is None:
            self._write_stalled_since = time.monotonic()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._write_stalled_since = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)

    # -- the watchdog --------------------------------------------------------------------------

    def _enter(self, phase: str, timeout: float) -> None:
        self._phase = phase
        self._deadline = time.monotonic() + timeout

    def _arm(self) -> None:
        self._watch = self.loop.call_later(self._limits.tick, self._check)

    def _check(self) -> None:
        self._watch = None
        if self.transport.is_closing():
            return
        now = time.monotonic()
        stalled = self._write_stalled_since
        if stalled is not None and now - stalled > self._limits.send_timeout:
            self._close("send", abort=True)
            return
        if self._phase == "body" and self._app_holds_body():
            # The application is not reading (yet): its time is not the client's.
            self._deadline = now + self._limits.body_timeout
        if self._phase in ("head", "body") and now > self._deadline:
            self._close(self._phase, abort=False)
            return
        self._arm()

    def _app_holds_body(self) -> bool:
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return False
        return bool(self.flow.read_paused or cycle.waiting_for_100_continue)

    def _close(self, phase: str, *, abort: bool) -> None:
        client = "{}:{}".format(*self.client) if self.client else "?"
        log.info("closing connection from %s: %s timeout", client, phase)
        if phase == "head" and self._head_started:
            # Half a request head: say why. (A silent socket, or leftovers of a body the
            # application already answered, is just closed.)
            self.transport.write(_TIMEOUT_408)
        if abort:
            self.transport.abort()
        else:
            self.transport.close()

    @classmethod
    def _current_limits(cls) -> ConnectionLimits:
        if cls.limits is None:
            from satchel.config import Settings

            cls.limits = ConnectionLimits.from_settings(Settings())
        return cls.limits
