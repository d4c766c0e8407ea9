"""Seed 002's IVCAP artifact client on Satchel: :class:`Satchel` (blocking) and
:class:`AsyncSatchel`, the artifacts and aspects they return. See docs/client.md."""

from satchel.client.artifacts.aspect import Aspect
from satchel.client.artifacts.async_artifact import AsyncArtifact
from satchel.client.artifacts.async_client import AsyncSatchel
from satchel.client.artifacts.local_artifact import AsyncLocalFileArtifact, LocalFileArtifact
from satchel.client.artifacts.sync_artifact import Artifact
from satchel.client.artifacts.sync_client import Satchel
from satchel.client.safepath import SafePath

__all__ = [
    "Artifact",
    "Aspect",
    "AsyncArtifact",
    "AsyncLocalFileArtifact",
    "AsyncSatchel",
    "LocalFileArtifact",
    "SafePath",
    "Satchel",
]
