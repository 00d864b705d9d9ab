"""Vault schema revisions, applied in order by alembic (`NNNN_name.py`, never edited once released)."""
