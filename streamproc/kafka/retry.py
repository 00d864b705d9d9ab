"""Which failures the flow loop retries (rebuilding its clients, committing nothing) and which
stop the worker."""

from __future__ import annotations

import asyncio

from aiokafka import errors as kafka_errors
from aiokafka.errors import (
    AuthenticationFailedError,
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)

from streamproc.core.errors import StreamprocError

# Denied by the broker's ACLs or credentials: retrying cannot help, and a worker that restarts
# forever looks alive. Stop and say so (fail closed).
NOT_ALLOWED = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    ClusterAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    SaslAuthenticationFailed,
    AuthenticationFailedError,
)


# Refused for what was sent or how the client is configured: the same produce fails again after a
# restart, so retrying would loop forever on one record. (aiokafka's own `retriable` flag is
# narrower than what a restart fixes: KafkaTimeoutError, ProducerFenced, IllegalStateError are
# not retriable for one request, yet a fresh client recovers from them; so the hopeless ones are
# named instead.) Outputs too large are dead-lettered before producing (pipeline/outputs.py);
# this is the backstop when the broker's limit is lower than the producer's.
NEVER_RETRY = (
    *NOT_ALLOWED,
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidTopicError,
    kafka_errors.UnsupportedVersionError,
    kafka_errors.UnsupportedForMessageFormatError,
    kafka_errors.UnsupportedCodecError,
    kafka_errors.IncompatibleBrokerVersion,
    kafka_errors.InvalidRequiredAcksError,
    kafka_errors.KafkaConfigurationError,
    kafka_errors.InvalidConfigurationError,
    kafka_errors.PolicyViolationError,
    kafka_errors.OffsetMetadataTooLargeError,
)


def is_retriable(err: BaseException) -> bool:
    """Our errors say for themselves whether trying again can help (StreamprocError.retriable);
    Kafka errors are outages unless the broker refused us or what we sent."""
    if isinstance(err, StreamprocError):
        return err.retriable
    if isinstance(err, NEVER_RETRY):
        return False
    return isinstance(err, (KafkaError, OSError, asyncio.TimeoutError))
