"""Errors that say what to do next. Messages never carry an original private value."""

from __future__ import annotations


class StreamprocError(Exception):
    """Base class for every error this package raises on purpose.

    `retriable` answers the one question the stream loop asks of an error: may trying the same
    work again succeed? Input errors and configuration errors say no; outages say yes.
    """

    retriable: bool = False


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


class ExtractionTimeout(ExtractionError):
    """The extractor passed its deadline and was stopped (its process killed). Data-specific: the
    turn that caused it is dead-lettered, never retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retriable=False)


class ExtractorDead(StreamprocError):
    """The extractor can answer no turn any more (an in-process engine died). Neither retriable in
    place nor turn-specific, so not an ExtractionError: the worker stops before committing and its
    supervisor restarts it with a fresh engine."""


class VaultError(StreamprocError):
    """The vault could not read or write (an outage): retriable."""

    retriable = True


class ConfigurationError(StreamprocError):
    """The settings cannot work (a missing URL, a wrong key): fix them; retrying cannot help."""


class StartupError(ConfigurationError):
    """Found at start and fatal: bad credentials, an untrusted certificate, an unreachable broker,
    an unreadable secret file. The CLI prints the message as one line (no traceback) and exits
    non-zero; the message names the setting to fix, never a secret."""
