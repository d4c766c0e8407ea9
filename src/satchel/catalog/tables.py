"""Catalog tables (SQLAlchemy Core). The same schema serves SQLite and PostgreSQL.

Times are epoch seconds (double precision); ``meta`` and event payloads are canonical JSON.
Migrations in ``migrations/versions`` create exactly these tables; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

__all__ = [
    "api_keys",
    "artifacts",
    "aspects",
    "blob_bytes",
    "blobs",
    "collection_members",
    "events",
    "holds",
    "metadata",
    "metadata_schemas",
    "package_files",
    "packages",
    "proxy_entries",
    "proxy_fetches",
    "proxy_usage",
    "sessions",
    "uploads",
    "webhook_cursors",
    "webhook_dead_letters",
    "webhook_secrets",
    "webhooks",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("artifact_id", String(64), primary_key=True),
    Column("sandbox_id", String(128), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("owner_id", String(128), nullable=True),
    Column("filename", Text, nullable=True),
    Column("mime", String(255), nullable=False),
    Column("summary", Text, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("sha256", String(71), nullable=False),
    Column("etag", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    # byte order on both databases (0014: "C" on PostgreSQL), so a prefix is one range of keys
    Column("key", Text().with_variant(Text(collation="C"), "postgresql"), nullable=False),
    Column("stored_at", Float(precision=53), nullable=False),
    Column("updated_at", Float(precision=53), nullable=False),
    Column("expires_at", Float(precision=53), nullable=True),
    Column("ttl", BigInteger, nullable=True),
    Column("storage_provider", String(32), nullable=False),
    Column("retention_class", String(64), nullable=True),
    Column("retain_until", Float(precision=53), nullable=True),  # 0006: retention's end
    Column("policy", String(16), nullable=True),  # 0013: "public", or null (private)
)
Index(None, artifacts.c.session_id, artifacts.c.stored_at, artifacts.c.artifact_id)
Index(None, artifacts.c.session_id, artifacts.c.filename)
Index(None, artifacts.c.owner_id, artifacts.c.scope, artifacts.c.stored_at)
Index(None, artifacts.c.owner_id, artifacts.c.stored_at, artifacts.c.artifact_id)  # 0014
Index(None, artifacts.c.sandbox_id, artifacts.c.scope, artifacts.c.mime)
Index(None, artifacts.c.expires_at)
Index(None, artifacts.c.sha256)
Index(None, artifacts.c.sandbox_id, artifacts.c.key)  # 0014: delete_prefix's walk

# Which artifacts belong to which named collections (migration 0013); rows go with their artifact.
collection_members = Table(
    "collection_members",
    metadata,
    Column("sandbox_id", String(128), primary_key=True),
    Column("collection", String(128), primary_key=True),
    Column("artifact_id", String(64), primary_key=True),
    Column("added_at", Float(precision=53), nullable=False),
)
Index(None, collection_members.c.artifact_id)

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("sandbox_id", String(128), nullable=False),
    Column("user_id", String(128), nullable=True),
    Column("created_at", Float(precision=53), nullable=False),
    Column("expires_at", Float(precision=53), nullable=True),
)
Index(None, sessions.c.user_id)
Index(None, sessions.c.expires_at)

# One row per stored (digest, backend): the same content routed to two backends is two blobs,
# referenced and collected separately (migration 0004 added ``backend`` to the key).
blobs = Table(
    "blobs",
    metadata,
    Column("digest", String(71), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("orphaned_at", Float(precision=53), nullable=True),
    Column("backend", String(32), nullable=False),
    Column("verified_at", Float(precision=53), nullable=True),  # 0009: last re-read and hashed
    Column("failure", Text, nullable=True),  # 0009: why the bytes failed it (null: intact)
    PrimaryKeyConstraint("digest", "backend"),
)
Index(None, blobs.c.orphaned_at)
Index(None, blobs.c.failure)

# Storage, not a view: the bytes of small blobs kept in the catalog itself (0015), written in
# the transaction that references them, so one commit makes bytes and rows durable together.
# Replay leaves it alone, as it leaves blob files alone; GC deletes a row with its blob's.
blob_bytes = Table(
    "blob_bytes",
    metadata,
    Column("digest", String(71), nullable=False),
    Column("backend", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
    PrimaryKeyConstraint("digest", "backend"),
)

# The log every state change appends to, in the change's transaction. ``seq`` is 64-bit and
# never reused (SQLite: INTEGER PRIMARY KEY AUTOINCREMENT, which is a 64-bit rowid); the
# audience columns (0007) say who may read an event (satchel.core.events.Audience).
events = Table(
    "events",
    metadata,
    Column(
        "seq",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("time", Float(precision=53), nullable=False),
    Column("type", String(64), nullable=False),
    Column("actor", String(128), nullable=True),
    Column("subject", String(128), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("sandbox_id", String(128), nullable=True),
    Column("scope", String(16), nullable=True),
    Column("owner_id", String(128), nullable=True),
    Column("session_id", String(128), nullable=True),
    # 0010: the view rows it changed, for replay (SQL NULL when none: never JSON null)
    Column("changes", JSON(none_as_null=True), nullable=True),
    sqlite_autoincrement=True,
)
Index(None, events.c.subject, events.c.seq)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("sandbox_id", String(128), nullable=False),
    Column("artifact_id", String(64), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("owner_id", String(128), nullable=True),
    Column("actor_id", String(128), nullable=True),
    Column("scope", String(16), nullable=False),
    Column("filename", Text, nullable=True),
    Column("mime", String(255), nullable=False),
    Column("summary", Text, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("ttl", BigInteger, nullable=True),
    Column("length", BigInteger, nullable=True),
    Column("offset", BigInteger, nullable=False),
    Column("parts", JSON, nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("expires_at", Float(precision=53), nullable=False),
)
Index(None, uploads.c.artifact_id)
Index(None, uploads.c.state, uploads.c.expires_at)
Index(None, uploads.c.actor_id, uploads.c.state)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("secret_digest", String(64), nullable=False),
    Column("sandbox_id", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("name", String(255), nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("expires_at", Float(precision=53), nullable=True),
    Column("revoked_at", Float(precision=53), nullable=True),
)
Index(None, api_keys.c.sandbox_id, api_keys.c.created_at)

# -- packages, holds, metadata schemas (migration 0006) -----------------------------------------

packages = Table(
    "packages",
    metadata,
    Column("package_id", String(64), primary_key=True),
    Column("sandbox_id", String(128), nullable=False),
    Column("name", String(255), nullable=False),
    Column("version", String(128), nullable=True),
    Column("producer", String(128), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("retention_class", String(128), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("schema", String(300), nullable=True),
    Column("scope", String(16), nullable=False),
    Column("owner_id", String(128), nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("finalized_at", Float(precision=53), nullable=True),
    Column("manifest_address", String(71), nullable=True),
    Column("manifest_backend", String(32), nullable=True),
    Column("retain_until", Float(precision=53), nullable=True),
    Column("retention_mode", String(16), nullable=True),
    Column("file_count", Integer, nullable=False),
    Column("total_bytes", BigInteger, nullable=False),
    Column("eligible", Boolean, nullable=False),
    Column("eligible_rule", Text, nullable=True),
)
Index(None, packages.c.sandbox_id, packages.c.created_at, packages.c.package_id)
Index(None, packages.c.sandbox_id, packages.c.name, packages.c.version)
Index(None, packages.c.sandbox_id, packages.c.producer, packages.c.subject, packages.c.finalized_at)
Index(None, packages.c.manifest_address, packages.c.manifest_backend)

# One row per file of a package; each refers to its blob like an artifact does.
package_files = Table(
    "package_files",
    metadata,
    Column("package_id", String(64), nullable=False),
    Column("relative_path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("sha256", String(71), nullable=False),
    Column("blake3", String(71), nullable=True),
    Column("backend", String(32), nullable=False),
    Column("added_at", Float(precision=53), nullable=False),
    PrimaryKeyConstraint("package_id", "relative_path"),
)
Index(None, package_files.c.sha256, package_files.c.backend)

holds = Table(
    "holds",
    metadata,
    Column("hold_id", String(64), primary_key=True),
    Column("sandbox_id", String(128), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(128), nullable=True),
    Column("applied_at", Float(precision=53), nullable=False),
    Column("released_at", Float(precision=53), nullable=True),
    Column("released_by", String(128), nullable=True),
    Column("release_reason", Text, nullable=True),
)
Index(None, holds.c.target_kind, holds.c.target_id, holds.c.released_at)

metadata_schemas = Table(
    "metadata_schemas",
    metadata,
    Column("sandbox_id", String(128), nullable=False),
    Column("slug", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", JSON, nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("actor", String(128), nullable=True),
    PrimaryKeyConstraint("sandbox_id", "slug", "version"),
)

# -- aspects (migration 0008) -------------------------------------------------------------------

# Typed metadata records about an artifact, a package or a URN (seed 002). The audience columns
# are those of the entity (as for events); ``link`` is a provenance aspect's job.
aspects = Table(
    "aspects",
    metadata,
    Column("aspect_id", String(64), primary_key=True),
    Column("sandbox_id", String(128), nullable=False),
    Column("entity", String(300), nullable=False),
    Column("entity_kind", String(16), nullable=False),
    Column("schema", String(300), nullable=False),
    Column("content", JSON, nullable=False),
    Column("policy", String(300), nullable=True),
    Column("state", String(16), nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("retracted_at", Float(precision=53), nullable=True),
    Column("actor", String(128), nullable=True),
    Column("scope", String(16), nullable=False),
    Column("owner_id", String(128), nullable=True),
    Column("session_id", String(128), nullable=True),
    Column("link", String(300), nullable=True),
)
Index(None, aspects.c.sandbox_id, aspects.c.entity, aspects.c.schema)
Index(None, aspects.c.sandbox_id, aspects.c.created_at, aspects.c.aspect_id)
Index(None, aspects.c.link, aspects.c.schema)

# -- webhooks (migration 0011) ------------------------------------------------------------------

# Subscriptions to the event feed (a view: each change is an event). Their signing secrets are
# kept apart (webhook_secrets), out of the log's row images.
webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(32), primary_key=True),
    Column("sandbox_id", String(128), nullable=False),
    Column("url", Text, nullable=False),
    Column("types", JSON, nullable=False),
    Column("subject_prefix", String(128), nullable=True),
    Column("description", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("created_at", Float(precision=53), nullable=False),
    Column("updated_at", Float(precision=53), nullable=False),
    Column("actor", String(128), nullable=True),
)
Index(None, webhooks.c.sandbox_id, webhooks.c.created_at)

# Each subscription's delivery state: the last sequence handled, the failures of the next event,
# the lease of the process delivering, counters. Consumer state: replay leaves it as it is.
webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("webhook_id", String(32), primary_key=True),
    Column("cursor", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float(precision=53), nullable=True),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float(precision=53), nullable=True),
    Column("last_attempt_at", Float(precision=53), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered", BigInteger, nullable=False, default=0),
    Column("failed", BigInteger, nullable=False, default=0),
    Column("dead", BigInteger, nullable=False, default=0),
)

# The secret each subscription signs with: not a view, so it never enters the log (replay keeps
# it; a subscription rebuilt by replay signs with the secret it had).
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("webhook_id", String(32), primary_key=True),
    Column("secret", Text, nullable=False),
)

# Events a subscription gave up on after max_attempts failures, until redelivered.
webhook_dead_letters = Table(
    "webhook_dead_letters",
    metadata,
    Column("webhook_id", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=False),
    Column("dead_at", Float(precision=53), nullable=False),
    Column("redelivered_at", Float(precision=53), nullable=True),
    Column("lease_until", Float(precision=53), nullable=True),
    PrimaryKeyConstraint("webhook_id", "seq"),
)

# -- the pull-through cache (migration 0012) -----------------------------------------------------

# What the cache knows about a remote's path (a view: each change is an event): the artifact
# holding its bytes and the upstream's validators, or that upstream had no such file (until
# missing_until). entry_id is derived from sandbox, remote and path (core.proxy.entry_id).
proxy_entries = Table(
    "proxy_entries",
    metadata,
    Column("entry_id", String(32), primary_key=True),
    Column("sandbox_id", String(128), nullable=False),
    Column("remote", String(64), nullable=False),
    Column("path", Text, nullable=False),
    Column("artifact_id", String(64), nullable=True),
    Column("sha256", String(71), nullable=True),
    Column("bytes", BigInteger, nullable=True),
    Column("upstream_etag", Text, nullable=True),
    Column("upstream_modified", Text, nullable=True),
    Column("fetched_at", Float(precision=53), nullable=False),
    Column("checked_at", Float(precision=53), nullable=False),
    Column("fresh_until", Float(precision=53), nullable=True),
    Column("missing_until", Float(precision=53), nullable=True),
)
Index(None, proxy_entries.c.sandbox_id, proxy_entries.c.remote, proxy_entries.c.path)
Index(None, proxy_entries.c.artifact_id)
Index(None, proxy_entries.c.sandbox_id, proxy_entries.c.missing_until)

# When each cached file was last read, for least-recently-used eviction: use, not state (not a
# view, so not logged; replay keeps it), written in batches by each process.
proxy_usage = Table(
    "proxy_usage",
    metadata,
    Column("entry_id", String(32), primary_key=True),
    Column("last_used_at", Float(precision=53), nullable=False),
)

# Which process is downloading a remote path now (a lease, renewed while bytes arrive): replicas
# wait for the holder instead of asking upstream too. Coordination, not state: not a view.
proxy_fetches = Table(
    "proxy_fetches",
    metadata,
    Column("entry_id", String(32), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("until", Float(precision=53), nullable=False),
)
