"""The command-line face (``satchel``)."""

from satchel.cli.app import app


def main() -> None:
    """Entry point of the ``satchel`` console script."""
    app()


__all__ = ["app", "main"]
