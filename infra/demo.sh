#!/usr/bin/env bash
# The quickstart: a local Kafka broker, an embedded SQLite vault and the rules extractor.
# Produces sample dialogue, shows what the cloud would see, sends cloud replies back and shows
# them restored. Leaves the broker running (infra/kafka.sh stop ends it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$(infra/venv.sh)"
SP=("$PY" -m streamproc.cli)
STATE="${STREAMPROC_STATE_DIR:-$HOME/.local/state/streamproc}"
PORT="${STREAMPROC_WEB__PORT:-6066}"
mkdir -p "$STATE"

infra/kafka.sh start >/dev/null
echo "== starting a worker (rules extractor, SQLite vault in $STATE)"
"${SP[@]}" worker >"$STATE/demo-worker.log" 2>&1 &
WORKER=$!
trap 'kill -TERM $WORKER 2>/dev/null; wait $WORKER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
  kill -0 $WORKER 2>/dev/null || { cat "$STATE/demo-worker.log"; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "worker not ready"; exit 1; }

echo "== producing examples/dialogue.jsonl to raw-dialogue"
"${SP[@]}" produce examples/dialogue.jsonl
echo "== masked-dialogue (what leaves for the cloud: placeholders, pseudonymous user and session ids)"
"${SP[@]}" tail masked-dialogue --group demo-viewer --max 6 --idle 20 >"$STATE/demo-masked.jsonl"
"$PY" -c 'import sys, json
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line); print("  " + d["turn_id"] + " [" + d["user_id"] + "]: " + d["content"])' "$STATE/demo-masked.jsonl"
echo "== the cloud replies with placeholders, to the pseudonyms it saw (examples/cloud_responses.jsonl)"
"$PY" examples/cloud_reply.py examples/cloud_responses.jsonl <"$STATE/demo-masked.jsonl" >"$STATE/demo-responses.jsonl"
"${SP[@]}" produce --kind response "$STATE/demo-responses.jsonl"
echo "== restored-dialogue (what the device gets back)"
"${SP[@]}" tail restored-dialogue --group demo-viewer --max 2 --idle 20 | "$PY" -c 'import sys, json
for line in sys.stdin:
    d = json.loads(line); print("  " + d["in_reply_to"] + " [" + d["user_id"] + "]: " + d["content"] + "  unresolved=" + str(d["unresolved"]))'
echo "== the same replies streamed in 6-character chunks: placeholders arrive cut in two"
RESPONSES="$STATE/demo-responses.jsonl"; [[ -f "$RESPONSES" ]] || RESPONSES=examples/cloud_responses.jsonl
"$PY" -c 'import sys, json
for line in sys.stdin:
    d = json.loads(line); d["response_id"] += "-streamed"; print(json.dumps(d, ensure_ascii=False))' <"$RESPONSES" >"$STATE/demo-streamed.jsonl"
CHUNKS="$("$PY" -c 'import sys
from streamproc.commands.kafka_tools import stream_chunks
from streamproc.wire import CloudResponse
print(sum(len(stream_chunks(CloudResponse.model_validate_json(l), 6)) for l in open(sys.argv[1], encoding="utf-8")))' "$STATE/demo-streamed.jsonl")"
"${SP[@]}" produce --kind response --stream --chunk-chars 6 "$STATE/demo-streamed.jsonl"
echo "== restored chunks as the device receives them (| marks a chunk boundary; a cut placeholder is held back, then restored whole)"
"${SP[@]}" tail restored-dialogue --group demo-viewer --max "$CHUNKS" --idle 20 | "$PY" -c 'import sys, json
texts = {}
for line in sys.stdin:
    d = json.loads(line)
    texts.setdefault(d["response_id"], []).append(d["content"])
    if d.get("final"):
        print("  " + d["in_reply_to"] + " [" + d["user_id"] + "]: " + "|".join(texts[d["response_id"]]) + "  unresolved=" + str(d["unresolved"]))'
echo "== metrics: curl -s http://127.0.0.1:$PORT/metrics | grep streamproc_"
