"""Packages and their files, legal holds and metadata schemas (seed 001); artifacts keep when
their retention ends.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TIME = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=True),
        sa.Column("producer", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("retention_class", sa.String(128), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("schema", sa.String(300), nullable=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("finalized_at", _TIME, nullable=True),
        sa.Column("manifest_address", sa.String(71), nullable=True),
        sa.Column("manifest_backend", sa.String(32), nullable=True),
        sa.Column("retain_until", _TIME, nullable=True),
        sa.Column("retention_mode", sa.String(16), nullable=True),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("total_bytes", sa.BigInteger(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("eligible_rule", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("package_id", name="pk_packages"),
    )
    op.create_index(
        "ix_packages_sandbox_id_created_at_package_id",
        "packages",
        ["sandbox_id", "created_at", "package_id"],
    )
    op.create_index(
        "ix_packages_sandbox_id_name_version", "packages", ["sandbox_id", "name", "version"]
    )
    op.create_index(
        "ix_packages_sandbox_id_producer_subject_finalized_at",
        "packages",
        ["sandbox_id", "producer", "subject", "finalized_at"],
    )
    op.create_index(
        "ix_packages_manifest_address_manifest_backend",
        "packages",
        ["manifest_address", "manifest_backend"],
    )
    op.create_table(
        "package_files",
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("relative_path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(71), nullable=False),
        sa.Column("blake3", sa.String(71), nullable=True),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("added_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("package_id", "relative_path", name="pk_package_files"),
    )
    op.create_index("ix_package_files_sha256_backend", "package_files", ["sha256", "backend"])
    op.create_table(
        "holds",
        sa.Column("hold_id", sa.String(64), nullable=False),
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.Column("applied_at", _TIME, nullable=False),
        sa.Column("released_at", _TIME, nullable=True),
        sa.Column("released_by", sa.String(128), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("hold_id", name="pk_holds"),
    )
    op.create_index(
        "ix_holds_target_kind_target_id_released_at",
        "holds",
        ["target_kind", "target_id", "released_at"],
    )
    op.create_table(
        "metadata_schemas",
        sa.Column("sandbox_id", sa.String(128), nullable=False),
        sa.Column("slug", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("actor", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("sandbox_id", "slug", "version", name="pk_metadata_schemas"),
    )
    with op.batch_alter_table("artifacts") as batch:
        batch.add_column(sa.Column("retain_until", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("retain_until")
    op.drop_table("metadata_schemas")
    op.drop_table("holds")
    op.drop_table("package_files")
    op.drop_table("packages")
