#!/bin/sh
# Entrypoint of launchpad's postgres:15 stand-in (written for launchpad, not the official script).
# What it keeps of the official image's contract:
#   - `postgres [options]` (or just options) runs the server; any other command runs as given.
#   - PGDATA (default /var/lib/postgresql/data) is created with mode 0700 when missing.
#   - When PGDATA holds no cluster yet: initdb with superuser POSTGRES_USER (default postgres) and
#     password POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), trust for local
#     socket connections, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256) for every TCP connection;
#     then POSTGRES_DB (default POSTGRES_USER) is created and /docker-entrypoint-initdb.d/*.sh, *.sql
#     and *.sql.gz are run against it. POSTGRES_INITDB_ARGS is passed to initdb; any POSTGRES_* of
#     those can come from a file named by the same variable with _FILE appended.
#   - The server listens on all addresses (the configuration initdb writes says so), its socket in
#     /var/run/postgresql. Started as root, it runs as postgres (uid 999) after fixing ownership.
# It writes nothing outside PGDATA and /var/run/postgresql, so the root filesystem may be read-only.
set -eu

log() { echo "docker-entrypoint: $*" >&2; }

case "${1:-}" in -*) set -- postgres "$@" ;; esac
[ "${1:-}" = postgres ] || exec "$@"

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA

# Root (a plain `docker run`): own the data and socket directories, then start over as postgres.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" ! -user postgres -exec chown postgres:postgres {} +
  chown postgres:postgres /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if ! mkdir -p "$PGDATA" 2> /dev/null; then
  log "cannot create PGDATA=$PGDATA: its parent must be writable by uid $(id -u) (a volume with fsGroup $(id -g))"
  exit 1
fi
# PostgreSQL refuses a data directory others can read; the directory may be ours but not our mode.
chmod 700 "$PGDATA" 2> /dev/null || true

# VAR_FILE, when set, names a file holding VAR (Docker and Kubernetes secrets).
from_file() {
  eval "value=\${$1:-} file=\${$1_FILE:-}"
  [ -n "$file" ] || return 0
  if [ -n "$value" ]; then log "both $1 and $1_FILE are set; set one"; exit 1; fi
  value="$(cat "$file")"
  export "$1=$value"
}

# Runs SQL (stdin or psql options) as the superuser over the socket, stopping at the first error.
run_sql() { psql -X -q -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --no-password "$@"; }

init_cluster() {
  for var in POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB POSTGRES_INITDB_ARGS POSTGRES_HOST_AUTH_METHOD; do
    from_file "$var"
  done
  POSTGRES_USER="${POSTGRES_USER:-postgres}"
  POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    log "PGDATA=$PGDATA holds no database and POSTGRES_PASSWORD is not set: set it (or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a password)"
    exit 1
  fi

  log "initialising a new cluster in $PGDATA (superuser $POSTGRES_USER, database $POSTGRES_DB)"
  # POSTGRES_INITDB_ARGS is split into words on purpose.
  # shellcheck disable=SC2086
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username="$POSTGRES_USER" --pwfile=/dev/stdin \
      --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-}
  else
    initdb --username="$POSTGRES_USER" --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-}
  fi
  # initdb's host lines cover the loopback addresses; this one covers every other client.
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"

  # A server on the socket only, for the database and the init scripts.
  pg_ctl --pgdata="$PGDATA" --wait --silent --options="-c listen_addresses='' -p ${PGPORT:-5432}" start
  if [ "$POSTGRES_DB" != postgres ]; then
    echo 'CREATE DATABASE :"db";' | run_sql --dbname=postgres --set=db="$POSTGRES_DB"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) log "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) log "running $f"; run_sql --dbname="$POSTGRES_DB" --file="$f" ;;
      *.sql.gz) log "running $f"; gzip -dc "$f" | run_sql --dbname="$POSTGRES_DB" ;;
      *) [ ! -e "$f" ] || log "ignoring $f" ;;
    esac
  done
  pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop
  log "PostgreSQL init process complete; ready for start up."
}

[ -s "$PGDATA/PG_VERSION" ] || init_cluster

exec "$@"
