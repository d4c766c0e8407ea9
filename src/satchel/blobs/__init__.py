"""Blob backends behind one small Protocol (see :mod:`satchel.blobs.base`)."""

from satchel.blobs.base import BlobPage, BlobStore
from satchel.blobs.registry import create_blob_store, normalise_provider

__all__ = ["BlobPage", "BlobStore", "create_blob_store", "normalise_provider"]
