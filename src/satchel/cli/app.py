"""The ``satchel`` command (typer + rich)."""

from __future__ import annotations

import os
from typing import Any

import typer

from satchel._version import __version__

app = typer.Typer(
    rich_markup_mode=None,
    name="satchel",
    help="Satchel: a self-hosted artifact store.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,  # Satchel's errors are messages (satchel.cli.main)
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print Satchel's version and exit.",
    ),
) -> None:
    """Satchel: a self-hosted artifact store."""


@app.command()
def serve(
    host: str = typer.Option(None, help="address to bind (default SATCHEL_HOST, 127.0.0.1)"),
    port: int = typer.Option(
        None, min=0, max=65535, help="port, 0-65535 (default SATCHEL_PORT, 8000)"
    ),
    workers: int = typer.Option(
        None,
        min=1,
        max=64,
        help="worker processes sharing the port, 1-64 (default SATCHEL_WORKERS, 1)",
    ),
    log_level: str = typer.Option(
        None, help="log level (default SATCHEL_LOG_LEVEL or ARTIFACTSTORE_LOG_LEVEL, info)"
    ),
) -> None:
    """Run the HTTP service on the configured store (default: SQLite + files under ./var)."""
    import uvicorn

    from satchel.config import Settings
    from satchel.server import create_app
    from satchel.server.heap import limit_arenas

    settings = Settings()
    updates = {"host": host, "port": port, "workers": workers}
    settings = settings.model_copy(update={k: v for k, v in updates.items() if v is not None})
    log_level = (log_level or settings.log_level).lower()
    limit_arenas(settings.heap_arenas)  # before any thread starts
    application = create_app(settings)  # also creates the admin token, before any worker starts
    if settings.workers > 1 and not application.state.store.persistent:
        raise typer.BadParameter(
            "several workers need a persistent store (each would keep its own state in memory)",
            param_hint="--workers",
        )
    typer.echo(f"Satchel {__version__} on http://{settings.host}:{settings.port} (docs at /docs)")
    if settings.data_dir is not None and (settings.data_dir / "admin.token").exists():
        typer.echo(f"admin token: {settings.data_dir / 'admin.token'}")
    connections = _connection_options(settings)
    if settings.workers == 1:
        uvicorn.run(
            application,
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            **connections,
        )
        return
    # Each worker builds its own app (and store) from the environment, so what the options
    # changed goes there too (presigned URLs are built from the host and port).
    os.environ.update(
        SATCHEL_HOST=settings.host, SATCHEL_PORT=str(settings.port), SATCHEL_WORKERS="1"
    )
    uvicorn.run(
        "satchel.server.app:create_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        **connections,
    )


def _connection_options(settings: Any) -> dict[str, Any]:
    """uvicorn's connection limits and Satchel's protocol with head/body/send deadlines."""
    from satchel.server.connections import ConnectionLimits, GuardedHttpProtocol

    GuardedHttpProtocol.limits = ConnectionLimits.from_settings(settings)
    _raise_open_file_limit(settings.max_connections + 256)
    return {
        "http": GuardedHttpProtocol,
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keepalive_timeout_seconds,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
    }


def _raise_open_file_limit(wanted: int) -> None:
    """Let the process hold as many sockets as it accepts work on (up to the hard limit)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


@app.command()
def version(
    as_json: bool = typer.Option(False, "--json", help="machine-readable JSON on stdout"),
) -> None:
    """Print Satchel's version."""
    if as_json:
        import json
        import sys

        print(json.dumps({"version": __version__, "python": sys.version.split()[0]}))
        return
    typer.echo(__version__)


def _register_commands() -> None:
    from satchel.cli.artifacts import register as register_artifacts
    from satchel.cli.aspects import register as register_aspects
    from satchel.cli.commands import register
    from satchel.cli.events import register as register_events
    from satchel.cli.listing import register as register_listing
    from satchel.cli.mcp_server import register as register_mcp
    from satchel.cli.packages import register as register_packages
    from satchel.cli.proxy import register as register_proxy
    from satchel.cli.retention import register as register_retention
    from satchel.cli.s3 import register as register_s3
    from satchel.cli.sharing import register as register_sharing
    from satchel.cli.sync import register as register_sync
    from satchel.cli.webhooks import register as register_webhooks

    register_artifacts(app)
    register_listing(app)
    register_sharing(app)
    register_sync(app)
    register(app)
    register_packages(app)
    register_retention(app)
    register_events(app)
    register_aspects(app)
    register_webhooks(app)
    register_proxy(app)
    register_mcp(app)
    register_s3(app)


_register_commands()
