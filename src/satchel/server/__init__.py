"""The HTTP face: a thin FastAPI app over ArtifactStore (``satchel serve``)."""

from satchel.server.app import create_app

__all__ = ["create_app"]
