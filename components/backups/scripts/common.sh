# shellcheck shell=bash disable=SC2034 # (globals here are read by the scripts that source this file)
# Ballast: helpers shared by backup.sh and restore-drill.sh (sourced, never run).
#
# Connection: the standard libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE;
# PGPASSWORD comes from the platform's secret `postgres-password`).
# Backups are named <db>-<UTC timestamp>.dump, e.g. app-20250301T031500Z.dump, with a
# sha256sum-format sidecar <name>.sha256 next to them. One run writes one backup set, all
# files with the same <db>-<UTC timestamp> prefix:
#   <set>.dump            pg_dump custom format (always)
#   <set>.redis.rdb       Redis RDB snapshot (REDIS_HOST set)
#   <set>.config.tar.gz   the stack's non-secret config (STACK_CONFIG_DIR set)
# With ENCRYPTION_RECIPIENT (an age public key) every file of the set is age-encrypted and
# ends in .age (app-20250301T031500Z.dump.age); the sidecars checksum the encrypted files,
# so a set is verifiable without the private key.

TS_RE='[0-9]{8}T[0-9]{6}Z'
IDENT_RE='^[A-Za-z_][A-Za-z0-9_]*$'
DBNAME_RE='^[A-Za-z_][A-Za-z0-9_-]*$'

# The reason a run failed; on_exit handlers record it in ballast.backup_runs.
FAIL_REASON=''

# An external (managed) database arrives as one URL, the secret DATABASE_URL
# (postgresql://user:password@host:port/database?sslmode=require): libpq's environment from it.
# Percent-escapes in user and password are decoded; sslmode is the one query parameter kept.
pg_env_from_url() {
  local url=$1 re='^postgres(ql)?://([^:@/]+)(:([^@]*))?@([^:/?]+)(:([0-9]+))?/([^?]+)(\?(.*))?$' param
  [[ "$url" =~ $re ]] || die "DATABASE_URL is not a postgresql://user:password@host:port/database URL"
  export PGUSER PGPASSWORD PGHOST PGPORT PGDATABASE
  PGUSER=$(printf '%b' "${BASH_REMATCH[2]//%/\\x}")
  PGPASSWORD=$(printf '%b' "${BASH_REMATCH[4]//%/\\x}")
  PGHOST=${BASH_REMATCH[5]}
  PGPORT=${BASH_REMATCH[7]:-5432}
  PGDATABASE=${BASH_REMATCH[8]}
  for param in ${BASH_REMATCH[10]//&/ }; do
    if [[ $param == sslmode=* ]]; then
      export PGSSLMODE=${param#sslmode=}
    fi
  done
}
if [[ -n "${DATABASE_URL:-}" && -z "${PGHOST:-}" ]]; then
  pg_env_from_url "$DATABASE_URL"
fi

# Keep psql and pg_restore output to what matters (no "already exists, skipping" notices).
export PGOPTIONS="${PGOPTIONS:+${PGOPTIONS} }-c client_min_messages=warning"

log() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

die() {
  FAIL_REASON="$*"
  log "ERROR: $*"
  exit 1
}

utc_stamp() {
  date -u +%Y%m%dT%H%M%SZ
}

# Epoch seconds of a 20250301T031500Z timestamp.
stamp_epoch() {
  local ts=$1
  date -u -d "${ts:0:4}-${ts:4:2}-${ts:6:2} ${ts:9:2}:${ts:11:2}:${ts:13:2}" +%s
}

require_env() {
  local name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || die "environment variable $name is not set (see docs/backup-restore.md)"
  done
}

require_uint() {
  local name=$1 value=$2
  [[ "$value" =~ ^[0-9]+$ ]] || die "$name must be a whole number, got '$value'"
}

require_number() {
  local name=$1 value=$2
  [[ "$value" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$name must be a non-negative number, got '$value'"
}

# "public.leads" or "leads" -> "public"."leads" (refuses anything but plain identifiers).
quote_table() {
  local spec=$1 schema table
  if [[ "$spec" == *.* ]]; then
    schema=${spec%%.*}
    table=${spec#*.}
  else
    schema=public
    table=$spec
  fi
  [[ "$schema" =~ $IDENT_RE && "$table" =~ $IDENT_RE ]] || return 1
  printf '"%s"."%s"' "$schema" "$table"
}

# psql with scripts on stdin: no psqlrc, stop at the first error, bare values out.
sql() {
  local db=$1
  shift
  psql -X -q -v ON_ERROR_STOP=1 --no-align --tuples-only --dbname="$db" "$@"
}

# One query, one value.
sql_value() {
  local db=$1 query=$2
  psql -X -q -v ON_ERROR_STOP=1 --no-align --tuples-only --dbname="$db" --command="$query"
}

# Creates ballast.backup_runs if needed (the observability stack reads it to alert
# when the last good backup is older than the RPO).
ensure_runs_table() {
  sql "$PGDATABASE" >/dev/null <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('ballast.backup_runs'));
-- Only when missing: the backup role may create in the schema, not in the database (CREATE SCHEMA IF NOT EXISTS asks for that first).
SELECT 'CREATE SCHEMA ballast' WHERE to_regnamespace('ballast') IS NULL \gexec
CREATE TABLE IF NOT EXISTS ballast.backup_runs (
  id bigserial primary key,
  kind text not null check (kind in ('backup','drill')),
  started_at timestamptz not null,
  finished_at timestamptz not null,
  ok boolean not null,
  bytes bigint,
  detail text
);
COMMIT;
SQL
}

# record_run DB KIND OK STARTED_EPOCH BYTES DETAIL
record_run() {
  local db=$1 kind=$2 ok=$3 started=$4 bytes=$5 detail=$6
  local finished
  finished=$(date -u +%s)
  PGDATABASE=$db ensure_runs_table
  sql "$db" -v kind="$kind" -v ok="$ok" -v started="$started" -v finished="$finished" \
    -v bytes="$bytes" -v detail="$detail" >/dev/null <<'SQL'
INSERT INTO ballast.backup_runs (kind, started_at, finished_at, ok, bytes, detail)
VALUES (:'kind', to_timestamp(:'started'::bigint), to_timestamp(:'finished'::bigint),
        :'ok'::boolean, NULLIF(:'bytes', '')::bigint, :'detail');
SQL
}

# Prints the newest backup (the set's .dump or .dump.age) of database $2 in directory $1
# (nothing when there is none).
newest_backup() {
  local dir=$1 db=$2 f name newest='' newest_ts=''
  for f in "$dir/$db"-*.dump "$dir/$db"-*.dump.age; do
    [[ -f "$f" ]] || continue
    name=${f##*/}
    [[ "$name" =~ ^${db}-(${TS_RE})\.dump(\.age)?$ ]] || continue
    if [[ -z "$newest" || "${BASH_REMATCH[1]}" > "$newest_ts" ]]; then
      newest=$name
      newest_ts=${BASH_REMATCH[1]}
    fi
  done
  [[ -z "$newest" ]] || printf '%s\n' "$dir/$newest"
}

# Readers of the sets (the drill, a restore) hold a shared lock on the backup directory itself
# for their run; retention deletes only while it holds it exclusively, so a backup beside a drill
# (the same day: retention keeps the newest set per day) never removes the set being restored.
# A directory lock writes no file: it works on a full or read-only disk.

# lock_sets shared|exclusive: the lock on fd 8 (shared: waits up to a minute for a running prune;
# exclusive: does not wait). Fails when it is held.
lock_sets() {
  local mode=$1
  { exec 8<"$BACKUP_DIR"; } 2>/dev/null || return 1
  if [[ "$mode" == shared ]]; then
    flock --shared --wait 60 8
  else
    flock --exclusive --nonblock 8
  fi
}

# An age public key (X25519 recipient): "age1" and 58 bech32 characters.
AGE_RECIPIENT_RE='^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$'

# sha256 of FILE checked against FILE.sha256 (when the sidecar exists); dies naming the file.
check_sidecar() {
  local file=$1 name=${1##*/} sum expected
  [[ -f "$file.sha256" ]] || return 1
  expected=$(cut -d' ' -f1 <"$file.sha256")
  sum=$(sha256sum "$file")
  sum=${sum%% *}
  [[ "$sum" == "$expected" ]] ||
    die "backup $name is corrupted: its sha256 is $sum but $name.sha256 says $expected"
}

# decrypt FILE.age OUT: with the drill's identity (ENCRYPTION_IDENTITY_FILE) only.
decrypt_file() {
  local file=$1 out=$2 name=${1##*/} err
  [[ -n "${ENCRYPTION_IDENTITY_FILE:-}" ]] ||
    die "backup $name is encrypted but ENCRYPTION_IDENTITY_FILE is not set (the drill reads the age identity from the secret backup-encryption-identity)"
  [[ -r "$ENCRYPTION_IDENTITY_FILE" ]] || die "the age identity $ENCRYPTION_IDENTITY_FILE is not readable by uid $(id -u)"
  err=$(mktemp)
  if ! age --decrypt --identity "$ENCRYPTION_IDENTITY_FILE" --output "$out" "$file" 2>"$err"; then
    rm -f -- "$out"
    local reason
    reason=$(tail -n 2 "$err")
    rm -f -- "$err"
    die "cannot decrypt $name with the identity in $ENCRYPTION_IDENTITY_FILE (the private key of another recipient?): $reason"
  fi
  rm -f -- "$err"
}

human_bytes() {
  local bytes=$1
  awk -v b="$bytes" 'BEGIN {
    split("B KiB MiB GiB TiB", u, " "); i = 1
    while (b >= 1024 && i < 5) { b /= 1024; i++ }
    printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i]
  }'
}
