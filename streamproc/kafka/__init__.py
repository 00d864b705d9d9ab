"""The only package that imports aiokafka: topics, the transactional flow loop, clients."""
