"""Small blobs' bytes in the catalog: ``blob_bytes``.

A store of content no larger than the inline limit writes its bytes into this table in the
same transaction as the artifact row that references them, so one commit (one WAL sync on
SQLite) makes both durable, instead of a file sync, a directory sync and then the commit. The
table is storage, like the blob files: replay does not empty it, and garbage collection removes
a row together with its ``blobs`` row.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_bytes",
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("digest", "backend"),
    )


def downgrade() -> None:
    op.drop_table("blob_bytes")
