"""Package manifests (seed 001's ``artifactstore.manifest``): ``from satchel.manifest import
decode``. The codec lives in :mod:`satchel.core.manifest`."""

from satchel.core.manifest import *  # noqa: F403
from satchel.core.manifest import __all__ as __all__
