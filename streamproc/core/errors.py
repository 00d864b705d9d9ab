"""Errors that say what to do next. Messages never carry an original private value."""

from __future__ import annotations


class StreamprocError(Exception):
    """Base class for every error this package raises on purpose."""


class InvalidRecord(StreamprocError):
    """The input itself is bad (JSON, UTF-8, schema, size): dead-letter it, never retry it."""

    def __init__(self, reason: str, error_class: str = "InvalidRecord") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_class = error_class


class UnknownUser(InvalidRecord):
    """A cloud response names a user this vault has never seen (or has forgotten)."""

    def __init__(self, reason: str = "no vault entry for this user_id") -> None:
        super().__init__(reason, "UnknownUser")


class ExtractionError(StreamprocError):
    """The extractor could not answer. `retriable` says whether trying again may help."""

    def __init__(self, reason: str, *, retriable: bool) -> None:
        super().__init__(reason)
        self.retriable = retriable


class ExtractorDead(StreamprocError):
    """The extractor can answer no turn any more (an in-process engine died). Neither retriable in
    place nor turn-specific, so not an ExtractionError: the worker stops before committing and its
    supervisor restarts it with a fresh engine."""


class VaultError(StreamprocError):
    """The vault could not read or write; always retriable from the stream's point of view."""
