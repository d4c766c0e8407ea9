"""The catalog port: metadata, sessions, blob references and events on SQLAlchemy Core."""

from satchel.catalog.catalog import Catalog
from satchel.catalog.reader import ArtifactPage, CatalogReader, Readable, SearchFilter
from satchel.catalog.writer import CatalogWriter

__all__ = ["ArtifactPage", "Catalog", "CatalogReader", "CatalogWriter", "Readable", "SearchFilter"]
