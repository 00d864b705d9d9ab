"""Alembic migrations of the vault schema (versioned: one file per revision under versions/).

A package so the files ship inside an installed wheel; run them with
`streamproc.vault.migrate.migrate(url)`, or `alembic -c <ini with script_location =
streamproc.vault:migrations>` when authoring a new revision.
"""
