"""Aspects (seed 002): typed metadata records about artifacts, packages and URNs, with the
audience of what they describe and, for provenance aspects, the job they link to.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "aspects",
        sa.Column("aspect_id", sa.String(64), nullable=False),
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("entity", sa.String(300), nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("schema", sa.String(300), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("policy", sa.String(300), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("retracted_at", _TIME, nullable=True),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=True),
        sa.Column("session_id", sa.String(128), nullable=True),
        sa.Column("link", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("aspect_id", name="pk_aspects"),
    )
    op.create_index(
        "ix_aspects_sandbox_id_entity_schema", "aspects", ["sandbox_id", "entity", "schema"]
    )
    op.create_index(
        "ix_aspects_sandbox_id_created_at_aspect_id",
        "aspects",
        ["sandbox_id", "created_at", "aspect_id"],
    )
    op.create_index("ix_aspects_link_schema", "aspects", ["link", "schema"])


def downgrade() -> None:
    op.drop_index("ix_aspects_link_schema", table_name="aspects")
    op.drop_index("ix_aspects_sandbox_id_created_at_aspect_id", table_name="aspects")
    op.drop_index("ix_aspects_sandbox_id_entity_schema", table_name="aspects")
    op.drop_table("aspects")
