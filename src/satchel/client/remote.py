"""``RemoteArtifactStore``: the ArtifactStore API over Satchel's HTTP service (docs/http-api.md).

Same method names, same parameters, same return types and the same errors: every error response's
JSON ``error`` code is raised as the matching class of :mod:`satchel.core.errors` with the
server's message, so code written against the embedded store runs against a server unchanged.
The methods live in one mixin per concern; the HTTP plumbing is in :mod:`satchel.client.transport`.
"""

from __future__ import annotations

from satchel.client.remote_admin import RemoteAdminMixin
from satchel.client.remote_artifacts import RemoteArtifactsMixin
from satchel.client.remote_listing import RemoteListingMixin
from satchel.client.remote_uploads import RemoteUploadsMixin
from satchel.client.transport import raise_for_response

__all__ = ["RemoteArtifactStore", "raise_for_response"]


class RemoteArtifactStore(
    RemoteArtifactsMixin, RemoteListingMixin, RemoteUploadsMixin, RemoteAdminMixin
):
    """An ArtifactStore-compatible client of ``satchel serve``.

    Args:
        url: base URL of the service (e.g. ``http://127.0.0.1:8000``).
        token: bearer token (``SATCHEL_AUTH_TOKENS``, an API key or the admin token).
        timeout: per-request timeout in seconds (``None``: no timeout).
        transport: an httpx transport (tests: ``httpx.ASGITransport(app)``).
        headers: extra headers sent with every request.
    """
