"""The pull-through cache's entries: per remote path, the artifact holding its bytes and the
upstream's validators, or that upstream had no such file; and when each was last read (for
least-recently-used eviction), and which process downloads a path now (a lease).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "proxy_entries",
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("remote", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("artifact_id", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(71), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("upstream_etag", sa.Text(), nullable=True),
        sa.Column("upstream_modified", sa.Text(), nullable=True),
        sa.Column("fetched_at", _TIME, nullable=False),
        sa.Column("checked_at", _TIME, nullable=False),
        sa.Column("fresh_until", _TIME, nullable=True),
        sa.Column("missing_until", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name="pk_proxy_entries"),
    )
    op.create_index(
        "ix_proxy_entries_sandbox_id_remote_path",
        "proxy_entries",
        ["sandbox_id", "remote", "path"],
    )
    op.create_index("ix_proxy_entries_artifact_id", "proxy_entries", ["artifact_id"])
    op.create_index(
        "ix_proxy_entries_sandbox_id_missing_until",
        "proxy_entries",
        ["sandbox_id", "missing_until"],
    )
    op.create_table(
        "proxy_fetches",
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("until", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_proxy_fetches"),
    )
    op.create_table(
        "proxy_usage",
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("last_used_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_proxy_usage"),
    )


def downgrade() -> None:
    op.drop_table("proxy_usage")
    op.drop_table("proxy_fetches")
    op.drop_index("ix_proxy_entries_sandbox_id_missing_until", table_name="proxy_entries")
    op.drop_index("ix_proxy_entries_artifact_id", table_name="proxy_entries")
    op.drop_index("ix_proxy_entries_sandbox_id_remote_path", table_name="proxy_entries")
    op.drop_table("proxy_entries")
