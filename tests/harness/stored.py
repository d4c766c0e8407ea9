"""Where a data directory keeps a blob's bytes, looked at from outside the store (as an operator
would): a file under ``blobs/sha256/`` or, for small content (``SATCHEL_INLINE_MAX_BYTES``), a
row of the SQLite catalog's ``blob_bytes`` table."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

__all__ = ["blob_file", "remove_stored", "stored_bytes", "stored_digests"]


def blob_file(blob_root: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return blob_root / "sha256" / hexdigest[:2] / hexdigest[2:4] / hexdigest


def _catalog(catalog: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(catalog))


def stored_bytes(data_dir: Path, digest: str, *, catalog: str = "satchel.db") -> bytes | None:
    """The bytes of *digest* kept in *data_dir* (its file, else its catalog row), or None."""
    path = blob_file(data_dir / "blobs", digest)
    if path.is_file():
        return path.read_bytes()
    with _catalog(data_dir / catalog) as db:
        row = db.execute("SELECT data FROM blob_bytes WHERE digest = ?", (digest,)).fetchone()
    return None if row is None else bytes(row[0])


def stored_digests(data_dir: Path, *, catalog: str = "satchel.db") -> set[str]:
    """Every blob *data_dir* keeps bytes of, files and catalog rows alike."""
    files = {
        "sha256:" + path.name
        for path in (data_dir / "blobs" / "sha256").rglob("*")
        if path.is_file()
    }
    with _catalog(data_dir / catalog) as db:
        rows = db.execute("SELECT digest FROM blob_bytes").fetchall()
    return files | {row[0] for row in rows}


def remove_stored(data_dir: Path, digest: str, *, catalog: str = "satchel.db") -> None:
    """Lose the bytes of *digest* behind the store's back, wherever they are kept."""
    path = blob_file(data_dir / "blobs", digest)
    if path.is_file():
        path.chmod(0o600)
        path.unlink()
        return
    with _catalog(data_dir / catalog) as db, db:
        gone = db.execute("DELETE FROM blob_bytes WHERE digest = ?", (digest,)).rowcount
    assert gone, f"{digest} is kept nowhere in {data_dir}"


def shorten_stored(data_dir: Path, digest: str, keep: int, *, catalog: str = "satchel.db") -> None:
    """Cut the bytes of *digest* to their first *keep* behind the store's back (a torn write),
    wherever they are kept."""
    path = blob_file(data_dir / "blobs", digest)
    if path.is_file():
        path.chmod(0o600)
        with open(path, "r+b") as blob:
            blob.truncate(keep)
        return
    with _catalog(data_dir / catalog) as db, db:
        cut = db.execute(
            "UPDATE blob_bytes SET data = substr(data, 1, ?) WHERE digest = ?", (keep, digest)
        ).rowcount
    assert cut, f"{digest} is kept nowhere in {data_dir}"
