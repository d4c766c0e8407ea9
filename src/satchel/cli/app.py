"""The ``satchel`` command (typer + rich)."""

from __future__ import annotations

import typer

from satchel._version import __version__

app = typer.Typer(
    name="satchel",
    help="Satchel: a self-hosted artifact store.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: str = typer.Option(None, help="address to bind (default SATCHEL_HOST, 127.0.0.1)"),
    port: int = typer.Option(None, help="port (default SATCHEL_PORT, 8000)"),
    log_level: str = typer.Option("info", help="uvicorn log level"),
) -> None:
    """Run the HTTP service on the configured store (default: SQLite + files under ./var)."""
    import uvicorn

    from satchel.config import Settings
    from satchel.server import create_app

    settings = Settings()
    if host is not None or port is not None:
        settings = settings.model_copy(
            update={"host": host or settings.host, "port": port or settings.port}
        )
    application = create_app(settings)
    typer.echo(f"Satchel {__version__} on http://{settings.host}:{settings.port} (docs at /docs)")
    if (settings.data_dir / "admin.token").exists():
        typer.echo(f"admin token: {settings.data_dir / 'admin.token'}")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level=log_level)


@app.command()
def version() -> None:
    """Print Satchel's version."""
    typer.echo(__version__)


def _register_commands() -> None:
    from satchel.cli.commands import register

    register(app)


_register_commands()
