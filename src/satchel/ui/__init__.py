"""The web UI: a small front end (plain ES modules, no build step) served at ``/ui`` that uses
the same HTTP API as every other client, with the caller's token in the tab's session storage
(never in a URL) and a content security policy that allows no inline script."""

from pathlib import Path

__all__ = ["STATIC"]

STATIC = Path(__file__).parent / "static"
