/**
 * deploy.sh and destroy.sh, rendered as text with the project, directories and
 * limits baked in (no arguments to get wrong on the host). Both are bash, checked by
 * shellcheck in the tool tests, and need on the host: bash 4+, coreutils (timeout,
 * base64), util-linux flock, curl, and docker with compose v2.20+ (`up --wait-timeout`).
 *
 * Host layout:  <base>/releases/<UTC time>-<bundle hash 12>/   one directory per release (0700)
 *               <base>/current -> releases/<id>                 the live release (relative link)
 *               <base>/.deploy.lock                             serialises deploys and destroys
 */

export interface HealthGateSettings {
  /** Public URL of the app's health endpoint (`https://app.example.com/api/health`). */
  url: string;
  /** curl `--resolve` entry sending that host to the proxy on this machine (`app.example.com:443:127.0.0.1`). */
  resolve: string;
  /** https: accept the proxy's certificate even if it is not (yet) the ACME one. */
  tls: boolean;
  attempts: number;
  delaySeconds: number;
}

export interface ScriptSettings {
  project: string;
  releaseBase: string;
  /** `docker compose` or `docker-compose`. */
  composeCommand: string;
  /** Fixed names of the external volumes. */
  volumes: string[];
  /** The stack has cron jobs (services in the `jobs` profile). */
  hasJobs: boolean;
  /** Bound for `docker compose down`/`stop`: the longest stop grace period plus slack. */
  stopTimeoutSeconds: number;
}

export interface DeployScriptSettings extends ScriptSettings {
  keepReleases: number;
  /** `up --wait-timeout`. */
  deployTimeoutSeconds: number;
  /** Bound for `docker compose pull`. */
  pullTimeoutSeconds: number;
  /** Bound for waiting on another deploy's lock. */
  lockTimeoutSeconds: number;
  healthGate: HealthGateSettings;
}

export interface DestroyScriptSettings extends ScriptSettings {
  lockTimeoutSeconds: number;
  /** Also remove the volumes and the release directories. */
  allowDataLoss: boolean;
}

/** Single-quotes text for bash. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function composeWords(composeCommand: string): string[] {
  const words = composeCommand.trim().split(/\s+/);
  if (words.length === 0 || words.some((word) => !/^[A-Za-z0-9._/-]+$/.test(word))) {
    throw new Error(`compose command "${composeCommand}" must be plain words such as "docker compose"`);
  }
  return words;
}

function positiveInteger(name: string, value: number, minimum = 1): number {
  if (!Number.isInteger(value) || value < minimum) throw new Error(`${name} must be an integer of at least ${minimum} (got ${value})`);
  return value;
}

function checkCommon(settings: ScriptSettings): void {
  if (!settings.releaseBase.startsWith("/") || settings.releaseBase === "/") {
    throw new Error(`release directory "${settings.releaseBase}" must be an absolute path below /`);
  }
  positiveInteger("stop timeout", settings.stopTimeoutSeconds);
}

function bashArray(words: string[]): string {
  return `(${words.map(shellQuote).join(" ")})`;
}

/** Constants and helpers both scripts share. */
function commonPrelude(settings: ScriptSettings, lockTimeoutSeconds: number): string {
  return `set -euo pipefail
umask 077
export LC_ALL=C

readonly PROJECT=${shellQuote(settings.project)}
readonly BASE_DIR=${shellQuote(settings.releaseBase)}
readonly RELEASES_DIR="$BASE_DIR/releases"
readonly CURRENT_LINK="$BASE_DIR/current"
readonly LOCK_TIMEOUT=${positiveInteger("lock timeout", lockTimeoutSeconds)}
readonly STOP_TIMEOUT=${settings.stopTimeoutSeconds}
readonly -a COMPOSE=${bashArray(composeWords(settings.composeCommand))}
readonly -a EXTERNAL_VOLUMES=${bashArray(settings.volumes)}
readonly -a PROFILE_ARGS=${bashArray(settings.hasJobs ? ["--profile", "jobs"] : [])}

log() { printf 'ballast: %s\\n' "$*"; }
die() { printf 'ballast: %s\\n' "$*" >&2; exit 1; }

# compose <project dir> <seconds> <args...>: docker compose on the project in <dir>, killed after <seconds>.
compose() {
  local dir=$1 seconds=$2
  shift 2
  timeout --kill-after=30 "$seconds" "\${COMPOSE[@]}" -p "$PROJECT" --project-directory "$dir" -f "$dir/docker-compose.yml" "$@"
}

# The release \`current\` points at, or nothing.
current_release() {
  if [[ -L $CURRENT_LINK ]]; then
    basename "$(readlink "$CURRENT_LINK")"
  fi
}

take_lock() {
  exec 9>"$BASE_DIR/.deploy.lock"
  flock -w "$LOCK_TIMEOUT" 9 || die "another deploy or destroy still holds $BASE_DIR/.deploy.lock after \${LOCK_TIMEOUT}s"
}
`;
}

export function renderDeployScript(settings: DeployScriptSettings): string {
  checkCommon(settings);
  const keep = positiveInteger("keepReleases", settings.keepReleases, 2);
  const gate = settings.healthGate;
  if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d+)?\/[A-Za-z0-9._~/%?=&-]*$/.test(gate.url)) {
    throw new Error(`health gate URL "${gate.url}" must be an http(s) URL with a plain host and path`);
  }
  const curlTls = gate.tls
    ? `    # -k: on a first deploy Traefik may still be fetching the ACME certificate and serves its
    # default one meanwhile; the gate proves the release answers through the proxy, not the cert.
    if output=$(curl -fsS -k -o /dev/null --max-time 5 --resolve "$HEALTH_RESOLVE" "$HEALTH_URL" 2>&1); then`
    : `    if output=$(curl -fsS -o /dev/null --max-time 5 --resolve "$HEALTH_RESOLVE" "$HEALTH_URL" 2>&1); then`;
  return `#!/usr/bin/env bash
# deploy.sh: rendered by Ballast for compose project ${settings.project}; Pulumi runs it for every release.
#
# stdin is the release bundle (compose file, config files, secret files, .env): this
# script never prints a file's content. Flow: unpack into releases/<id>/, load the
# project, create missing volumes, pull images (a failure so far leaves the live release
# untouched), switch \`current\`, \`up --wait\`, check the public health endpoint through
# the proxy. A failure after the switch rolls back to the previous release and exits
# non-zero naming the service that failed and how. Every wait is bounded.
# Needs on the host: bash 4+, coreutils (timeout, base64), util-linux flock, curl,
# docker with compose v2.20+.
${commonPrelude(settings, settings.lockTimeoutSeconds)}
readonly KEEP_RELEASES=${keep}
readonly WAIT_TIMEOUT=${positiveInteger("deployTimeoutSeconds", settings.deployTimeoutSeconds)}
readonly PULL_TIMEOUT=${positiveInteger("pull timeout", settings.pullTimeoutSeconds)}
readonly HEALTH_URL=${shellQuote(gate.url)}
readonly HEALTH_RESOLVE=${shellQuote(gate.resolve)}
readonly HEALTH_ATTEMPTS=${positiveInteger("health gate attempts", gate.attempts)}
readonly HEALTH_DELAY=${positiveInteger("health gate delay", gate.delaySeconds)}

BUNDLE_ID=""
HEALTH_ERROR=""

require_tools() {
  local tool
  local -a missing=()
  for tool in "\${COMPOSE[0]}" docker curl flock timeout base64; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((\${#missing[@]} == 0)) || die "missing on the host: \${missing[*]}"
}

# unpack_bundle <dir>: writes the bundle from stdin into <dir>; sets BUNDLE_ID.
# Files are created under umask 077 before any content lands, then get their mode.
unpack_bundle() {
  local dir=$1 header kind mode path line payload
  IFS= read -r header || die "no release bundle on stdin"
  [[ $header =~ ^ballast-bundle\\ 1\\ ([0-9a-f]{64})$ ]] || die "stdin is not a ballast release bundle (version 1)"
  BUNDLE_ID=\${BASH_REMATCH[1]}
  while IFS=' ' read -r kind mode path; do
    case $kind in
      end) return 0 ;;
      file) ;;
      *) die "malformed release bundle: expected a file or end record" ;;
    esac
    [[ $mode =~ ^0[0-7]{3}$ ]] || die "malformed release bundle: bad mode for $path"
    if [[ ! $path =~ ^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$ || $path =~ (^|/)\\.\\.?(/|$) ]]; then
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
    printf '%s' "$payload" | base64 -d >"$dir/$path" || die "release bundle: $path does not decode"
    chmod "$mode" "$dir/$path"
  done
  die "release bundle is truncated (no end record)"
}

# A new release id: UTC time to the millisecond (names sort in deploy order, which pruning
# relies on) and the bundle hash, which is what destroy.sh matches on.
new_release_id() {
  local stamp candidate n=2
  stamp=$(date -u +%Y%m%dT%H%M%S.%3NZ)
  # date without %N (BSD) prints it literally: fall back to whole seconds.
  [[ $stamp =~ ^[0-9]{8}T[0-9]{6}\\.[0-9]{3}Z$ ]] || stamp=$(date -u +%Y%m%dT%H%M%S.000Z)
  candidate="$stamp-\${BUNDLE_ID:0:12}"
  while [[ -e $RELEASES_DIR/$candidate || -e $RELEASES_DIR/$candidate.failed ]]; do
    ((n <= 9)) || die "too many releases of bundle \${BUNDLE_ID:0:12} within one second"
    candidate="$stamp.$n-\${BUNDLE_ID:0:12}"
    n=$((n + 1))
  done
  printf '%s\\n' "$candidate"
}

switch_current() {
  ln -sfn "releases/$1" "$BASE_DIR/.current.new"
  # Atomic rename where mv has -T (GNU); elsewhere a plain relink.
  if ! mv -Tf "$BASE_DIR/.current.new" "$CURRENT_LINK" 2>/dev/null; then
    rm -f "$BASE_DIR/.current.new"
    ln -sfn "releases/$1" "$CURRENT_LINK"
  fi
}

# A failed release stays on disk for inspection but is never a rollback target.
mark_failed() {
  mv "$RELEASES_DIR/$1" "$RELEASES_DIR/$1.failed"
}

# use_registry_login <release dir>: a release that ships a registry login (.docker/config.json)
# pulls with it; compose plugins are found through DOCKER_CONFIG too, so the user's stay visible.
use_registry_login() {
  local docker_dir=$1/.docker
  [[ -f $docker_dir/config.json ]] || return 0
  if [[ -d \${HOME:-}/.docker/cli-plugins && ! -e $docker_dir/cli-plugins ]]; then
    ln -s "$HOME/.docker/cli-plugins" "$docker_dir/cli-plugins"
  fi
  export DOCKER_CONFIG=$docker_dir
}

# External volumes are created here, never by compose, so no compose command can delete them.
ensure_volumes() {
  local volume
  for volume in \${EXTERNAL_VOLUMES[@]+"\${EXTERNAL_VOLUMES[@]}"}; do
    if ! timeout 60 docker volume inspect "$volume" >/dev/null 2>&1; then
      timeout 60 docker volume create --label "ballast.project=$PROJECT" "$volume" >/dev/null ||
        die "could not create volume $volume"
      log "created volume $volume"
    fi
  done
}

oom_note() {
  if [[ $1 == true ]]; then
    printf ', OOMKilled: it hit its memory limit'
  fi
}

# The last health-check output of a container, Go-quoted onto one line and shortened.
last_health_output() {
  local output
  output=$(timeout 30 docker inspect --format '{{if .State.Health}}{{range .State.Health.Log}}{{printf "%q" .Output}}{{"\\n"}}{{end}}{{end}}' "$1" 2>/dev/null | sed '/^$/d' | tail -n 1) || true
  printf '%s' "\${output:-no health check output recorded}" | cut -c 1-300
}

# diagnose <project dir>: one line per container that is not running and healthy, saying how.
# Reads only container state and health-check output, never the environment.
diagnose() {
  local dir=$1 ids id service number state health exit_code oom name
  ids=$(compose "$dir" 60 ps --all --quiet 2>/dev/null) || ids=""
  for id in $ids; do
    IFS='|' read -r service number state health exit_code oom < <(timeout 30 docker inspect --format \\
      '{{index .Config.Labels "com.docker.compose.service"}}|{{index .Config.Labels "com.docker.compose.container-number"}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{.State.OOMKilled}}' \\
      "$id" 2>/dev/null) || continue
    name="service $service"
    if [[ -n $number && $number != 1 ]]; then
      name="$name (replica $number)"
    fi
    case "$state/$health" in
      running/healthy | running/) ;;
      running/unhealthy) printf '%s is unhealthy (health check: %s)\\n' "$name" "$(last_health_output "$id")" ;;
      running/starting) printf '%s never became healthy (still starting; health check: %s)\\n' "$name" "$(last_health_output "$id")" ;;
      restarting/*) printf '%s keeps restarting (last exit code %s%s)\\n' "$name" "$exit_code" "$(oom_note "$oom")" ;;
      exited/* | dead/*) printf '%s exited with code %s%s\\n' "$name" "$exit_code" "$(oom_note "$oom")" ;;
      *) printf '%s is %s\\n' "$name" "$state" ;;
    esac
  done
}

join_lines() {
  local line joined=""
  while IFS= read -r line; do
    joined+="\${joined:+; }$line"
  done
  printf '%s' "$joined"
}

health_gate() {
  local attempt output=""
  for ((attempt = 1; attempt <= HEALTH_ATTEMPTS; attempt++)); do
${curlTls}
      return 0
    fi
    if ((attempt < HEALTH_ATTEMPTS)); then
      sleep "$HEALTH_DELAY"
    fi
  done
  HEALTH_ERROR=\${output:-no response}
  return 1
}

# fail_release <release id> <previous release id or empty> <what failed>: never returns.
fail_release() {
  local release_id=$1 previous=$2 what=$3 problems message
  problems=$(diagnose "$CURRENT_LINK" | join_lines)
  message="release $release_id failed: $what: \${problems:-every container reports running and healthy}"
  if [[ -z $previous || ! -d $RELEASES_DIR/$previous ]]; then
    log "no previous release to roll back to: taking release $release_id down (volumes are kept)"
    compose "$CURRENT_LINK" "$STOP_TIMEOUT" \${PROFILE_ARGS[@]+"\${PROFILE_ARGS[@]}"} down --remove-orphans >&2 || true
    rm -f "$CURRENT_LINK"
    mark_failed "$release_id"
    die "$message; first deploy, no previous release: the stack is left down"
  fi
  log "rolling back to release $previous"
  switch_current "$previous"
  mark_failed "$release_id"
  if compose "$CURRENT_LINK" "$((WAIT_TIMEOUT + 60))" up -d --wait --wait-timeout "$WAIT_TIMEOUT" --remove-orphans; then
    die "$message; rolled back to release $previous"
  fi
  problems=$(diagnose "$CURRENT_LINK" | join_lines)
  die "$message; rollback to release $previous ALSO failed: \${problems:-see the compose output above}"
}

# prune_releases <live id>: keeps the newest KEEP_RELEASES releases and drops failed ones.
prune_releases() {
  local live=$1 path name excess i
  local -a releases=()
  for path in "$RELEASES_DIR"/*; do
    [[ -d $path ]] || continue
    name=\${path##*/}
    if [[ $name == *.failed ]]; then
      rm -rf -- "$path"
      continue
    fi
    releases+=("$name")
  done
  excess=$((\${#releases[@]} - KEEP_RELEASES))
  for ((i = 0; i < excess; i++)); do
    if [[ \${releases[i]} != "$live" ]]; then
      rm -rf -- "\${RELEASES_DIR:?}/\${releases[i]}"
      log "pruned release \${releases[i]}"
    fi
  done
}

main() {
  local incoming release_id release_dir previous containers
  require_tools
  mkdir -p "$RELEASES_DIR"
  take_lock
  rm -rf -- "$RELEASES_DIR"/.incoming.*
  incoming="$RELEASES_DIR/.incoming.$$"
  mkdir "$incoming"
  unpack_bundle "$incoming"
  release_id=$(new_release_id)
  release_dir="$RELEASES_DIR/$release_id"
  mv "$incoming" "$release_dir"
  previous=$(current_release)
  log "release $release_id unpacked (previous release: \${previous:-none})"

  if ! compose "$release_dir" 120 \${PROFILE_ARGS[@]+"\${PROFILE_ARGS[@]}"} config --quiet; then
    mark_failed "$release_id"
    die "release $release_id failed: its compose project does not load (see above); the live release was not touched"
  fi
  ensure_volumes
  use_registry_login "$release_dir"
  # --policy missing: pinned images already here are not fetched again, and images
  # Pulumi built on this engine (dev) are not looked up in a registry.
  if ! compose "$release_dir" "$PULL_TIMEOUT" \${PROFILE_ARGS[@]+"\${PROFILE_ARGS[@]}"} pull --quiet --policy missing; then
    mark_failed "$release_id"
    die "release $release_id failed: pulling its images failed or took over \${PULL_TIMEOUT}s; the live release was not touched"
  fi

  switch_current "$release_id"
  if ! compose "$CURRENT_LINK" "$((WAIT_TIMEOUT + 60))" up -d --wait --wait-timeout "$WAIT_TIMEOUT" --remove-orphans; then
    fail_release "$release_id" "$previous" "docker compose up did not get every service running and healthy within \${WAIT_TIMEOUT}s"
  fi
  if ! health_gate; then
    fail_release "$release_id" "$previous" "health gate $HEALTH_URL failed ($HEALTH_ERROR)"
  fi
  prune_releases "$release_id"
  # Only for the summary: a failing count must not fail a release that is live.
  containers=$(compose "$CURRENT_LINK" 60 ps --quiet 2>/dev/null | wc -l) || containers="?"
  log "release $release_id is live: \${containers// /} containers up, health gate $HEALTH_URL passed, previous release \${previous:-none}"
}

main "$@"
`;
}

export function renderDestroyScript(settings: DestroyScriptSettings): string {
  checkCommon(settings);
  const dataStep = settings.allowDataLoss
    ? `  # allowDataLoss is on: the volumes and every release directory (with its .env) go too.
  local volume
  for volume in \${EXTERNAL_VOLUMES[@]+"\${EXTERNAL_VOLUMES[@]}"}; do
    if timeout 60 docker volume inspect "$volume" >/dev/null 2>&1; then
      timeout 60 docker volume rm "$volume" >/dev/null || die "could not remove volume $volume"
      log "removed volume $volume"
    fi
  done
  rm -rf -- "\${RELEASES_DIR:?}"
  log "removed the release directories"`
    : `  # allowDataLoss is off: volumes and releases stay; a later deploy picks the data up again.
  log "kept volumes \${EXTERNAL_VOLUMES[*]:-(none)} and the releases in $RELEASES_DIR (allowDataLoss is off)"`;
  return `#!/usr/bin/env bash
# destroy.sh: rendered by Ballast for compose project ${settings.project}; Pulumi's delete runs it as
#   bash --noprofile --norc -c '<this script>' destroy.sh <sha256 of the release bundle>
# It takes the stack down only while \`current\` is the release that bundle deployed: a
# replacement deploys the new release first and deletes the old resource afterwards,
# and that delete must leave the new release running.
${commonPrelude(settings, settings.lockTimeoutSeconds)}
main() {
  local bundle_id=\${1:-} current
  [[ $bundle_id =~ ^[0-9a-f]{64}$ ]] || die "usage: destroy.sh <sha256 of the release bundle>"
  if [[ ! -d $BASE_DIR ]]; then
    log "$BASE_DIR does not exist: nothing to take down"
    return 0
  fi
  take_lock
  current=$(current_release)
  if [[ -z $current ]]; then
    log "no current release: nothing to take down"
    return 0
  fi
  if [[ $current != *-"\${bundle_id:0:12}" ]]; then
    log "current release $current came from another bundle (a newer deploy replaced \${bundle_id:0:12}): leaving it running"
    return 0
  fi
  compose "$CURRENT_LINK" "$STOP_TIMEOUT" \${PROFILE_ARGS[@]+"\${PROFILE_ARGS[@]}"} down --remove-orphans ||
    die "docker compose down failed for release $current"
  rm -f "$CURRENT_LINK"
  log "release $current is down"
${dataStep}
}

main "$@"
`;
}
