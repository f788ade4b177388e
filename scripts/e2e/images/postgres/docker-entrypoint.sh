#!/bin/sh
# docker-entrypoint.sh of Ballast's e2e PostgreSQL image (written for these tests).
#
# On an empty PGDATA: initdb as $POSTGRES_USER with $POSTGRES_PASSWORD (or the content of
# $POSTGRES_PASSWORD_FILE) and $POSTGRES_INITDB_ARGS,
# allow TCP clients with $POSTGRES_HOST_AUTH_METHOD, create $POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*.sql and *.sh on a temporary server that listens on no TCP port
# and on a socket in /tmp (so nobody mistakes it for the real server), stop it.
# Then exec the command ("postgres ..." runs the server from PATH). Never prints the password.
set -eu

: "${PGDATA:?PGDATA must be set}"
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}

initialise() {
  # Like the official image: the password may come from a file (Ballast mounts it so a rotation reaches the running server).
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    POSTGRES_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
  fi
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE is required to initialise the database}"
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # POSTGRES_INITDB_ARGS holds several options: word splitting is intended.
  # shellcheck disable=SC2086
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"

  socket_dir=$(mktemp -d)
  pg_ctl -D "$PGDATA" -w -t 60 -o "-c listen_addresses='' -c unix_socket_directories=$socket_dir" start >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    psql -v ON_ERROR_STOP=1 -q -h "$socket_dir" -U "$POSTGRES_USER" -d postgres \
      -c "CREATE DATABASE \"$POSTGRES_DB\""
  fi
  for file in /docker-entrypoint-initdb.d/*; do
    case $file in
      *.sql)
        echo "entrypoint: running $file"
        psql -v ON_ERROR_STOP=1 -q -h "$socket_dir" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$file"
        ;;
      *.sh)
        echo "entrypoint: running $file"
        # shellcheck disable=SC1090
        . "$file"
        ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
  rmdir "$socket_dir" 2>/dev/null || true
  echo "entrypoint: database $POSTGRES_DB initialised"
}

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  initialise
fi
exec "$@"
