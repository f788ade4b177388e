#!/usr/bin/env bash
# Ballast restore drill (and, with explicit flags, the real restore).
#
# Drill (default): restores the newest backup (or --backup NAME) into the scratch
# database <db>_restore_drill, extensions first, compares row counts of DRILL_TABLES
# with the live database, checks freshness against the RPO, records the result in
# ballast.backup_runs (kind 'drill') and drops the scratch database, also on failure.
#
# Real restore (Dealix runbook, scenario 5):
#   restore-drill.sh --restore-for-real --i-understand-this-replaces <db> [--backup NAME]
#                    [--terminate-connections]
# renames the live database to <db>_before_restore_<UTC timestamp> (never drops it),
# creates a fresh <db>, extensions first, restores. If the restore fails, the fresh
# database is renamed to <db>_failed_restore_<timestamp> and the old one put back.
# Stop the app and workers first; the script refuses while other sessions are connected
# unless --terminate-connections is given.
#
# Environment:
#   PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD  connection (the user must be able to
#                                               create databases and extensions)
#   BACKUP_DIR=/backups
#   EXTENSIONS=vector                 comma-separated, created before the restore
#   DRILL_TABLES=                     comma-separated tables ("leads,public.users")
#   DRILL_TOLERANCE_PERCENT=5         allowed row-count difference per table
#   FRESHNESS_TABLE= FRESHNESS_COLUMN=  newest timestamp must be within RPO_HOURS of live
#   RPO_HOURS=24
#   DRILL_GOAL_SECONDS=900            a slower drill fails (Dealix DoD: 15 minutes)
#   RESTORE_JOBS=2                    pg_restore --jobs
#   MAINTENANCE_DB=postgres           where the real restore connects to rename databases
#   ENCRYPTION_IDENTITY_FILE=         age identity (private key) for encrypted sets (*.age);
#                                     mounted into the drill only (secret backup-encryption-identity)
#   EXPECT_REDIS=0 EXPECT_CONFIG=0    1: the set must hold a Redis snapshot / config archive;
#                                     the drill loads the snapshot into a throwaway redis-server
#                                     (key count) and lists the archive
#
# Decrypted copies live in a private work directory on the backups volume, removed on exit.
set -Eeuo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$SCRIPT_DIR/common.sh"

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

STARTED=''
RECORDED=0
SCRATCH=''
SCRATCH_CREATED=0
ERR_FILE=''
BACKUP_FILE=''
BACKUP_NAME=''
BACKUP_BYTES=''
RECORD_DB=''
WORK_DIR=''
PLAIN_FILE=''
REDIS_PID=''
SET_PREFIX=''
ENCRYPTED=0

on_exit() {
  local rc=$?
  if ((SCRATCH_CREATED)); then
    if sql_value "$PGDATABASE" "DROP DATABASE IF EXISTS \"$SCRATCH\" WITH (FORCE)" >/dev/null; then
      log "dropped scratch database $SCRATCH"
    else
      log "WARNING: could not drop scratch database $SCRATCH; drop it by hand"
    fi
  fi
  [[ -z "$ERR_FILE" ]] || rm -f -- "$ERR_FILE"
  if [[ -n "$REDIS_PID" ]]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  # Decrypted copies never outlive the run.
  [[ -z "$WORK_DIR" ]] || rm -rf -- "$WORK_DIR"
  if ((rc != 0)) && [[ -n "$STARTED" && -n "$RECORD_DB" && "$RECORDED" == 0 ]]; then
    if record_run "$RECORD_DB" drill false "$STARTED" "$BACKUP_BYTES" "${FAIL_REASON:-restore-drill.sh exited with status $rc}" 2>/dev/null; then
      log "recorded the failed drill in ballast.backup_runs"
    else
      log "could not record the failed drill in ballast.backup_runs (database unreachable?)"
    fi
  fi
  exit "$rc"
}

# Picks the backup to restore into BACKUP_FILE; dies clearly when there is none.
pick_backup() {
  local named=$1
  if [[ -n "$named" ]]; then
    if [[ "$named" == */* ]]; then
      BACKUP_FILE=$named
    else
      BACKUP_FILE="$BACKUP_DIR/$named"
    fi
    [[ -f "$BACKUP_FILE" ]] || die "backup $BACKUP_FILE does not exist (list them with: ls -l $BACKUP_DIR)"
  else
    [[ -d "$BACKUP_DIR" ]] || die "backup directory $BACKUP_DIR does not exist (is the 'backups' volume mounted?)"
    BACKUP_FILE=$(newest_backup "$BACKUP_DIR" "$PGDATABASE")
    [[ -n "$BACKUP_FILE" ]] || die "no backup of $PGDATABASE found in $BACKUP_DIR (expected $PGDATABASE-<UTC timestamp>.dump or .dump.age): run the backup job first"
  fi
  BACKUP_BYTES=$(stat -c %s "$BACKUP_FILE")
  BACKUP_NAME=${BACKUP_FILE##*/}
  SET_PREFIX="${BACKUP_FILE%.age}"
  SET_PREFIX="${SET_PREFIX%.dump}"
  log "backup: $BACKUP_FILE ($(human_bytes "$BACKUP_BYTES"))"
}

# A private directory on the backups volume for decrypted copies (room for a whole dump).
ensure_work_dir() {
  [[ -z "$WORK_DIR" ]] || return 0
  WORK_DIR=$(mktemp -d "$BACKUP_DIR/.restore-work.XXXXXX") || die "cannot create a work directory in $BACKUP_DIR"
  chmod 700 "$WORK_DIR"
}

# plain_copy FILE: sets PLAIN_FILE to FILE itself, or to its decrypted copy in the work
# directory when it ends in .age (not a subshell: a failure must reach die's FAIL_REASON).
plain_copy() {
  local file=$1 name=${1##*/}
  PLAIN_FILE=$file
  [[ "$name" == *.age ]] || return 0
  ensure_work_dir
  PLAIN_FILE="$WORK_DIR/${name%.age}"
  decrypt_file "$file" "$PLAIN_FILE"
}

# Checksum (when the sidecar exists), decryption (an .age set) and archive table of contents.
verify_backup() {
  local name=$BACKUP_NAME
  ((BACKUP_BYTES > 0)) || die "backup $name is empty: it is corrupted"
  check_sidecar "$BACKUP_FILE" || log "no $name.sha256 next to the backup: checking the archive structure only"
  if [[ "$name" == *.age ]]; then
    ENCRYPTED=1
    plain_copy "$BACKUP_FILE"
    BACKUP_FILE=$PLAIN_FILE
    log "decrypted $name with the drill's identity"
  fi
  if ! pg_restore --list "$BACKUP_FILE" >/dev/null 2>"$ERR_FILE"; then
    die "backup $name is corrupted or not a pg_dump custom-format archive: $(tail -n 3 "$ERR_FILE")"
  fi
}

# Fails early with a clear message when an extension is not installed on the server.
check_extensions_available() {
  local db=$1 ext missing=''
  for ext in "${EXT_LIST[@]}"; do
    if [[ "$(sql_value "$db" "SELECT count(*) FROM pg_available_extensions WHERE name = '$ext'")" != 1 ]]; then
      missing+=" $ext"
    fi
  done
  [[ -z "$missing" ]] ||
    die "extension(s)$missing not available on the server (the restore needs them: use an image that ships them, e.g. pgvector/pgvector for vector)"
}

create_extensions() {
  local db=$1 ext
  for ext in "${EXT_LIST[@]}"; do
    sql_value "$db" "CREATE EXTENSION IF NOT EXISTS \"$ext\"" >/dev/null
  done
  ((${#EXT_LIST[@]} == 0)) || log "extensions created in $db first: ${EXT_LIST[*]}"
}

# create_database NAME LIKE_DB OWNER: same encoding and locale as LIKE_DB, from template0.
create_database() {
  local name=$1 like=$2 owner=$3 connect=$4
  sql "$connect" -v name="$name" -v like="$like" -v owner="$owner" >/dev/null <<'SQL'
SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS coll, datctype AS ctype
  FROM pg_database WHERE datname = :'like' \gset
CREATE DATABASE :"name" OWNER :"owner" TEMPLATE template0 ENCODING :'enc' LC_COLLATE :'coll' LC_CTYPE :'ctype';
SQL
}

run_pg_restore() {
  local db=$1
  local -a opts=(--no-owner --exit-on-error --no-password --dbname="$db")
  ((RESTORE_JOBS <= 1)) || opts+=(--jobs="$RESTORE_JOBS")
  pg_restore "${opts[@]}" "$BACKUP_FILE" 2>"$ERR_FILE"
}

# count DB TABLE -> row count, or "missing" when the table does not exist there.
count_rows() {
  local db=$1 table=$2 quoted
  quoted=$(quote_table "$table")
  if [[ "$(sql_value "$db" "SELECT to_regclass('$quoted') IS NOT NULL")" != t ]]; then
    printf 'missing\n'
    return 0
  fi
  sql_value "$db" "SELECT count(*) FROM $quoted"
}

# newest DB TABLE COLUMN -> epoch seconds of max(column), empty when the table is empty.
newest_epoch() {
  local db=$1 table=$2 column=$3 quoted
  quoted=$(quote_table "$table")
  sql_value "$db" "SELECT floor(extract(epoch FROM max(\"$column\")))::bigint FROM $quoted"
}

hours() {
  awk -v s="$1" 'BEGIN { printf "%.1f", s / 3600 }'
}

# Row counts and freshness of the restored copy against the live database.
# Appends problems to PROBLEMS and a summary to REPORT.
compare_with_live() {
  local restored_db=$1 table live restored
  for table in "${TABLE_LIST[@]}"; do
    live=$(count_rows "$PGDATABASE" "$table")
    restored=$(count_rows "$restored_db" "$table")
    if [[ "$restored" == missing ]]; then
      PROBLEMS+=("table $table is missing from the restored backup")
      continue
    fi
    if [[ "$live" == missing ]]; then
      PROBLEMS+=("table $table does not exist in the live database $PGDATABASE (fix ballast:backups.drill.tables)")
      continue
    fi
    local verdict
    verdict=$(awk -v l="$live" -v r="$restored" -v t="$TOLERANCE" 'BEGIN {
      d = r - l; if (d < 0) d = -d
      pct = (l == 0) ? (r == 0 ? 0 : 100) : d * 100 / l
      printf "%s %.2f", (d <= l * t / 100) ? "ok" : "bad", pct
    }')
    REPORT+=("$table restored $restored / live $live (${verdict#* }%)")
    if [[ "${verdict%% *}" != ok ]]; then
      PROBLEMS+=("table $table: restored $restored rows, live has $live (${verdict#* }% off, tolerance ${TOLERANCE}%)")
    fi
  done

  if [[ -n "$FRESHNESS_TABLE" ]]; then
    local live_max restored_max lag
    if [[ "$(count_rows "$restored_db" "$FRESHNESS_TABLE")" == missing ]]; then
      PROBLEMS+=("freshness table $FRESHNESS_TABLE is missing from the restored backup")
      return 0
    fi
    live_max=$(newest_epoch "$PGDATABASE" "$FRESHNESS_TABLE" "$FRESHNESS_COLUMN")
    restored_max=$(newest_epoch "$restored_db" "$FRESHNESS_TABLE" "$FRESHNESS_COLUMN")
    if [[ -z "$restored_max" && -n "$live_max" ]]; then
      PROBLEMS+=("$FRESHNESS_TABLE.$FRESHNESS_COLUMN is empty in the restored backup but not in the live database")
    elif [[ -n "$restored_max" && -n "$live_max" ]]; then
      lag=$((live_max - restored_max))
      ((lag >= 0)) || lag=0
      REPORT+=("freshness: $FRESHNESS_TABLE.$FRESHNESS_COLUMN lags live by $(hours "$lag") h (RPO ${RPO_HOURS} h)")
      if awk -v l="$lag" -v r="$RPO_HOURS" 'BEGIN { exit !(l > r * 3600) }'; then
        PROBLEMS+=("restored data is $(hours "$lag") h older than live ($FRESHNESS_TABLE.$FRESHNESS_COLUMN), more than the RPO of ${RPO_HOURS} h")
      fi
    fi
  fi
}

# set_part SUFFIX -> the file of the chosen set with that suffix (encrypted or not), or nothing.
set_part() {
  local suffix=$1
  if [[ -f "$SET_PREFIX.$suffix.age" ]]; then
    printf '%s\n' "$SET_PREFIX.$suffix.age"
  elif [[ -f "$SET_PREFIX.$suffix" ]]; then
    printf '%s\n' "$SET_PREFIX.$suffix"
  fi
}

# The set's Redis snapshot: checksum, decryption, redis-check-rdb, then loaded by a throwaway
# redis-server (no port, a unix socket in /tmp) whose key count goes into the report.
verify_redis_part() {
  local file rdb name sock_dir keys waited=0
  file=$(set_part redis.rdb)
  if [[ -z "$file" ]]; then
    ((EXPECT_REDIS == 0)) || PROBLEMS+=("the set has no Redis snapshot (${SET_PREFIX##*/}.redis.rdb): did the backup job snapshot Redis?")
    return 0
  fi
  name=${file##*/}
  check_sidecar "$file" || log "no $name.sha256 next to the snapshot"
  plain_copy "$file"
  rdb=$PLAIN_FILE
  if ! redis-check-rdb "$rdb" >"$ERR_FILE" 2>&1; then
    PROBLEMS+=("Redis snapshot $name fails redis-check-rdb: $(grep -v '^\[offset' "$ERR_FILE" | tail -n 2 | tr '\n' ' ')")
    return 0
  fi
  sock_dir=$(mktemp -d)
  redis-server --port 0 --unixsocket "$sock_dir/redis.sock" --unixsocketperm 700 \
    --dir "${rdb%/*}" --dbfilename "${rdb##*/}" --save '' --appendonly no \
    --logfile "$sock_dir/redis.log" --daemonize no &
  REDIS_PID=$!
  until [[ "$(redis-cli -s "$sock_dir/redis.sock" ping 2>/dev/null)" == PONG ]]; do
    if ! kill -0 "$REDIS_PID" 2>/dev/null || ((waited >= 600)); then
      PROBLEMS+=("a throwaway redis-server could not load $name: $(tail -n 2 "$sock_dir/redis.log" | tr '\n' ' ')")
      REDIS_PID=''
      rm -rf -- "$sock_dir"
      return 0
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  # INFO keyspace: "db0:keys=42,expires=0,avg_ttl=0", one line per database.
  keys=$(redis-cli -s "$sock_dir/redis.sock" info keyspace | awk -F'[:=,]' '/^db[0-9]+:/ { n += $3 } END { print n + 0 }')
  redis-cli -s "$sock_dir/redis.sock" shutdown nosave >/dev/null 2>&1 || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=''
  rm -rf -- "$sock_dir"
  REPORT+=("redis: $name loads, $keys keys")
}

# The set's config archive: checksum, decryption, then every file it holds into the report.
verify_config_part() {
  local file archive name listing count
  file=$(set_part config.tar.gz)
  if [[ -z "$file" ]]; then
    ((EXPECT_CONFIG == 0)) || PROBLEMS+=("the set has no config archive (${SET_PREFIX##*/}.config.tar.gz)")
    return 0
  fi
  name=${file##*/}
  check_sidecar "$file" || log "no $name.sha256 next to the archive"
  plain_copy "$file"
  archive=$PLAIN_FILE
  if ! listing=$(tar --list --gzip --file="$archive" 2>"$ERR_FILE"); then
    PROBLEMS+=("config archive $name does not read back: $(tail -n 2 "$ERR_FILE" | tr '\n' ' ')")
    return 0
  fi
  listing=$(printf '%s\n' "$listing" | grep -v '/$' | sed 's,^\./,,' | sort)
  count=$(printf '%s\n' "$listing" | grep -c . || true)
  REPORT+=("config: $name holds $count files ($(printf '%s\n' "$listing" | paste -sd' ' -))")
}

parse_list() {
  local text=$1 item
  local -a out=()
  IFS=',' read -r -a out <<<"$text"
  for item in "${out[@]}"; do
    item=${item//[[:space:]]/}
    [[ -z "$item" ]] || printf '%s\n' "$item"
  done
}

drill() {
  local named=$1
  SCRATCH="${PGDATABASE}_restore_drill"
  ((${#SCRATCH} <= 63)) || die "scratch database name $SCRATCH is longer than 63 characters"
  RECORD_DB=$PGDATABASE
  if ! ensure_runs_table 2>"$ERR_FILE"; then
    RECORD_DB=''
    die "cannot reach database $PGDATABASE at ${PGHOST}:${PGPORT:-5432} as $PGUSER: $(tail -n 3 "$ERR_FILE")"
  fi
  pick_backup "$named"
  verify_backup
  check_extensions_available "$PGDATABASE"

  sql_value "$PGDATABASE" "DROP DATABASE IF EXISTS \"$SCRATCH\" WITH (FORCE)" >/dev/null
  create_database "$SCRATCH" "$PGDATABASE" "$PGUSER" "$PGDATABASE"
  SCRATCH_CREATED=1
  create_extensions "$SCRATCH"
  log "restoring $BACKUP_NAME into $SCRATCH"
  local restore_started=$SECONDS
  if ! run_pg_restore "$SCRATCH"; then
    die "restore of $BACKUP_NAME into $SCRATCH failed, the backup is corrupted or incomplete: $(tail -n 3 "$ERR_FILE")"
  fi
  local restore_seconds=$((SECONDS - restore_started))
  log "pg_restore took ${restore_seconds}s"

  PROBLEMS=()
  REPORT=()
  ((ENCRYPTED == 0)) || REPORT+=("set decrypted with the drill's identity")
  compare_with_live "$SCRATCH"
  verify_redis_part
  verify_config_part

  local name=$BACKUP_NAME
  if [[ -z "$named" && "$name" =~ -(${TS_RE})\.dump(\.age)?$ ]]; then
    local age=$(($(date -u +%s) - $(stamp_epoch "${BASH_REMATCH[1]}")))
    REPORT+=("newest backup is $(hours "$age") h old")
    if ((age > RPO_HOURS_SECONDS)); then
      PROBLEMS+=("the newest backup is $(hours "$age") h old, more than the RPO of ${RPO_HOURS} h: is the backup job running?")
    fi
  fi

  local total=$(($(date -u +%s) - STARTED))
  REPORT+=("drill took ${total}s (goal ${DRILL_GOAL_SECONDS}s)")
  if ((total > DRILL_GOAL_SECONDS)); then
    PROBLEMS+=("the drill took ${total}s, more than the goal of ${DRILL_GOAL_SECONDS}s")
  fi
  ((${#TABLE_LIST[@]} > 0)) || REPORT+=("no DRILL_TABLES configured: row counts not compared")

  local summary
  summary="restored $name into $SCRATCH; $(printf '%s; ' "${REPORT[@]}")"
  summary=${summary%; }
  if ((${#PROBLEMS[@]} > 0)); then
    die "drill failed: $(printf '%s; ' "${PROBLEMS[@]}")${summary}"
  fi
  record_run "$PGDATABASE" drill true "$STARTED" "$BACKUP_BYTES" "$summary"
  RECORDED=1
  log "drill ok: $summary"
}

other_sessions() {
  sql_value "$MAINTENANCE_DB" "SELECT count(*) FROM pg_stat_activity WHERE datname = '$PGDATABASE' AND pid <> pg_backend_pid()"
}

real_restore() {
  local named=$1 terminate=$2
  local stamp keep failed exists owner
  stamp=$(utc_stamp)
  keep="${PGDATABASE:0:31}_before_restore_$stamp"
  failed="${PGDATABASE:0:31}_failed_restore_$stamp"
  if ! sql_value "$MAINTENANCE_DB" "SELECT 1" >/dev/null 2>"$ERR_FILE"; then
    die "cannot reach the maintenance database $MAINTENANCE_DB at ${PGHOST}:${PGPORT:-5432} as $PGUSER: $(tail -n 3 "$ERR_FILE")"
  fi
  pick_backup "$named"
  verify_backup
  check_extensions_available "$MAINTENANCE_DB"

  exists=$(sql_value "$MAINTENANCE_DB" "SELECT count(*) FROM pg_database WHERE datname = '$PGDATABASE'")
  owner=$PGUSER
  if [[ "$exists" == 1 ]]; then
    owner=$(sql_value "$MAINTENANCE_DB" "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$PGDATABASE'")
    sql_value "$MAINTENANCE_DB" "ALTER DATABASE \"$PGDATABASE\" WITH ALLOW_CONNECTIONS false" >/dev/null
    local sessions
    sessions=$(other_sessions)
    if ((sessions > 0)); then
      if ((terminate == 0)); then
        local who
        who=$(sql_value "$MAINTENANCE_DB" "SELECT string_agg(DISTINCT coalesce(nullif(application_name, ''), usename::text) || '@' || coalesce(host(client_addr), 'local'), ', ') FROM pg_stat_activity WHERE datname = '$PGDATABASE' AND pid <> pg_backend_pid()")
        sql_value "$MAINTENANCE_DB" "ALTER DATABASE \"$PGDATABASE\" WITH ALLOW_CONNECTIONS true" >/dev/null
        die "$sessions other session(s) are connected to $PGDATABASE ($who): stop the app and workers first (docs/backup-restore.md), or pass --terminate-connections"
      fi
      log "terminating $sessions session(s) connected to $PGDATABASE"
      sql_value "$MAINTENANCE_DB" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$PGDATABASE' AND pid <> pg_backend_pid()" >/dev/null
      local waited=0
      while (($(other_sessions) > 0)); do
        ((waited < 30)) || die "sessions on $PGDATABASE did not end within 30 s"
        sleep 1
        waited=$((waited + 1))
      done
    fi
    sql_value "$MAINTENANCE_DB" "ALTER DATABASE \"$PGDATABASE\" RENAME TO \"$keep\"" >/dev/null
    sql_value "$MAINTENANCE_DB" "ALTER DATABASE \"$keep\" WITH ALLOW_CONNECTIONS true" >/dev/null
    log "live database $PGDATABASE renamed to $keep (kept, never dropped)"
    create_database "$PGDATABASE" "$keep" "$owner" "$MAINTENANCE_DB"
  else
    log "database $PGDATABASE does not exist: restoring into a new one"
    keep=''
    sql_value "$MAINTENANCE_DB" "CREATE DATABASE \"$PGDATABASE\" OWNER \"$owner\"" >/dev/null
  fi

  create_extensions "$PGDATABASE"
  log "restoring $BACKUP_NAME into $PGDATABASE"
  if ! run_pg_restore "$PGDATABASE"; then
    local reason
    reason=$(tail -n 3 "$ERR_FILE")
    sql_value "$MAINTENANCE_DB" "ALTER DATABASE \"$PGDATABASE\" RENAME TO \"$failed\"" >/dev/null
    if [[ -n "$keep" ]]; then
      sql_value "$MAINTENANCE_DB" "ALTER DATABASE \"$keep\" RENAME TO \"$PGDATABASE\"" >/dev/null
      RECORD_DB=$PGDATABASE
      die "restore of $BACKUP_NAME failed ($reason); $PGDATABASE is back as it was before, the partial restore is kept as $failed"
    fi
    die "restore of $BACKUP_NAME failed ($reason); the partial restore is kept as $failed"
  fi
  RECORD_DB=$PGDATABASE

  local table report=''
  for table in "${TABLE_LIST[@]}"; do
    report+="$table $(count_rows "$PGDATABASE" "$table") rows; "
  done
  local seconds=$(($(date -u +%s) - STARTED))
  local detail="restore-for-real of $BACKUP_NAME in ${seconds}s; ${report}previous database kept as ${keep:-<none>}"
  record_run "$PGDATABASE" drill true "$STARTED" "$BACKUP_BYTES" "$detail"
  RECORDED=1
  log "restore ok: $detail"
  log "next: start the app and workers, check the health endpoint, then drop ${keep:-nothing} once the postmortem no longer needs it"
}

main() {
  local named='' for_real=0 confirm='' terminate=0
  while (($# > 0)); do
    case $1 in
      --backup)
        (($# >= 2)) || die "--backup needs a file name"
        named=$2
        shift
        ;;
      --restore-for-real) for_real=1 ;;
      --i-understand-this-replaces)
        (($# >= 2)) || die "--i-understand-this-replaces needs the database name"
        confirm=$2
        shift
        ;;
      --terminate-connections) terminate=1 ;;
      -h | --help)
        usage
        return 0
        ;;
      *) die "unknown argument '$1' (try --help)" ;;
    esac
    shift
  done

  require_env PGHOST PGUSER PGDATABASE
  [[ "$PGDATABASE" =~ $DBNAME_RE ]] || die "PGDATABASE '$PGDATABASE' is not a plain database name"
  BACKUP_DIR=${BACKUP_DIR:-/backups}
  TOLERANCE=${DRILL_TOLERANCE_PERCENT:-5}
  RPO_HOURS=${RPO_HOURS:-24}
  DRILL_GOAL_SECONDS=${DRILL_GOAL_SECONDS:-900}
  RESTORE_JOBS=${RESTORE_JOBS:-2}
  MAINTENANCE_DB=${MAINTENANCE_DB:-postgres}
  EXPECT_REDIS=${EXPECT_REDIS:-0}
  EXPECT_CONFIG=${EXPECT_CONFIG:-0}
  [[ "$EXPECT_REDIS" =~ ^[01]$ ]] || die "EXPECT_REDIS must be 0 or 1, got '$EXPECT_REDIS'"
  [[ "$EXPECT_CONFIG" =~ ^[01]$ ]] || die "EXPECT_CONFIG must be 0 or 1, got '$EXPECT_CONFIG'"
  FRESHNESS_TABLE=${FRESHNESS_TABLE:-}
  FRESHNESS_COLUMN=${FRESHNESS_COLUMN:-}
  require_number DRILL_TOLERANCE_PERCENT "$TOLERANCE"
  require_number RPO_HOURS "$RPO_HOURS"
  require_uint DRILL_GOAL_SECONDS "$DRILL_GOAL_SECONDS"
  require_uint RESTORE_JOBS "$RESTORE_JOBS"
  RPO_HOURS_SECONDS=$(awk -v h="$RPO_HOURS" 'BEGIN { printf "%d", h * 3600 }')

  local item
  EXT_LIST=()
  while IFS= read -r item; do
    [[ "$item" =~ ^[a-z_][a-z0-9_]*$ ]] || die "EXTENSIONS: '$item' is not an extension name"
    EXT_LIST+=("$item")
  done < <(parse_list "${EXTENSIONS:-}")
  TABLE_LIST=()
  while IFS= read -r item; do
    quote_table "$item" >/dev/null || die "DRILL_TABLES: '$item' is not a table name (table or schema.table)"
    TABLE_LIST+=("$item")
  done < <(parse_list "${DRILL_TABLES:-}")
  if [[ -n "$FRESHNESS_TABLE" || -n "$FRESHNESS_COLUMN" ]]; then
    quote_table "$FRESHNESS_TABLE" >/dev/null || die "FRESHNESS_TABLE '$FRESHNESS_TABLE' is not a table name"
    [[ "$FRESHNESS_COLUMN" =~ $IDENT_RE ]] || die "FRESHNESS_COLUMN '$FRESHNESS_COLUMN' is not a column name"
  fi

  if ((for_real == 0)) && [[ -n "$confirm" || "$terminate" == 1 ]]; then
    die "--i-understand-this-replaces and --terminate-connections only go with --restore-for-real"
  fi
  if ((for_real)) && [[ "$confirm" != "$PGDATABASE" ]]; then
    die "refusing the real restore: it replaces database $PGDATABASE; confirm with --restore-for-real --i-understand-this-replaces $PGDATABASE"
  fi

  STARTED=$(date -u +%s)
  ERR_FILE=$(mktemp)
  trap on_exit EXIT
  trap 'FAIL_REASON="terminated by a signal (job timeout?)"; exit 143' TERM INT
  trap 'FAIL_REASON=${FAIL_REASON:-"unexpected failure at line $LINENO: $BASH_COMMAND"}' ERR

  lock_sets shared || log "warning: no shared lock on $BACKUP_DIR within 60s: a backup's retention may delete the set while it is read"
  if ((for_real)); then
    real_restore "$named" "$terminate"
  else
    drill "$named"
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
