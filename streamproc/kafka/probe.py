"""The start-up probe: one authenticated connection to a bootstrap broker, within a deadline.

aiokafka logs why a connection failed and raises only "Unable to bootstrap", and a client that
speaks plaintext to a TLS listener just waits. The probe connects the same way every client will
(clients.connection_options), sees the real cause, and turns it into a StartupError with one line
that names the setting to fix. Unreachable brokers are retried until the deadline (a broker may
still be starting); a refused password or an untrusted certificate is final at once.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError, SaslAuthenticationFailed, UnsupportedSaslMechanismError

from streamproc.core.errors import StartupError
from streamproc.kafka.clients import connection_options
from streamproc.settings import KafkaSettings

log = logging.getLogger(__name__)


def bootstrap_addresses(bootstrap_servers: str) -> list[tuple[str, int]]:
    """`host:port,[v6]:port` -> [(host, port)]; a missing port means 9092."""
    out = []
    for item in filter(None, (part.strip() for part in bootstrap_servers.split(","))):
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            host, port = item, "9092"
        out.append((host.strip("[]"), int(port)))
    if not out:
        raise StartupError("kafka.bootstrap_servers is empty")
    return out


async def check_connection(kafka: KafkaSettings, timeout_s: float | None = None) -> None:
    """Return once one bootstrap broker accepted our TLS and SASL; else raise StartupError."""
    timeout = kafka.connect_timeout_s if timeout_s is None else timeout_s
    options = connection_options(kafka)
    options.pop("bootstrap_servers")
    deadline = time.monotonic() + timeout
    last = "no attempt"
    while True:
        for host, port in bootstrap_addresses(kafka.bootstrap_servers):
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartupError(f"Kafka: no broker answered within {timeout:g}s ({last}); check kafka.bootstrap_servers and kafka.security_protocol")
            try:
                conn = await asyncio.wait_for(create_conn(host, port, request_timeout_ms=int(left * 1000) + 1, **options), left)
            except (asyncio.TimeoutError, OSError, KafkaError) as err:
                _raise_if_final(kafka, host, port, err)
                last = f"{host}:{port}: {_describe(err)}"
                continue
            conn.close()
            log.info("kafka reachable at %s:%d (%s)", host, port, kafka.security_protocol)
            return
        await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def _raise_if_final(kafka: KafkaSettings, host: str, port: int, err: BaseException) -> None:
    where = f"{host}:{port}"
    if isinstance(err, ssl.SSLCertVerificationError):
        raise StartupError(
            f"Kafka TLS: the certificate of {where} is not trusted ({err.verify_message}); "
            "check kafka.ssl_cafile (and kafka.ssl_check_hostname)"
        ) from None
    if isinstance(err, ssl.SSLError):
        raise StartupError(f"Kafka TLS handshake with {where} failed ({err.reason}); check kafka.security_protocol and kafka.ssl_*") from None
    if isinstance(err, SaslAuthenticationFailed):
        raise StartupError(
            f"Kafka authentication failed for user {kafka.sasl_username!r} ({kafka.sasl_mechanism}) at {where}: "
            "check kafka.sasl_username and kafka.sasl_password"
        ) from None
    if isinstance(err, UnsupportedSaslMechanismError):
        raise StartupError(f"Kafka at {where} does not accept sasl_mechanism {kafka.sasl_mechanism}") from None


def _describe(err: BaseException) -> str:
    if isinstance(err, asyncio.TimeoutError):
        return "no answer (a TLS listener spoken to in plaintext also looks like this)"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return type(err).__name__
