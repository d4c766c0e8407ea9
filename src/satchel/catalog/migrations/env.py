"""Alembic environment: runs on the connection Satchel hands it, or on ``sqlalchemy.url``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from satchel.catalog.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # One transaction for every pending revision: a second process waits on the write
        # lock and then sees the new head, instead of replaying a revision already applied.
        transactional_ddl=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from satchel.catalog.engine import create_driver_engine, create_sqlite_engine, is_sqlite

    url = config.get_main_option("sqlalchemy.url") or ""
    if is_sqlite(url):
        engine = create_sqlite_engine(url)
        with engine.connect() as sync_conn:
            _run(sync_conn.execution_options(satchel_write=True))
            sync_conn.commit()
        engine.dispose()
        return

    async def _main() -> None:
        driver = create_driver_engine(url)
        async with driver.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
        await driver.dispose()

    asyncio.run(_main())


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    _run_online()
