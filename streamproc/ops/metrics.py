"""Prometheus metrics, on a registry owned by the worker (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.records_in = Counter("streamproc_records_in_total", "Records consumed", ["flow"], registry=r)
        self.records_out = Counter("streamproc_records_out_total", "Records produced (committed)", ["flow"], registry=r)
        self.dead_letters = Counter("streamproc_dead_letters_total", "Records sent to dead-letter", ["flow", "error_class"], registry=r)
        self.degraded = Counter("streamproc_degraded_turns_total", "Turns masked by the rules fallback only", registry=r)
        self.turn_failures = Counter(
            "streamproc_turn_failures_total", "Turns the extractor could not answer while it answered others", ["extractor", "outcome"], registry=r
        )
        self.bad_policies = Counter("streamproc_unreadable_policies_total", "Stored policies that could not be read (applied as redact-all)", registry=r)
        self.extraction_failures = Counter("streamproc_extraction_failures_total", "Failed extraction calls", ["extractor", "retriable"], registry=r)
        self.hallucinated_spans = Counter("streamproc_hallucinated_spans_total", "Model spans not found in the turn", ["extractor"], registry=r)
        self.spans = Counter("streamproc_spans_total", "Detected spans by level and finder", ["level", "source"], registry=r)
        self.batch_size = Histogram("streamproc_batch_size", "Turns per micro-batch", ["flow"], buckets=BATCH_SIZES, registry=r)
        self.batch_wait = Histogram("streamproc_batch_wait_seconds", "Age of a batch's first record when it closed", ["flow"], buckets=SECONDS, registry=r)
        self.extraction_latency = Histogram("streamproc_extraction_seconds", "Extraction time per batch", ["extractor"], buckets=SECONDS, registry=r)
        self.commit_latency = Histogram("streamproc_commit_seconds", "Vault + produce + transaction commit per batch", ["flow"], buckets=SECONDS, registry=r)
        self.consumer_lag = Gauge("streamproc_consumer_lag", "High watermark minus position", ["flow", "partition"], registry=r)
        self.in_flight = Gauge("streamproc_batches_in_flight", "Batches extracted but not committed", ["flow"], registry=r)
        self.paused = Gauge("streamproc_partitions_paused", "1 while the flow pauses its partitions (backpressure)", ["flow"], registry=r)
        self.streams_expired = Counter("streamproc_streams_expired_total", "Streamed responses closed by expiry, hold-back flushed", ["flow"], registry=r)
        self.stream_chunks_dropped = Counter("streamproc_stream_chunks_dropped_total", "Duplicate response chunks dropped", ["flow"], registry=r)
        self.streams_open = Gauge("streamproc_streams_open", "Streamed responses with state (not final yet)", ["flow"], registry=r)
        self.vault_purged = Counter("streamproc_vault_purged_rows_total", "Expired vault values dropped by the scheduled purge", registry=r)
        self.restarts = Counter("streamproc_flow_restarts_total", "Flow restarts after a retriable failure", ["flow", "error_class"], registry=r)
