#!/usr/bin/env bash
# The end-to-end test host for the compose target: a Docker engine, an SSH server on loopback whose
# throwaway user may run Docker with compose v2, a loopback image registry, and the e2e images.
# See docs/e2e.md.
#
# Usage: scripts/e2e/host.sh up|down|status
#
#   up      install what is missing (Debian: docker.io openssh-server debootstrap docker-registry curl),
#           start dockerd (unless one already answers on /var/run/docker.sock), build or reuse compose v2,
#           the Debian base image and the test images, start the registry and push the images to it,
#           create the SSH user with a per-run key and start sshd on 127.0.0.1, check the whole path
#           (ssh -> docker compose version), write $STATE/host.env. Idempotent: a second `up` reuses
#           what runs.
#   down    stop and remove everything `up` started or created: the compose project's containers,
#           networks and volumes (by label), sshd, the SSH user and its home, the registry, dockerd
#           (only if `up` started it), the state directory. Caches stay. Safe to run twice.
#   status  print what runs and the host.env values.
#
# Runs as root. Every wait is bounded and says what it waited for.
#
# Environment:
#   BALLAST_CACHE               cache root (default ~/.cache/ballast); this script uses $BALLAST_CACHE/e2e:
#                               docker/ (dockerd data root: the images stay cached), compose/<version>/
#                               (compose binary and its build module), debian-bookworm-minbase.tar.gz,
#                               registry/ (registry storage)
#   BALLAST_E2E_STATE           run state (default /run/ballast-e2e): host.env, keys, configs, logs, pid files
#   BALLAST_E2E_PROJECT         compose project the tests deploy (default ballast-e2e): `down` removes its
#                               containers, networks and volumes
#   BALLAST_E2E_SSH_PORT        sshd port on 127.0.0.1 (default: a free port)
#   BALLAST_E2E_REGISTRY_PORT   registry port on 127.0.0.1 (default 45127, or a free port when that is taken)
#   BALLAST_E2E_COMPOSE_VERSION compose v2 version to build (default v2.40.3)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGES_DIR="$SCRIPT_DIR/images"
CACHE="${BALLAST_CACHE:-$HOME/.cache/ballast}/e2e"
STATE="${BALLAST_E2E_STATE:-/run/ballast-e2e}"
PROJECT="${BALLAST_E2E_PROJECT:-ballast-e2e}"
COMPOSE_VERSION="${BALLAST_E2E_COMPOSE_VERSION:-v2.40.3}"
SSH_USER=ballast-e2e
SSH_HOME=/home/$SSH_USER
REMOTE_DIR=$SSH_HOME/ballast
DOCKER_SOCK=/var/run/docker.sock
BASE_REPO=ballast-e2e/debian
LABEL=ballast.e2e=1
APT_PACKAGES=(docker.io openssh-server debootstrap docker-registry curl)

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export DOCKER_HOST="unix://$DOCKER_SOCK"
# The legacy builder is what a docker CLI without buildx uses anyway; say so instead of warning.
export DOCKER_BUILDKIT=0

started=$SECONDS
log() { printf 'e2e-host: [%3ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { printf 'e2e-host: ERROR: %s\n' "$*" >&2; exit 1; }

# wait_for <seconds> <what> <command...>: runs the command every second until it succeeds.
wait_for() {
  local seconds=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
  log "$what: ready after $((SECONDS - deadline + seconds))s"
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

port_taken() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid <pid file> <name> <seconds>: TERM, bounded wait, then KILL.
stop_pid() {
  local file=$1 name=$2 seconds=$3 pid deadline
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + seconds))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) still runs after ${seconds}s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

# --- packages ------------------------------------------------------------------------------------------
install_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  # Their postinst scripts would start daemons: refuse service starts for the install's duration.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=1
  fi
  local rc=0
  if ! DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >"$STATE/apt.log" 2>&1; then
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -qq >>"$STATE/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >>"$STATE/apt.log" 2>&1 || rc=$?
  fi
  ((own_policy)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get install ${missing[*]} failed (exit $rc); see $STATE/apt.log"
}

# --- dockerd -------------------------------------------------------------------------------------------
docker_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_dockerd() {
  if docker_answers; then
    if pid_alive "$STATE/dockerd.pid"; then
      log "dockerd (started by this script, pid $(cat "$STATE/dockerd.pid")) already runs"
    else
      log "a Docker engine not started by this script answers on $DOCKER_SOCK: using it, \`down\` leaves it running"
    fi
    return 0
  fi
  [[ -S $DOCKER_SOCK ]] && rm -f "$DOCKER_SOCK"
  mkdir -p "$CACHE/docker"
  log "starting dockerd (data root $CACHE/docker, published ports on 127.0.0.1 only)"
  # --ip 127.0.0.1: ports the stack publishes bind to loopback, never to this machine's other interfaces.
  setsid dockerd \
    --data-root "$CACHE/docker" \
    --pidfile "$STATE/dockerd.pid" \
    --host "unix://$DOCKER_SOCK" \
    --group docker \
    --ip 127.0.0.1 \
    --log-level warn \
    >>"$STATE/dockerd.log" 2>&1 </dev/null &
  if ! wait_for 60 "dockerd" docker_answers; then
    tail -n 20 "$STATE/dockerd.log" >&2 || true
    die "dockerd did not answer on $DOCKER_SOCK within 60s; see $STATE/dockerd.log"
  fi
}

# --- compose v2 ----------------------------------------------------------------------------------------
compose_binary() { printf '%s/compose/%s/docker-compose' "$CACHE" "$COMPOSE_VERSION"; }

build_compose() {
  local bin dir
  bin=$(compose_binary)
  if [[ -x $bin ]] && "$bin" version --short >/dev/null 2>&1; then
    return 0
  fi
  command -v go >/dev/null || die "compose $COMPOSE_VERSION is not cached at $bin and there is no Go toolchain to build it"
  dir="$(dirname "$bin")/build"
  rm -rf "$dir"
  mkdir -p "$dir"
  log "building docker compose $COMPOSE_VERSION from the Go module proxy (github.com/docker/compose/v2)"
  printf 'module ballast.local/e2e/compose\n\ngo 1.24\n\nrequire github.com/docker/compose/v2 %s\n' \
    "$COMPOSE_VERSION" >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/docker/compose/v2/cmd"\n' >"$dir/tools.go"
  if ! (cd "$dir" && timeout 900 nice -n 10 go mod tidy) >"$dir/tidy.log" 2>&1; then
    grep -m3 -E '^go: |error' "$dir/tidy.log" >&2 || true
    die "go mod tidy for github.com/docker/compose/v2@$COMPOSE_VERSION failed; see $dir/tidy.log"
  fi
  if ! (cd "$dir" && timeout 1800 nice -n 10 go build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      -o "$bin.part" github.com/docker/compose/v2/cmd) >"$dir/build.log" 2>&1; then
    tail -n 5 "$dir/build.log" >&2 || true
    die "go build of docker compose $COMPOSE_VERSION failed; see $dir/build.log"
  fi
  mv "$bin.part" "$bin"
  log "built $("$bin" version)"
}

# --- images --------------------------------------------------------------------------------------------
base_tarball() { printf '%s/debian-bookworm-minbase.tar.gz' "$CACHE"; }

build_base_tarball() {
  local tarball rootfs
  tarball=$(base_tarball)
  [[ -s $tarball ]] && return 0
  mkdir -p "$CACHE/tmp"
  rootfs=$(mktemp -d "$CACHE/tmp/rootfs.XXXXXX")
  log "debootstrap --variant=minbase bookworm (cached afterwards as $tarball)"
  if ! timeout 900 nice debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian \
      >"$STATE/debootstrap.log" 2>&1; then
    rm -rf "$rootfs"
    die "debootstrap failed or took over 900s; see $STATE/debootstrap.log"
  fi
  tar --numeric-owner -C "$rootfs" -czf "$tarball.part" .
  rm -rf "$rootfs"
  mv "$tarball.part" "$tarball"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The base image tag is keyed by the tarball's content.
BASE_IMAGE=""
import_base() {
  local tarball key
  tarball=$(base_tarball)
  key=$(sha256sum "$tarball" | cut -c1-12)
  BASE_IMAGE="$BASE_REPO:bookworm-$key"
  if ! image_exists "$BASE_IMAGE"; then
    log "docker import $tarball -> $BASE_IMAGE"
    timeout 300 docker import --change "LABEL $LABEL" --change 'CMD ["/bin/bash"]' "$tarball" "$BASE_IMAGE" >/dev/null \
      || die "docker import of $tarball failed"
  fi
  docker tag "$BASE_IMAGE" "$BASE_REPO:bookworm"
}

# Hosts the build containers must resolve the way this machine does (its /etc/hosts may pin the mirror).
build_host_args() {
  local host ip
  local -a hosts=(deb.debian.org security.debian.org)
  for host in "${hosts[@]}"; do
    ip=$(getent -s files hosts "$host" 2>/dev/null | awk '{print $1; exit}') || true
    [[ -n $ip ]] && printf -- '--add-host=%s:%s\n' "$host" "$ip"
  done
  return 0
}

# build_image <context dir name> <variant> [build args...]: prints the content-keyed tag.
build_image() {
  local name=$1 variant=$2 context key tag base_id
  shift 2
  context="$IMAGES_DIR/$name"
  base_id=$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")
  key=$( {
    printf '%s\n' "$base_id" "$@"
    (cd "$context" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-12)
  tag="ballast-e2e/$name:$variant-$key"
  if ! image_exists "$tag"; then
    local args=() arg
    for arg in "$@"; do args+=(--build-arg "$arg"); done
    local hosts=()
    mapfile -t hosts < <(build_host_args)
    log "docker build $tag"
    if ! timeout 900 docker build --quiet --label "$LABEL" --build-arg "BASE=$BASE_IMAGE" \
        ${args[@]+"${args[@]}"} ${hosts[@]+"${hosts[@]}"} -t "$tag" "$context" >"$STATE/build-$name-$variant.log" 2>&1; then
      tail -n 15 "$STATE/build-$name-$variant.log" >&2 || true
      die "docker build of $tag failed or took over 900s; see $STATE/build-$name-$variant.log"
    fi
  fi
  printf '%s\n' "$tag"
}

# prune_stale_images <tag>...: drops ballast-e2e images of earlier contents (other tags) and dangling
# layers of earlier builds, so the cached data root does not grow with every change of an image.
prune_stale_images() {
  local keep=" $* $BASE_IMAGE $BASE_REPO:bookworm " ref
  while read -r ref; do
    [[ $keep == *" $ref "* ]] || docker rmi "$ref" >/dev/null 2>&1 || true
  done < <(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^ballast-e2e/' || true)
  docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
}

# --- registry ------------------------------------------------------------------------------------------
start_registry() {
  local port
  if pid_alive "$STATE/registry.pid"; then
    REGISTRY=$(cat "$STATE/registry.addr")
    return 0
  fi
  # A stable port keeps the registry's name, so the engine knows which layers it already pushed
  # there and a cached run pushes nothing; another port only when that one is taken.
  port=${BALLAST_E2E_REGISTRY_PORT:-45127}
  if [[ -z ${BALLAST_E2E_REGISTRY_PORT:-} ]] && port_taken "$port"; then port=$(free_port); fi
  mkdir -p "$CACHE/registry"
  cat >"$STATE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $CACHE/registry
http:
  addr: 127.0.0.1:$port
EOF
  log "starting the image registry on 127.0.0.1:$port (storage $CACHE/registry)"
  setsid docker-registry serve "$STATE/registry.yml" >>"$STATE/registry.log" 2>&1 </dev/null &
  echo $! >"$STATE/registry.pid"
  REGISTRY="127.0.0.1:$port"
  echo "$REGISTRY" >"$STATE/registry.addr"
  if ! wait_for 30 "registry" curl -fsS --max-time 2 "http://$REGISTRY/v2/"; then
    tail -n 20 "$STATE/registry.log" >&2 || true
    die "the registry did not answer on http://$REGISTRY/v2/ within 30s; see $STATE/registry.log"
  fi
}

# push_image <local tag>: pushes it to the loopback registry; prints the registry reference.
push_image() {
  local ref="$REGISTRY/$1"
  docker tag "$1" "$ref"
  timeout 300 docker push "$ref" >>"$STATE/push.log" 2>&1 || die "docker push $ref failed or took over 300s; see $STATE/push.log"
  # The engine must pull it back through the registry, as on a real host: drop the pushed tag.
  docker rmi "$ref" >/dev/null
  printf '%s\n' "$ref"
}

# --- ssh -----------------------------------------------------------------------------------------------
setup_user() {
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    useradd --create-home --home-dir "$SSH_HOME" --shell /bin/bash --groups docker "$SSH_USER"
  else
    usermod -aG docker "$SSH_USER"
  fi
  # useradd leaves the account locked ("!"), which sshd refuses even for keys: no password instead.
  usermod -p '*' "$SSH_USER"
  install -d -m 0700 -o "$SSH_USER" -g "$SSH_USER" "$SSH_HOME/.ssh" "$SSH_HOME/.docker" "$SSH_HOME/.docker/cli-plugins"
  install -m 0755 -o "$SSH_USER" -g "$SSH_USER" "$(compose_binary)" "$SSH_HOME/.docker/cli-plugins/docker-compose"
  install -d -m 0700 -o "$SSH_USER" -g "$SSH_USER" "$REMOTE_DIR"
  if [[ ! -f $STATE/client_key ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "ballast-e2e-client" -f "$STATE/client_key"
  fi
  install -m 0600 -o "$SSH_USER" -g "$SSH_USER" "$STATE/client_key.pub" "$SSH_HOME/.ssh/authorized_keys"
}

ssh_check() {
  timeout 20 ssh -i "$STATE/client_key" -p "$SSH_PORT" \
    -o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$STATE/known_hosts" -o LogLevel=ERROR \
    "$SSH_USER@127.0.0.1" "$@"
}

start_sshd() {
  if pid_alive "$STATE/sshd.pid"; then
    SSH_PORT=$(cat "$STATE/sshd.port")
    return 0
  fi
  SSH_PORT=${BALLAST_E2E_SSH_PORT:-$(free_port)}
  [[ -f $STATE/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C "ballast-e2e-host" -f "$STATE/ssh_host_ed25519_key"
  cat >"$STATE/sshd_config" <<EOF
# Ballast e2e test host: loopback only, public keys only, one user.
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $STATE/ssh_host_ed25519_key
PidFile $STATE/sshd.pid
AllowUsers $SSH_USER
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
MaxStartups 30:50:60
LogLevel VERBOSE
EOF
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
  /usr/sbin/sshd -t -f "$STATE/sshd_config" || die "sshd rejects $STATE/sshd_config"
  echo "$SSH_PORT" >"$STATE/sshd.port"
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$STATE/ssh_host_ed25519_key.pub")" >"$STATE/known_hosts"
  log "starting sshd on 127.0.0.1:$SSH_PORT"
  /usr/sbin/sshd -f "$STATE/sshd_config" -E "$STATE/sshd.log"
  if ! wait_for 30 "sshd" pid_alive "$STATE/sshd.pid"; then
    die "sshd did not start within 30s; see $STATE/sshd.log"
  fi
}

# --- env file ------------------------------------------------------------------------------------------
write_env() {
  local tmp="$STATE/host.env.tmp"
  {
    echo "# Written by scripts/e2e/host.sh up; KEY='value' lines, values never hold a single quote."
    printf "BALLAST_E2E_STATE='%s'\n" "$STATE"
    printf "BALLAST_E2E_PROJECT='%s'\n" "$PROJECT"
    printf "BALLAST_E2E_SSH_HOST='127.0.0.1'\n"
    printf "BALLAST_E2E_SSH_PORT='%s'\n" "$SSH_PORT"
    printf "BALLAST_E2E_SSH_USER='%s'\n" "$SSH_USER"
    printf "BALLAST_E2E_SSH_KEY_FILE='%s'\n" "$STATE/client_key"
    printf "BALLAST_E2E_SSH_HOST_KEY='%s'\n" "$(cut -d' ' -f1,2 "$STATE/ssh_host_ed25519_key.pub")"
    printf "BALLAST_E2E_REMOTE_DIR='%s'\n" "$REMOTE_DIR"
    printf "BALLAST_E2E_REGISTRY='%s'\n" "$REGISTRY"
    printf "BALLAST_E2E_COMPOSE_VERSION='%s'\n" "$COMPOSE_VERSION"
    printf "BALLAST_E2E_IMAGE_APP_V1='%s'\n" "$IMAGE_APP_V1"
    printf "BALLAST_E2E_IMAGE_APP_V2='%s'\n" "$IMAGE_APP_V2"
    printf "BALLAST_E2E_IMAGE_APP_FAILING='%s'\n" "$IMAGE_APP_FAILING"
    printf "BALLAST_E2E_IMAGE_POSTGRES='%s'\n" "$IMAGE_POSTGRES"
    printf "BALLAST_E2E_IMAGE_REDIS='%s'\n" "$IMAGE_REDIS"
    printf "BALLAST_E2E_IMAGE_PROXY='%s'\n" "$IMAGE_PROXY"
  } >"$tmp"
  mv "$tmp" "$STATE/host.env"
}

# --- commands ------------------------------------------------------------------------------------------
cmd_up() {
  [[ $(id -u) == 0 ]] || die "run as root (it installs packages, starts dockerd and sshd, creates a user)"
  mkdir -p "$STATE" "$CACHE"
  chmod 0755 "$STATE"
  install_packages
  start_dockerd
  build_compose
  build_base_tarball
  import_base
  local app_v1 app_v2 app_failing postgres redis proxy
  app_v1=$(build_image app v1 APP_VERSION=v1)
  app_v2=$(build_image app v2 APP_VERSION=v2)
  app_failing=$(build_image app failing APP_VERSION=v3-failing APP_HEALTH=fail)
  postgres=$(build_image postgres 15)
  redis=$(build_image redis 7)
  proxy=$(build_image proxy 1)
  prune_stale_images "$app_v1" "$app_v2" "$app_failing" "$postgres" "$redis" "$proxy"
  start_registry
  IMAGE_APP_V1=$(push_image "$app_v1")
  IMAGE_APP_V2=$(push_image "$app_v2")
  IMAGE_APP_FAILING=$(push_image "$app_failing")
  IMAGE_POSTGRES=$(push_image "$postgres")
  IMAGE_REDIS=$(push_image "$redis")
  IMAGE_PROXY=$(push_image "$proxy")
  log "images pushed to $REGISTRY"
  setup_user
  start_sshd
  if ! wait_for 30 "ssh $SSH_USER@127.0.0.1:$SSH_PORT -> docker compose" ssh_check docker compose version; then
    ssh_check docker compose version >&2 || true
    tail -n 20 "$STATE/sshd.log" >&2 || true
    die "ssh $SSH_USER@127.0.0.1:$SSH_PORT 'docker compose version' did not succeed within 30s; see $STATE/sshd.log"
  fi
  write_env
  log "up: $(ssh_check docker compose version) over ssh $SSH_USER@127.0.0.1:$SSH_PORT; env in $STATE/host.env"
}

remove_project_resources() {
  docker_answers || return 0
  local ids
  # Containers of the test images carry the images' ballast.e2e label too: one id may be listed twice.
  ids=$({ docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"; docker ps -aq --filter "label=$LABEL"; } | sort -u)
  if [[ -n ${ids//[[:space:]]/} ]]; then
    # shellcheck disable=SC2086 # one id per word
    timeout 180 docker rm -f $ids >/dev/null || log "could not remove every container of $PROJECT"
    log "removed containers: $(wc -w <<<"$ids")"
  fi
  ids=$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")
  if [[ -n ${ids//[[:space:]]/} ]]; then
    # shellcheck disable=SC2086
    timeout 60 docker network rm $ids >/dev/null || log "could not remove every network of $PROJECT"
    log "removed networks: $(wc -w <<<"$ids")"
  fi
  ids=$({ docker volume ls -q --filter "label=ballast.project=$PROJECT"; docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"; } | sort -u)
  if [[ -n ${ids//[[:space:]]/} ]]; then
    # shellcheck disable=SC2086
    timeout 60 docker volume rm -f $ids >/dev/null || log "could not remove every volume of $PROJECT"
    log "removed volumes: $(wc -w <<<"$ids")"
  fi
  # Tags the registry pushes left behind, should a push have been interrupted.
  ids=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^127\.0\.0\.1:[0-9]+/ballast-e2e/' || true)
  if [[ -n $ids ]]; then
    # shellcheck disable=SC2086
    docker rmi $ids >/dev/null 2>&1 || true
  fi
}

cmd_down() {
  [[ $(id -u) == 0 ]] || die "run as root"
  remove_project_resources
  stop_pid "$STATE/sshd.pid" sshd 10
  if id "$SSH_USER" >/dev/null 2>&1; then
    # Sessions of the throwaway user (all started through this script's sshd) end with it.
    local pid
    for pid in $(pgrep -u "$SSH_USER" || true); do kill -KILL "$pid" 2>/dev/null || true; done
    userdel --remove "$SSH_USER" 2>/dev/null || userdel "$SSH_USER" || log "could not remove user $SSH_USER"
    rm -rf "$SSH_HOME"
    log "removed user $SSH_USER and $SSH_HOME"
  fi
  stop_pid "$STATE/registry.pid" registry 10
  if [[ -f $STATE/dockerd.pid ]]; then
    stop_pid "$STATE/dockerd.pid" dockerd 60
  fi
  rm -rf "$STATE"
  log "down"
}

cmd_status() {
  local rc=0
  if docker_answers; then
    if pid_alive "$STATE/dockerd.pid"; then echo "dockerd: running (pid $(cat "$STATE/dockerd.pid"), started by host.sh)"
    else echo "dockerd: running (not started by host.sh)"; fi
    echo "containers of $PROJECT: $(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" | wc -l)"
    echo "volumes of $PROJECT: $(docker volume ls -q --filter "label=ballast.project=$PROJECT" | wc -l)"
  else
    echo "dockerd: not answering on $DOCKER_SOCK"
    rc=1
  fi
  if pid_alive "$STATE/sshd.pid"; then echo "sshd: running (pid $(cat "$STATE/sshd.pid"), port $(cat "$STATE/sshd.port"))"
  else echo "sshd: not running"; rc=1; fi
  if pid_alive "$STATE/registry.pid"; then echo "registry: running ($(cat "$STATE/registry.addr"))"
  else echo "registry: not running"; rc=1; fi
  if [[ -x $(compose_binary) ]]; then echo "compose: $("$(compose_binary)" version --short) ($(compose_binary))"
  else echo "compose: not built"; fi
  if [[ -f $STATE/host.env ]]; then sed -n "s/^\(BALLAST_E2E_[A-Z0-9_]*\)=/  \1=/p" "$STATE/host.env"; fi
  return "$rc"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
