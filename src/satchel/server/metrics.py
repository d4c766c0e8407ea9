"""Prometheus metrics: request counts and latencies per route template and status."""

from __future__ import annotations

import time

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics"]


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """A private registry per app, so several apps in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "satchel_http_requests_total",
            "HTTP requests by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "satchel_http_request_seconds",
            "HTTP request latency by method and route",
            ["method", "route"],
            registry=self.registry,
        )

    def install(self, app: FastAPI) -> None:
        metrics = self

        class _Middleware:
            def __init__(self, inner: ASGIApp) -> None:
                self.inner = inner

            async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] != "http":
                    await self.inner(scope, receive, send)
                    return
                started = time.perf_counter()
                status = [500]

                async def record(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        status[0] = message["status"]
                    await send(message)

                try:
                    await self.inner(scope, receive, record)
                finally:
                    template = scope.get("satchel_route") or getattr(
                        scope.get("route"), "path", "unmatched"
                    )
                    method = scope.get("method", "")
                    if method not in _METHODS:  # any token is a method: keep labels bounded
                        method = "OTHER"
                    metrics.requests.labels(method, template, str(status[0])).inc()
                    metrics.latency.labels(method, template).observe(time.perf_counter() - started)

        app.add_middleware(_Middleware)

    def render(self) -> bytes:
        return generate_latest(self.registry)
