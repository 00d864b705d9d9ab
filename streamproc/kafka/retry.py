"""Which failures the flow loop retries (rebuilding its clients, committing nothing) and which
stop the worker."""

from __future__ import annotations

import asyncio

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


def is_retriable(err: BaseException) -> bool:
    """Our errors say for themselves whether trying again can help (StreamprocError.retriable);
    Kafka errors are outages unless the broker refused us."""
    if isinstance(err, StreamprocError):
        return err.retriable
    if isinstance(err, NOT_ALLOWED):
        return False
    return isinstance(err, (KafkaError, OSError, asyncio.TimeoutError))
