"""``python -m satchel`` runs the CLI."""

from satchel.cli import main

main()
