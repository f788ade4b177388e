#!/usr/bin/env bash
# Ballast backup job: pg_dump of the application database into $BACKUP_DIR, verified,
# then retention. Every run (ok or failed) is recorded in ballast.backup_runs.
#
# Usage:
#   backup.sh                 dump, verify, prune, record
#   backup.sh --prune-only    apply retention to $BACKUP_DIR only (no database needed)
#   backup.sh --prune-only --dry-run   print what retention would delete
#
# Environment:
#   PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD   connection (libpq)
#   BACKUP_DIR=/backups                          where dumps live
#   RETAIN_DAILY=7 RETAIN_WEEKLY=4 RETAIN_MONTHLY=6
#   BACKUP_COMPRESS=6                            pg_dump -Z level (0-9)
#   LOCK_WAIT_TIMEOUT=10min                      fail instead of queueing behind a long lock
#   REDIS_HOST REDIS_PORT=6379 REDISCLI_AUTH     also snapshot Redis (redis-cli --rdb) into the set
#   STACK_CONFIG_DIR=                            also archive this directory (the stack's non-secret
#                                                config, read-only) as <set>.config.tar.gz
#   ENCRYPTION_RECIPIENT=                        age public key (age1...): every file of the set is
#                                                encrypted before it is published (<file>.age)
#
# Every file of a set is written as .<name>.partial and renamed only after it was read
# back (pg_restore --list, redis-check-rdb, tar -t) and, with a recipient, encrypted; a
# set is published only when all its parts succeeded, so a file without .partial is complete,
# and its dump is renamed last, so a set whose dump is there is complete.
set -Eeuo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$SCRIPT_DIR/common.sh"

# select_expired DAILY WEEKLY MONTHLY < names
#
# Reads backup file names (<db>-<UTC timestamp>.dump, any order) and prints the ones
# that retention deletes. Kept: the newest backup of each of the DAILY most recent
# days that have backups, of each of the WEEKLY most recent ISO weeks, and of each of
# the MONTHLY most recent months. Names without a timestamp are never printed.
select_expired() {
  local daily=$1 weekly=$2 monthly=$3
  local -A keep=() seen_day=() seen_week=() seen_month=()
  local -a names=()
  local days=0 weeks=0 months=0 name ts day week month
  mapfile -t names < <(
    while IFS= read -r name; do
      if [[ "$name" =~ -(${TS_RE})\.dump$ ]]; then
        printf '%s %s\n' "${BASH_REMATCH[1]}" "$name"
      fi
    done | sort -r -u | cut -d' ' -f2-
  )
  for name in "${names[@]}"; do
    [[ "$name" =~ -(${TS_RE})\.dump$ ]]
    ts=${BASH_REMATCH[1]}
    day=${ts:0:8}
    month=${ts:0:6}
    week=$(date -u -d "${ts:0:4}-${ts:4:2}-${ts:6:2}" +%G-W%V)
    if [[ -z "${seen_day[$day]:-}" ]]; then
      seen_day[$day]=1
      if ((days < daily)); then
        keep[$name]=1
        days=$((days + 1))
      fi
    fi
    if [[ -z "${seen_week[$week]:-}" ]]; then
      seen_week[$week]=1
      if ((weeks < weekly)); then
        keep[$name]=1
        weeks=$((weeks + 1))
      fi
    fi
    if [[ -z "${seen_month[$month]:-}" ]]; then
      seen_month[$month]=1
      if ((months < monthly)); then
        keep[$name]=1
        months=$((months + 1))
      fi
    fi
  done
  for name in "${names[@]}"; do
    [[ -n "${keep[$name]:-}" ]] || printf '%s\n' "$name"
  done
}

# prune DIR DB DRY_RUN -> deletes expired backup sets of DB (the dump, encrypted or not, and
# every other file of its set: Redis snapshot, config archive, .sha256 sidecars), prints a summary.
prune() {
  local dir=$1 db=$2 dry_run=$3 f name total=0
  local -a expired=()
  local -a candidates=()
  for f in "$dir/$db"-*.dump "$dir/$db"-*.dump.age; do
    [[ -f "$f" ]] || continue
    name=${f##*/}
    [[ "$name" =~ ^${db}-${TS_RE}\.dump(\.age)?$ ]] || continue
    candidates+=("${name%.age}")
  done
  total=${#candidates[@]}
  if ((total > 0)); then
    mapfile -t expired < <(printf '%s\n' "${candidates[@]}" | select_expired "$RETAIN_DAILY" "$RETAIN_WEEKLY" "$RETAIN_MONTHLY")
  fi
  if [[ "$dry_run" != 1 ]] && ((${#expired[@]} > 0)) && ! lock_sets exclusive; then
    PRUNE_SUMMARY="kept all $total backups: a drill or restore is reading a set (the next run applies retention)"
    log "retention: $PRUNE_SUMMARY"
    return 0
  fi
  for name in "${expired[@]}"; do
    if [[ "$dry_run" == 1 ]]; then
      printf 'would delete %s\n' "$name"
    else
      # The set: <db>-<timestamp>.* (dump, snapshot, archive, sidecars; never a .partial, which starts with '.').
      rm -f -- "$dir/${name%.dump}".*
      log "retention: deleted $name and the rest of its set"
    fi
  done
  PRUNE_SUMMARY="kept $((total - ${#expired[@]})) of $total backups (daily $RETAIN_DAILY, weekly $RETAIN_WEEKLY, monthly $RETAIN_MONTHLY), deleted ${#expired[@]}"
  log "retention: $PRUNE_SUMMARY"
  [[ "$dry_run" == 1 ]] || flock --unlock 8 2>/dev/null || true
}

# dump_postgres PARTIAL: pg_dump custom format, read back with pg_restore --list.
dump_postgres() {
  local partial=$1
  log "dumping $PGDATABASE from ${PGHOST}:${PGPORT:-5432}"
  if ! pg_dump --format=custom --compress="$COMPRESS" --no-password \
    --lock-wait-timeout="$LOCK_WAIT" --file="$partial" 2>"$ERR_FILE"; then
    die "pg_dump of $PGDATABASE failed: $(tail -n 5 "$ERR_FILE")"
  fi
  if ! pg_restore --list "$partial" >/dev/null 2>"$ERR_FILE"; then
    die "the new dump of $PGDATABASE does not read back with pg_restore --list: $(tail -n 5 "$ERR_FILE")"
  fi
}

# snapshot_redis PARTIAL: a consistent RDB snapshot through the replication protocol
# (redis-cli --rdb; the password comes from REDISCLI_AUTH, never -a, so it is not in the
# process list), checked with redis-check-rdb.
snapshot_redis() {
  local partial=$1
  log "snapshotting Redis at ${REDIS_HOST}:${REDIS_PORT}"
  if ! redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --no-auth-warning --rdb "$partial" >"$ERR_FILE" 2>&1; then
    die "redis-cli --rdb from ${REDIS_HOST}:${REDIS_PORT} failed: $(tail -n 3 "$ERR_FILE")"
  fi
  if ! redis-check-rdb "$partial" >"$ERR_FILE" 2>&1; then
    die "the Redis snapshot does not pass redis-check-rdb: $(grep -v '^\[offset' "$ERR_FILE" | tail -n 3)"
  fi
  # "[info] 42 keys read"
  REDIS_KEYS=$(grep -oE '[0-9]+ keys read' "$ERR_FILE" | tail -n 1 | cut -d' ' -f1 || true)
}

# archive_config PARTIAL: the stack's non-secret config (STACK_CONFIG_DIR) as a gzip tar,
# listed back with tar -t.
archive_config() {
  local partial=$1
  log "archiving the stack config in $STACK_CONFIG_DIR"
  # -h: Kubernetes mounts ConfigMap files as symlinks into a ..data directory; archive the files.
  if ! tar --create --gzip --dereference --file="$partial" --exclude='..*' -C "$STACK_CONFIG_DIR" . 2>"$ERR_FILE"; then
    die "cannot archive the stack config in $STACK_CONFIG_DIR: $(tail -n 3 "$ERR_FILE")"
  fi
  CONFIG_FILES=$(tar --list --gzip --file="$partial" | grep -vc '/$' || true)
}

# publish NAME: .NAME.partial -> NAME (or NAME.age, encrypted to ENCRYPTION_RECIPIENT) with a
# sha256 sidecar of the published bytes; the plain partial is removed before anything is published.
publish() {
  local name=$1 partial="$BACKUP_DIR/.$1.partial" final sum bytes
  final=$name
  if [[ -n "$ENCRYPTION_RECIPIENT" ]]; then
    final="$name.age"
    if ! age --encrypt --recipient "$ENCRYPTION_RECIPIENT" --output "$BACKUP_DIR/.$final.partial" "$partial" 2>"$ERR_FILE"; then
      die "age could not encrypt $name: $(tail -n 3 "$ERR_FILE")"
    fi
    rm -f -- "$partial"
    partial="$BACKUP_DIR/.$final.partial"
  fi
  sum=$(sha256sum "$partial")
  sum=${sum%% *}
  bytes=$(stat -c %s "$partial")
  printf '%s  %s\n' "$sum" "$final" >"$BACKUP_DIR/.$final.sha256.partial"
  sync "$partial" "$BACKUP_DIR/.$final.sha256.partial"
  mv -f -- "$partial" "$BACKUP_DIR/$final"
  mv -f -- "$BACKUP_DIR/.$final.sha256.partial" "$BACKUP_DIR/$final.sha256"
  SET_BYTES=$((SET_BYTES + bytes))
  PUBLISHED+=("$final")
  log "wrote $BACKUP_DIR/$final ($(human_bytes "$bytes"), sha256 $sum)"
}

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

STARTED=''
RECORDED=0
SET=''
ERR_FILE=''
PRUNE_SUMMARY=''
REDIS_KEYS=''
CONFIG_FILES=''
SET_BYTES=0
PUBLISHED=()

# disk_full_note: when the backup disk ran out of space (the failure says so, or under 1 MiB is
# left while this run's partial files still take their space), names the disk and its fill.
disk_full_note() {
  local size avail
  read -r size avail < <(df -P -B1 -- "$BACKUP_DIR" 2>/dev/null | awk 'NR == 2 { print $2, $4 }') || return 1
  [[ "$size" =~ ^[0-9]+$ && "$avail" =~ ^[0-9]+$ ]] || return 1
  [[ "$FAIL_REASON" == *"No space left on device"* ]] || ((avail < 1048576)) || return 1
  printf 'the backup disk is full: %s (the backups volume) has %s free of %s; this run kept nothing, the newest complete backup is unchanged' \
    "$BACKUP_DIR" "$(human_bytes "$avail")" "$(human_bytes "$size")"
}

on_exit() {
  local rc=$? note
  if ((rc != 0)) && [[ -n "$STARTED" ]] && note=$(disk_full_note); then
    log "ERROR: $note"
    FAIL_REASON="$note (${FAIL_REASON:-backup.sh exited with status $rc})"
  fi
  # Every part of an unfinished set (plain and encrypted partials, sidecars).
  [[ -z "$SET" ]] || rm -f -- "$BACKUP_DIR/.$SET".*.partial
  [[ -z "$ERR_FILE" ]] || rm -f -- "$ERR_FILE"
  if ((rc != 0)) && [[ -n "$STARTED" && "$RECORDED" == 0 ]]; then
    if record_run "$PGDATABASE" backup false "$STARTED" '' "${FAIL_REASON:-backup.sh exited with status $rc}"; then
      log "recorded the failed run in ballast.backup_runs"
    else
      log "could not record the failed run in ballast.backup_runs (database unreachable?)"
    fi
  fi
  exit "$rc"
}

main() {
  local prune_only=0 dry_run=0
  while (($# > 0)); do
    case $1 in
      --prune-only) prune_only=1 ;;
      --dry-run) dry_run=1 ;;
      -h | --help)
        usage
        return 0
        ;;
      *) die "unknown argument '$1' (try --help)" ;;
    esac
    shift
  done

  require_env PGDATABASE
  BACKUP_DIR=${BACKUP_DIR:-/backups}
  RETAIN_DAILY=${RETAIN_DAILY:-7}
  RETAIN_WEEKLY=${RETAIN_WEEKLY:-4}
  RETAIN_MONTHLY=${RETAIN_MONTHLY:-6}
  require_uint RETAIN_DAILY "$RETAIN_DAILY"
  require_uint RETAIN_WEEKLY "$RETAIN_WEEKLY"
  require_uint RETAIN_MONTHLY "$RETAIN_MONTHLY"
  ((RETAIN_DAILY >= 1)) || die "RETAIN_DAILY must be at least 1: the newest backup is always kept"
  [[ "$PGDATABASE" =~ $DBNAME_RE ]] || die "PGDATABASE '$PGDATABASE' is not a plain database name"
  [[ -d "$BACKUP_DIR" ]] || die "backup directory $BACKUP_DIR does not exist (is the 'backups' volume mounted?)"

  if ((prune_only)); then
    ((dry_run)) || [[ -w "$BACKUP_DIR" ]] || die "backup directory $BACKUP_DIR is not writable"
    prune "$BACKUP_DIR" "$PGDATABASE" "$dry_run"
    return 0
  fi
  ((dry_run == 0)) || die "--dry-run only goes with --prune-only"

  require_env PGHOST PGUSER
  COMPRESS=${BACKUP_COMPRESS:-6}
  LOCK_WAIT=${LOCK_WAIT_TIMEOUT:-10min}
  [[ "$COMPRESS" =~ ^[0-9]$ ]] || die "BACKUP_COMPRESS must be 0-9, got '$COMPRESS'"
  REDIS_HOST=${REDIS_HOST:-}
  REDIS_PORT=${REDIS_PORT:-6379}
  STACK_CONFIG_DIR=${STACK_CONFIG_DIR:-}
  ENCRYPTION_RECIPIENT=${ENCRYPTION_RECIPIENT:-}
  require_uint REDIS_PORT "$REDIS_PORT"
  if [[ -n "$REDIS_HOST" ]]; then
    command -v redis-cli >/dev/null || die "REDIS_HOST is set but redis-cli is not installed in this image (see components/backups/image/Dockerfile)"
    command -v redis-check-rdb >/dev/null || die "REDIS_HOST is set but redis-check-rdb is not installed in this image (see components/backups/image/Dockerfile)"
  fi
  [[ -z "$STACK_CONFIG_DIR" || -d "$STACK_CONFIG_DIR" ]] || die "STACK_CONFIG_DIR $STACK_CONFIG_DIR does not exist (is the stack config mounted?)"
  if [[ -n "$ENCRYPTION_RECIPIENT" ]]; then
    [[ "$ENCRYPTION_RECIPIENT" =~ $AGE_RECIPIENT_RE ]] || die "ENCRYPTION_RECIPIENT is not an age public key (age1 and 58 more characters)"
    command -v age >/dev/null || die "ENCRYPTION_RECIPIENT is set but age is not installed in this image (see components/backups/image/Dockerfile)"
  fi

  umask 077
  STARTED=$(date -u +%s)
  trap on_exit EXIT
  trap 'FAIL_REASON="terminated by a signal (job timeout?)"; exit 143' TERM INT
  trap 'FAIL_REASON=${FAIL_REASON:-"unexpected failure at line $LINENO: $BASH_COMMAND"}' ERR

  [[ -w "$BACKUP_DIR" ]] || die "backup directory $BACKUP_DIR is not writable by uid $(id -u)"
  ERR_FILE=$(mktemp)
  if ! ensure_runs_table 2>"$ERR_FILE"; then
    die "cannot reach database $PGDATABASE at ${PGHOST}:${PGPORT:-5432} as $PGUSER: $(tail -n 3 "$ERR_FILE")"
  fi

  local stamp
  stamp=$(utc_stamp)
  SET="$PGDATABASE-$stamp"
  [[ ! -e "$BACKUP_DIR/$SET.dump" && ! -e "$BACKUP_DIR/$SET.dump.age" ]] ||
    die "$BACKUP_DIR/$SET.dump already exists (two backups in the same second?)"

  local -a parts=("$SET.dump")
  dump_postgres "$BACKUP_DIR/.$SET.dump.partial"
  if [[ -n "$REDIS_HOST" ]]; then
    snapshot_redis "$BACKUP_DIR/.$SET.redis.rdb.partial"
    parts+=("$SET.redis.rdb")
  fi
  if [[ -n "$STACK_CONFIG_DIR" ]]; then
    archive_config "$BACKUP_DIR/.$SET.config.tar.gz.partial"
    parts+=("$SET.config.tar.gz")
  fi
  # Only a complete set is published: every part was read back above. The dump goes last: the
  # drill, a restore and retention find a set by its dump, so a set shows only once every part is
  # in place (a drill started beside the backup found the dump without its config archive).
  local part
  for part in "${parts[@]:1}" "${parts[0]}"; do
    publish "$part"
  done
  PUBLISHED=("${PUBLISHED[-1]}" "${PUBLISHED[@]:0:${#PUBLISHED[@]}-1}")
  sync "$BACKUP_DIR"
  local name=${PUBLISHED[0]}
  local sum
  sum=$(cut -d' ' -f1 <"$BACKUP_DIR/$name.sha256")
  log "wrote set $SET: ${PUBLISHED[*]} ($(human_bytes "$SET_BYTES")${ENCRYPTION_RECIPIENT:+, age-encrypted})"

  prune "$BACKUP_DIR" "$PGDATABASE" 0

  local seconds=$(($(date -u +%s) - STARTED))
  record_run "$PGDATABASE" backup true "$STARTED" "$SET_BYTES" \
    "$name sha256=$sum in ${seconds}s; set: ${PUBLISHED[*]}${REDIS_KEYS:+; redis $REDIS_KEYS keys}${CONFIG_FILES:+; config $CONFIG_FILES files}${ENCRYPTION_RECIPIENT:+; encrypted to $ENCRYPTION_RECIPIENT}; $PRUNE_SUMMARY"
  RECORDED=1
  log "backup ok: $name"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
