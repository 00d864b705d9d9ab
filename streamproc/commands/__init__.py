"""CLI command implementations; streamproc.cli only parses arguments and dispatches here."""
