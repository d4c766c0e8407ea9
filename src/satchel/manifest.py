"""Package manifests (seed 001's ``artifactstore.manifest``): ``from satchel.manifest import
decode``. The codec lives in :mod:`satchel.core.manifest`."""

from satchel.core.manifest import (
    FORMAT,
    Manifest,
    ManifestFile,
    address_of,
    build,
    check_relative_path,
    decode,
    encode,
)

__all__ = [
    "FORMAT",
    "Manifest",
    "ManifestFile",
    "address_of",
    "build",
    "check_relative_path",
    "decode",
    "encode",
]
