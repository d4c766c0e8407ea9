"""The harness works: a real server answers /health, /metrics and /docs."""

from __future__ import annotations

import httpx

from satchel import __version__


def test_health_reports_every_backend(server) -> None:  # type: ignore[no-untyped-def]
    body = httpx.get(f"{server.url}/health").json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert {"storage", "session", "catalog"} <= set(body["checks"])
    assert all(check["status"] == "ok" for check in body["checks"].values())


def test_metrics_are_prometheus_text(server) -> None:  # type: ignore[no-untyped-def]
    httpx.get(f"{server.url}/health")
    response = httpx.get(f"{server.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'satchel_http_requests_total{method="GET",route="/health",status="200"}' in response.text
    assert "satchel_artifacts " in response.text


def test_docs_and_openapi_are_served(server) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(f"{server.url}/docs").status_code == 200
    assert httpx.get(f"{server.url}/openapi.json").json()["info"]["title"] == "Satchel"


def test_unknown_routes_get_the_json_error_body(server) -> None:  # type: ignore[no-untyped-def]
    response = httpx.get(f"{server.url}/nope", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Not Found", "request_id": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
