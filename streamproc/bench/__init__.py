"""Benchmarks and the synthetic workload they (and the stream tests) share."""
