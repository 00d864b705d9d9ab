#!/usr/bin/env bash
# The secret files docker-compose.yml mounts (compose `secrets:`), generated once into ./secrets
# (git-ignored; back it up with the master key). Re-running keeps what exists.
#
#   infra/compose-secrets.sh [DIR]     default DIR: ./secrets/kafka
#
# DIR/tls/ca.pem            the CA every client trusts (give it to the edge gateway and the cloud)
# DIR/tls/broker.p12        the broker's key and certificate (SAN kafka, localhost, 127.0.0.1)
# DIR/secrets/*.password    SCRAM passwords of worker, edge, cloud; admin (PLAIN, the super user);
#                           the keystore password
# DIR/kafka_server_jaas.conf the broker's JAAS file (admin for PLAIN; SCRAM users live in KRaft)
# DIR/secrets/vllm_api_key.password  the vLLM server's API key (server and worker)
# DIR/../postgres_password  the vault database's password (Postgres and the worker read it)
# Bring your own instead: same file names, a certificate your clients trust.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${1:-$HERE/../secrets/kafka}"
BROKER_SAN="DNS:kafka,DNS:localhost,IP:127.0.0.1"
log() { echo "compose-secrets.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=kafka/secure.sh
. "$HERE/kafka/secure.sh"
mkdir -p "$STATE"
secure_material
(
  umask 077
  admin=$(secret admin)
  cat > "$STATE/kafka_server_jaas.conf" <<JAAS
KafkaServer {
  org.apache.kafka.common.security.plain.PlainLoginModule required
    username="admin" password="$admin" user_admin="$admin";
  org.apache.kafka.common.security.scram.ScramLoginModule required;
};
JAAS
)
# The vLLM server's API key (`vllm serve` via VLLM_API_KEY, and the worker): a token for
# Authorization: Bearer, not a Kafka secret, kept here so one folder holds every compose secret.
[[ -s $STATE/secrets/vllm_api_key.password ]] || (umask 077; openssl rand -hex 32 > "$STATE/secrets/vllm_api_key.password")
# Containers run as other users than the one generating the files: the mounted files are
# readable, the keys that are not mounted (ca.key, broker.key) stay 0600, the directory private.
chmod 755 "$STATE" "$STATE/tls" "$STATE/secrets"
chmod 644 "$STATE/tls/ca.pem" "$STATE/tls/broker.p12" "$STATE"/secrets/*.password "$STATE/kafka_server_jaas.conf"
chmod 700 "$STATE/.." 2>/dev/null || true
# The vault database's password, next to the Kafka directory (./secrets/postgres_password).
PG_PASSWORD="$(dirname "$STATE")/postgres_password"
[[ -s $PG_PASSWORD ]] || (umask 077; openssl rand -hex 24 > "$PG_PASSWORD")
chmod 644 "$PG_PASSWORD"
log "secrets ready in $STATE (and $PG_PASSWORD)"
