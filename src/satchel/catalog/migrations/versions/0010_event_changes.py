"""Replay: each event carries the view rows its transaction changed (``events.changes``).

Events logged before this revision carry none, so the upgrade logs the views as they are now as
``v1.catalog.snapshot`` events (admins only, up to 500 rows each): replaying the log from the
start then yields exactly today's rows, and every later event applies its changes on top.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The views at this revision (satchel.catalog.changes.VIEWS) and the rows per snapshot event.
_VIEWS = (
    "artifacts",
    "sessions",
    "blobs",
    "uploads",
    "api_keys",
    "packages",
    "package_files",
    "holds",
    "metadata_schemas",
    "aspects",
)
_ROWS_PER_EVENT = 500

_events = sa.table(
    "events",
    sa.column("time", sa.Float(precision=53)),
    sa.column("type", sa.String(64)),
    sa.column("actor", sa.String(128)),
    sa.column("subject", sa.String(128)),
    sa.column("payload", sa.JSON()),
    sa.column("scope", sa.String(16)),
    sa.column("changes", sa.JSON()),
)


def upgrade() -> None:
    op.add_column("events", sa.Column("changes", sa.JSON(), nullable=True))
    bind = op.get_bind()
    now = time.time()
    for name in _VIEWS:
        table = sa.Table(name, sa.MetaData(), autoload_with=bind)
        columns = list(table.primary_key.columns)
        keys = [column.name for column in columns]
        query = sa.select(table).order_by(*columns).limit(_ROWS_PER_EVENT)
        after: list[object] | None = None
        while True:  # keyset pages: each starts after the last key of the one before
            page = query if after is None else query.where(sa.tuple_(*columns) > tuple(after))
            rows = bind.execute(page).mappings().all()
            if not rows:
                break
            after = [rows[-1][key] for key in keys]
            changes = [[name, [row[key] for key in keys], dict(row)] for row in rows]
            payload = {"table": name, "rows": len(changes)}
            op.execute(
                _events.insert().values(
                    time=now,
                    type="v1.catalog.snapshot",
                    actor=None,
                    subject=name,
                    payload=payload,
                    scope="admin",
                    changes=changes,
                )
            )


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE type = 'v1.catalog.snapshot'")
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("changes")
