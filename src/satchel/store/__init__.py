"""The façade: ArtifactStore, split by concern (artifacts, files, listing, streaming, …)."""

from satchel.store.artifact_store import ArtifactStore
from satchel.store.listing import ArtifactList

__all__ = ["ArtifactList", "ArtifactStore"]
