"""The pure core: no I/O, no asyncio, no Kafka, SQL or vLLM. Everything here is a function of its inputs."""
