"""Alembic migrations, numbered with a description (0001_initial.py, ...)."""
