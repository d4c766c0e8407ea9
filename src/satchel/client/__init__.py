"""Client side of Satchel: the remote store, ``connect()`` and the synchronous facade."""

from satchel.client.connect import build_registry, connect
from satchel.client.remote import RemoteArtifactStore
from satchel.client.sync import SyncArtifactStore, connect_sync

__all__ = ["RemoteArtifactStore", "SyncArtifactStore", "build_registry", "connect", "connect_sync"]
