"""Initial catalog: artifacts, sessions, blobs, events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("artifact_id", sa.String(64), nullable=False),
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=True),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("mime", sa.String(255), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(71), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("stored_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("ttl", sa.BigInteger(), nullable=True),
        sa.Column("storage_provider", sa.String(32), nullable=False),
        sa.Column("retention_class", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("artifact_id", name="pk_artifacts"),
    )
    op.create_index(
        "ix_artifacts_session_id_stored_at_artifact_id",
        "artifacts",
        ["session_id", "stored_at", "artifact_id"],
    )
    op.create_index("ix_artifacts_session_id_filename", "artifacts", ["session_id", "filename"])
    op.create_index(
        "ix_artifacts_owner_id_scope_stored_at", "artifacts", ["owner_id", "scope", "stored_at"]
    )
    op.create_index(
        "ix_artifacts_sandbox_id_scope_mime", "artifacts", ["sandbox_id", "scope", "mime"]
    )
    op.create_index("ix_artifacts_expires_at", "artifacts", ["expires_at"])
    op.create_index("ix_artifacts_sha256", "artifacts", ["sha256"])

    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("session_id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])

    op.create_table(
        "blobs",
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("orphaned_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_blobs"),
    )
    op.create_index("ix_blobs_orphaned_at", "blobs", ["orphaned_at"])

    op.create_table(
        "events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
    )
    op.create_index("ix_events_subject_seq", "events", ["subject", "seq"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("blobs")
    op.drop_table("sessions")
    op.drop_table("artifacts")
