"""The event log becomes a feed: versioned type names, an audience per event, 64-bit sequence
numbers that are never reused.

* Types take their version: ``artifact.stored`` becomes ``v1.artifact.stored``.
* ``sandbox_id``, ``scope``, ``owner_id`` and ``session_id`` say who may see an event (see
  :class:`satchel.core.events.Audience`). Existing events take them from the artifact, package,
  session, upload, key or schema they name; an event about something already gone keeps none
  and is served to nobody (its history stays in the table for ``replay``).
* ``seq`` is a BIGINT on PostgreSQL (and its sequence too); on SQLite the table is rebuilt with
  AUTOINCREMENT, so a sequence number is never handed out twice even after rows are deleted.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = ("sandbox_id", "scope", "owner_id", "session_id")


def _backfill(source: str, key: str, values: dict[str, str], where: str = "") -> str:
    """UPDATE the audience of events whose subject is a row of *source* (by *key*)."""
    sets = ", ".join(
        f"{column} = (SELECT {value} FROM {source} s WHERE s.{key} = events.subject)"
        for column, value in values.items()
    )
    found = f"EXISTS (SELECT 1 FROM {source} s WHERE s.{key} = events.subject)"
    return f"UPDATE events SET {sets} WHERE sandbox_id IS NULL AND {found} {where}"


_BACKFILLS = [
    _backfill(
        "artifacts",
        "artifact_id",
        {
            "sandbox_id": "s.sandbox_id",
            "scope": "s.scope",
            "owner_id": "s.owner_id",
            "session_id": "s.session_id",
        },
    ),
    _backfill(
        "packages",
        "package_id",
        {"sandbox_id": "s.sandbox_id", "scope": "s.scope", "owner_id": "s.owner_id"},
    ),
    _backfill(
        "uploads",
        "upload_id",
        {
            "sandbox_id": "s.sandbox_id",
            "scope": "s.scope",
            "owner_id": "s.owner_id",
            "session_id": "s.session_id",
        },
    ),
    _backfill(
        "sessions",
        "session_id",
        {
            "sandbox_id": "s.sandbox_id",
            "scope": "'session'",
            "owner_id": "s.user_id",
            "session_id": "s.session_id",
        },
        "AND type LIKE 'v1.session.%'",
    ),
    _backfill(
        "api_keys",
        "key_id",
        {"sandbox_id": "s.sandbox_id", "scope": "'admin'"},
        "AND type LIKE 'v1.api_key.%'",
    ),
    """UPDATE events SET
        sandbox_id = (SELECT MIN(s.sandbox_id) FROM metadata_schemas s
            WHERE s.slug || '@' || CAST(s.version AS VARCHAR(16)) = events.subject),
        scope = 'sandbox'
    WHERE sandbox_id IS NULL AND type = 'v1.schema.registered'
        AND (SELECT COUNT(DISTINCT s.sandbox_id) FROM metadata_schemas s
            WHERE s.slug || '@' || CAST(s.version AS VARCHAR(16)) = events.subject) = 1""",
]


def upgrade() -> None:
    op.execute("UPDATE events SET type = 'v1.' || type WHERE type NOT LIKE 'v1.%'")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.alter_column("events", "seq", type_=sa.BigInteger(), existing_nullable=False)
        sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('events', 'seq')"))
        name = sequence.scalar_one_or_none()
        if name:
            op.execute(f"ALTER SEQUENCE {name} AS BIGINT")
    with op.batch_alter_table(
        "events", recreate="auto", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.add_column(sa.Column("sandbox_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("scope", sa.String(16), nullable=True))
        batch.add_column(sa.Column("owner_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("session_id", sa.String(128), nullable=True))
    if bind.dialect.name == "sqlite":  # AUTOINCREMENT needs the table rebuilt
        with op.batch_alter_table(
            "events", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass
    for statement in _BACKFILLS:
        op.execute(statement)
    op.execute("UPDATE events SET scope = 'admin' WHERE scope IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        for column in _COLUMNS:
            batch.drop_column(column)
    op.execute("UPDATE events SET type = SUBSTR(type, 4) WHERE type LIKE 'v1.%'")
