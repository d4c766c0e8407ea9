"""The catalog: metadata, sessions, blob references and the event log, on SQLAlchemy.

``read()`` and ``write()`` hand out a reader or writer bound to one transaction. On SQLite,
writers are serialised in-process by an asyncio lock and across processes by
``BEGIN IMMEDIATE``; an in-memory SQLite database has a single connection, so every
transaction takes the lock. Driver errors are mapped to ProviderError here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from satchel.catalog.engine import create_engine, is_memory_sqlite, is_sqlite
from satchel.catalog.migrate import upgrade_to_head
from satchel.catalog.reader import CatalogReader
from satchel.catalog.writer import CatalogWriter
from satchel.core.errors import (
    ArtifactStoreError,
    NotSupportedError,
    ProviderError,
    ProviderUnavailableError,
)

__all__ = ["Catalog"]


class Catalog:
    """Async access to the catalog database at *url*."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = "sqlite" if is_sqlite(url) else url.split(":", 1)[0].split("+", 1)[0]
        if is_sqlite(url) and not is_memory_sqlite(url):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._engine = create_engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise NotSupportedError(f"cannot use catalog URL {url!r}: {exc}") from exc
        self._sqlite = is_sqlite(url)
        self._serialise_reads = is_memory_sqlite(url)
        self._lock = asyncio.Lock() if self._sqlite else None

    @property
    def redacted_url(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    async def migrate(self) -> None:
        """Apply pending Alembic migrations (idempotent; safe with concurrent processes)."""
        async with self._guard(write=True), self._engine.connect() as conn:
            conn = await conn.execution_options(satchel_write=True)
            await conn.run_sync(upgrade_to_head)
            await conn.commit()

    @contextlib.asynccontextmanager
    async def _guard(self, *, write: bool) -> AsyncIterator[None]:
        try:
            if self._lock is not None and (write or self._serialise_reads):
                async with self._lock:
                    yield
            else:
                yield
        except ArtifactStoreError:
            raise
        except OperationalError as exc:
            raise ProviderUnavailableError(f"catalog unavailable: {exc.orig}") from exc
        except (DBAPIError, SQLAlchemyError) as exc:
            raise ProviderError(f"catalog error: {exc}") from exc

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[CatalogReader]:
        """A reader on its own (read-only) transaction."""
        async with self._guard(write=False), self._engine.connect() as conn, conn.begin():
            yield CatalogReader(conn)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[CatalogWriter]:
        """A writer on a write transaction, committed when the block exits cleanly."""
        async with self._guard(write=True), self._engine.connect() as conn:
            conn = await conn.execution_options(satchel_write=True)
            async with conn.begin():
                yield CatalogWriter(conn)

    async def check(self) -> dict[str, Any]:
        try:
            async with self.read() as reader:
                await reader.conn.execute(text("SELECT 1"))
        except ArtifactStoreError as exc:
            return {"status": "error", "dialect": self.dialect, "error": exc.message}
        return {"status": "ok", "dialect": self.dialect, "url": self.redacted_url}

    async def close(self) -> None:
        await self._engine.dispose()
