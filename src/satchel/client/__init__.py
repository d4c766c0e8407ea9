"""Client side of Satchel: the remote store, ``connect()`` and the synchronous facade."""

from satchel.client.connect import connect
from satchel.client.remote import RemoteArtifactStore
from satchel.client.sync import SyncArtifactStore, connect_sync

__all__ = ["RemoteArtifactStore", "SyncArtifactStore", "connect", "connect_sync"]
