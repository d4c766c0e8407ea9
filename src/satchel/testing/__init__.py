"""Reusable test kits for Satchel's ports (import them from a backend's test module)."""
