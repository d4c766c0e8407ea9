"""Running Alembic migrations programmatically on a catalog connection."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

__all__ = ["alembic_config", "upgrade_to_head"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_to_head(connection: Connection) -> None:
    """Upgrade the database behind *connection* to the newest revision."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
