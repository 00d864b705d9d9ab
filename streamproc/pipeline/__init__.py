"""Async pipeline stages, one per module. Stages know records and outputs, not Kafka clients:
streamproc.kafka.flow drives them and owns the transactions."""
