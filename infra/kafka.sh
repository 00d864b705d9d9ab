#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller in one JVM) for
# development, tests and CI.  No Docker and no Apache download mirrors are
# available here, so the broker jars come from Maven Central via
# infra/kafka/pom.xml and are cached in ~/.m2.
#
#   infra/kafka.sh start|stop|restart|fresh|status|url|logs
#   infra/kafka.sh console-consumer --topic T [--from-beginning] [--max-messages N]
#                                   [--isolation-level read_committed] ...
#   infra/kafka.sh console-producer --topic T        (lines from stdin)
#   infra/kafka.sh topics --list | --create --topic T --partitions 4 | ...
#   infra/kafka.sh tool MAIN_CLASS ARGS...           (any class on the classpath)
#   infra/kafka.sh client-config --secure            (path of clients.json)
#
# --secure (anywhere on the line) selects a second, independent broker: SASL_SSL (SCRAM) with
# locally generated certificates, StandardAuthorizer, an `admin` super user and the ACLs of
# infra/kafka-acls.sh for `worker`, `edge` and `cloud` (see infra/kafka/secure.sh). It has its
# own state dir (kafka-secure) and port (9094 by default), so CI runs both brokers side by side.
# Its `start` prints the path of clients.json (bootstrap, CA file, password files) as last line;
# the tool commands then authenticate as admin.
#
# Settings (environment):
#   STREAMPROC_KAFKA_PORT             client listener        (default 9092)
#   STREAMPROC_KAFKA_SECURE_PORT      --secure: its listener  (default 9094; its own variable, so one
#                                     environment can move both brokers of infra/test.sh)
#   STREAMPROC_KAFKA_CONTROLLER_PORT  KRaft controller       (default PORT+1)
#   STREAMPROC_STATE_DIR              state root             (default ~/.cache/streamproc)
#   STREAMPROC_KAFKA_HEAP             broker max heap        (default 512m)
#   STREAMPROC_KAFKA_START_TIMEOUT    readiness deadline, s  (default 300: a broker holding thousands
#                                     of test topics needs minutes to reload them on a busy machine)
#   STREAMPROC_KAFKA_AUTO_CREATE      auto.create.topics.enable (default false)
# stdout carries only what a caller may capture (the bootstrap address for
# `url` and as the last line of `start`, console-consumer records); progress
# and errors go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$HERE/kafka/pom.xml"
SECURE=0
ARGS=()
for a in "$@"; do if [[ $a == --secure ]]; then SECURE=1; else ARGS+=("$a"); fi; done
set -- ${ARGS[@]+"${ARGS[@]}"}
if ((SECURE)); then
  PORT="${STREAMPROC_KAFKA_SECURE_PORT:-9094}"
  STATE="${STREAMPROC_STATE_DIR:-$HOME/.cache/streamproc}/kafka-secure"
else
  PORT="${STREAMPROC_KAFKA_PORT:-9092}"
  STATE="${STREAMPROC_STATE_DIR:-$HOME/.cache/streamproc}/kafka"
fi
CPORT="${STREAMPROC_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
DATA="$STATE/data"
LOGS="$STATE/logs"
PIDFILE="$STATE/kafka.pid"
CPFILE="$STATE/classpath"
BOOTSTRAP="127.0.0.1:$PORT"
TIMEOUT="${STREAMPROC_KAFKA_START_TIMEOUT:-300}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
# Short-lived CLI JVMs: start fast, small heap, log warnings to stderr only.
TOOL_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
           "-Dlog4j2.configurationFile=$STATE/tools-log4j2.properties")

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# The tool commands authenticate as admin on the secured broker.
ADMIN_CONFIG=()
if ((SECURE)); then
  # shellcheck source=kafka/secure.sh
  . "$HERE/kafka/secure.sh"
  ADMIN_CONFIG=(--command-config "$STATE/admin.properties")
fi

# --- prerequisites ---------------------------------------------------------

# Kafka 4.x brokers need Java 17+; Maven fetches the jars.  Both are on the
# project's machines already; install from apt only if a machine lacks them.
ensure_tools() {
  local missing=()
  command -v "$JAVA" >/dev/null || missing+=(default-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || die "missing ${missing[*]}; install them (apt-get install ${missing[*]})"
    log "installing ${missing[*]} from apt"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || log "apt-get update reported errors; trying the install anyway"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
  local v
  v=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  [[ ${v%%.*} -ge 17 ]] || die "Kafka 4.x needs Java 17+, $JAVA is $v (set JAVA_HOME)"
}

# Resolve the classpath once per pom version; afterwards no Maven (and no
# network) is needed unless the pom changes or ~/.m2 loses a jar.
classpath() {
  local sum; sum=$(sha256sum "$POM" | cut -d' ' -f1)
  if [[ -s $CPFILE && $(cat "$CPFILE.sha" 2>/dev/null) == "$sum" ]] && cp_complete; then
    cat "$CPFILE"; return
  fi
  ensure_tools
  mkdir -p "$STATE"
  log "resolving Kafka jars with Maven (first run downloads ~80 MB into ~/.m2)"
  local out
  if ! out=$(mvn -q -B -f "$POM" dependency:build-classpath \
               -Dmdep.outputFile="$CPFILE.tmp" 2>&1); then
    echo "$out" >&2; die "Maven could not fetch the Kafka jars (see above)"
  fi
  mv "$CPFILE.tmp" "$CPFILE"; echo "$sum" > "$CPFILE.sha"
  cat "$CPFILE"
}

cp_complete() {
  local jar jars
  IFS=: read -ra jars < "$CPFILE" || true   # no trailing newline: read returns 1
  for jar in "${jars[@]}"; do [[ -f $jar ]] || return 1; done
}

# --- process state ---------------------------------------------------------

# The pid from the pid file, only if that process is still our broker
# (guards against a stale file after kill -9 / reboot and pid reuse).
broker_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "kafka.Kafka $STATE/server.properties" || return 1
  echo "$pid"
}

# kill -0 also succeeds on a zombie; a dead broker must not count as alive.
alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A real metadata round trip (list topics) from an independent Java client.
metadata_ok() {
  timeout 30 "$JAVA" "${TOOL_OPTS[@]}" -cp "$(classpath)" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" ${ADMIN_CONFIG[@]+"${ADMIN_CONFIG[@]}"} --list >/dev/null 2>&1
}

show_logs() {
  local f
  for f in "$LOGS/kafka.out" "$LOGS/server.log"; do
    [[ -s $f ]] && { echo "----- tail of $f -----"; tail -n "${1:-40}" "$f"; }
  done >&2
  return 0
}

# --- configuration ---------------------------------------------------------

listener_properties() {
  if ((SECURE)); then secure_server_properties; return; fi
  cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
}

write_config() {
  mkdir -p "$DATA" "$LOGS"
  if ((SECURE)); then secure_material; secure_client_files; fi
  # Static controller quorum (controller.quorum.voters) rather than a dynamic
  # --standalone one: the voter address is then read from this file on every
  # start instead of being frozen into the metadata log, so the ports may
  # change between runs without re-formatting.
  (umask 077; : > "$STATE/server.properties")   # it may hold the secured broker's passwords
  cat > "$STATE/server.properties" <<EOF
# Generated by infra/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
$(listener_properties)
log.dirs=$DATA
# One node: every internal topic must live with a single replica.
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start consumers one at a time; don't make the first join wait 3 s.
group.initial.rebalance.delay.ms=0
# After a kill -9 the restarted broker cannot register until its previous
# session expires (DUPLICATE_BROKER_REGISTRATION); 9 s by default, 4 s here.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
auto.create.topics.enable=${STREAMPROC_KAFKA_AUTO_CREATE:-false}
EOF
  cat > "$STATE/log4j2.properties" <<EOF
# Broker log: one size-capped file, so long test runs cannot fill the disk.
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $LOGS/server.log
appender.file.filePattern = $LOGS/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
EOF
  cat > "$STATE/tools-log4j2.properties" <<EOF
# CLI tools: stdout is for records, so warnings go to stderr.
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = err
EOF
}

# --- commands --------------------------------------------------------------

cmd_start() {
  local pid cp t0=$SECONDS
  if pid=$(broker_pid); then
    if port_open "$PORT" && metadata_ok; then
      log "already running and healthy (pid $pid) on $BOOTSTRAP"
      if ((SECURE)); then secure_client_files; secure_apply_acls; echo "$STATE/clients.json"; else echo "$BOOTSTRAP"; fi
      return 0
    fi
    log "broker pid $pid is up but not answering yet; waiting for it"
  else
    rm -f "$PIDFILE"   # stale (kill -9, reboot): start afresh
    # A broker killed a moment ago may still hold its ports while it exits.
    local p n; for p in "$PORT" "$CPORT"; do
      for ((n = 0; n < 25; n++)); do port_open "$p" || break; sleep 0.2; done
      port_open "$p" && die "port $p is taken by another process (not the broker of $STATE); stop it or set STREAMPROC_KAFKA_PORT / STREAMPROC_KAFKA_CONTROLLER_PORT"
    done
    cp=$(classpath)
    ensure_tools
    write_config
    if [[ ! -f $DATA/meta.properties ]]; then
      # KRaft needs a formatted log dir carrying a cluster id before first start.
      local id; id=$("$JAVA" "${TOOL_OPTS[@]}" -cp "$cp" kafka.tools.StorageTool random-uuid)
      log "formatting $DATA (cluster id $id)"
      local scram=()
      ((SECURE)) && mapfile -t scram < <(secure_format_args)
      "$JAVA" "${TOOL_OPTS[@]}" -cp "$cp" kafka.tools.StorageTool format \
        --cluster-id "$id" --config "$STATE/server.properties" --ignore-formatted \
        ${scram[@]+"${scram[@]}"} >&2 \
        || die "kafka-storage format failed"
    fi
    log "starting broker on $BOOTSTRAP (controller 127.0.0.1:$CPORT, state $STATE)"
    # Keep the previous run's log aside so a failure shows only this run's.
    [[ -f $LOGS/server.log ]] && mv -f "$LOGS/server.log" "$LOGS/server.log.prev"
    # setsid + nohup + all fds redirected: the broker outlives this shell and
    # never holds a caller's pipe open (so `$(kafka.sh start)` returns), nor
    # our lock (fd 9).
    nohup setsid "$JAVA" -server "-Xmx${STREAMPROC_KAFKA_HEAP:-512m}" -Xms128m \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      "-Dlog4j2.configurationFile=$STATE/log4j2.properties" "-Dkafka.logs.dir=$LOGS" \
      -cp "$cp" kafka.Kafka "$STATE/server.properties" \
      </dev/null >"$LOGS/kafka.out" 2>&1 9>&- &
    pid=$!
    echo "$pid" > "$PIDFILE"
  fi
  # Readiness: the port first (cheap, polled often), then a real metadata
  # request.  A broker that dies or misses the deadline fails loudly.
  local deadline=$((SECONDS + TIMEOUT))
  until port_open "$PORT" && metadata_ok; do
    if ! alive "$pid"; then
      show_logs 60; rm -f "$PIDFILE"; die "broker exited during startup (logs above, $LOGS)"
    fi
    if ((SECONDS >= deadline)); then
      show_logs 60; cmd_stop || true
      die "broker not ready on $BOOTSTRAP within ${TIMEOUT}s (logs above, $LOGS)"
    fi
    sleep 0.5
  done
  log "ready (pid $pid) on $BOOTSTRAP after $((SECONDS - t0))s"
  if ((SECURE)); then
    secure_apply_acls
    echo "$STATE/clients.json"; return 0
  fi
  echo "$BOOTSTRAP"
}

cmd_stop() {
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PIDFILE"; log "not running"; return 0
  fi
  # SIGTERM runs Kafka's controlled shutdown (flushes logs, clean marker, so
  # the next start skips log recovery); SIGKILL only if it hangs.
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + ${STREAMPROC_KAFKA_STOP_TIMEOUT:-30}))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pid"; then
    log "still alive after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid=$(broker_pid) && port_open "$PORT"; then
    log "running (pid $pid) on $BOOTSTRAP"; return 0
  fi
  log "not running on $BOOTSTRAP"; return 1
}

# Java CLI tools against the local broker (an independent client for tests).
run_tool() {
  local main=$1; shift
  local cp; cp=$(classpath)
  [[ -f $STATE/tools-log4j2.properties ]] || write_config
  exec "$JAVA" "${TOOL_OPTS[@]}" -cp "$cp" "$main" "$@"
}

# One start/stop at a time per state dir (CI script and a test fixture may
# both call `start`): the second waits, then finds the broker healthy.
lock() { mkdir -p "$STATE"; exec 9>"$STATE/.lock"; flock -w 200 9 || die "timed out waiting for $STATE/.lock"; }

case "${1:-}" in
  start)   lock; cmd_start ;;
  stop)    lock; cmd_stop ;;
  restart) lock; cmd_stop; cmd_start ;;
  # Stop, delete every topic and the metadata, start empty (CI: topics of earlier runs only slow
  # every start and restart down).
  fresh)   lock; cmd_stop; rm -rf "$DATA"; cmd_start ;;
  status)  cmd_status ;;
  url)     echo "$BOOTSTRAP" ;;
  logs)    show_logs "${2:-100}" ;;
  client-config) ((SECURE)) || die "client-config needs --secure"; echo "$STATE/clients.json" ;;
  console-consumer) shift; run_tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$BOOTSTRAP" ${ADMIN_CONFIG[@]+--consumer.config "$STATE/admin.properties"} "$@" ;;
  console-producer) shift; run_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$BOOTSTRAP" ${ADMIN_CONFIG[@]+--producer.config "$STATE/admin.properties"} "$@" ;;
  topics)  shift; run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" ${ADMIN_CONFIG[@]+"${ADMIN_CONFIG[@]}"} "$@" ;;
  tool)    shift; [[ $# -ge 1 ]] || die "usage: $0 tool MAIN_CLASS [ARGS...]"; run_tool "$@" ;;
  *) echo "usage: $0 [--secure] start|stop|restart|fresh|status|url|client-config|logs|console-consumer|console-producer|topics|tool" >&2; exit 2 ;;
esac
