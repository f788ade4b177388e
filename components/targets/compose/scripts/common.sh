# Template: helpers deploy.sh and destroy.sh share. components/targets/compose/scripts.ts drops
# this paragraph and puts the settings (readonly variables) and this file in front of each script.

set -euo pipefail
umask 077
export LC_ALL=C

readonly RELEASES_DIR="$BASE_DIR/releases"
readonly CURRENT_LINK="$BASE_DIR/current"
# Files that outlive a release: the routing Traefik watches, destroy.sh, the deploy log.
readonly ROUTING_DIR="$BASE_DIR/routing"
readonly STATE_DIR="$BASE_DIR/.ballast"
# "<release id> <bundle sha256>" of the last release that went live (deploy.sh writes it once the
# health gate passed): what runs on the host, to compare with the bundle hash Pulumi recorded.
readonly LIVE_RECORD="$STATE_DIR/live"
readonly CRON_BEGIN="# BEGIN ballast $PROJECT (rendered by Ballast: do not edit)"
readonly CRON_END="# END ballast $PROJECT"

# Progress lines: destroy.sh prints them; deploy.sh (LOG_TO_FILE=1) writes them, timestamped, to the
# release log, so `pulumi up` shows only the outcome and a failure reads in a few lines.
log() {
  if ((${LOG_TO_FILE:-0})); then
    printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >>"$LOG_FILE"
  else
    printf 'ballast: %s\n' "$*"
  fi
}
die() {
  printf 'ballast: %s\n' "$*" >&2
  exit 1
}

# compose <project dir> <seconds> <args...>: docker compose on the project in <dir>, killed after <seconds>.
compose() {
  local dir=$1 seconds=$2
  shift 2
  timeout --kill-after=30 "$seconds" "${COMPOSE[@]}" -p "$PROJECT" --project-directory "$dir" -f "$dir/docker-compose.yml" \
    ${PROFILE_ARGS[@]+"${PROFILE_ARGS[@]}"} "$@"
}

# The release `current` points at, or nothing.
current_release() {
  if [[ -L $CURRENT_LINK ]]; then
    basename "$(readlink "$CURRENT_LINK")"
  fi
}

take_lock() {
  exec 9>"$BASE_DIR/.deploy.lock"
  flock -w "$LOCK_TIMEOUT" 9 || die "another deploy or destroy still holds $BASE_DIR/.deploy.lock after ${LOCK_TIMEOUT}s"
}

# The long-running containers of a service (one-off `run` containers excluded), oldest first.
containers_of() {
  timeout 60 docker ps -a --no-trunc \
    --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1" \
    --filter "label=com.docker.compose.oneoff=False" \
    --format '{{.CreatedAt}}|{{.ID}}' | sort | cut -d'|' -f2
}

# install_crontab <file or empty>: the deploy user's crontab keeps every line but Ballast's block,
# which becomes <file>'s content (nothing when empty). Without a crontab command, says so.
install_crontab() {
  local block=$1 current
  if ! command -v crontab >/dev/null 2>&1; then
    [[ -z $block ]] || log "warning: no crontab command on the host: scheduled jobs will not run (install cron)"
    return 0
  fi
  current=$(crontab -l 2>/dev/null || true)
  {
    printf '%s\n' "$current" | awk -v begin="$CRON_BEGIN" -v end="$CRON_END" '$0 == begin { skip = 1; next } $0 == end { skip = 0; next } !skip && NF'
    if [[ -n $block ]]; then
      printf '%s\n' "$CRON_BEGIN"
      cat "$block"
      printf '%s\n' "$CRON_END"
    fi
  } | crontab - || die "could not install the crontab of $(id -un)"
}
