"""Alembic migrations of the service database (shipped as package modules)."""
