#!/usr/bin/env bash
# Least-privilege ACLs for streamproc's three principals, applied with the stock Kafka CLI
# (kafka-acls.sh, kafka-topics.sh) as a super user. Run it against your own cluster; the
# local secured broker (infra/kafka.sh start --secure) and the compose `kafka-acls` service
# run exactly this script. Adding an ACL that exists is a no-op, so it is safe to re-run.
#
#   worker  reads  raw-dialogue, cloud-response     (consumer groups: --worker-group prefix)
#           writes masked-dialogue, restored-dialogue, dead-letter
#           reads and writes streamproc-vaults (its group's vault identity, compacted)
#           transactions under --worker-txn prefix; IdempotentWrite on the cluster
#           creates, reads and writes its own state changelogs: topics under --state-prefix
#           (compacted, named <group_id>.<response topic>.stream-state: streamed restoration)
#           topics: Describe only (they are pre-created by an admin: --create-topics)
#   edge    writes raw-dialogue; reads restored-dialogue (groups: --edge-group prefix)
#   cloud   reads  masked-dialogue (groups: --cloud-group prefix); writes cloud-response
# Nothing else: with allow.everyone.if.no.acl.found=false the cloud principal cannot read
# raw-dialogue, restored-dialogue or dead-letter, nor write raw-dialogue.
#
# Usage:
#   infra/kafka-acls.sh --bootstrap-server HOST:PORT --command-config admin.properties [options]
# Options (defaults in brackets):
#   --raw-topic [raw-dialogue]  --masked-topic [masked-dialogue]  --response-topic [cloud-response]
#   --restored-topic [restored-dialogue]  --dead-letter-topic [dead-letter]
#   --identity-topic [streamproc-vaults]   (kafka.identity_topic)
#   --topic-pattern literal|prefixed [literal]   prefixed: the names above are prefixes
#   --worker-principal [User:worker]  --edge-principal [User:edge]  --cloud-principal [User:cloud]
#   --worker-group [streamproc]   prefix of the worker's consumer groups (its kafka.group_id)
#   --worker-txn [streamproc]     prefix of its transactional ids (kafka.transactional_id_prefix)
#   --state-prefix [streamproc.]  prefix of its state changelog topics (kafka.group_id + ".")
#   --edge-group [edge]  --cloud-group [cloud]   prefixes of the gateways' consumer groups
#   --create-topics               also create the six topics (if missing) as the admin, with:
#   --partitions [4]  --replication-factor [1]
#   --raw-retention-ms [21600000]  --restored-retention-ms [86400000]   (match kafka.*_retention_ms)
#   --dry-run                     print the commands instead of running them
# Tools: $KAFKA_ACLS and $KAFKA_TOPICS (commands, split on spaces) or kafka-acls.sh and
# kafka-topics.sh from $KAFKA_HOME/bin or PATH.
set -euo pipefail

BOOTSTRAP="" COMMAND_CONFIG="" PATTERN=literal CREATE=0 DRY=0
RAW=raw-dialogue MASKED=masked-dialogue RESPONSE=cloud-response RESTORED=restored-dialogue DEAD=dead-letter
IDENTITY=streamproc-vaults
WORKER=User:worker EDGE=User:edge CLOUD=User:cloud
WORKER_GROUP=streamproc WORKER_TXN=streamproc EDGE_GROUP=edge CLOUD_GROUP=cloud STATE_PREFIX=""
PARTITIONS=4 RF=1 RAW_RETENTION=21600000 RESTORED_RETENTION=86400000

die() { echo "kafka-acls.sh: ERROR: $*" >&2; exit 2; }
while (($#)); do
  opt=$1
  case $opt in
    --create-topics) CREATE=1; shift; continue ;;
    --dry-run) DRY=1; shift; continue ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  esac
  (($# >= 2)) || die "$opt needs a value"
  case $opt in
    --bootstrap-server) BOOTSTRAP=$2 ;;
    --command-config) COMMAND_CONFIG=$2 ;;
    --raw-topic) RAW=$2 ;;
    --masked-topic) MASKED=$2 ;;
    --response-topic) RESPONSE=$2 ;;
    --restored-topic) RESTORED=$2 ;;
    --dead-letter-topic) DEAD=$2 ;;
    --identity-topic) IDENTITY=$2 ;;
    --topic-pattern) PATTERN=$2 ;;
    --worker-principal) WORKER=$2 ;;
    --edge-principal) EDGE=$2 ;;
    --cloud-principal) CLOUD=$2 ;;
    --worker-group) WORKER_GROUP=$2 ;;
    --worker-txn) WORKER_TXN=$2 ;;
    --state-prefix) STATE_PREFIX=$2 ;;
    --edge-group) EDGE_GROUP=$2 ;;
    --cloud-group) CLOUD_GROUP=$2 ;;
    --partitions) PARTITIONS=$2 ;;
    --replication-factor) RF=$2 ;;
    --raw-retention-ms) RAW_RETENTION=$2 ;;
    --restored-retention-ms) RESTORED_RETENTION=$2 ;;
    *) die "unknown option $opt (see --help)" ;;
  esac
  shift 2
done
[[ -n $BOOTSTRAP ]] || die "--bootstrap-server is required"
STATE_PREFIX=${STATE_PREFIX:-$WORKER_GROUP.}
[[ $PATTERN == literal || $PATTERN == prefixed ]] || die "--topic-pattern must be literal or prefixed"
[[ $CREATE == 0 || $PATTERN == literal ]] || die "--create-topics needs literal topic names"

tool() {  # the command for a CLI tool: $KAFKA_ACLS / $KAFKA_TOPICS, else the .sh from the distribution
  local override=$1 script=$2
  if [[ -n $override ]]; then echo "$override"
  elif [[ -n ${KAFKA_HOME:-} ]]; then echo "$KAFKA_HOME/bin/$script"
  else echo "$script"; fi
}
read -ra ACLS <<< "$(tool "${KAFKA_ACLS:-}" kafka-acls.sh)"
read -ra TOPICS <<< "$(tool "${KAFKA_TOPICS:-}" kafka-topics.sh)"
CONN=(--bootstrap-server "$BOOTSTRAP")
[[ -n $COMMAND_CONFIG ]] && CONN+=(--command-config "$COMMAND_CONFIG")

run() {
  if ((DRY)); then printf '%q ' "$@"; echo; else "$@" >/dev/null; fi
}
allow() {  # allow PRINCIPAL PATTERN_TYPE OPERATIONS... -- RESOURCE OPTIONS...
  local principal=$1 pattern=$2; shift 2
  local ops=() names=()
  while [[ $1 != -- ]]; do ops+=(--operation "$1"); names+=("$1"); shift; done
  shift
  echo "kafka-acls.sh: allow $principal ${names[*]} on ${*//--} ($pattern)" >&2
  run "${ACLS[@]}" "${CONN[@]}" --add --allow-principal "$principal" "${ops[@]}" --resource-pattern-type "$pattern" "$@"
}

if ((CREATE)); then
  for spec in "$RAW:$RAW_RETENTION" "$MASKED:" "$RESPONSE:" "$RESTORED:$RESTORED_RETENTION" "$DEAD:"; do
    topic=${spec%%:*} retention=${spec#*:}
    extra=()
    [[ -n $retention ]] && extra=(--config "retention.ms=$retention")
    echo "kafka-acls.sh: create topic $topic${retention:+ (retention.ms=$retention)}" >&2
    run "${TOPICS[@]}" "${CONN[@]}" --create --if-not-exists --topic "$topic" \
      --partitions "$PARTITIONS" --replication-factor "$RF" ${extra[@]+"${extra[@]}"}
  done
  # One partition, compacted: the latest binding of each consumer group to its vault.
  echo "kafka-acls.sh: create topic $IDENTITY (compacted)" >&2
  run "${TOPICS[@]}" "${CONN[@]}" --create --if-not-exists --topic "$IDENTITY" \
    --partitions 1 --replication-factor "$RF" --config cleanup.policy=compact
fi

# One function per principal; the three run side by side (each CLI call is a JVM start).
worker_acls() {  # consume the two inputs, produce the three outputs, all inside its transactions
  allow "$WORKER" "$PATTERN" Read Describe -- --topic "$RAW" --topic "$RESPONSE"
  allow "$WORKER" "$PATTERN" Write Describe -- --topic "$MASKED" --topic "$RESTORED" --topic "$DEAD"
  allow "$WORKER" "$PATTERN" Read Write Describe -- --topic "$IDENTITY"
  allow "$WORKER" prefixed Create Read Write Describe -- --topic "$STATE_PREFIX"
  allow "$WORKER" prefixed Read -- --group "$WORKER_GROUP"
  allow "$WORKER" prefixed Write Describe -- --transactional-id "$WORKER_TXN"
  allow "$WORKER" literal IdempotentWrite -- --cluster
}
edge_acls() {  # the edge gateway: devices' turns in, restored turns out
  allow "$EDGE" "$PATTERN" Write Describe -- --topic "$RAW"
  allow "$EDGE" "$PATTERN" Read Describe -- --topic "$RESTORED"
  allow "$EDGE" prefixed Read -- --group "$EDGE_GROUP"
}
cloud_acls() {  # the cloud: masked turns only, responses back
  allow "$CLOUD" "$PATTERN" Read Describe -- --topic "$MASKED"
  allow "$CLOUD" "$PATTERN" Write Describe -- --topic "$RESPONSE"
  allow "$CLOUD" prefixed Read -- --group "$CLOUD_GROUP"
}
pids=()
for f in worker_acls edge_acls cloud_acls; do
  if ((DRY)); then "$f"; else "$f" & pids+=($!); fi
done
failed=0
for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" || failed=1; done
((failed == 0)) || die "some ACLs could not be added (see above)"
echo "kafka-acls.sh: done" >&2
