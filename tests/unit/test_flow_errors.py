"""Which failures the flow retries, and outputs bounded before they reach the producer."""

from __future__ import annotations

import pytest
from aiokafka import errors as kafka_errors

from streamproc.core.errors import ExtractionError, ExtractionTimeout, InvalidRecord, VaultError
from streamproc.kafka.flow import AssignmentChanged, is_retriable
from streamproc.pipeline.outputs import bounded
from streamproc.pipeline.types import Output
from streamproc.settings import KafkaSettings


@pytest.mark.parametrize(
    "err",
    [kafka_errors.MessageSizeTooLargeError(), kafka_errors.RecordTooLargeError(), kafka_errors.InvalidTopicError(),
     kafka_errors.TopicAuthorizationFailedError(), kafka_errors.TransactionalIdAuthorizationFailed(),
     kafka_errors.GroupAuthorizationFailedError(), kafka_errors.UnsupportedVersionError(), ExtractionError("x", retriable=False),
     ExtractionTimeout("x"), ValueError("bug")],
)
def test_errors_a_restart_cannot_fix_are_never_retried(err: BaseException) -> None:
    assert not is_retriable(err)


@pytest.mark.parametrize(
    "err",
    [kafka_errors.KafkaConnectionError(), kafka_errors.KafkaTimeoutError(), kafka_errors.ProducerFenced(),
     kafka_errors.IllegalStateError(), kafka_errors.NotLeaderForPartitionError(), kafka_errors.CommitFailedError(),
     AssignmentChanged("moved"), VaultError("down"), ExtractionError("down", retriable=True), TimeoutError(), OSError()],
)
def test_errors_a_fresh_client_recovers_from_are_retried(err: BaseException) -> None:
    assert is_retriable(err)


def test_an_output_the_producer_would_refuse_becomes_a_reason_to_dead_letter() -> None:
    kafka = KafkaSettings(max_record_bytes=256_000)
    limit = kafka.producer_max_request_bytes
    fits = Output(0, "masked", b"user", b"x" * (limit - 2_000))
    assert bounded(fits, kafka) is fits
    too_big = bounded(Output(0, "masked", b"user", b"x" * limit), kafka)
    assert isinstance(too_big, InvalidRecord) and too_big.error_class == "OutputTooLarge"
