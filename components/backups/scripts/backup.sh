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
#
# A dump is written as .<name>.partial and renamed only after `pg_restore --list`
# has read it back, so a file named *.dump is always complete.
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

# prune DIR DB DRY_RUN -> deletes expired dumps of DB (and their .sha256), prints a summary.
prune() {
  local dir=$1 db=$2 dry_run=$3 f name total=0
  local -a expired=()
  local -a candidates=()
  for f in "$dir/$db"-*.dump; do
    [[ -f "$f" ]] || continue
    name=${f##*/}
    [[ "$name" =~ ^${db}-${TS_RE}\.dump$ ]] || continue
    candidates+=("$name")
  done
  total=${#candidates[@]}
  if ((total > 0)); then
    mapfile -t expired < <(printf '%s\n' "${candidates[@]}" | select_expired "$RETAIN_DAILY" "$RETAIN_WEEKLY" "$RETAIN_MONTHLY")
  fi
  for name in "${expired[@]}"; do
    if [[ "$dry_run" == 1 ]]; then
      printf 'would delete %s\n' "$name"
    else
      rm -f -- "$dir/$name" "$dir/$name.sha256"
      log "retention: deleted $name"
    fi
  done
  PRUNE_SUMMARY="kept $((total - ${#expired[@]})) of $total backups (daily $RETAIN_DAILY, weekly $RETAIN_WEEKLY, monthly $RETAIN_MONTHLY), deleted ${#expired[@]}"
  log "retention: $PRUNE_SUMMARY"
}

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

STARTED=''
RECORDED=0
TMP_DUMP=''
TMP_SUM=''
ERR_FILE=''
PRUNE_SUMMARY=''

on_exit() {
  local rc=$?
  [[ -z "$TMP_DUMP" ]] || rm -f -- "$TMP_DUMP"
  [[ -z "$TMP_SUM" ]] || rm -f -- "$TMP_SUM"
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
  local compress=${BACKUP_COMPRESS:-6} lock_wait=${LOCK_WAIT_TIMEOUT:-10min}
  [[ "$compress" =~ ^[0-9]$ ]] || die "BACKUP_COMPRESS must be 0-9, got '$compress'"

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

  local stamp name target
  stamp=$(utc_stamp)
  name="$PGDATABASE-$stamp.dump"
  target="$BACKUP_DIR/$name"
  [[ ! -e "$target" ]] || die "$target already exists (two backups in the same second?)"
  TMP_DUMP="$BACKUP_DIR/.$name.partial"
  TMP_SUM="$BACKUP_DIR/.$name.sha256.partial"

  log "dumping $PGDATABASE from ${PGHOST}:${PGPORT:-5432} to $target"
  if ! pg_dump --format=custom --compress="$compress" --no-password \
    --lock-wait-timeout="$lock_wait" --file="$TMP_DUMP" 2>"$ERR_FILE"; then
    die "pg_dump of $PGDATABASE failed: $(tail -n 5 "$ERR_FILE")"
  fi
  if ! pg_restore --list "$TMP_DUMP" >/dev/null 2>"$ERR_FILE"; then
    die "the new dump of $PGDATABASE does not read back with pg_restore --list: $(tail -n 5 "$ERR_FILE")"
  fi

  local sum bytes
  sum=$(sha256sum "$TMP_DUMP")
  sum=${sum%% *}
  bytes=$(stat -c %s "$TMP_DUMP")
  printf '%s  %s\n' "$sum" "$name" >"$TMP_SUM"
  sync "$TMP_DUMP" "$TMP_SUM"
  mv -f -- "$TMP_DUMP" "$target"
  TMP_DUMP=''
  mv -f -- "$TMP_SUM" "$target.sha256"
  TMP_SUM=''
  sync "$BACKUP_DIR"
  log "wrote $target ($(human_bytes "$bytes"), sha256 $sum)"

  prune "$BACKUP_DIR" "$PGDATABASE" 0

  local seconds=$(($(date -u +%s) - STARTED))
  record_run "$PGDATABASE" backup true "$STARTED" "$bytes" \
    "$name sha256=$sum in ${seconds}s; $PRUNE_SUMMARY"
  RECORDED=1
  log "backup ok: $name"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
