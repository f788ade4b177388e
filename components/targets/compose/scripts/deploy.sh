# Template: the body of deploy.sh. components/targets/compose/scripts.ts drops this paragraph
# and puts the settings (readonly variables) and common.sh in front of it.

# deploy.sh: one release of the Compose project, run by `pulumi up` as `bash -s` with this
# script and then the release bundle on stdin (bash reads a script from a pipe line by line,
# so what follows `main` is still on stdin for it). It never prints a file's content.
#
#   1. unpack the bundle into releases/<id>/, check the project loads, create missing volumes,
#      pull images: a failure so far leaves the live stack untouched;
#   2. preparing steps (volumes given to their non-root owners) `run --rm`, each must exit 0;
#      secrets a running service takes in place (Postgres' role password) are applied inside it
#      (`exec`, the value on stdin) before anything restarts with them; then singletons
#      (datastores, proxy, monitoring) `up --no-deps --wait`: stop-first, only the changed ones
#      are recreated;
#   3. one-shot steps (migration, pgvector ensure) `run --rm`, in order, each must exit 0;
#   4. rolling services (app, workers, extra services): new containers start beside the old
#      ones (`up --no-recreate --scale`) and must become healthy; a queue-scaled worker starts
#      as many as run now (what autoscale.sh left), within its bounds;
#   5. routed ones take the traffic: Traefik's file provider is pointed at the new containers
#      and its API must show exactly them; then the deep health gate through the proxy;
#   6. the old containers get SIGTERM and their drain time (stop_grace_period), then go;
#   7. the host crontab follows, old releases and images are pruned, and the releases kept for
#      rollback take the live release's secrets (no old value outlives a rotation).
# `current` switches to the new release right after the pull, and compose always runs on
# <base>/current: the containers' bind mounts (config files) keep one path across releases, so
# a container is recreated only when its own definition changed.
# A failure in 2-5 rolls back on the same path: new containers go, the old ones never left
# rotation, changed singletons are recreated from the previous release, and the error names
# the service, what its check said, and the full log on the host (docs/compose-release.md).

readonly MIN_UP_SECONDS=5
# Below this much free space where releases live or where Docker keeps images, a release stops
# before it writes anything (a full disk half way through leaves a half-written release).
readonly MIN_FREE_KB=10240
BUNDLE_ID=""
RELEASE_ID=""
RELEASE_DIR=""
PREVIOUS=""
LOG_FILE=/dev/null
# Progress goes to the release log (common.sh's log); stdout gets one line when the release is live.
readonly LOG_TO_FILE=1
STAGE="unpack"
FAILURE=""
# Per rolling service: the containers serving before this release (OLD_IDS, drained at the end),
# the ones this release started (STARTED_IDS, removed on a rollback), and the ones that serve
# after the switch (NEW_IDS: the started ones, or the old ones of an unchanged service).
declare -A OLD_IDS=() STARTED_IDS=() NEW_IDS=()
ROUTING_SWITCHED=0
# Each failed check: one line naming the service and what its check said.
PROBLEMS=()

# run_logged <command...>: the command's output goes to the release log, not to Pulumi's.
run_logged() {
  printf '\n$ %s\n' "$*" >>"$LOG_FILE"
  "$@" >>"$LOG_FILE" 2>&1
}

require_tools() {
  local tool
  local -a missing=()
  for tool in "${COMPOSE[0]}" docker curl flock timeout base64 awk cmp; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || die "missing on the host: ${missing[*]}"
}

# unpack_bundle <dir>: writes the bundle from stdin into <dir>; sets BUNDLE_ID.
# Files are created under umask 077 before any content lands, then get their mode.
unpack_bundle() {
  local dir=$1 header kind mode path line payload problem
  IFS= read -r header || die "no release bundle on stdin"
  [[ $header =~ ^ballast-bundle\ 1\ ([0-9a-f]{64})$ ]] || die "stdin is not a ballast release bundle (version 1)"
  BUNDLE_ID=${BASH_REMATCH[1]}
  while IFS=' ' read -r kind mode path; do
    case $kind in
      end) return 0 ;;
      file) ;;
      *) die "malformed release bundle: expected a file or end record" ;;
    esac
    [[ $mode =~ ^0[0-7]{3}$ ]] || die "malformed release bundle: bad mode for $path"
    if [[ ! $path =~ ^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$ || $path =~ (^|/)\.\.?(/|$) ]]; then
      die "release bundle holds an unsafe path: $path"
    fi
    payload=""
    while true; do
      IFS= read -r line || die "release bundle is truncated inside $path"
      [[ $line == . ]] && break
      payload+=$line
    done
    mkdir -p "$dir/$(dirname "$path")"
    : >"$dir/$path"
    if ! printf '%s' "$payload" | base64 -d >"$dir/$path"; then
      problem=$(disk_full_problem "$dir")
      die "${problem:+$problem; }release bundle: $path could not be written or does not decode"
    fi
    chmod "$mode" "$dir/$path"
  done
  die "release bundle is truncated (no end record)"
}

# disk_full_problem <path>: empty when the filesystem holding <path> (or its nearest existing
# parent) has MIN_FREE_KB free; otherwise one line naming the device, its mount point and the space.
disk_full_problem() {
  local dir=$1 device size avail mount
  while [[ ! -e $dir && $dir == /* && $dir != / ]]; do dir=$(dirname "$dir"); done
  read -r device size _ avail _ mount < <(df -Pk -- "$dir" 2>/dev/null | awk 'NR == 2') || return 0
  [[ $avail =~ ^[0-9]+$ ]] || return 0
  ((avail < MIN_FREE_KB)) || return 0
  printf 'the disk holding %s is full: %s on %s has %s KiB free of %s KiB (a release needs %s KiB)' "$1" "$device" "$mount" "$avail" "$size" "$MIN_FREE_KB"
}

# require_disk_space: releases and Docker's data root need room before anything is written.
require_disk_space() {
  local problem root
  problem=$(disk_full_problem "$BASE_DIR")
  if [[ -z $problem ]]; then
    root=$(timeout 30 docker info --format '{{.DockerRootDir}}' 2>/dev/null || true)
    [[ -z $root ]] || problem=$(disk_full_problem "$root")
  fi
  [[ -z $problem ]] || die "$problem; nothing was written and the live stack was not touched: free space there (old logs, \`docker system prune\`) and run pulumi up again"
}

# settle_interrupted_releases: a release newer than the live record that neither went live nor
# failed was interrupted (SSH dropped, `pulumi up` killed, the engine or host restarted mid-way).
# It becomes <id>.failed (pruning removes it like any failed one) and `current` goes back to the
# live release, so this release rolls back to what really served, not to a half-done one.
# A host without the record (deployed before it existed) keeps `current` as the live release.
settle_interrupted_releases() {
  local live="" path name
  [[ -f $LIVE_RECORD ]] || return 0
  read -r live _ <"$LIVE_RECORD" || return 0
  [[ -n $live && -d $RELEASES_DIR/$live ]] || return 0
  for path in "$RELEASES_DIR"/*; do
    [[ -d $path ]] || continue
    name=${path##*/}
    [[ $name != *.failed && $name > $live ]] || continue
    printf '%s interrupted: it neither went live nor failed (found by the next release)\n' "$(date -u +%H:%M:%S)" >>"$path/deploy.log"
    mv -- "$path" "$path.failed"
    INTERRUPTED+=("$name")
  done
  [[ $(current_release) == "$live" ]] || switch_current "$live"
}
INTERRUPTED=()

# record_live: the release serves (traffic switched, health gate passed); written before the drain,
# so an interruption after this point leaves a release that is live, not an interrupted one.
record_live() {
  printf '%s %s\n' "$RELEASE_ID" "$BUNDLE_ID" >"$LIVE_RECORD.new"
  chmod 0644 "$LIVE_RECORD.new"
  mv -f "$LIVE_RECORD.new" "$LIVE_RECORD"
}

# A new release id: UTC time to the millisecond (names sort in deploy order, which pruning
# relies on) and the bundle hash, which is what destroy.sh matches on.
new_release_id() {
  local stamp candidate n=2
  stamp=$(date -u +%Y%m%dT%H%M%S.%3NZ)
  [[ $stamp =~ ^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z$ ]] || stamp=$(date -u +%Y%m%dT%H%M%S.000Z)
  candidate="$stamp-${BUNDLE_ID:0:12}"
  while [[ -e $RELEASES_DIR/$candidate || -e $RELEASES_DIR/$candidate.failed ]]; do
    ((n <= 9)) || die "too many releases of bundle ${BUNDLE_ID:0:12} within one second"
    candidate="$stamp.$n-${BUNDLE_ID:0:12}"
    n=$((n + 1))
  done
  printf '%s\n' "$candidate"
}

switch_current() {
  ln -sfn "releases/$1" "$BASE_DIR/.current.new"
  if ! mv -Tf "$BASE_DIR/.current.new" "$CURRENT_LINK" 2>/dev/null; then
    rm -f "$BASE_DIR/.current.new"
    ln -sfn "releases/$1" "$CURRENT_LINK"
  fi
}

# External volumes are created here, never by compose, so no compose command can delete them.
ensure_volumes() {
  local volume
  for volume in ${EXTERNAL_VOLUMES[@]+"${EXTERNAL_VOLUMES[@]}"}; do
    if ! timeout 60 docker volume inspect "$volume" >/dev/null 2>&1; then
      timeout 60 docker volume create --label "ballast.project=$PROJECT" "$volume" >/dev/null || die "could not create volume $volume"
      log "created volume $volume"
    fi
  done
}

# use_registry_login <release dir>: a release that ships a registry login (.docker/config.json)
# pulls with it; compose plugins are found through DOCKER_CONFIG too, so the user's stay visible.
use_registry_login() {
  local docker_dir=$1/.docker
  [[ -f $docker_dir/config.json ]] || return 0
  if [[ -d ${HOME:-}/.docker/cli-plugins && ! -e $docker_dir/cli-plugins ]]; then
    ln -s "$HOME/.docker/cli-plugins" "$docker_dir/cli-plugins"
  fi
  export DOCKER_CONFIG=$docker_dir
}

# Files that outlive releases: destroy.sh (Pulumi's delete runs it) and the routing directory.
install_host_files() {
  mkdir -p "$STATE_DIR" "$ROUTING_DIR"
  chmod 0755 "$ROUTING_DIR"
  install -m 0700 "$RELEASE_DIR/destroy.sh" "$STATE_DIR/destroy.sh.new"
  mv -f "$STATE_DIR/destroy.sh.new" "$STATE_DIR/destroy.sh"
}

config_hash() { # <release dir> <service>
  compose "$1" 60 config --hash "$2" 2>>"$LOG_FILE" | awk -v s="$2" '$1 == s { print $2 }'
}

label_of() { # <container> <label>
  timeout 30 docker inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null
}

container_name() {
  timeout 30 docker inspect --format '{{.Name}}' "$1" 2>/dev/null | sed 's#^/##'
}

# The last health-check output of a container, Go-quoted onto one line and shortened.
last_health_output() {
  local output
  output=$(timeout 30 docker inspect --format '{{if .State.Health}}{{range .State.Health.Log}}{{printf "%q" .Output}}{{"\n"}}{{end}}{{end}}' "$1" 2>/dev/null | sed '/^$/d' | tail -n 1) || true
  printf '%s' "${output:-no health check output recorded}" | cut -c 1-240
}

# wait_ready <seconds> <service:container>...: every container running and healthy (or, without a
# health check, running for MIN_UP_SECONDS). On failure adds one line per failed container to PROBLEMS.
wait_ready() {
  local seconds=$1 deadline entry service id state health code oom started_at now ready all
  shift
  deadline=$((SECONDS + seconds))
  declare -A first_running=()
  while true; do
    all=1
    for entry in "$@"; do
      service=${entry%%:*}
      id=${entry#*:}
      IFS='|' read -r state health code oom < <(timeout 30 docker inspect --format \
        '{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{.State.OOMKilled}}' "$id" 2>/dev/null || echo "gone|||")
      ready=0
      case "$state/$health" in
        running/healthy) ready=1 ;;
        running/)
          now=$SECONDS
          started_at=${first_running[$id]:-$now}
          first_running[$id]=$started_at
          ((now - started_at >= MIN_UP_SECONDS)) && ready=1
          ;;
        running/starting) ;;
        running/unhealthy)
          PROBLEMS+=("service $service: new container $(container_name "$id") is unhealthy after $((SECONDS - deadline + seconds))s (health check: $(last_health_output "$id"))")
          return 1
          ;;
        restarting/*)
          PROBLEMS+=("service $service: new container $(container_name "$id") keeps restarting (last exit code $code$([[ $oom == true ]] && printf ', OOMKilled: it hit its memory limit'))")
          return 1
          ;;
        *)
          PROBLEMS+=("service $service: new container $(container_name "$id") is $state (exit code ${code:-?}$([[ $oom == true ]] && printf ', OOMKilled: it hit its memory limit'))")
          return 1
          ;;
      esac
      ((ready)) || all=0
    done
    ((all)) && return 0
    if ((SECONDS >= deadline)); then
      for entry in "$@"; do
        id=${entry#*:}
        [[ $(timeout 30 docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2>/dev/null) == healthy ]] && continue
        PROBLEMS+=("service ${entry%%:*}: new container $(container_name "$id") did not become healthy within ${seconds}s (health check: $(last_health_output "$id"))")
      done
      return 1
    fi
    sleep 1
  done
}

# --- stage 2: singletons ------------------------------------------------------------------------

# singletons_up <release dir>: stop-first for the ones whose definition changed.
singletons_up() {
  local dir=$1 service before after recreated=()
  ((${#SINGLETONS[@]} > 0)) || return 0
  declare -A ids=()
  for service in "${SINGLETONS[@]}"; do ids[$service]=$(containers_of "$service" | tr '\n' ' '); done
  if ! run_logged compose "$dir" "$((WAIT_TIMEOUT + 60))" up -d --no-deps --wait --wait-timeout "$WAIT_TIMEOUT" "${SINGLETONS[@]}"; then
    for service in "${SINGLETONS[@]}"; do
      while IFS= read -r after; do
        [[ -n $after ]] || continue
        case $(timeout 30 docker inspect --format '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$after" 2>/dev/null) in
          running/healthy | running/) ;;
          *) PROBLEMS+=("service $service: $(container_name "$after") is not running and healthy (health check: $(last_health_output "$after"))") ;;
        esac
      done < <(containers_of "$service")
    done
    return 1
  fi
  for service in "${SINGLETONS[@]}"; do
    before=${ids[$service]}
    after=$(containers_of "$service" | tr '\n' ' ')
    [[ $before == "$after" ]] || recreated+=("$service")
  done
  log "singletons up: ${#SINGLETONS[@]} (recreated stop-first: ${recreated[*]:-none})"
}

# --- stage 2a: live secrets ---------------------------------------------------------------------

# apply_live_secrets <release dir> [<live release dir>]: a running service that takes a secret in
# place (Postgres' role password) gets that release's value, its secret file on stdin, before any
# of its clients restarts with it. Skipped: a value equal to the live release's (nothing rotated),
# a secret the live release did not have (a new role: the service's definition changed, so it
# restarts and reads the file itself), a service not running yet (it reads the file itself when it
# starts), a release without the file.
LIVE_APPLIED=0
apply_live_secrets() {
  local dir=$1 live=${2:-} i service secret
  local -a words
  for i in ${LIVE_SERVICES[@]+"${!LIVE_SERVICES[@]}"}; do
    service=${LIVE_SERVICES[i]}
    secret=${LIVE_SECRETS[i]}
    read -r -a words <<<"${LIVE_COMMANDS[i]}"
    [[ -f $dir/secrets/$secret ]] || continue
    if [[ -n $live && -f $live/secrets/$secret ]] && cmp -s "$dir/secrets/$secret" "$live/secrets/$secret"; then continue; fi
    if [[ -n $live && ! -f $live/secrets/$secret ]]; then continue; fi
    [[ -n $(containers_of "$service") ]] || continue
    LIVE_APPLIED=1
    if ! run_logged compose "$CURRENT_LINK" 120 exec -T "$service" "${words[@]}" <"$dir/secrets/$secret"; then
      PROBLEMS+=("service $service: applying the release's $secret inside it failed; its output is in the log")
      return 1
    fi
    log "service $service took the release's $secret in place (no restart)"
  done
}

# --- stage 3: one-shot steps --------------------------------------------------------------------

# run_steps <jobs...>: each one-shot runs to completion (exit 0), in order.
run_steps() {
  local job started code
  for job in "$@"; do
    started=$SECONDS
    code=0
    run_logged compose "$CURRENT_LINK" "${ONE_SHOT_TIMEOUT[$job]}" run --rm --no-deps -T "$job" || code=$?
    if ((code != 0)); then
      PROBLEMS+=("one-shot step $job exited with code $code$( ((code == 124)) && printf ' (killed after its %ss timeout)' "${ONE_SHOT_TIMEOUT[$job]}"); its output is in the log")
      return 1
    fi
    log "one-shot step $job completed ($((SECONDS - started))s)"
  done
}

one_shots() { run_steps ${ONE_SHOTS[@]+"${ONE_SHOTS[@]}"}; }

# Before anything restarts: the step that gives volumes to their non-root owners.
preparing_steps() { run_steps ${PREPARERS[@]+"${PREPARERS[@]}"}; }

# --- stage 4: rolling services, new beside old --------------------------------------------------

# replicas_wanted <service> <containers now>: the declared count; for a queue-scaled service, the
# count autoscale.sh left running, within its bounds (a release does not reset it to the minimum).
replicas_wanted() {
  local service=$1 now=$2
  if [[ -z ${SCALE_MAX[$service]:-} ]]; then
    printf '%s\n' "${REPLICAS[$service]}"
    return 0
  fi
  ((now >= SCALE_MIN[$service])) || now=${SCALE_MIN[$service]}
  ((now <= SCALE_MAX[$service])) || now=${SCALE_MAX[$service]}
  printf '%s\n' "$now"
}

start_new_containers() {
  local service hash id old_list count current_ok started wanted
  local -a old waiting=()
  started=$SECONDS
  for service in ${ROLLING[@]+"${ROLLING[@]}"}; do
    hash=$(config_hash "$CURRENT_LINK" "$service")
    [[ -n $hash ]] || {
      PROBLEMS+=("service $service: docker compose config --hash gave nothing")
      return 1
    }
    mapfile -t old < <(containers_of "$service")
    wanted=$(replicas_wanted "$service" "${#old[@]}")
    current_ok=$(( ${#old[@]} == wanted ))
    for id in ${old[@]+"${old[@]}"}; do
      [[ $(label_of "$id" com.docker.compose.config-hash) == "$hash" && $(timeout 30 docker inspect --format '{{.State.Status}}' "$id") == running ]] || current_ok=0
    done
    if ((current_ok)); then
      # Unchanged: the containers serving now stay; nothing to start or drain.
      NEW_IDS[$service]="${old[*]}"
      OLD_IDS[$service]=""
      STARTED_IDS[$service]=""
      continue
    fi
    old_list=" ${old[*]} "
    count=$(( ${#old[@]} + wanted ))
    if ! run_logged compose "$CURRENT_LINK" "$((WAIT_TIMEOUT + 60))" up -d --no-deps --no-recreate --scale "$service=$count" "$service"; then
      PROBLEMS+=("service $service: docker compose could not start $wanted new container(s); see the log")
      record_new_containers "$service" "$old_list"
      return 1
    fi
    record_new_containers "$service" "$old_list"
    OLD_IDS[$service]="${old[*]}"
    for id in ${STARTED_IDS[$service]}; do waiting+=("$service:$id"); done
  done
  ((${#waiting[@]} > 0)) || return 0
  wait_ready "$WAIT_TIMEOUT" "${waiting[@]}" || return 1
  log "new containers healthy beside the old ones: ${#waiting[@]} ($((SECONDS - started))s)"
}

# record_new_containers <service> <" old ids ">: the service's containers that were not there before.
record_new_containers() {
  local service=$1 old_list=$2 id
  local -a fresh=()
  while IFS= read -r id; do
    [[ -n $id && $old_list != *" $id "* ]] && fresh+=("$id")
  done < <(containers_of "$service")
  STARTED_IDS[$service]="${fresh[*]}"
  NEW_IDS[$service]="${fresh[*]}"
}

# --- stage 5: routing ---------------------------------------------------------------------------

# write_service_routing <service> <container ids...>: Traefik's load balancer for those containers.
write_service_routing() {
  local service=$1 id file
  shift
  file="$ROUTING_DIR/service-$service.yml"
  {
    printf '# Written by deploy.sh of release %s: the containers serving %s.\n' "$RELEASE_ID" "$service"
    printf 'http:\n  services:\n    %s:\n      loadBalancer:\n' "$service"
    if [[ -n ${ROUTE_HEALTH[$service]:-} ]]; then
      printf '        healthCheck:\n          path: "%s"\n          interval: 5s\n          timeout: 3s\n' "${ROUTE_HEALTH[$service]}"
    fi
    printf '        servers:\n'
    for id in "$@"; do printf '          - url: "http://%s:%s"\n' "$(container_name "$id")" "${ROUTE_PORT[$service]}"; done
  } >"$file.tmp"
  chmod 0644 "$file.tmp"
  mv -f "$file.tmp" "$file"
}

install_routers() { # <release dir>
  [[ -f $1/routing/routers.yml ]] || return 0
  install -m 0644 "$1/routing/routers.yml" "$ROUTING_DIR/routers.yml.tmp"
  mv -f "$ROUTING_DIR/routers.yml.tmp" "$ROUTING_DIR/routers.yml"
}

# routing_confirmed <service> <container ids...>: Traefik's API lists exactly these servers.
routing_confirmed() {
  local service=$1 id deadline expected actual body
  shift
  expected=$(for id in "$@"; do printf 'http://%s:%s\n' "$(container_name "$id")" "${ROUTE_PORT[$service]}"; done | sort)
  deadline=$((SECONDS + ROUTE_SWITCH_TIMEOUT))
  while true; do
    body=$(curl -fsS --max-time 3 "$ADMIN_URL/api/http/services/$service@file" 2>/dev/null || true)
    actual=$(printf '%s' "$body" | grep -o '"url":"[^"]*"' | sed 's/^"url":"//; s/"$//' | sort)
    [[ -n $actual && $actual == "$expected" ]] && return 0
    ((SECONDS < deadline)) || break
    sleep 0.5
  done
  PROBLEMS+=("service $service: Traefik did not route to the new containers within ${ROUTE_SWITCH_TIMEOUT}s (its API at $ADMIN_URL lists: ${actual:-nothing})")
  return 1
}

switch_routing() {
  local service started=$SECONDS
  ((${#ROUTED[@]} > 0)) || {
    install_routers "$RELEASE_DIR"
    return 0
  }
  ROUTING_SWITCHED=1
  # Services first, then the routers that name them.
  for service in "${ROUTED[@]}"; do
    # shellcheck disable=SC2086 # ids are words
    write_service_routing "$service" ${NEW_IDS[$service]}
  done
  install_routers "$RELEASE_DIR"
  for service in "${ROUTED[@]}"; do
    # shellcheck disable=SC2086
    routing_confirmed "$service" ${NEW_IDS[$service]} || return 1
  done
  log "traffic on the new containers of ${ROUTED[*]} (Traefik confirmed after $((SECONDS - started))s)"
}

health_gate() {
  local attempt output="" insecure=()
  ((HEALTH_INSECURE)) && insecure=(-k)
  for ((attempt = 1; attempt <= HEALTH_ATTEMPTS; attempt++)); do
    if output=$(curl -fsS ${insecure[@]+"${insecure[@]}"} -o /dev/null --max-time 5 --resolve "$HEALTH_RESOLVE" "$HEALTH_URL" 2>&1); then
      log "health gate $HEALTH_URL passed"
      return 0
    fi
    ((attempt < HEALTH_ATTEMPTS)) && sleep "$HEALTH_DELAY"
  done
  PROBLEMS+=("health gate $HEALTH_URL through the proxy failed: ${output:-no response}")
  return 1
}

# --- stage 6: the old containers go -------------------------------------------------------------

# remove_containers <ids...>: SIGTERM, each container's own drain time (stop_grace_period), then removal.
remove_containers() {
  (($# > 0)) || return 0
  timeout "$((STOP_TIMEOUT + 30))" docker stop "$@" >>"$LOG_FILE" 2>&1 || true
  timeout 120 docker rm -f "$@" >>"$LOG_FILE" 2>&1 || true
}

retire_old_containers() {
  local service started=$SECONDS
  local -a old=()
  for service in ${ROLLING[@]+"${ROLLING[@]}"}; do
    # shellcheck disable=SC2206
    old+=(${OLD_IDS[$service]:-})
  done
  ((${#old[@]} > 0)) || return 0
  # Out of rotation already: give Traefik's last requests to them a moment, then drain.
  sleep 2
  remove_containers "${old[@]}"
  log "old containers drained and removed: ${#old[@]} ($((SECONDS - started))s)"
}

# --- failure and rollback -----------------------------------------------------------------------

# rollback: the same path backwards. Old containers never left rotation unless the routing
# switched; then it switches back first. Changed singletons come back from the previous release.
rollback() {
  local service
  local -a fresh=()
  if ((ROUTING_SWITCHED)) && [[ -n $PREVIOUS && -d $RELEASES_DIR/$PREVIOUS ]]; then
    for service in ${ROUTED[@]+"${ROUTED[@]}"}; do
      if [[ -n ${OLD_IDS[$service]:-} ]]; then
        # shellcheck disable=SC2086
        write_service_routing "$service" ${OLD_IDS[$service]}
      elif [[ -n ${STARTED_IDS[$service]:-} ]]; then
        # New in this release: the previous routers do not name it.
        rm -f "$ROUTING_DIR/service-$service.yml"
      fi
    done
    install_routers "$RELEASES_DIR/$PREVIOUS"
    for service in ${ROUTED[@]+"${ROUTED[@]}"}; do
      # shellcheck disable=SC2086
      [[ -z ${OLD_IDS[$service]:-} ]] || routing_confirmed "$service" ${OLD_IDS[$service]} || true
    done
  fi
  for service in ${ROLLING[@]+"${ROLLING[@]}"}; do
    # Only containers this release started: an unchanged service's containers stay.
    # shellcheck disable=SC2206
    fresh+=(${STARTED_IDS[$service]:-})
  done
  remove_containers ${fresh[@]+"${fresh[@]}"}
  if [[ -n $PREVIOUS && -d $RELEASES_DIR/$PREVIOUS ]]; then
    switch_current "$PREVIOUS"
    run_logged compose "$CURRENT_LINK" "$((WAIT_TIMEOUT + 60))" up -d --no-deps --wait --wait-timeout "$WAIT_TIMEOUT" \
      ${SINGLETONS[@]+"${SINGLETONS[@]}"} || PROBLEMS+=("rolling back the singletons to release $PREVIOUS ALSO failed: see the log")
    # The old containers hold the previous release's secrets: the services that took this release's in place go back too.
    if ((LIVE_APPLIED)); then
      apply_live_secrets "$RELEASES_DIR/$PREVIOUS" || PROBLEMS+=("giving the previous release's secrets back to the services that took them in place ALSO failed: see the log")
    fi
  else
    # A first release: nothing to go back to; its containers go, the volumes stay.
    run_logged compose "$CURRENT_LINK" "$STOP_TIMEOUT" down --remove-orphans || true
    rm -f "$CURRENT_LINK"
  fi
}

# fail: prints the summary (a screenful at most) and exits non-zero.
fail() {
  local line target=none
  FAILURE=$1
  local rollback_started=$SECONDS
  if [[ $STAGE != unpack && $STAGE != check && $STAGE != pull ]]; then
    rollback
  fi
  if [[ -n $RELEASE_DIR && -d $RELEASE_DIR ]]; then
    mv "$RELEASE_DIR" "$RELEASE_DIR.failed"
    RELEASE_DIR="$RELEASE_DIR.failed"
    LOG_FILE="$RELEASE_DIR/deploy.log"
  fi
  [[ -n $PREVIOUS ]] && target="release $PREVIOUS"
  {
    printf 'ballast: release %s FAILED at %s: %s\n' "${RELEASE_ID:-?}" "$STAGE" "$FAILURE"
    for line in "${PROBLEMS[@]:0:6}"; do printf 'ballast:   %s\n' "$line"; done
    ((${#PROBLEMS[@]} > 6)) && printf 'ballast:   ... and %s more (see the log)\n' "$((${#PROBLEMS[@]} - 6))"
    if [[ -z $PREVIOUS ]]; then
      printf 'ballast: first release, nothing to roll back to: its containers were removed; volumes are kept\n'
    else
      printf 'ballast: rolled back in %ss: the stack runs %s; the old containers kept serving (%s)\n' "$((SECONDS - rollback_started))" "$target" "${ROLLING[*]:-no rolling service}"
    fi
    printf 'ballast: full log on the host: %s\n' "$LOG_FILE"
  } | tee -a "$LOG_FILE" >&2
  exit 1
}

# --- after success ------------------------------------------------------------------------------

# prune_releases <live id>: keeps the newest KEEP_RELEASES releases and drops failed ones.
prune_releases() {
  local live=$1 path name excess i
  local -a releases=()
  for path in "$RELEASES_DIR"/*; do
    [[ -d $path ]] || continue
    name=${path##*/}
    if [[ $name == *.failed ]]; then
      # The newest failed release keeps its log for whoever reads the error.
      [[ $name == "$(find "$RELEASES_DIR" -maxdepth 1 -name '*.failed' -printf '%f\n' | sort | tail -n 1)" ]] || rm -rf -- "$path"
      continue
    fi
    releases+=("$name")
  done
  excess=$((${#releases[@]} - KEEP_RELEASES))
  for ((i = 0; i < excess; i++)); do
    [[ ${releases[i]} != "$live" ]] && rm -rf -- "${RELEASES_DIR:?}/${releases[i]}"
  done
}

# What a release holds from Pulumi secrets (the bundle's .env, secret files, registry login).
readonly -a SECRET_PATHS=(.env secrets .docker/config.json)

# replace_with_copy <source> <target>: a copy (modes kept) beside the target, renamed over it: a
# container still running from an older release keeps the file it mounted.
replace_with_copy() {
  local source=$1 target=$2
  mkdir -p "$(dirname "$target")"
  rm -rf -- "$target.refresh"
  cp -pR -- "$source" "$target.refresh"
  if [[ -d $target && ! -L $target ]]; then rm -rf -- "$target"; fi
  mv -fT -- "$target.refresh" "$target"
}

# refresh_older_secrets <live id>: after a rotation no release keeps the old values. Every other
# kept release gets the live release's secrets, so a rollback by hand runs with the current ones
# (which the datastores already took); what the live release no longer has goes from them too.
# Failed releases, kept only for their log, lose theirs.
refresh_older_secrets() {
  local live=$RELEASES_DIR/$1 path item
  for path in "$RELEASES_DIR"/*; do
    [[ -d $path && $path != "$live" ]] || continue
    for item in "${SECRET_PATHS[@]}"; do
      if [[ $path != *.failed && -e $live/$item ]]; then
        replace_with_copy "$live/$item" "$path/$item"
      else
        rm -rf -- "${path:?}/$item"
      fi
    done
  done
}

main() {
  local incoming containers
  require_tools
  require_disk_space
  mkdir -p "$RELEASES_DIR"
  take_lock
  rm -rf -- "$RELEASES_DIR"/.incoming.*
  mkdir -p "$STATE_DIR"
  settle_interrupted_releases
  incoming="$RELEASES_DIR/.incoming.$$"
  mkdir "$incoming"
  unpack_bundle "$incoming"
  RELEASE_ID=$(new_release_id)
  RELEASE_DIR="$RELEASES_DIR/$RELEASE_ID"
  mv "$incoming" "$RELEASE_DIR"
  LOG_FILE="$RELEASE_DIR/deploy.log"
  : >"$LOG_FILE"
  PREVIOUS=$(current_release)
  log "release $RELEASE_ID unpacked (previous: ${PREVIOUS:-none}); log: $LOG_FILE"
  ((${#INTERRUPTED[@]} == 0)) || log "interrupted releases marked failed: ${INTERRUPTED[*]}"

  STAGE=check
  run_logged compose "$RELEASE_DIR" 120 config --quiet || fail "its compose project does not load; the live stack was not touched"
  ensure_volumes
  install_host_files
  use_registry_login "$RELEASE_DIR"
  STAGE=pull
  # --policy missing: pinned images already here are not fetched again.
  run_logged compose "$RELEASE_DIR" "$PULL_TIMEOUT" pull --quiet --policy missing ||
    fail "pulling its images failed or took over ${PULL_TIMEOUT}s; the live stack was not touched"

  switch_current "$RELEASE_ID"
  STAGE=prepare
  preparing_steps || fail "a preparing step failed"
  STAGE="live-secrets"
  apply_live_secrets "$RELEASE_DIR" "${PREVIOUS:+$RELEASES_DIR/$PREVIOUS}" || fail "a running service did not take a rotated secret in place"
  STAGE=singletons
  singletons_up "$CURRENT_LINK" || fail "datastores, proxy and monitoring did not all become healthy within ${WAIT_TIMEOUT}s"
  STAGE=one-shots
  one_shots || fail "a one-shot step failed"
  STAGE=rolling
  start_new_containers || fail "new containers did not become healthy; the old ones were never taken out of rotation"
  STAGE=switch
  switch_routing || fail "Traefik did not take the new containers"
  health_gate || fail "the health gate failed after the switch; traffic went back to the old containers"
  record_live

  STAGE=retire
  retire_old_containers
  # Services no longer in the project, as one no-op up of the proxy (or of any singleton).
  if ((${#SINGLETONS[@]} > 0)); then
    run_logged compose "$CURRENT_LINK" 300 up -d --no-deps --no-recreate --remove-orphans "${SINGLETONS[0]}" || true
  fi
  if ((CRON_ENABLED)) && [[ -f $RELEASE_DIR/crontab ]]; then install_crontab "$RELEASE_DIR/crontab"; else install_crontab ""; fi
  prune_releases "$RELEASE_ID"
  refresh_older_secrets "$RELEASE_ID"
  if ((MAINTENANCE_ENABLED)); then
    run_logged bash --noprofile --norc "$RELEASE_DIR/maintenance.sh" || log "warning: image prune failed (see the log); the release is live"
  fi
  containers=$(compose "$CURRENT_LINK" 60 ps --quiet 2>/dev/null | wc -l) || containers="?"
  log "release $RELEASE_ID is live"
  printf 'ballast: release %s is live: %s containers, previous release %s; log: %s\n' "$RELEASE_ID" "${containers// /}" "${PREVIOUS:-none}" "$LOG_FILE"
}

# One line: bash has parsed the exit before main reads the bundle, so it never reads past it.
main "$@"; exit $?
