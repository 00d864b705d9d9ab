#!/usr/bin/env bash
# Local PostgreSQL for development, tests and CI (no Docker here).
#
#   infra/postgres.sh start|stop|restart|status|url|dsn|ca
#
# Uses Debian's cluster tooling (pg_createcluster / pg_ctlcluster), installing
# the postgresql package from apt when missing: that runs the server as the
# `postgres` user (it refuses root), survives a cluster that already exists
# (the package's own `main` on 5432 is simply reused) and keeps pg_dump /
# psql on PATH through pg_wrapper.  Needs root, as on every project machine.
#
# TLS is always on: `start` generates (once) a local CA and a server certificate
# for localhost / 127.0.0.1 with openssl under /etc/postgresql/VER/NAME/streamproc-tls/,
# points the cluster at them (conf.d/streamproc-tls.conf, ssl = on) and reloads a
# running server (ssl settings need no restart).  `ca` prints the CA file, for
# STREAMPROC_VAULT__SSL_ROOT_CERT with STREAMPROC_VAULT__SSL_MODE=verify-full.
#
# Settings: STREAMPROC_PG_PORT (default 5432),
#           STREAMPROC_PG_START_TIMEOUT (readiness deadline in s, default 60).
# stdout carries only the URL (`url`, and the last line of `start`/`restart`);
# `dsn` prints the plain libpq URL for psql / pg_dump.  Progress -> stderr.
set -euo pipefail

PORT="${STREAMPROC_PG_PORT:-5432}"
TIMEOUT="${STREAMPROC_PG_START_TIMEOUT:-60}"
USER_DB=streamproc   # role, password and database all share this name
URL="postgresql+asyncpg://$USER_DB:$USER_DB@127.0.0.1:$PORT/$USER_DB"
DSN="postgresql://$USER_DB:$USER_DB@127.0.0.1:$PORT/$USER_DB"

log() { echo "postgres.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ensure_installed() {
  if command -v pg_ctlcluster >/dev/null && command -v pg_dump >/dev/null \
     && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    return
  fi
  [[ $(id -u) == 0 ]] || die "PostgreSQL is not installed; run as root or: apt-get install postgresql postgresql-client"
  log "installing PostgreSQL from apt (first run on this machine)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || log "apt-get update reported errors; trying the install anyway"
  apt-get install -y -qq postgresql postgresql-client >&2
}

# Sets VER and NAME to the cluster that owns $PORT, creating one if none does.
find_cluster() {
  local line
  line=$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$PORT" '$3 == p {print $1, $2; exit}')
  if [[ -n $line ]]; then
    read -r VER NAME <<<"$line"; return
  fi
  VER=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  NAME="streamproc_$PORT"
  log "creating cluster $VER/$NAME on port $PORT"
  pg_createcluster --port "$PORT" "$VER" "$NAME" >&2
}

cluster_log() { echo "/var/log/postgresql/postgresql-$VER-$NAME.log"; }

tls_dir() { echo "/etc/postgresql/$VER/$NAME/streamproc-tls"; }

# A private CA (10 years) and a server certificate it signs (SAN: localhost, 127.0.0.1),
# created once per cluster; the keys are readable by the postgres user only.
ensure_tls_files() {
  local dir; dir=$(tls_dir)
  [[ -s $dir/ca.crt && -s $dir/server.crt && -s $dir/server.key ]] && return
  command -v openssl >/dev/null || die "openssl is needed to create the TLS certificates (apt-get install openssl)"
  log "creating a local CA and server certificate in $dir"
  install -d -m 0755 -o postgres -g postgres "$dir"
  local tmp; tmp=$(mktemp -d)
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 3650 \
    -subj "/CN=streamproc local Postgres CA" -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 \
    -subj "/CN=localhost" -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$tmp/ext"
  openssl x509 -req -sha256 -days 825 -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
    -CAcreateserial -extfile "$tmp/ext" -out "$tmp/server.crt" 2>/dev/null
  install -m 0644 -o postgres -g postgres "$tmp/ca.crt" "$tmp/server.crt" "$dir/"
  install -m 0600 -o postgres -g postgres "$tmp/ca.key" "$tmp/server.key" "$dir/"
  rm -rf "$tmp"
}

# conf.d (included by Debian's postgresql.conf) overrides the packaged snakeoil certificate.
ensure_tls_conf() {
  local dir conf want; dir=$(tls_dir)
  conf="/etc/postgresql/$VER/$NAME/conf.d/streamproc-tls.conf"
  want=$(printf '%s\n' "# written by infra/postgres.sh" "ssl = on" \
    "ssl_cert_file = '$dir/server.crt'" "ssl_key_file = '$dir/server.key'" \
    "ssl_min_protocol_version = 'TLSv1.2'")
  [[ -f $conf && $(cat "$conf") == "$want" ]] && return 1
  install -d -m 0755 -o postgres -g postgres "$(dirname "$conf")"
  printf '%s\n' "$want" >"$conf"
  chown postgres:postgres "$conf"
  return 0
}

ensure_tls() {
  ensure_tls_files
  if ensure_tls_conf && ready; then
    log "TLS configuration changed: reloading $VER/$NAME"
    pg_ctlcluster "$VER" "$NAME" reload >&2
  fi
}

# Proves the server presents our certificate and that it verifies for 127.0.0.1.
check_tls() {
  PGPASSWORD=$USER_DB PGCONNECT_TIMEOUT=5 PGSSLMODE=verify-full PGSSLROOTCERT="$(tls_dir)/ca.crt" \
    psql -X -q -h 127.0.0.1 -p "$PORT" -U "$USER_DB" -d "$USER_DB" -c 'SELECT 1' >/dev/null \
    || die "TLS with verify-full against $(tls_dir)/ca.crt failed on 127.0.0.1:$PORT"
}

ready() { pg_isready -q -h 127.0.0.1 -p "$PORT" -t 2; }

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until ready; do
    if ((SECONDS >= deadline)); then
      tail -n 30 "$(cluster_log)" >&2 2>/dev/null || true
      die "PostgreSQL $VER/$NAME not ready on 127.0.0.1:$PORT within ${TIMEOUT}s (log above: $(cluster_log))"
    fi
    sleep 0.3
  done
}

# Idempotent: role (re)gets its password every time, database only if absent.
# Runs over the unix socket as `postgres` (peer auth), from / so that psql
# does not complain about an unreadable working directory.
ensure_role_and_db() {
  (cd / && runuser -u postgres -- psql -X -q -p "$PORT" -d postgres -v ON_ERROR_STOP=1) >&2 <<SQL
SELECT format('CREATE ROLE %I', '$USER_DB')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$USER_DB') \gexec
ALTER ROLE $USER_DB WITH LOGIN CREATEDB PASSWORD '$USER_DB';
SELECT format('CREATE DATABASE %I OWNER %I', '$USER_DB', '$USER_DB')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$USER_DB') \gexec
SQL
  # Prove the exact path the app uses: TCP + password.
  PGPASSWORD=$USER_DB PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p "$PORT" -U "$USER_DB" -d "$USER_DB" \
    -c 'SELECT 1' >/dev/null || die "cannot log in as $USER_DB over TCP on 127.0.0.1:$PORT"
}

cmd_start() {
  [[ $(id -u) == 0 ]] || die "run as root (the server itself runs as the postgres user)"
  ensure_installed
  find_cluster
  ensure_tls
  if ready; then
    log "cluster $VER/$NAME already running on 127.0.0.1:$PORT"
  else
    log "starting cluster $VER/$NAME on 127.0.0.1:$PORT"
    # pg_ctlcluster copes with a stale postmaster.pid left by a kill -9.
    pg_ctlcluster "$VER" "$NAME" start >&2 || {
      tail -n 30 "$(cluster_log)" >&2 2>/dev/null || true
      die "pg_ctlcluster $VER $NAME start failed (port $PORT taken by something else?)"
    }
  fi
  wait_ready
  ensure_role_and_db
  # A reload is asynchronous: give the postmaster a moment to load the certificate.
  local deadline=$((SECONDS + 10))
  until (check_tls) 2>/dev/null; do
    ((SECONDS < deadline)) || check_tls
    sleep 0.3
  done
  log "ready (TLS: verify-full with $(tls_dir)/ca.crt)"
  echo "$URL"
}

cmd_stop() {
  command -v pg_lsclusters >/dev/null || { log "not installed"; return 0; }
  local line
  line=$(pg_lsclusters --no-header | awk -v p="$PORT" '$3 == p {print $1, $2, $4; exit}')
  [[ -n $line ]] || { log "no cluster on port $PORT"; return 0; }
  read -r VER NAME status <<<"$line"
  if [[ $status != online* ]]; then log "cluster $VER/$NAME not running"; return 0; fi
  # fast = roll back open transactions and disconnect clients now (what a
  # "database restarted under the app" test wants); no crash recovery needed.
  log "stopping cluster $VER/$NAME"
  pg_ctlcluster "$VER" "$NAME" stop -m fast >&2
}

cmd_status() {
  if command -v pg_isready >/dev/null && ready; then
    log "running on 127.0.0.1:$PORT"; return 0
  fi
  log "not running on 127.0.0.1:$PORT"; return 1
}

case "${1:-}" in
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status)  cmd_status ;;
  url)     echo "$URL" ;;
  ca)      ensure_installed >/dev/null; line=$(pg_lsclusters --no-header | awk -v p="$PORT" '$3 == p {print $1, $2; exit}')
           [[ -n $line ]] || die "no cluster on port $PORT"; read -r VER NAME <<<"$line"
           [[ -s $(tls_dir)/ca.crt ]] || die "no CA yet: run $0 start"; tls_dir | sed 's|$|/ca.crt|' ;;
  dsn)     echo "$DSN" ;;
  *) echo "usage: $0 start|stop|restart|status|url|dsn|ca" >&2; exit 2 ;;
esac
