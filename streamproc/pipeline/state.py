"""A home for keyed stage state: per input partition, backed by a compacted changelog topic.

A stage that keeps state across records (the streamed restore keeps each response's hold-back)
owns a `KeyedState` and exposes it as `stage.state`. The contract, as in Kafka Streams:
  - State for input partition p lives in changelog partition p, keyed like the state.
  - `finish` mutates the state and returns `changes()` among its outputs, so the new state
    commits in the same Kafka transaction as the outputs it explains and the input offsets.
  - On assignment the flow reads the changelog partitions to their end (read committed) and calls
    `load`, before any record of the new assignment reaches the stage; on revocation (or any
    restart of the flow) it calls `drop`. A batch that failed after mutating the state therefore
    never leaks into what is committed: the flow restarts and reloads.
The mask flow has no state and is unchanged; the flow only looks for `stage.state`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol, runtime_checkable

from streamproc.pipeline.types import Output


@runtime_checkable
class StatefulStage(Protocol):
    @property
    def state(self) -> KeyedState: ...


class KeyedState:
    """Bytes per (partition, key), with the keys changed since the last `changes()` remembered."""

    def __init__(self, changelog_topic: str) -> None:
        self.changelog_topic = changelog_topic
        self._data: dict[int, dict[bytes, bytes]] = {}
        self._dirty: dict[int, set[bytes]] = {}
        self.version = 0  # bumped by load and drop: caches derived from the state must be rebuilt

    # ------------------------------------------------------------------ rebalance hooks

    def load(self, partition: int, entries: Mapping[bytes, bytes]) -> None:
        """Replace the state of `partition` with what its changelog holds (compacted view)."""
        self._data[partition] = dict(entries)
        self._dirty.pop(partition, None)
        self.version += 1

    def drop(self) -> None:
        """Forget everything: uncommitted changes included. The next assignment reloads."""
        self._data.clear()
        self._dirty.clear()
        self.version += 1

    # ------------------------------------------------------------------ access

    def partitions(self) -> list[int]:
        return sorted(self._data)

    def get(self, partition: int, key: bytes) -> bytes | None:
        return self._data.get(partition, {}).get(key)

    def items(self, partition: int) -> Iterator[tuple[bytes, bytes]]:
        return iter(list(self._data.get(partition, {}).items()))

    def count(self, exclude: bytes | None = None) -> int:
        return sum(len(part) - (exclude in part) for part in self._data.values())

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Set (or with None, delete) a key; the change is written at the next `changes()`."""
        part = self._data.setdefault(partition, {})
        if value is None:
            part.pop(key, None)
        else:
            part[key] = value
        self._dirty.setdefault(partition, set()).add(key)

    def changes(self) -> list[Output]:
        """Changelog records for every key changed since the last call (deleted keys as tombstones),
        each carried by the transaction of its own input partition."""
        out = []
        for partition, keys in sorted(self._dirty.items()):
            part = self._data.get(partition, {})
            for key in sorted(keys):
                out.append(Output(partition, self.changelog_topic, key, part.get(key), partition=partition))
        self._dirty.clear()
        return out
