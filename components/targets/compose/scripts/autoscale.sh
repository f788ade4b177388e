# Template: the body of autoscale.sh. components/targets/compose/scripts.ts drops this paragraph
# and puts the settings (readonly variables) and common.sh in front of it.

# autoscale.sh: scales each queue-scaled worker of the live release (ballast:workers[].autoscaling.queue)
# to its queue: wanted = ceil(length / target per replica), kept within min..max. The host's cron
# runs it every minute as the deploy user, under its own flock (runs never overlap).
#   - A deploy or destroy holding <base>/.deploy.lock wins: the run is skipped (flock -n) and the
#     next minute tries again. While it scales it holds the lock, so a deploy waits for it.
#   - The length is read inside the Redis container (`exec -T`), with REDISCLI_AUTH from that
#     container's own environment: the password is never on a command line, in a file or here.
#   - Up at once; down only when no scale-up happened in the last COOLDOWN_SECONDS (the HPA's
#     scale-down stabilisation, KEDA's cooldown on Kubernetes). Containers beyond the wanted count
#     get SIGTERM and their stop_grace_period (the job in hand finishes).
#   - `up -d --no-deps --no-recreate --scale`: running containers are never recreated.
# Each change, skip and failure is one line on stdout (cron appends it to <base>/.ballast/autoscale.log);
# the last reading of every worker is in <base>/.ballast/autoscale.state.

note() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# queue_length <service>: the length of its queue, read in the Redis container; on failure, why.
queue_length() {
  local service=$1 output
  local -a query
  if [[ ${QUEUE_KIND[$service]} == redis-list ]]; then
    query=(LLEN "${QUEUE_KEY[$service]}")
  else
    # The consumer group's pending entries: the first line of XPENDING's summary.
    query=(XPENDING "${QUEUE_KEY[$service]}" "${QUEUE_GROUP[$service]}")
  fi
  if ! output=$(compose "$CURRENT_LINK" 60 exec -T "$REDIS_SERVICE" sh -c "$REDIS_CLI" sh "${query[@]}" 2>&1); then
    printf '%s' "${output:-no output}" | tr '\n' ' ' | cut -c 1-200
    return 1
  fi
  output=$(printf '%s\n' "$output" | head -n 1 | tr -d '\r')
  if [[ ! $output =~ ^[0-9]+$ ]]; then
    printf 'unexpected reply "%s"' "$(printf '%s' "$output" | cut -c 1-200)"
    return 1
  fi
  printf '%s\n' "$output"
}

# wanted_replicas <service> <length>: ceil(length / target), within the bounds.
wanted_replicas() {
  local service=$1 length=$2 target wanted
  target=${QUEUE_TARGET[$service]}
  wanted=$(((length + target - 1) / target))
  ((wanted < SCALE_MIN[$service])) && wanted=${SCALE_MIN[$service]}
  ((wanted > SCALE_MAX[$service])) && wanted=${SCALE_MAX[$service]}
  printf '%s\n' "$wanted"
}

# scale <service> <from> <to> <why>: one compose call; its output only on failure.
scale() {
  local service=$1 from=$2 to=$3 why=$4 output
  if output=$(compose "$CURRENT_LINK" "$SCALE_TIMEOUT" up -d --no-deps --no-recreate --scale "$service=$to" "$service" 2>&1); then
    note "$service: $from -> $to replicas ($why)"
    ((to > from)) && printf '%s\n' "$(date +%s)" >"$STATE_DIR/autoscale-$service.up"
    return 0
  fi
  note "$service: scaling $from -> $to FAILED ($why): $(printf '%s' "$output" | tail -n 3 | tr '\n' ' ' | cut -c 1-300)"
  return 1
}

main() {
  local service length current wanted last_up why status=0
  [[ -L $CURRENT_LINK ]] || return 0
  mkdir -p "$STATE_DIR"
  exec 9>"$BASE_DIR/.deploy.lock"
  if ! flock -n 9; then
    note "skipped: a deploy or destroy holds $BASE_DIR/.deploy.lock"
    return 0
  fi
  : >"$STATE_DIR/autoscale.state.new"
  for service in "${SCALED[@]}"; do
    if ! length=$(queue_length "$service"); then
      note "$service: left as it is: reading ${QUEUE_KIND[$service]} ${QUEUE_KEY[$service]} failed: $length"
      status=1
      continue
    fi
    current=$(containers_of "$service" | wc -l)
    wanted=$(wanted_replicas "$service" "$length")
    printf '%s %s queue=%s replicas=%s wanted=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$service" "$length" "$current" "$wanted" >>"$STATE_DIR/autoscale.state.new"
    ((wanted != current)) || continue
    why="${QUEUE_KIND[$service]} ${QUEUE_KEY[$service]}: $length, ${QUEUE_TARGET[$service]} per replica, bounds ${SCALE_MIN[$service]}-${SCALE_MAX[$service]}"
    if ((wanted < current)); then
      last_up=$(cat "$STATE_DIR/autoscale-$service.up" 2>/dev/null || echo 0)
      [[ $last_up =~ ^[0-9]+$ ]] || last_up=0
      # Not yet: the last scale-up is too recent; the state file shows what is wanted.
      (($(date +%s) - last_up >= COOLDOWN_SECONDS)) || continue
    fi
    scale "$service" "$current" "$wanted" "$why" || status=1
  done
  mv -f "$STATE_DIR/autoscale.state.new" "$STATE_DIR/autoscale.state"
  return "$status"
}

main "$@"
