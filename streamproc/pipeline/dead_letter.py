"""Dead letters: a bad record goes to the local dead-letter topic with its origin and a reason,
its content sealed, and its size bounded.

What a dead letter shows in clear: source topic, partition, offset, error class, reason (which
never quotes input), time, the sizes of the original key and value, and a keyed digest. What it
seals: the original key and value, with AES-GCM under the vault's `dead-letter` key, the AAD
binding them to the source coordinates (a sealed payload moved into another letter fails to
open). Only a local operator command holding the vault opens it (`streamproc dlq`).

The digest is an HMAC under a key derived from the same vault key, never a plain hash: a plain
SHA-256 of a short secret (a PIN, a password) can be reversed by trying a dictionary.

Bounded: a record of at most `max_record_bytes` (everything the flows accept) is sealed whole;
beyond that the value is cut to that bound and the letter says `truncated` (size and digest
still describe the whole original), so a dead letter always fits what the producer can send
(`letter_bound`). Truncated letters can be inspected, not replayed.

A cap on the rate stops the worker when most records fail: that is a bad deploy or a wrong topic,
and filling the dead-letter topic would hide it (arroyo's DlqLimit idea).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from streamproc.codec import encode
from streamproc.core.errors import InvalidRecord, StreamprocError
from streamproc.ops.metrics import Metrics
from streamproc.pipeline.types import Output, Record
from streamproc.settings import KafkaSettings
from streamproc.wire import DeadLetter

DEAD_LETTER_KEY = "dead-letter"  # the vault's service key name
MAX_REASON_CHARS = 500
_NONCE = 12
_FORMAT_V1 = b"\x01"
_KEY_SHARE = 4  # a cut letter keeps at most bound/4 bytes of an (absurdly) long Kafka key
ENVELOPE_BYTES = 4_096  # everything but the sealed payload, with room to spare (test-checked)


class DeadLetterRateExceeded(StreamprocError):
    """Too many dead letters in a minute: stop, do not commit, let an operator look."""


class SealedLetterError(StreamprocError):
    """A dead letter's payload cannot be opened: another vault's key, or tampering."""


def letter_bound(max_payload_bytes: int) -> int:
    """The most bytes one encoded DeadLetter can take: base64 of the sealed payload plus the
    envelope. With the defaults (256,000) about 346 kB: under the transactional producer's
    max_request_size (at least 1 MiB and 4 x max_record_bytes) and the broker's default 1 MiB."""
    sealed = 1 + _NONCE + 16 + 2 * 5 + max_payload_bytes
    return 4 * ((sealed + 2) // 3) + ENVELOPE_BYTES


@dataclass(frozen=True, slots=True)
class Opened:
    key: bytes | None
    value: bytes | None


def _pack(*parts: bytes | None) -> bytes:
    out = bytearray()
    for part in parts:
        if part is None:
            out += b"\x00"
        else:
            out += b"\x01" + len(part).to_bytes(4, "big") + part
    return bytes(out)


def _unpack(blob: bytes, count: int) -> list[bytes | None]:
    parts: list[bytes | None] = []
    pos = 0
    for _ in range(count):
        if blob[pos : pos + 1] == b"\x00":
            parts.append(None)
            pos += 1
            continue
        size = int.from_bytes(blob[pos + 1 : pos + 5], "big")
        parts.append(blob[pos + 5 : pos + 5 + size])
        pos += 5 + size
    if pos != len(blob):
        raise SealedLetterError("sealed payload has an unexpected layout")
    return parts


def _coordinates(topic: str, partition: int, offset: int) -> bytes:
    raw = topic.encode("utf-8")
    return b"streamproc/dead-letter/v1" + len(raw).to_bytes(4, "big") + raw + _pack(str(partition).encode(), str(offset).encode())


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class Sealer:
    """Seals records into DeadLetters and opens them again; pure and synchronous."""

    def __init__(self, key: bytes, max_payload_bytes: int) -> None:
        self._aead = AESGCM(_derive(key, b"streamproc/dead-letter/seal/v1"))
        self._mac_key = _derive(key, b"streamproc/dead-letter/digest/v1")
        self.max_payload_bytes = max_payload_bytes

    def digest(self, key: bytes | None, value: bytes | None) -> str:
        return hmac.new(self._mac_key, _pack(key, value), hashlib.sha256).hexdigest()

    def seal(self, record: Record, err: InvalidRecord, now: datetime) -> DeadLetter:
        key, value = record.key, record.value
        bound = self.max_payload_bytes
        truncated = len(key or b"") + len(value or b"") > bound
        if truncated:
            key = None if key is None else key[: bound // _KEY_SHARE]
            value = None if value is None else value[: bound - len(key or b"")]
        nonce = os.urandom(_NONCE)
        aad = _coordinates(record.topic, record.partition, record.offset)
        sealed = _FORMAT_V1 + nonce + self._aead.encrypt(nonce, _pack(key, value), aad)
        return DeadLetter(
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_class=err.error_class[:64],
            reason=err.reason[:MAX_REASON_CHARS],
            ts=now,
            key_size=None if record.key is None else len(record.key),
            value_size=None if record.value is None else len(record.value),
            digest=self.digest(record.key, record.value),
            sealed=base64.b64encode(sealed).decode("ascii"),
            truncated=truncated,
        )

    def open(self, letter: DeadLetter) -> Opened:
        if letter.sealed is None:
            raise SealedLetterError("this dead letter carries no payload")
        try:
            blob = base64.b64decode(letter.sealed, validate=True)
        except (binascii.Error, ValueError):
            raise SealedLetterError("sealed payload is not base64") from None
        if blob[:1] != _FORMAT_V1 or len(blob) < 1 + _NONCE + 16:
            raise SealedLetterError("sealed payload has an unknown format")
        aad = _coordinates(letter.source_topic, letter.partition, letter.offset)
        try:
            plain = self._aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad)
        except InvalidTag:
            raise SealedLetterError("sealed payload failed authentication: another vault's key, or tampered") from None
        key, value = _unpack(plain, 2)
        return Opened(key, value)


class DeadLetterKeys(Protocol):
    """What dead-lettering needs of the vault (streamproc.vault.store.Vault implements it)."""

    async def service_key(self, name: str) -> bytes: ...


class DeadLetterLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._times: deque[float] = deque()

    def admit(self, now: float) -> None:
        """Count one dead letter at monotonic time `now`; raise when over the cap."""
        self._times.append(now)
        while self._times and now - self._times[0] > 60.0:
            self._times.popleft()
        if len(self._times) > self.per_minute:
            raise DeadLetterRateExceeded(f"more than {self.per_minute} dead letters in a minute")


async def open_sealer(keys: DeadLetterKeys, kafka: KafkaSettings) -> Sealer:
    return Sealer(await keys.service_key(DEAD_LETTER_KEY), kafka.max_record_bytes)


class DeadLetters:
    """A flow's way to dead-letter a record: rate cap, metric, seal, output. The vault key is
    fetched on the first bad record (a vault outage then fails the batch: retriable)."""

    def __init__(self, keys: DeadLetterKeys, kafka: KafkaSettings, metrics: Metrics, limiter: DeadLetterLimiter, flow: str) -> None:
        self.keys = keys
        self.kafka = kafka
        self.metrics = metrics
        self.limiter = limiter
        self.flow = flow
        self._sealer: Sealer | None = None

    async def __call__(self, record: Record, err: InvalidRecord, now: datetime | None = None) -> Output:
        self.limiter.admit(time.monotonic())
        self.metrics.dead_letters.labels(self.flow, err.error_class).inc()
        if self._sealer is None:
            self._sealer = await open_sealer(self.keys, self.kafka)
        letter = self._sealer.seal(record, err, now or datetime.now(timezone.utc))
        # No Kafka key: the original one (a user id) is sealed inside.
        return Output(record.partition, self.kafka.dead_letter_topic, None, encode(letter))
