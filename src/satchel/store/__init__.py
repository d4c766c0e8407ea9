"""The store: :class:`ArtifactStore`, a façade composed of one part per concern (see
:mod:`satchel.store.facade` for the map of which module holds which rule)."""

from satchel.store.facade import ArtifactStore

__all__ = ["ArtifactStore"]
