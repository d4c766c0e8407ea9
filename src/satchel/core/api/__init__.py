"""The library API, stated once: every face of Satchel implements :class:`ArtifactStoreAPI`.

The embedded :class:`~satchel.ArtifactStore`, the remote client
(:class:`~satchel.RemoteArtifactStore`) and the synchronous facade
(:class:`~satchel.SyncArtifactStore`, its blocking twin) subclass or mirror it; a test compares
their signatures with these and fails on any drift. Methods marked :func:`derived` are written
here once, in terms of the others, and inherited by every face.

The contract is split by concern: artifacts (:mod:`.artifacts`), reads and listings
(:mod:`.reading`), policies and collections
(:mod:`.sharing`), presigned URLs and uploads (:mod:`.uploads`), packages, retention and holds
(:mod:`.packages`), the event feed (:mod:`.events`), aspects and provenance (:mod:`.aspects`),
webhooks (:mod:`.webhooks`), the pull-through cache (:mod:`.proxy`), the store itself
(:mod:`.admin`) and its S3 bucket (:mod:`.bucket`).
"""

from __future__ import annotations

from typing import Protocol

from satchel.core.api._derived import derived, is_derived
from satchel.core.api.admin import AdminAPI
from satchel.core.api.artifacts import ArtifactsAPI
from satchel.core.api.aspects import AspectsAPI
from satchel.core.api.bucket import BucketAPI
from satchel.core.api.events import EventsAPI
from satchel.core.api.packages import PackagesAPI
from satchel.core.api.proxy import ProxyAPI
from satchel.core.api.reading import ReadingAPI
from satchel.core.api.sharing import SharingAPI
from satchel.core.api.uploads import UploadsAPI
from satchel.core.api.webhooks import WebhooksAPI

__all__ = ["ArtifactStoreAPI", "api_methods", "derived", "is_derived"]


class ArtifactStoreAPI(
    ArtifactsAPI,
    ReadingAPI,
    SharingAPI,
    UploadsAPI,
    PackagesAPI,
    EventsAPI,
    AspectsAPI,
    WebhooksAPI,
    ProxyAPI,
    AdminAPI,
    BucketAPI,
    Protocol,
):
    """Everything an artifact store offers, whichever face serves it."""


def api_methods() -> dict[str, object]:
    """Every method and property of the contract, by name (dunder lifecycle methods included)."""
    found: dict[str, object] = {}
    parts = [base for base in ArtifactStoreAPI.__bases__ if base is not Protocol]
    for part in parts:
        for name, value in vars(part).items():
            if name.startswith("_") and name not in ("__aenter__", "__aexit__"):
                continue
            if callable(value) or isinstance(value, property):
                found[name] = value
    return found
