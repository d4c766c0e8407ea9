"""Servers the tests start themselves (PostgreSQL, Redis…), on loopback, never assumed running."""
