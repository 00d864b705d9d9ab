"""streamproc: a privacy firewall for edge-cloud AI agents, built as a Kafka stream processor."""

__version__ = "0.1.0"
