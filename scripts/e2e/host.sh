#!/usr/bin/env bash
# The end-to-end test host for the compose target: a Docker engine, an SSH server on loopback whose
# throwaway user may run Docker with compose v2, a loopback image registry, and the e2e images.
# See docs/e2e.md.
#
# Usage: scripts/e2e/host.sh up|down|status|pebble-start <httpPort>|dockerd-restart [<seconds down>]
#
#   up      install what is missing (Debian: docker.io openssh-server debootstrap docker-registry curl
#           openssl cron), start dockerd (unless one already answers on /var/run/docker.sock), build or reuse
#           compose v2, the test tools (scripts/e2e/tools.sh: Traefik, Pebble, vegeta), the Debian base
#           image and the test images (the proxy image carries the built Traefik; the backup image and
#           one monitoring image per Debian Prometheus program), start the registry and push the images to
#           it, start cron (the deploy user's crontab is the stack's scheduler) unless a cron daemon
#           runs, start pebble-challtestsrv and Pebble (ACME test CA), create the SSH user with a per-run
#           key and start sshd on 127.0.0.1, check the whole path (ssh -> docker compose version), write
#           $STATE/host.env. Idempotent: a second `up` reuses what runs.
#   down    stop and remove everything `up` started or created: the compose project's containers,
#           networks and volumes (by label) and those labelled ballast.e2e=1, Pebble and challtestsrv,
#           sshd, the SSH user with its home and crontab, the registry, cron and dockerd (each only if
#           `up` started it), the state directory. Caches stay. Safe to run twice.
#   status  print what runs and the host.env values.
#   pebble-start <httpPort>
#           (re)start Pebble so that it validates HTTP-01 challenges on 127.0.0.1:<httpPort> (the port
#           a test publishes its proxy's HTTP entry point on); updates host.env. A restarted Pebble has
#           a new root and intermediate CA and no accounts or orders.
#   dockerd-restart [<seconds down>]
#           stop the engine `up` started (its containers stop with it: no live-restore), wait, start it
#           again with the same flags and data root (test/e2e/faults.test.ts: engine restart, reboot).
#
# ACME: Pebble's ACME endpoint listens on the default Docker bridge's gateway address only (containers
# reach it as host.docker.internal with `--add-host host.docker.internal:host-gateway`), with its own
# certificate from a per-run CA made with openssl ($STATE/pebble/ca.pem, BALLAST_E2E_ACME_CA_FILE:
# mount it and point LEGO_CA_CERTIFICATES at it); its management API (roots, intermediates) on
# 127.0.0.1. pebble-challtestsrv answers every A query with 127.0.0.1 (and no AAAA), so Pebble
# validates HTTP-01 against the proxy's port published on loopback.
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
#   BALLAST_E2E_PEBBLE_PORT     Pebble's ACME port on the bridge gateway (default 14000, or a free port when taken)
#   BALLAST_E2E_PEBBLE_HTTP_PORT the HTTP-01 port `up` starts Pebble with (default: a free port; tests
#                               restart it with `pebble-start <their proxy's published HTTP port>`)
#   BALLAST_E2E_PEBBLE_ALWAYS_VALID=1  start Pebble with PEBBLE_VA_ALWAYS_VALID=1 (no real validation;
#                               for machines where Pebble cannot reach the published port)
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
APT_PACKAGES=(docker.io openssh-server debootstrap docker-registry curl openssl cron)
# The monitoring images (scripts/e2e/images/monitoring): one per Debian program, tagged monitoring:<key>-<sha>.
MONITORING_PROGRAMS=(prometheus:prometheus alertmanager:prometheus-alertmanager node-exporter:prometheus-node-exporter
  postgres-exporter:prometheus-postgres-exporter redis-exporter:prometheus-redis-exporter
  blackbox-exporter:prometheus-blackbox-exporter)

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
  # An engine of ours whose default bridge went away (another tool deleted docker0) cannot give
  # containers host.docker.internal: restart it, which recreates the bridge.
  if docker_answers && pid_alive "$STATE/dockerd.pid" && ! ip link show docker0 >/dev/null 2>&1; then
    log "dockerd runs without its default bridge docker0: restarting it"
    stop_pid "$STATE/dockerd.pid" dockerd 60
  fi
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

# --- test tools (scripts/e2e/tools.sh) -----------------------------------------------------------------
TRAEFIK_BIN="" TRAEFIK_VERSION="" PEBBLE_BIN="" CHALLTESTSRV_BIN="" VEGETA_BIN=""
load_tools() {
  local out line key value
  # Builds on first use (Traefik about 10-25 min on 2 cores), then answers from the cache.
  out=$(bash "$SCRIPT_DIR/tools.sh" env) || die "scripts/e2e/tools.sh env failed (see above)"
  while IFS= read -r line; do
    [[ $line =~ ^([A-Z0-9_]+)=\'(.*)\'$ ]] || continue
    key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
    case $key in
      BALLAST_E2E_TRAEFIK) TRAEFIK_BIN=$value ;;
      BALLAST_E2E_TRAEFIK_VERSION) TRAEFIK_VERSION=$value ;;
      BALLAST_E2E_PEBBLE) PEBBLE_BIN=$value ;;
      BALLAST_E2E_CHALLTESTSRV) CHALLTESTSRV_BIN=$value ;;
      BALLAST_E2E_VEGETA) VEGETA_BIN=$value ;;
    esac
  done <<<"$out"
  [[ -x $TRAEFIK_BIN && -x $PEBBLE_BIN && -x $CHALLTESTSRV_BIN && -x $VEGETA_BIN ]] \
    || die "scripts/e2e/tools.sh env named binaries that do not exist"
  log "tools: traefik $TRAEFIK_VERSION, pebble, pebble-challtestsrv, vegeta ($(dirname "$VEGETA_BIN"))"
}

# The proxy image's build context: scripts/e2e/images/proxy plus the built traefik binary (so the
# image's content key covers the binary too).
stage_proxy_context() {
  local context="$STATE/context/proxy"
  rm -rf "$context"
  mkdir -p "$context"
  cp -R "$IMAGES_DIR/proxy/." "$context/"
  cp "$TRAEFIK_BIN" "$context/traefik"
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
  # A staged context (stage_proxy_context) wins over the directory in the repository.
  context="$STATE/context/$name"
  [[ -d $context ]] || context="$IMAGES_DIR/$name"
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

# --- ACME test CA: pebble-challtestsrv and Pebble --------------------------------------------------------
PEBBLE_DIR="$STATE/pebble"

# The default bridge's gateway address: what `host-gateway` (host.docker.internal) means in containers.
bridge_gateway() {
  local ip
  ip=$(timeout 10 docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null) || true
  if [[ ! $ip =~ ^[0-9]+(\.[0-9]+){3}$ ]]; then
    ip=$(ip -4 -o addr show dev docker0 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }') || true
  fi
  [[ $ip =~ ^[0-9]+(\.[0-9]+){3}$ ]] || die "cannot tell the default Docker bridge's gateway address (docker network inspect bridge)"
  printf '%s' "$ip"
}

# make_pebble_certs <gateway>: a per-run CA and the certificate Pebble serves its ACME and management
# APIs with, valid for host.docker.internal, the gateway address, localhost and 127.0.0.1.
make_pebble_certs() {
  local gw=$1 dir=$PEBBLE_DIR
  if [[ -s $dir/cert.pem && -s $dir/ca.pem && $(cat "$dir/cert.gateway" 2>/dev/null) == "$gw" ]]; then return 0; fi
  mkdir -p "$dir"
  chmod 0755 "$dir"
  {
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj '/CN=Ballast e2e Pebble HTTPS CA' -keyout "$dir/ca.key" -out "$dir/ca.pem" \
      -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj '/CN=host.docker.internal' -keyout "$dir/key.pem" -out "$dir/cert.csr" &&
    printf '%s\n' "subjectAltName=DNS:host.docker.internal,DNS:localhost,IP:$gw,IP:127.0.0.1" \
      'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' \
      >"$dir/cert.ext" &&
    openssl x509 -req -in "$dir/cert.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
      -extfile "$dir/cert.ext" -out "$dir/cert.pem"
  } >"$dir/openssl.log" 2>&1 || die "openssl could not make Pebble's certificates; see $dir/openssl.log"
  chmod 0600 "$dir/ca.key" "$dir/key.pem"
  chmod 0644 "$dir/ca.pem" "$dir/cert.pem"
  echo "$gw" >"$dir/cert.gateway"
}

# Mock DNS for Pebble: every A query is answered with 127.0.0.1, AAAA with nothing; no challenge servers.
start_challtestsrv() {
  local dns_port mgmt_port
  if pid_alive "$STATE/challtestsrv.pid"; then return 0; fi
  dns_port=$(free_port)
  mgmt_port=$(free_port)
  log "starting pebble-challtestsrv (DNS on 127.0.0.1:$dns_port: every A record is 127.0.0.1)"
  setsid "$CHALLTESTSRV_BIN" -http01 '' -https01 '' -doh '' -tlsalpn01 '' \
    -dnsserver "127.0.0.1:$dns_port" -management "127.0.0.1:$mgmt_port" -defaultIPv4 127.0.0.1 -defaultIPv6 '' \
    >>"$STATE/challtestsrv.log" 2>&1 </dev/null &
  echo $! >"$STATE/challtestsrv.pid"
  echo "127.0.0.1:$dns_port" >"$STATE/challtestsrv.dns"
  if ! wait_for 30 "pebble-challtestsrv" curl -fsS --max-time 2 -o /dev/null -X POST -d '{"ip":"127.0.0.1"}' \
      "http://127.0.0.1:$mgmt_port/set-default-ipv4"; then
    tail -n 20 "$STATE/challtestsrv.log" >&2 || true
    die "pebble-challtestsrv did not answer on 127.0.0.1:$mgmt_port within 30s; see $STATE/challtestsrv.log"
  fi
}

# start_pebble <httpPort>: (re)starts Pebble; it validates HTTP-01 on 127.0.0.1:<httpPort>.
start_pebble() {
  local http_port=$1 gw port mgmt always_valid=${BALLAST_E2E_PEBBLE_ALWAYS_VALID:-0}
  gw=$(bridge_gateway)
  make_pebble_certs "$gw"
  stop_pid "$STATE/pebble.pid" pebble 10
  port=${BALLAST_E2E_PEBBLE_PORT:-14000}
  if [[ -z ${BALLAST_E2E_PEBBLE_PORT:-} ]] && timeout 2 bash -c "exec 3<>/dev/tcp/$gw/$port" 2>/dev/null; then
    port=$(free_port)
  fi
  mgmt=$(free_port)
  printf '%s\n' '{' '  "pebble": {' \
    "    \"listenAddress\": \"$gw:$port\"," \
    "    \"managementListenAddress\": \"127.0.0.1:$mgmt\"," \
    "    \"certificate\": \"$PEBBLE_DIR/cert.pem\"," \
    "    \"privateKey\": \"$PEBBLE_DIR/key.pem\"," \
    "    \"httpPort\": $http_port," \
    '    "tlsPort": 5001,' \
    '    "ocspResponderURL": "",' \
    '    "externalAccountBindingRequired": false' \
    '  }' '}' >"$PEBBLE_DIR/pebble-config.json"
  log "starting Pebble: ACME on https://$gw:$port/dir (host.docker.internal), HTTP-01 against 127.0.0.1:$http_port$( ((always_valid)) && echo ', PEBBLE_VA_ALWAYS_VALID=1')"
  # No random validation delay, no injected bad nonces: the tests' timings stay predictable.
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_VA_ALWAYS_VALID=$always_valid \
    setsid "$PEBBLE_BIN" -config "$PEBBLE_DIR/pebble-config.json" -dnsserver "$(cat "$STATE/challtestsrv.dns")" \
    >>"$STATE/pebble.log" 2>&1 </dev/null &
  echo $! >"$STATE/pebble.pid"
  if ! wait_for 30 "Pebble" curl -fsS --max-time 2 --cacert "$PEBBLE_DIR/ca.pem" -o /dev/null "https://$gw:$port/dir" ||
     ! wait_for 10 "Pebble management" curl -fsS --max-time 2 --cacert "$PEBBLE_DIR/ca.pem" -o /dev/null "https://127.0.0.1:$mgmt/roots/0"; then
    tail -n 20 "$STATE/pebble.log" >&2 || true
    die "Pebble did not answer on https://$gw:$port/dir and https://127.0.0.1:$mgmt within 40s; see $STATE/pebble.log"
  fi
  echo "https://host.docker.internal:$port/dir" >"$STATE/pebble.directory"
  echo "https://127.0.0.1:$mgmt" >"$STATE/pebble.management"
  echo "$http_port" >"$STATE/pebble.httpport"
  echo "$gw" >"$STATE/pebble.gateway"
}

acme_env_lines() {
  printf "BALLAST_E2E_ACME_DIRECTORY='%s'\n" "$(cat "$STATE/pebble.directory")"
  printf "BALLAST_E2E_ACME_CA_FILE='%s'\n" "$PEBBLE_DIR/ca.pem"
  printf "BALLAST_E2E_ACME_HOST_GATEWAY='%s'\n" "$(cat "$STATE/pebble.gateway")"
  printf "BALLAST_E2E_ACME_HTTP_PORT='%s'\n" "$(cat "$STATE/pebble.httpport")"
  printf "BALLAST_E2E_PEBBLE_MANAGEMENT='%s'\n" "$(cat "$STATE/pebble.management")"
  printf "BALLAST_E2E_PEBBLE_LOG='%s'\n" "$STATE/pebble.log"
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
  # With the options the host bootstrap gives a deploy key (keyOptions in components/host/bootstrap.ts):
  # no terminal, no forwarding, only from the allowed range (here loopback).
  printf 'restrict,from="127.0.0.1" %s\n' "$(cat "$STATE/client_key.pub")" >"$STATE/authorized_keys"
  install -m 0600 -o "$SSH_USER" -g "$SSH_USER" "$STATE/authorized_keys" "$SSH_HOME/.ssh/authorized_keys"
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

# --- cron ----------------------------------------------------------------------------------------------
# The compose target's scheduler is the deploy user's crontab (components/targets/compose/cron.ts):
# a real cron daemon runs it. One that already runs is used and left running.
cron_runs() { pgrep -x cron >/dev/null 2>&1 || pgrep -x crond >/dev/null 2>&1; }

start_cron() {
  if pid_alive "$STATE/cron.pid"; then return 0; fi
  if cron_runs; then
    log "a cron daemon not started by this script runs: using it, \`down\` leaves it running"
    return 0
  fi
  log "starting cron (Debian's, in the foreground of its own session)"
  setsid cron -f >>"$STATE/cron.log" 2>&1 </dev/null &
  echo $! >"$STATE/cron.pid"
  if ! wait_for 10 "cron" pid_alive "$STATE/cron.pid"; then
    tail -n 20 "$STATE/cron.log" >&2 || true
    die "cron did not stay up; see $STATE/cron.log"
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
    printf "BALLAST_E2E_COMPOSE_BIN='%s'\n" "$(compose_binary)"
    printf "BALLAST_E2E_IMAGE_APP_V1='%s'\n" "$IMAGE_APP_V1"
    printf "BALLAST_E2E_IMAGE_APP_V2='%s'\n" "$IMAGE_APP_V2"
    printf "BALLAST_E2E_IMAGE_APP_FAILING='%s'\n" "$IMAGE_APP_FAILING"
    printf "BALLAST_E2E_IMAGE_POSTGRES='%s'\n" "$IMAGE_POSTGRES"
    printf "BALLAST_E2E_IMAGE_REDIS='%s'\n" "$IMAGE_REDIS"
    printf "BALLAST_E2E_IMAGE_PROXY='%s'\n" "$IMAGE_PROXY"
    printf "BALLAST_E2E_IMAGE_BACKUP='%s'\n" "$IMAGE_BACKUP"
    local entry
    for entry in "${MONITORING_PROGRAMS[@]}"; do
      printf "BALLAST_E2E_IMAGE_MONITORING_%s='%s'\n" "$(monitoring_env_key "${entry%%:*}")" "${IMAGE_MONITORING[${entry%%:*}]}"
    done
    printf "BALLAST_E2E_TRAEFIK_VERSION='%s'\n" "$TRAEFIK_VERSION"
    printf "BALLAST_E2E_VEGETA='%s'\n" "$VEGETA_BIN"
    printf "BALLAST_E2E_PEBBLE='%s'\n" "$PEBBLE_BIN"
    printf "BALLAST_E2E_CHALLTESTSRV='%s'\n" "$CHALLTESTSRV_BIN"
    acme_env_lines
  } >"$tmp"
  mv "$tmp" "$STATE/host.env"
}

# --- commands ------------------------------------------------------------------------------------------
declare -A IMAGE_MONITORING=()
IMAGE_BACKUP=""

# monitoring_env_key <name>: node-exporter -> NODE_EXPORTER (the host.env key's suffix).
monitoring_env_key() { local key=${1^^}; printf '%s' "${key//-/_}"; }

cmd_up() {
  [[ $(id -u) == 0 ]] || die "run as root (it installs packages, starts dockerd and sshd, creates a user)"
  mkdir -p "$STATE" "$CACHE"
  chmod 0755 "$STATE"
  install_packages
  start_dockerd
  build_compose
  load_tools
  build_base_tarball
  import_base
  stage_proxy_context
  local app_v1 app_v2 app_failing postgres redis proxy
  app_v1=$(build_image app v1 APP_VERSION=v1)
  app_v2=$(build_image app v2 APP_VERSION=v2)
  app_failing=$(build_image app failing APP_VERSION=v3-failing APP_HEALTH=fail)
  postgres=$(build_image postgres 15)
  redis=$(build_image redis 7)
  proxy=$(build_image proxy 1)
  local backup entry
  local -A monitoring=()
  backup=$(build_image backup 15)
  for entry in "${MONITORING_PROGRAMS[@]}"; do
    monitoring[${entry%%:*}]=$(build_image monitoring "${entry%%:*}" "PROGRAM=${entry#*:}")
  done
  prune_stale_images "$app_v1" "$app_v2" "$app_failing" "$postgres" "$redis" "$proxy" "$backup" "${monitoring[@]}"
  start_registry
  IMAGE_APP_V1=$(push_image "$app_v1")
  IMAGE_APP_V2=$(push_image "$app_v2")
  IMAGE_APP_FAILING=$(push_image "$app_failing")
  IMAGE_POSTGRES=$(push_image "$postgres")
  IMAGE_REDIS=$(push_image "$redis")
  IMAGE_PROXY=$(push_image "$proxy")
  IMAGE_BACKUP=$(push_image "$backup")
  for entry in "${MONITORING_PROGRAMS[@]}"; do
    IMAGE_MONITORING[${entry%%:*}]=$(push_image "${monitoring[${entry%%:*}]}")
  done
  log "images pushed to $REGISTRY"
  start_cron
  start_challtestsrv
  if ! pid_alive "$STATE/pebble.pid"; then start_pebble "${BALLAST_E2E_PEBBLE_HTTP_PORT:-$(free_port)}"; fi
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
  # Networks and volumes of the tests that run containers themselves carry the ballast.e2e label.
  ids=$({ docker network ls -q --filter "label=com.docker.compose.project=$PROJECT"; docker network ls -q --filter "label=$LABEL"; } | sort -u)
  if [[ -n ${ids//[[:space:]]/} ]]; then
    # shellcheck disable=SC2086
    timeout 60 docker network rm $ids >/dev/null || log "could not remove every network of $PROJECT"
    log "removed networks: $(wc -w <<<"$ids")"
  fi
  ids=$({ docker volume ls -q --filter "label=ballast.project=$PROJECT"; docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"
    docker volume ls -q --filter "label=$LABEL"; } | sort -u)
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
    # Its crontab (the stack's scheduled jobs) would outlive the user in the cron spool.
    crontab -r -u "$SSH_USER" 2>/dev/null || true
    userdel --remove "$SSH_USER" 2>/dev/null || userdel "$SSH_USER" || log "could not remove user $SSH_USER"
    rm -rf "$SSH_HOME"
    log "removed user $SSH_USER and $SSH_HOME"
  fi
  stop_pid "$STATE/registry.pid" registry 10
  stop_pid "$STATE/pebble.pid" pebble 10
  stop_pid "$STATE/challtestsrv.pid" pebble-challtestsrv 10
  stop_pid "$STATE/cron.pid" cron 10
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
  if pid_alive "$STATE/pebble.pid"; then echo "pebble: running ($(cat "$STATE/pebble.directory"), HTTP-01 against 127.0.0.1:$(cat "$STATE/pebble.httpport"))"
  else echo "pebble: not running"; rc=1; fi
  if pid_alive "$STATE/challtestsrv.pid"; then echo "pebble-challtestsrv: running (DNS $(cat "$STATE/challtestsrv.dns"))"
  else echo "pebble-challtestsrv: not running"; rc=1; fi
  if pid_alive "$STATE/cron.pid"; then echo "cron: running (pid $(cat "$STATE/cron.pid"), started by host.sh)"
  elif cron_runs; then echo "cron: running (not started by host.sh)"
  else echo "cron: not running"; rc=1; fi
  if [[ -x $(compose_binary) ]]; then echo "compose: $("$(compose_binary)" version --short) ($(compose_binary))"
  else echo "compose: not built"; fi
  if [[ -f $STATE/host.env ]]; then sed -n "s/^\(BALLAST_E2E_[A-Z0-9_]*\)=/  \1=/p" "$STATE/host.env"; fi
  return "$rc"
}

# host_env_value <KEY>: a value of host.env.
host_env_value() { sed -n "s/^$1='\\(.*\\)'\$/\\1/p" "$STATE/host.env"; }

cmd_pebble_start() {
  local port=${1:-} tmp="$STATE/host.env.tmp"
  [[ $(id -u) == 0 ]] || die "run as root"
  if [[ ! $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then die "usage: host.sh pebble-start <httpPort>"; fi
  [[ -f $STATE/host.env ]] || die "the test host is not up ($STATE/host.env does not exist): run \`host.sh up\` first"
  docker_answers || die "no Docker engine answers on $DOCKER_SOCK: run \`host.sh up\` first"
  PEBBLE_BIN=$(host_env_value BALLAST_E2E_PEBBLE)
  CHALLTESTSRV_BIN=$(host_env_value BALLAST_E2E_CHALLTESTSRV)
  [[ -x $PEBBLE_BIN && -x $CHALLTESTSRV_BIN ]] || die "host.env names no Pebble binaries: run \`host.sh down && host.sh up\`"
  start_challtestsrv
  start_pebble "$port"
  { grep -v -E '^BALLAST_E2E_(ACME_|PEBBLE_MANAGEMENT|PEBBLE_LOG)' "$STATE/host.env"; acme_env_lines; } >"$tmp"
  mv "$tmp" "$STATE/host.env"
}

# dockerd-restart [<seconds down>]: the fault tests' engine restart (and, with every container
# stopped by it, a host reboot): the engine `up` started stops (TERM; without live-restore it stops
# every container), stays down <seconds>, then starts again exactly as `up` starts it (same flags,
# data root, pid file and socket). Refuses an engine `up` did not start.
cmd_dockerd_restart() {
  local down=${1:-0}
  [[ $(id -u) == 0 ]] || die "run as root"
  [[ $down =~ ^[0-9]+$ ]] || die "usage: host.sh dockerd-restart [<seconds down>]"
  pid_alive "$STATE/dockerd.pid" || die "no dockerd started by host.sh runs ($STATE/dockerd.pid): it restarts only its own engine"
  stop_pid "$STATE/dockerd.pid" dockerd 60
  sleep "$down"
  start_dockerd
}

case "${1:-}" in
  up) cmd_up ;;
  pebble-start) cmd_pebble_start "${2:-}" ;;
  dockerd-restart) cmd_dockerd_restart "${2:-0}" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
