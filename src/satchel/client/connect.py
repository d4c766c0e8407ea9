"""``satchel.connect()``: the embedded store, or a remote one when a server URL is configured."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from satchel.client.remote import RemoteArtifactStore
from satchel.config_env import from_environment
from satchel.core.errors import InvalidRequestError

if TYPE_CHECKING:
    from satchel.store import ArtifactStore

__all__ = ["build_registry", "connect"]

_REMOTE_ONLY = ("timeout", "transport", "headers")


def connect(
    url: str | None = None, token: str | None = None, **kwargs: Any
) -> ArtifactStore | RemoteArtifactStore:
    """An ArtifactStore-compatible object, chosen as the CLI chooses (seed 002's local and
    platform modes): a server when *url* (or ``SATCHEL_URL``) is set, else the embedded store.

    Without a URL this is ``ArtifactStore(**kwargs)`` with its blobs as files under the data
    directory (``SATCHEL_DATA_DIR``, default ``./var``: kept across runs, as the CLI keeps them;
    pass ``storage_provider="memory"`` for a store that keeps nothing), imported only then, so a
    remote client never loads the embedded store's dependencies. With a URL it is
    ``RemoteArtifactStore(url, token or SATCHEL_TOKEN)`` with the remote options of *kwargs*
    (``timeout``, ``transport``, ``headers``; the embedded store's options are ignored). The
    two answer the same calls with the same results and errors. A token without a URL is a
    mistake (it is for a server), refused with InvalidRequestError naming ``SATCHEL_URL``.
    """
    given = kwargs.get("settings")
    if given is None:  # what the environment says outranks ./.env, so Settings may be skipped
        url, token = from_environment(url, token)
    if url is None or token is None:
        from satchel.config_client import ClientSettings

        # (the server's settings are read only by an embedded store, which uses them)
        settings = given if given is not None else ClientSettings()
        url = url or settings.url
        token = token or settings.token
    remote = {name: kwargs.pop(name) for name in _REMOTE_ONLY if name in kwargs}
    if not url:
        if token:
            raise InvalidRequestError(
                "a token (SATCHEL_TOKEN or token=) is for a server, but no server is named: "
                "set SATCHEL_URL (e.g. http://127.0.0.1:8000), or unset the token to use "
                "the embedded store"
            )
        from satchel.store import ArtifactStore

        kwargs.setdefault("default_backend", "filesystem")
        return ArtifactStore(**kwargs)
    return RemoteArtifactStore(url, token, **remote)  # embedded-only options do not apply


def build_registry(**kwargs: Any) -> ArtifactStore:
    """The configured embedded store, as seed 001's ``build_registry()`` gives its registry:
    the catalog and blob backends of the settings (``SATCHEL_*`` or seed 001's
    ``ARTIFACTSTORE_*`` variables), by default SQLite and files under ``./var``. Close it with
    ``await store.dispose()`` (or ``close()``)."""
    from satchel.store import ArtifactStore

    kwargs.setdefault("default_backend", "filesystem")
    return ArtifactStore(**kwargs)
