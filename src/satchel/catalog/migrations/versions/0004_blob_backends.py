"""Blob references per backend: the ``blobs`` key becomes (digest, backend).

With routing rules the same content can be stored in two backends; each copy is referenced and
garbage-collected on its own. Existing rows take the backend recorded on an artifact pointing
at them, else (an orphan) the backend most artifacts record, else ``filesystem``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BACKFILL = """
UPDATE blobs SET backend = COALESCE(
    (SELECT MIN(a.storage_provider) FROM artifacts a WHERE a.sha256 = blobs.digest),
    (SELECT a.storage_provider FROM artifacts a
        GROUP BY a.storage_provider ORDER BY COUNT(*) DESC, a.storage_provider LIMIT 1),
    'filesystem'
)
"""

# Downgrading keeps one row per digest (the old key): the first backend's, by name.
_COLLAPSE = """
DELETE FROM blobs WHERE backend <> (
    SELECT MIN(b.backend) FROM blobs b WHERE b.digest = blobs.digest
)
"""


def upgrade() -> None:
    with op.batch_alter_table("blobs") as batch:
        batch.add_column(
            sa.Column("backend", sa.String(32), nullable=False, server_default="filesystem")
        )
    op.execute(_BACKFILL)
    # SQLite recreates the table (it cannot alter a key); PostgreSQL alters it in place.
    with op.batch_alter_table("blobs") as batch:
        batch.drop_constraint("pk_blobs", type_="primary")
        batch.create_primary_key("pk_blobs", ["digest", "backend"])
        batch.alter_column("backend", existing_type=sa.String(32), server_default=None)


def downgrade() -> None:
    op.execute(_COLLAPSE)
    with op.batch_alter_table("blobs") as batch:
        batch.drop_constraint("pk_blobs", type_="primary")
        batch.create_primary_key("pk_blobs", ["digest"])
        batch.drop_column("backend")
