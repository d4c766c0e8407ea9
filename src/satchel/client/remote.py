"""``RemoteArtifactStore``: the ArtifactStore API over Satchel's HTTP service (docs/http-api.md).

Same method names, same parameters, same return types and the same errors: every error
response's JSON ``error`` code is raised as the matching class of :mod:`satchel.core.errors`
with the server's message, so code written against the embedded store runs against a server
unchanged. The contract's derived methods (store, read_file, presign_short…) are inherited from
:class:`satchel.core.api.ArtifactStoreAPI`; the others live in one module per concern, and the
HTTP plumbing in :mod:`satchel.client.transport`.
"""

from __future__ import annotations

from satchel.client.remote_admin import RemoteAdminMixin
from satchel.client.remote_artifacts import RemoteArtifactsMixin
from satchel.client.remote_aspects import RemoteAspectsMixin
from satchel.client.remote_bucket import RemoteBucketMixin
from satchel.client.remote_events import RemoteEventsMixin
from satchel.client.remote_packages import RemotePackagesMixin
from satchel.client.remote_proxy import RemoteProxyMixin
from satchel.client.remote_reading import RemoteReadingMixin
from satchel.client.remote_sharing import RemoteSharingMixin
from satchel.client.remote_tus import RemoteTusMixin
from satchel.client.remote_uploads import RemoteUploadsMixin
from satchel.client.remote_webhooks import RemoteWebhooksMixin
from satchel.client.transport import raise_for_response

__all__ = ["RemoteArtifactStore", "raise_for_response"]


class RemoteArtifactStore(
    RemoteArtifactsMixin,
    RemoteReadingMixin,
    RemoteSharingMixin,
    RemoteUploadsMixin,
    RemoteTusMixin,
    RemotePackagesMixin,
    RemoteEventsMixin,
    RemoteAspectsMixin,
    RemoteWebhooksMixin,
    RemoteProxyMixin,
    RemoteAdminMixin,
    RemoteBucketMixin,
):
    """An ArtifactStore-compatible client of ``satchel serve``.

    Args:
        url: base URL of the service (e.g. ``http://127.0.0.1:8000``).
        token: bearer token (``SATCHEL_AUTH_TOKENS``, an API key or the admin token).
        timeout: per-request timeout in seconds (``None``: no timeout).
        transport: an httpx transport (tests: ``httpx.ASGITransport(app)``).
        headers: extra headers sent with every request.
    """
