#!/usr/bin/env bash
# The end-to-end test cluster: a real single-node Kubernetes on this machine, built from Go modules and
# Debian packages only (no image registry, no download other than the Go module proxy and Debian's mirror).
# See docs/e2e.md.
#
# Usage: scripts/e2e/cluster.sh up|build|down|status|import-image <image ref or docker-save tar>...
#
#   build         only build or reuse the binaries (what `up` does first), under the same lock as `up`: CI
#                 starts it in the background while the Compose scenarios run, and a later `up` waits
#                 for it (and builds itself if it failed).
#   up            build or reuse the binaries (Kubernetes v1.37.2 and CoreDNS in one `go build`, the add-ons
#                 local-path-provisioner and metrics-server in a second one), unpack Debian's etcd, build or
#                 reuse the add-on images (Docker, on the debootstrapped Debian base of scripts/e2e/host.sh),
#                 then start etcd, the control plane, containerd, the kubelet and kube-proxy, deploy CoreDNS,
#                 local-path-provisioner (default StorageClass `local-path`) and metrics-server, wait until
#                 the node is Ready, DNS answers and the metrics API is available, and write
#                 $STATE/cluster.env. Idempotent: a second `up` reuses what runs.
#   down          stop everything `up` started and undo what it and the kubelet changed on this machine:
#                 containers, mounts, the bridge, iptables rules and KUBE-* chains, sysctls, kubelet and CNI
#                 directories outside the state directory, cgroups, the state directory. Caches stay. Safe to
#                 run twice.
#   status        print what runs.
#   import-image  import images into the cluster's containerd (pods then use imagePullPolicy IfNotPresent or
#                 Never): a reference is saved from the Docker engine on /var/run/docker.sock (the one
#                 scripts/e2e/host.sh runs), a path ending in .tar is imported as it is.
#
# Runs as root. Every wait is bounded and says what it waited for. Everything listens on 127.0.0.1 or on the
# bridge this script creates; pods cannot send traffic out of it.
#
# Environment:
#   BALLAST_CACHE                 cache root (default ~/.cache/ballast); this script uses
#                                 $BALLAST_CACHE/e2e/kubernetes/ (<version>-<key>/bin: the binaries, keyed by
#                                 versions, recipe and wrapper modules; etcd-<version>/; images-<key>.tar;
#                                 docker-build/ while a private dockerd builds the images) and
#                                 $BALLAST_CACHE/e2e/debian-bookworm-minbase.tar.gz (shared with host.sh)
#   BALLAST_E2E_CLUSTER_STATE     run state (default /run/ballast-e2e-cluster): cluster.env, kubeconfig,
#                                 certificates, logs, pid files, etcd, containerd, kubelet and volume data
#   BALLAST_E2E_CLUSTER_SUBNET    the node's /24 on the bridge; the node IP is .1, pods get the rest
#                                 (default 10.244.0.0/24)
#   BALLAST_E2E_CLUSTER_SERVICE_CIDR  Service addresses (default 10.96.0.0/16; DNS at .10)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RECIPE_DIR="$SCRIPT_DIR/cluster"
E2E_CACHE="${BALLAST_CACHE:-$HOME/.cache/ballast}/e2e"
CACHE="$E2E_CACHE/kubernetes"
STATE="${BALLAST_E2E_CLUSTER_STATE:-/run/ballast-e2e-cluster}"

# Bump when the way binaries or images are built changes (not needed for version or go.mod changes: the
# cache keys hash those).
RECIPE_REVISION=1
KUBERNETES_VERSION=v1.37.2
STAGING_VERSION=v0.37.2
COREDNS_VERSION=v1.15.0
LOCAL_PATH_VERSION=v0.0.30
METRICS_SERVER_VERSION=v0.8.0

SUBNET="${BALLAST_E2E_CLUSTER_SUBNET:-10.244.0.0/24}"
SERVICE_CIDR="${BALLAST_E2E_CLUSTER_SERVICE_CIDR:-10.96.0.0/16}"
NET_PREFIX="${SUBNET%.*}"
NODE_IP="$NET_PREFIX.1"
SERVICE_PREFIX="${SERVICE_CIDR%.*.*}"
KUBERNETES_SERVICE_IP="$SERVICE_PREFIX.0.1"
DNS_IP="$SERVICE_PREFIX.0.10"
CLUSTER_DOMAIN=cluster.local
NODE_NAME=ballast-e2e
BRIDGE=ballastk0
CNI_NETWORK=ballast-e2e
APISERVER_PORT=6443
ETCD_PORT=42379
ETCD_PEER_PORT=42380
RULE_COMMENT=ballast-e2e-cluster
DOCKER_SOCK=/var/run/docker.sock
BASE_REPO=ballast-e2e/debian
IMAGE_REPO=ballast-e2e-cluster
APT_PACKAGES=(containerd runc containernetworking-plugins iptables openssl gcc libc6-dev)
CNI_BIN_DIR=/usr/lib/cni

# Machine-wide things the kubelet, kube-proxy, containerd or the CNI plugins change outside the state
# directory: recorded before `up` starts anything, put back by `down`.
# (net.ipv4.ip_forward is not among them: this script turns on forwarding for its bridge only, and a Docker
# engine started meanwhile needs the machine-wide switch it set to stay on.)
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait)
# Directories only Kubernetes writes: removed by `down` when they did not exist before `up`.
FOREIGN_PATHS=(/var/lib/kubelet /var/lib/cni /var/log/pods /var/log/containers /usr/libexec/kubernetes /etc/cni
  /opt/cni /var/run/netns)
# Directories other containerd and Docker engines share (shim sockets in /run/containerd/s whatever the state
# directory): only emptied directories go, and only when they did not exist before.
SHARED_PATHS=(/run/containerd /opt/containerd /etc/docker)

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export DOCKER_BUILDKIT=0
PATH="$CNI_BIN_DIR:$PATH"

started=$SECONDS
log() { printf 'e2e-cluster: [%3ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { printf 'e2e-cluster: ERROR: %s\n' "$*" >&2; exit 1; }

phase_started=0
phase_name=""
# phase <name>: closes the previous phase with its duration (`up` prints one line per phase).
phase() {
  if [[ -n $phase_name ]]; then
    log "phase $phase_name: $((SECONDS - phase_started))s"
    printf '%s %s\n' "$phase_name" "$((SECONDS - phase_started))" >>"$STATE/timings"
  fi
  phase_name=$1
  phase_started=$SECONDS
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_taken() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# stop_daemons <seconds> <name>...: TERM to each daemon of $STATE/pids, a bounded wait for all of them
# together, a second TERM after 2s (the apiserver's first TERM starts a graceful shutdown that can take over
# 30s; the Kubernetes daemons exit at once on a second signal), then KILL.
stop_daemons() {
  local seconds=$1 deadline half name pid
  shift
  local -A pids=()
  for name in "$@"; do
    [[ -f $STATE/pids/$name.pid ]] || continue
    pid=$(cat "$STATE/pids/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]=$pid
    else
      rm -f "$STATE/pids/$name.pid"
    fi
  done
  ((${#pids[@]} == 0)) && return 0
  deadline=$((SECONDS + seconds))
  half=$((SECONDS + 2))
  while ((SECONDS < deadline)); do
    for name in "${!pids[@]}"; do
      kill -0 "${pids[$name]}" 2>/dev/null || { log "stopped $name (pid ${pids[$name]})"; rm -f "$STATE/pids/$name.pid"; unset "pids[$name]"; }
    done
    ((${#pids[@]} == 0)) && return 0
    if ((SECONDS >= half)); then
      for name in "${!pids[@]}"; do kill -TERM "${pids[$name]}" 2>/dev/null || true; done
      half=$deadline
    fi
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    log "$name (pid ${pids[$name]}) still runs after ${seconds}s: killing it"
    kill -KILL "${pids[$name]}" 2>/dev/null || true
    rm -f "$STATE/pids/$name.pid"
  done
  sleep 0.2
}

# start_daemon <name> <command...>: in its own session, output to $STATE/logs/<name>.log.
start_daemon() {
  local name=$1
  shift
  if pid_alive "$STATE/pids/$name.pid"; then
    log "$name already runs (pid $(cat "$STATE/pids/$name.pid"))"
    return 0
  fi
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name.pid"
}

# check_daemon <name>: dies with the log's tail when the daemon exited.
check_daemon() {
  pid_alive "$STATE/pids/$1.pid" && return 0
  tail -n 25 "$STATE/logs/$1.log" >&2 || true
  die "$1 exited; see $STATE/logs/$1.log"
}

# wait_daemon <seconds> <name> <what> <command...>: runs the command until it succeeds, at most <seconds>;
# fails at once when the daemon exited.
wait_daemon() {
  local seconds=$1 name=$2 what=$3 deadline
  shift 3
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    check_daemon "$name"
    if ((SECONDS >= deadline)); then
      tail -n 25 "$STATE/logs/$name.log" >&2 || true
      die "$what: not ready within ${seconds}s; see $STATE/logs/$name.log"
    fi
    sleep 0.5
  done
  log "$what: ready after $((SECONDS - deadline + seconds))s"
}

sha_of() { sha256sum | cut -c1-12; }

# write_file <path>: stdin into <path>, only when the content differs: a second `up` must not touch the
# files running daemons watch (kube-proxy exits when its configuration file changes; containerd reloads the
# CNI configuration).
write_file() {
  cat >"$1.new"
  if [[ -f $1 ]] && cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}

# --- packages ------------------------------------------------------------------------------------------
install_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  # Their postinst scripts would start daemons (containerd): refuse service starts for the install's duration.
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

# etcd from Debian's etcd-server, unpacked into the cache, never installed (its postinst starts a system etcd).
ETCD_BIN=""
ETCD_VERSION=""
unpack_etcd() {
  local dir deb
  dir=$(find "$CACHE" -maxdepth 2 -path "$CACHE/etcd-*/OK" -printf '%h\n' 2>/dev/null | sort -V | tail -n 1)
  if [[ -z $dir ]]; then
    local version
    version=$(apt-cache policy etcd-server 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [[ -z $version || $version == "(none)" ]]; then
      timeout 300 apt-get update -qq >>"$STATE/apt.log" 2>&1 || true
      version=$(apt-cache policy etcd-server 2>/dev/null | awk '/Candidate:/ {print $2}')
    fi
    [[ -n $version && $version != "(none)" ]] || die "Debian's etcd-server is not available from apt"
    dir="$CACHE/etcd-${version//[^A-Za-z0-9.+-]/_}"
    rm -rf "$dir"
    mkdir -p "$dir/deb"
    log "apt-get download etcd-server=$version (unpacked into $dir, not installed)"
    (cd "$dir/deb" && timeout 300 apt-get download "etcd-server=$version" >"$dir/download.log" 2>&1) \
      || die "apt-get download etcd-server failed; see $dir/download.log"
    deb=$(find "$dir/deb" -name 'etcd-server_*.deb' | head -n 1)
    dpkg-deb -x "$deb" "$dir/root" || die "dpkg-deb -x $deb failed"
    rm -rf "$dir/deb"
    [[ -x $dir/root/usr/bin/etcd ]] || die "no usr/bin/etcd in Debian's etcd-server package"
    touch "$dir/OK"
  fi
  ETCD_BIN="$dir/root/usr/bin/etcd"
  ETCD_VERSION=$("$ETCD_BIN" --version 2>/dev/null | awk '/etcd Version:/ {print $3}')
}

# --- binaries ------------------------------------------------------------------------------------------
# The Go binaries of the cluster, from two wrapper modules (scripts/e2e/cluster/*/go.mod say why two): one
# `go build` of every Kubernetes command and CoreDNS (sharing the compile work of the k8s.io/* libraries),
# one of the add-ons local-path-provisioner and metrics-server on their own k8s.io/* line.
KUBE_PACKAGES=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  k8s.io/kubernetes/cmd/kubectl ./coredns)
ADDON_PACKAGES=(github.com/rancher/local-path-provisioner sigs.k8s.io/metrics-server/cmd/metrics-server)

# The version the Kubernetes binaries report.
kube_ldflags() {
  local flags="-s -w" pkg minor=${KUBERNETES_VERSION#v*.}
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$flags"
}

# metrics-server reports client-go's version variable (its Makefile sets it there), local-path-provisioner
# its main.VERSION; one set of link flags serves both binaries of the add-on build.
addon_ldflags() {
  printf '%s' "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION -X main.VERSION=$LOCAL_PATH_VERSION"
}

# The content-keyed cache directory of the binaries: versions, recipe revision, Go version, link flags,
# packages and every file of both wrapper modules.
BUILD_DIR=""
BIN=""
build_dir() {
  local key
  key=$( {
    printf '%s\n' "$RECIPE_REVISION" "$(go env GOVERSION 2>/dev/null || echo no-go)" "$(kube_ldflags)" "$(addon_ldflags)" \
      "${KUBE_PACKAGES[@]}" "${ADDON_PACKAGES[@]}"
    (cd "$RECIPE_DIR" && find kubernetes addons -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha_of)
  printf '%s/%s-%s' "$CACHE" "$KUBERNETES_VERSION" "$key"
}

# build_binaries: reuses <cache>/<version>-<key>/bin when its OK marker exists; otherwise the two `go build`s
# into it, each in a copy of its module, then the pause binary; OK is written last.
build_binaries() {
  grep -qF "k8s.io/api => k8s.io/api $STAGING_VERSION" "$RECIPE_DIR/kubernetes/go.mod" \
    || die "$RECIPE_DIR/kubernetes/go.mod does not replace the staging modules with $STAGING_VERSION"
  BUILD_DIR=$(build_dir)
  BIN="$BUILD_DIR/bin"
  if [[ ! -f $BUILD_DIR/OK ]]; then
    command -v go >/dev/null || die "the cluster binaries are not cached in $BUILD_DIR and there is no Go toolchain to build them"
    rm -rf "$BUILD_DIR"
    mkdir -p "$BIN"
    local t0=$SECONDS
    log "building Kubernetes $KUBERNETES_VERSION and CoreDNS $COREDNS_VERSION: one go build of ${#KUBE_PACKAGES[@]} packages" \
      "(cold 15-25 min on 2 cores, about 4.8 GB RSS; a minute with a warm Go build cache); log $BUILD_DIR/build.log"
    go_build kubernetes "$(kube_ldflags)" "${KUBE_PACKAGES[@]}"
    log "go build: Kubernetes and CoreDNS in $((SECONDS - t0))s"
    t0=$SECONDS
    log "building local-path-provisioner $LOCAL_PATH_VERSION and metrics-server $METRICS_SERVER_VERSION: one go build" \
      "(cold 5-10 min, about 1.4 GB RSS)"
    go_build addons "$(addon_ldflags)" "${ADDON_PACKAGES[@]}"
    log "go build: add-ons in $((SECONDS - t0))s"
    build_pause "$BUILD_DIR/src-kubernetes"
    touch "$BUILD_DIR/OK"
    # Binaries of other versions or recipes are stale now.
    find "$CACHE" -mindepth 1 -maxdepth 1 -type d -name 'v*-*' ! -path "$BUILD_DIR" -exec rm -rf {} +
  fi
  local version
  version=$("$BIN/kubectl" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p' | head -n 1)
  [[ $version == "$KUBERNETES_VERSION" ]] || die "$BIN/kubectl reports version '$version', not $KUBERNETES_VERSION"
}

# build_binaries_locked: build_binaries under $CACHE/build.lock, so an `up` waits for a `build` running in
# the background instead of starting a second 4.8 GB `go build` of the same tree.
build_binaries_locked() {
  mkdir -p "$CACHE"
  exec 8>"$CACHE/build.lock"
  if ! flock -n 8; then
    log "waiting for the binaries another cluster.sh is building (see $CACHE/v*/build.log)"
    flock 8
  fi
  build_binaries
  exec 8>&-
}

cmd_build() {
  local t0=$SECONDS
  build_binaries_locked
  log "build: binaries ready in $BUILD_DIR/bin ($((SECONDS - t0))s)"
}

# go_build <module> <ldflags> <packages...>: into $BIN, in a copy of scripts/e2e/cluster/<module>.
go_build() {
  local module=$1 ldflags=$2 src="$BUILD_DIR/src-$1"
  shift 2
  cp -r "$RECIPE_DIR/$module" "$src"
  # CGO as the binaries run on Debian (this machine, the Debian base image); gcc builds pause.c anyway.
  if ! (cd "$src" && CGO_ENABLED=1 GOFLAGS="-buildvcs=false -mod=readonly" \
      timeout 5400 nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$BIN/" "$@") >>"$BUILD_DIR/build.log" 2>&1; then
    tail -n 20 "$BUILD_DIR/build.log" >&2 || true
    die "go build of $* failed or took over 90 min; see $BUILD_DIR/build.log"
  fi
}

# build_pause <module copy>: the pause binary of the sandbox image, from pause.c of the k8s.io/kubernetes
# module, static.
build_pause() {
  local src
  src=$(cd "$1" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
  [[ -f $src ]] || die "no build/pause/linux/pause.c in the k8s.io/kubernetes module ($src)"
  gcc -Os -Wall -Werror -static -DVERSION="$KUBERNETES_VERSION-ballast" -o "$BIN/pause" "$src" >>"$BUILD_DIR/build.log" 2>&1 \
    || die "gcc -static pause.c failed; see $BUILD_DIR/build.log"
  strip "$BIN/pause" 2>/dev/null || true
}

# --- images --------------------------------------------------------------------------------------------
base_tarball() { printf '%s/debian-bookworm-minbase.tar.gz' "$E2E_CACHE"; }

# The same debootstrap as scripts/e2e/host.sh, into the same cache file: whichever runs first makes it.
build_base_tarball() {
  local tarball rootfs
  tarball=$(base_tarball)
  [[ -s $tarball ]] && return 0
  command -v debootstrap >/dev/null || install_named_packages debootstrap
  mkdir -p "$E2E_CACHE/tmp"
  rootfs=$(mktemp -d "$E2E_CACHE/tmp/rootfs.XXXXXX")
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

install_named_packages() {
  local saved=("${APT_PACKAGES[@]}")
  APT_PACKAGES=("$@")
  install_packages
  APT_PACKAGES=("${saved[@]}")
}

docker_at() { timeout 10 docker -H "unix://$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# A Docker engine for the image builds: the one on /var/run/docker.sock (scripts/e2e/host.sh's) when it
# answers, otherwise a private dockerd (own socket, exec root and data root, no bridge, no iptables, no
# forwarding) that stop_build_docker ends, data root and all, as soon as the images are saved (the saved
# tarball is the cache; a rebuild imports the base tarball again, a few seconds).
DOCKER_HOST_SOCK=""
start_build_docker() {
  if docker_at "$DOCKER_SOCK"; then
    DOCKER_HOST_SOCK=$DOCKER_SOCK
    log "building images with the Docker engine on $DOCKER_SOCK"
    return 0
  fi
  command -v dockerd >/dev/null || install_named_packages docker.io
  DOCKER_HOST_SOCK="$STATE/docker.sock"
  mkdir -p "$CACHE/docker-build" "$STATE/docker-exec"
  log "starting a private dockerd for the image builds (data root $CACHE/docker-build, socket $DOCKER_HOST_SOCK)"
  start_daemon dockerd dockerd --data-root "$CACHE/docker-build" --exec-root "$STATE/docker-exec" \
    --pidfile "$STATE/docker-exec/dockerd.pid" --host "unix://$DOCKER_HOST_SOCK" \
    --bridge none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --log-level warn
  wait_daemon 60 dockerd "private dockerd" docker_at "$DOCKER_HOST_SOCK"
}

stop_build_docker() {
  [[ -f $STATE/pids/dockerd.pid ]] || return 0
  stop_daemons 60 dockerd
  if [[ -d $STATE/docker-exec ]]; then
    unmount_under "$STATE/docker-exec"
    rm -rf "$STATE/docker-exec"
  fi
  rm -f "$STATE/docker.sock"
  unmount_under "$CACHE/docker-build"
  rm -rf "$CACHE/docker-build"
  # What dockerd and its containerd create outside their roots (/etc/docker/key.json, /opt/containerd).
  remove_new_empty_dirs
}

# dk <seconds> <docker args...>: docker against the build engine, bounded.
dk() {
  local seconds=$1
  shift
  timeout "$seconds" docker -H "unix://$DOCKER_HOST_SOCK" "$@"
}

# Image references: content-keyed tags (a changed binary or Dockerfile is a new reference).
BASE_IMAGE=""
PAUSE_IMAGE=""
COREDNS_IMAGE=""
LOCAL_PATH_IMAGE=""
METRICS_SERVER_IMAGE=""
IMAGES_TAR=""
image_refs() {
  local base_key key
  base_key=$(sha256sum "$(base_tarball)" | cut -c1-12)
  BASE_IMAGE="$BASE_REPO:bookworm-$base_key"
  key=$( {
    printf '%s\n' "$RECIPE_REVISION" "$BASE_IMAGE" "${BUILD_DIR##*/}"
    (cd "$RECIPE_DIR/images" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha_of)
  PAUSE_IMAGE="$IMAGE_REPO/pause:$KUBERNETES_VERSION-$key"
  COREDNS_IMAGE="$IMAGE_REPO/coredns:$COREDNS_VERSION-$key"
  LOCAL_PATH_IMAGE="$IMAGE_REPO/local-path-provisioner:$LOCAL_PATH_VERSION-$key"
  METRICS_SERVER_IMAGE="$IMAGE_REPO/metrics-server:$METRICS_SERVER_VERSION-$key"
  IMAGES_TAR="$CACHE/images-$key.tar"
}

# build_images: docker build of the sandbox and add-on images, `docker save` of them and the base image into
# one tarball in the cache (what containerd imports); skipped when that tarball exists.
build_images() {
  build_base_tarball
  image_refs
  [[ -s $IMAGES_TAR ]] && return 0
  start_build_docker
  if ! dk 30 image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "docker import $(base_tarball) -> $BASE_IMAGE"
    dk 300 import --change 'LABEL ballast.e2e=1' --change 'CMD ["/bin/bash"]' "$(base_tarball)" "$BASE_IMAGE" \
      >/dev/null || die "docker import of $(base_tarball) failed"
  fi
  local ctx="$STATE/image-build"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -r "$RECIPE_DIR/images/pause" "$ctx/pause"
  cp "$BIN/pause" "$ctx/pause/pause"
  build_one_image "$PAUSE_IMAGE" "$ctx/pause"
  local name ref
  for name in coredns local-path-provisioner metrics-server; do
    case $name in
      coredns) ref=$COREDNS_IMAGE ;;
      local-path-provisioner) ref=$LOCAL_PATH_IMAGE ;;
      metrics-server) ref=$METRICS_SERVER_IMAGE ;;
    esac
    cp -r "$RECIPE_DIR/images/addon" "$ctx/$name"
    cp "$BIN/$name" "$ctx/$name/$name"
    build_one_image "$ref" "$ctx/$name" --build-arg "BASE=$BASE_IMAGE" --build-arg "BIN=$name"
  done
  rm -rf "$ctx"
  log "docker save -> $IMAGES_TAR"
  dk 600 save -o "$IMAGES_TAR.part" "$BASE_IMAGE" "$PAUSE_IMAGE" "$COREDNS_IMAGE" "$LOCAL_PATH_IMAGE" \
    "$METRICS_SERVER_IMAGE" || die "docker save of the cluster images failed"
  mv "$IMAGES_TAR.part" "$IMAGES_TAR"
  # Earlier image sets (other keys) are stale now, in the cache and in the engine.
  find "$CACHE" -maxdepth 1 -name 'images-*.tar' ! -path "$IMAGES_TAR" -delete
  local key=${IMAGES_TAR##*/images-} ref
  key=${key%.tar}
  while read -r ref; do
    [[ $ref == *"-$key" ]] || dk 60 rmi "$ref" >/dev/null 2>&1 || true
  done < <(dk 30 images --format '{{.Repository}}:{{.Tag}}' | grep "^$IMAGE_REPO/" || true)
  stop_build_docker
}

build_one_image() {
  local ref=$1 ctx=$2
  shift 2
  log "docker build $ref"
  if ! dk 600 build --quiet --network none --label ballast.e2e.cluster=1 "$@" -t "$ref" "$ctx" \
      >"$STATE/logs/build-${ref//[\/:]/_}.log" 2>&1; then
    tail -n 15 "$STATE/logs/build-${ref//[\/:]/_}.log" >&2 || true
    die "docker build of $ref failed or took over 600s"
  fi
}

# --- machine snapshot ----------------------------------------------------------------------------------
# What `down` restores. Written once per life of the state directory (an `up` after a failed one keeps the
# first snapshot).
snapshot_machine() {
  local snap="$STATE/snapshot"
  [[ -f $snap/done ]] && return 0
  mkdir -p "$snap"
  local name value
  : >"$snap/sysctl"
  for name in "${SYSCTLS[@]}"; do
    value=$(sysctl -n "$name" 2>/dev/null) || continue
    printf '%s=%s\n' "$name" "${value//$'\t'/ }" >>"$snap/sysctl"
  done
  : >"$snap/paths"
  for name in "${FOREIGN_PATHS[@]}" "${SHARED_PATHS[@]}"; do
    [[ -e $name ]] && printf '%s\n' "$name" >>"$snap/paths"
  done
  local ipt table
  : >"$snap/chains"
  for ipt in iptables ip6tables; do
    for table in filter nat mangle raw; do
      "$ipt" -w 5 -t "$table" -S 2>/dev/null | awk -v p="$ipt $table" '$1 == "-N" && $2 ~ /^KUBE-/ {print p, $2}' >>"$snap/chains"
    done
  done
  if [[ -s $snap/chains ]]; then
    die "KUBE-* iptables chains exist already (another Kubernetes on this machine?): $(tr '\n' ' ' <"$snap/chains")"
  fi
  : >"$snap/cgroups"
  local dir
  for dir in /sys/fs/cgroup/*/; do
    [[ -d ${dir}kubepods ]] && printf '%s\n' "${dir}kubepods" >>"$snap/cgroups"
  done
  [[ -s $snap/cgroups ]] && die "kubepods cgroups exist already (another kubelet on this machine?): $(tr '\n' ' ' <"$snap/cgroups")"
  touch "$snap/done"
}

# --- network -------------------------------------------------------------------------------------------
setup_network() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    log "created bridge $BRIDGE ($NODE_IP/24)"
  fi
  ip addr replace "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Service addresses route to the bridge (from the node IP): a Service address kube-proxy does not
  # translate goes nowhere instead of out of the default route.
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  # Forwarding for packets that come in on the bridge only (pod -> Service -> pod); the machine-wide
  # net.ipv4.ip_forward stays as it is. The CNI bridge plugin runs without isGateway for the same reason.
  sysctl -qw "net.ipv4.conf.$BRIDGE.forwarding=1"
  # The FORWARD chain may drop by default (Docker): accept bridge-to-bridge, drop whatever would leave it or
  # enter it from elsewhere. Rules carry a comment; `down` removes them by it.
  ensure_rule iptables filter FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  ensure_rule iptables filter FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -j DROP
  ensure_rule iptables filter FORWARD ! -i "$BRIDGE" -o "$BRIDGE" -j DROP
}

# ensure_rule <iptables|ip6tables> <table> <chain> <rule...>: inserted at the top unless present.
ensure_rule() {
  local ipt=$1 table=$2 chain=$3
  shift 3
  "$ipt" -w 5 -t "$table" -C "$chain" "$@" -m comment --comment "$RULE_COMMENT" 2>/dev/null \
    || "$ipt" -w 5 -t "$table" -I "$chain" 1 "$@" -m comment --comment "$RULE_COMMENT"
}

# --- certificates and kubeconfigs ----------------------------------------------------------------------
PKI=""
new_key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 0600 "$1"; }

new_ca() {
  local name=$1 cn=$2
  [[ -f $PKI/$name.crt ]] && return 0
  new_key "$PKI/$name.key"
  openssl req -x509 -new -key "$PKI/$name.key" -subj "/CN=$cn" -days 30 -sha256 -out "$PKI/$name.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    2>/dev/null || die "openssl: CA $name"
}

# new_cert <name> <ca> <subject> <serverAuth|clientAuth|serverAuth,clientAuth> [subjectAltName]
new_cert() {
  local name=$1 ca=$2 subject=$3 usage=$4 san=${5:-}
  [[ -f $PKI/$name.crt ]] && return 0
  new_key "$PKI/$name.key"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$PKI/$name.ext"
  openssl req -new -key "$PKI/$name.key" -subj "$subject" 2>/dev/null \
    | openssl x509 -req -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
      -days 30 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null || die "openssl: certificate $name"
  rm -f "$PKI/$name.ext"
}

# kubeconfig <file> <cert name>
kubeconfig() {
  write_file "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: ballast-e2e
    cluster:
      server: https://$NODE_IP:$APISERVER_PORT
      certificate-authority: $PKI/ca.crt
users:
  - name: $2
    user:
      client-certificate: $PKI/$2.crt
      client-key: $PKI/$2.key
contexts:
  - name: ballast-e2e
    context: {cluster: ballast-e2e, user: $2}
current-context: ballast-e2e
EOF
  chmod 0600 "$1"
}

make_pki() {
  PKI="$STATE/pki"
  mkdir -p "$PKI"
  chmod 0700 "$PKI"
  new_ca ca ballast-e2e-ca
  new_ca front-proxy-ca ballast-e2e-front-proxy-ca
  new_cert apiserver ca "/CN=kube-apiserver" serverAuth \
    "IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
  new_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  new_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth
  new_cert admin ca "/O=system:masters/CN=ballast-e2e-admin" clientAuth
  new_cert controller-manager ca "/CN=system:kube-controller-manager" clientAuth
  new_cert scheduler ca "/CN=system:kube-scheduler" clientAuth
  new_cert kubelet ca "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  new_cert kube-proxy ca "/CN=system:kube-proxy" clientAuth
  if [[ ! -f $PKI/sa.key ]]; then
    new_key "$PKI/sa.key"
    openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null || die "openssl: service-account key"
  fi
  local name
  for name in admin controller-manager scheduler kubelet kube-proxy; do
    kubeconfig "$STATE/$name.kubeconfig" "$name"
  done
  write_file "$STATE/kubeconfig" <"$STATE/admin.kubeconfig"
  chmod 0600 "$STATE/kubeconfig"
}

kubectl_admin() { "$BIN/kubectl" --kubeconfig "$STATE/kubeconfig" --request-timeout=20s "$@"; }

# --- control plane -------------------------------------------------------------------------------------
start_etcd() {
  start_daemon etcd "$ETCD_BIN" --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes 2147483648 --log-level warn --logger zap
  wait_daemon 30 etcd "etcd on 127.0.0.1:$ETCD_PORT" curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"
}

start_apiserver() {
  # The API server listens on the node IP (the bridge), not on 127.0.0.1: pods reach it through the
  # `kubernetes` Service, whose endpoint cannot be a loopback address (the API refuses 127.0.0.0/8 there).
  start_daemon kube-apiserver "$BIN/kube-apiserver" \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --client-ca-file="$PKI/ca.crt" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --profiling=false --v=1
  wait_daemon 120 kube-apiserver "kube-apiserver on https://$NODE_IP:$APISERVER_PORT" kubectl_admin get --raw=/readyz
}

start_controller_manager() {
  start_daemon kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --allocate-node-cidrs=false \
    --flex-volume-plugin-dir="$STATE/kubelet/volume-plugins" \
    --profiling=false --v=1
}

start_scheduler() {
  start_daemon kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false --profiling=false --v=1
}

# --- node ----------------------------------------------------------------------------------------------
CONTAINERD_SOCK=""
write_containerd_config() {
  CONTAINERD_SOCK="$STATE/containerd/containerd.sock"
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/cni/ipam"
  write_file "$STATE/containerd/config.toml" <<EOF
# containerd of the Ballast e2e cluster: its own root, state and socket, never Docker's.
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/$PAUSE_IMAGE"
  # The sandbox has no CAP_SYS_RESOURCE: runc may not lower a container's oom_score_adj.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$STATE/cni/net.d"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$STATE/containerd/runc"
EOF
  # bridge on this script's bridge, no gateway role (that would turn on machine-wide forwarding) and no
  # masquerading: pods reach each other, Services and the node, nothing else.
  write_file "$STATE/cni/net.d/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$SUBNET", "rangeStart": "$NET_PREFIX.10", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0", "gw": "$NODE_IP"}]
      }
    }
  ]
}
EOF
}

# ctr_k8s <seconds> <ctr args...>: ctr against the cluster's containerd (namespace k8s.io), bounded.
ctr_k8s() {
  local seconds=$1
  shift
  timeout "$seconds" ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"
}

start_containerd() {
  write_containerd_config
  start_daemon containerd containerd --config "$STATE/containerd/config.toml" --log-level warn
  wait_daemon 30 containerd "containerd on $CONTAINERD_SOCK" ctr_k8s 5 version
}

# import_tar <tar>: into the cluster's containerd (namespace k8s.io, where the kubelet looks).
import_tar() {
  ctr_k8s 600 images import "$1" >>"$STATE/logs/import.log" 2>&1 \
    || die "ctr images import $1 failed; see $STATE/logs/import.log"
}

import_cluster_images() {
  [[ -f $STATE/images-imported ]] && [[ $(cat "$STATE/images-imported") == "$IMAGES_TAR" ]] && return 0
  log "importing $(basename "$IMAGES_TAR") ($(du -h "$IMAGES_TAR" | cut -f1)) into containerd"
  import_tar "$IMAGES_TAR"
  echo "$IMAGES_TAR" >"$STATE/images-imported"
}

start_kubelet() {
  mkdir -p "$STATE/kubelet" "$STATE/pod-logs" "$STATE/kubelet/volume-plugins"
  write_file "$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
clusterDNS: [$DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
podLogsDir: $STATE/pod-logs
volumePluginDir: $STATE/kubelet/volume-plugins
oomScoreAdj: 0
failSwapOn: false
# The imported images are the only copies: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
rotateCertificates: false
serializeImagePulls: false
EOF
  start_daemon kubelet "$BIN/kubelet" --config="$STATE/kubelet.yaml" --kubeconfig="$STATE/kubelet.kubeconfig" \
    --root-dir="$STATE/kubelet" --cert-dir="$STATE/kubelet/pki" --node-ip="$NODE_IP" \
    --hostname-override="$NODE_NAME" --v=1
}

start_kube_proxy() {
  write_file "$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $SUBNET
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$NODE_IP/32"]
oomScoreAdj: 0
iptables:
  # true would set net.ipv4.conf.all.route_localnet=1 (NodePorts on 127.0.0.1).
  localhostNodePorts: false
  masqueradeAll: false
# 0: leave the machine's conntrack sysctls as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start_daemon kube-proxy "$BIN/kube-proxy" --config="$STATE/kube-proxy.yaml" --v=1
}

node_ready() {
  [[ $(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

# --- add-ons -------------------------------------------------------------------------------------------
deploy_addons() {
  local file out="$STATE/addons"
  rm -rf "$out"
  mkdir -p "$out" "$STATE/local-path"
  for file in "$RECIPE_DIR"/manifests/*.yaml; do
    sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" -e "s|@LOCAL_PATH_IMAGE@|$LOCAL_PATH_IMAGE|g" \
      -e "s|@METRICS_SERVER_IMAGE@|$METRICS_SERVER_IMAGE|g" -e "s|@BASE_IMAGE@|$BASE_IMAGE|g" \
      -e "s|@DNS_IP@|$DNS_IP|g" -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" \
      -e "s|@LOCAL_PATH_DIR@|$STATE/local-path|g" "$file" >"$out/${file##*/}"
  done
  kubectl_admin apply -f "$out" >"$STATE/logs/addons.log" 2>&1 || { cat "$STATE/logs/addons.log" >&2; die "kubectl apply of the add-ons failed"; }
}

deployment_available() {
  [[ $(kubectl_admin -n "$1" get deployment "$2" -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null) == True ]]
}

apiservice_available() {
  [[ $(kubectl_admin get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null) == True ]] \
    && kubectl_admin get --raw /apis/metrics.k8s.io/v1beta1/nodes >/dev/null 2>&1
}

# wait_cluster <seconds> <what> <command...>: waits while watching every daemon of the cluster.
wait_cluster() {
  local seconds=$1 what=$2 deadline name
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
      check_daemon "$name"
    done
    if ((SECONDS >= deadline)); then
      kubectl_admin get nodes,pods -A -o wide >&2 || true
      kubectl_admin get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2 || true
      die "$what: not ready within ${seconds}s; logs in $STATE/logs"
    fi
    sleep 1
  done
  log "$what: ready after $((SECONDS - deadline + seconds))s"
}

# --- env file ------------------------------------------------------------------------------------------
component_version() { "$@" 2>/dev/null | head -n 1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+[^ ]*' | head -n 1; }

write_env() {
  local tmp="$STATE/cluster.env.tmp"
  {
    echo "# Written by scripts/e2e/cluster.sh up; KEY='value' lines, values never hold a single quote."
    printf "BALLAST_E2E_CLUSTER_STATE='%s'\n" "$STATE"
    printf "KUBECONFIG='%s'\n" "$STATE/kubeconfig"
    printf "BALLAST_E2E_CLUSTER_KUBECTL='%s'\n" "$BIN/kubectl"
    printf "BALLAST_E2E_CLUSTER_SCRIPT='%s'\n" "$SCRIPT_DIR/cluster.sh"
    printf "BALLAST_E2E_CLUSTER_SERVER='%s'\n" "https://$NODE_IP:$APISERVER_PORT"
    printf "BALLAST_E2E_CLUSTER_NODE_NAME='%s'\n" "$NODE_NAME"
    printf "BALLAST_E2E_CLUSTER_NODE_IP='%s'\n" "$NODE_IP"
    printf "BALLAST_E2E_CLUSTER_POD_CIDR='%s'\n" "$SUBNET"
    printf "BALLAST_E2E_CLUSTER_SERVICE_CIDR='%s'\n" "$SERVICE_CIDR"
    printf "BALLAST_E2E_CLUSTER_DNS_IP='%s'\n" "$DNS_IP"
    printf "BALLAST_E2E_CLUSTER_DOMAIN='%s'\n" "$CLUSTER_DOMAIN"
    printf "BALLAST_E2E_CLUSTER_STORAGE_CLASS='local-path'\n"
    printf "BALLAST_E2E_CLUSTER_CONTAINERD_SOCKET='%s'\n" "$CONTAINERD_SOCK"
    printf "BALLAST_E2E_CLUSTER_BASE_IMAGE='%s'\n" "$BASE_IMAGE"
    printf "BALLAST_E2E_CLUSTER_KUBERNETES_VERSION='%s'\n" "$KUBERNETES_VERSION"
    printf "BALLAST_E2E_CLUSTER_ETCD_VERSION='%s'\n" "$ETCD_VERSION"
    printf "BALLAST_E2E_CLUSTER_CONTAINERD_VERSION='%s'\n" "$(component_version containerd --version)"
    printf "BALLAST_E2E_CLUSTER_RUNC_VERSION='%s'\n" "$(component_version runc --version)"
    printf "BALLAST_E2E_CLUSTER_CNI_PLUGINS_VERSION='%s'\n" "$(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null)"
    printf "BALLAST_E2E_CLUSTER_COREDNS_VERSION='%s'\n" "$COREDNS_VERSION"
    printf "BALLAST_E2E_CLUSTER_LOCAL_PATH_VERSION='%s'\n" "$LOCAL_PATH_VERSION"
    printf "BALLAST_E2E_CLUSTER_METRICS_SERVER_VERSION='%s'\n" "$METRICS_SERVER_VERSION"
  } >"$tmp"
  mv "$tmp" "$STATE/cluster.env"
}

# --- commands ------------------------------------------------------------------------------------------
preflight() {
  [[ $(id -u) == 0 ]] || die "run as root (it installs packages, creates a bridge and iptables rules, runs a kubelet)"
  [[ $SUBNET =~ ^([0-9]+\.){3}0/24$ ]] || die "BALLAST_E2E_CLUSTER_SUBNET must be a /24 ending in .0 (got $SUBNET)"
  [[ $SERVICE_CIDR =~ ^([0-9]+\.){2}0\.0/16$ ]] || die "BALLAST_E2E_CLUSTER_SERVICE_CIDR must be a /16 (got $SERVICE_CIDR)"
  if [[ ! -f $STATE/snapshot/done ]]; then
    local taken
    taken=$(ip -4 -o addr show | awk -v b="$BRIDGE" '$2 != b {print $4}' | grep -F "${NET_PREFIX}." || true)
    [[ -z $taken ]] && taken=$(ip -4 route show "$SUBNET" 2>/dev/null | grep -v "dev $BRIDGE" || true)
    [[ -z $taken ]] || die "$SUBNET is in use on this machine ($taken): set BALLAST_E2E_CLUSTER_SUBNET"
    local port
    for port in "127.0.0.1:$ETCD_PORT" "127.0.0.1:$ETCD_PEER_PORT" "127.0.0.1:10248" "127.0.0.1:10249" "127.0.0.1:10256"; do
      port_taken "${port%:*}" "${port#*:}" && die "port $port is taken (another cluster?): run \`$0 down\` or stop it"
    done
  fi
  return 0
}

cmd_up() {
  preflight
  mkdir -p "$STATE/logs" "$STATE/pids" "$CACHE"
  chmod 0700 "$STATE"
  : >"$STATE/timings"
  phase packages
  snapshot_machine
  install_packages
  unpack_etcd
  phase binaries
  build_binaries_locked
  phase images
  build_images
  phase network
  setup_network
  phase control-plane
  make_pki
  start_etcd
  start_apiserver
  start_controller_manager
  start_scheduler
  phase node
  start_containerd
  import_cluster_images
  start_kubelet
  start_kube_proxy
  wait_cluster 120 "node $NODE_NAME Ready" node_ready
  phase add-ons
  deploy_addons
  wait_cluster 180 "CoreDNS available" deployment_available kube-system coredns
  wait_cluster 180 "local-path-provisioner available" deployment_available local-path-storage local-path-provisioner
  wait_cluster 240 "metrics API (v1beta1.metrics.k8s.io) available" apiservice_available
  phase ""
  local name
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy; do
    check_daemon "$name"
  done
  write_env
  log "up: $KUBERNETES_VERSION node $NODE_NAME ($NODE_IP) Ready; KUBECONFIG=$STATE/kubeconfig; env in $STATE/cluster.env"
}

# unmount_under <dir>: every mount point at or below <dir>, deepest first (lazily when busy).
unmount_under() {
  local dir=$1 mnt
  [[ -d $dir ]] || return 0
  dir=$(realpath "$dir")
  while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || log "could not unmount $mnt"
  done < <(awk -v d="$dir" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print length(m), m }' \
    /proc/self/mountinfo | sort -rn | cut -d' ' -f2-)
}

# stop_containers: every container of the cluster's containerd, killed and removed (their shims end and
# unmount the root filesystems); the sandboxes' network namespaces are unmounted with the state directory.
stop_containers() {
  CONTAINERD_SOCK="$STATE/containerd/containerd.sock"
  pid_alive "$STATE/pids/containerd.pid" || return 0
  local id ids
  ids=$(ctr_k8s 20 tasks ls -q 2>/dev/null || true)
  for id in $ids; do
    ctr_k8s 10 tasks kill --signal SIGKILL "$id" >/dev/null 2>&1 || true
  done
  for id in $ids; do
    ctr_k8s 20 tasks delete --force "$id" >/dev/null 2>&1 || true
  done
  ids=$(ctr_k8s 20 containers ls -q 2>/dev/null || true)
  for id in $ids; do
    ctr_k8s 10 containers delete "$id" >/dev/null 2>&1 || true
  done
  [[ -n $ids ]] && log "removed $(wc -w <<<"$ids") containers"
  return 0
}

# Shims and container processes that outlived containerd (a crash): found by the pid files under the
# state directory, never by name.
kill_leftover_processes() {
  local file pid
  [[ -d $STATE/containerd/state ]] || return 0
  while read -r file; do
    pid=$(cat "$file" 2>/dev/null) || continue
    [[ $pid =~ ^[0-9]+$ ]] && kill -KILL "$pid" 2>/dev/null && log "killed leftover process $pid ($file)"
  done < <(find "$STATE/containerd/state" -name '*.pid' 2>/dev/null)
  return 0
}

remove_kube_chains() {
  local ipt table chain rule
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for table in filter nat mangle raw; do
      "$ipt" -w 5 -t "$table" -S >/dev/null 2>&1 || continue
      # Jumps into KUBE-* chains from chains that stay (INPUT, FORWARD, OUTPUT, PREROUTING, POSTROUTING).
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule's words, as iptables -S printed them
        eval "$ipt -w 5 -t $table -D ${rule#-A }" 2>/dev/null || true
      done < <("$ipt" -w 5 -t "$table" -S | grep -E '^-A [^ ]+ .*-j KUBE-' | grep -vE '^-A KUBE-' || true)
      for chain in $("$ipt" -w 5 -t "$table" -S | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        "$ipt" -w 5 -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$ipt" -w 5 -t "$table" -S | awk '$1 == "-N" && $2 ~ /^KUBE-/ {print $2}'); do
        "$ipt" -w 5 -t "$table" -X "$chain" 2>/dev/null || log "could not delete $ipt -t $table chain $chain"
      done
      # This script's own rules, by their comment.
      while read -r rule; do
        eval "$ipt -w 5 -t $table -D ${rule#-A }" 2>/dev/null || true
      done < <("$ipt" -w 5 -t "$table" -S | grep -E "^-A .*--comment \"?$RULE_COMMENT\"? " || true)
    done
  done
}

restore_sysctls() {
  local line name value now
  [[ -f $STATE/snapshot/sysctl ]] || return 0
  while IFS= read -r line; do
    name=${line%%=*}
    value=${line#*=}
    now=$(sysctl -n "$name" 2>/dev/null | tr '\t' ' ') || continue
    if [[ $now != "$value" ]]; then
      if sysctl -qw "$name=$value" 2>/dev/null; then log "restored $name=$value (was $now)"
      else log "could not restore $name=$value"; fi
    fi
  done <"$STATE/snapshot/sysctl"
}

# Directories the kubelet, containerd and the CNI library write outside the state directory: removed when
# they did not exist before `up`; otherwise only what this cluster put there goes.
restore_paths() {
  local path
  [[ -f $STATE/snapshot/paths ]] || return 0
  if [[ -d /var/log/containers ]]; then
    find /var/log/containers -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true
  fi
  if [[ -d /var/lib/cni/results ]]; then
    find /var/lib/cni/results -maxdepth 1 -name "$CNI_NETWORK-*" -delete 2>/dev/null || true
  fi
  for path in "${FOREIGN_PATHS[@]}"; do
    if [[ -e $path ]] && ! grep -qxF "$path" "$STATE/snapshot/paths"; then
      unmount_under "$path"
      rm -rf "$path"
      log "removed $path (created while the cluster ran)"
    fi
  done
  remove_new_empty_dirs
}

# remove_new_empty_dirs: the SHARED_PATHS that did not exist before `up`, if nothing but empty directories
# is left in them (and Docker's key.json in /etc/docker when no Docker engine answers).
remove_new_empty_dirs() {
  local path
  [[ -f $STATE/snapshot/paths ]] || return 0
  for path in "${SHARED_PATHS[@]}"; do
    [[ -d $path ]] || continue
    grep -qxF "$path" "$STATE/snapshot/paths" && continue
    if [[ $path == /etc/docker ]] && ! docker_at "$DOCKER_SOCK"; then rm -f /etc/docker/key.json; fi
    find "$path" -depth -type d -empty -delete 2>/dev/null || true
    [[ -d $path ]] || log "removed $path (created while the cluster ran)"
  done
  return 0
}

remove_cgroups() {
  local dir
  for dir in /sys/fs/cgroup/*/kubepods; do
    [[ -d $dir ]] || continue
    grep -qxF "$dir" "$STATE/snapshot/cgroups" 2>/dev/null && continue
    # Deepest first; a cgroup directory is removed with rmdir (its files are not files).
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ -d $dir ]] && log "could not remove cgroup $dir (processes left in it?)"
  done
  return 0
}

cmd_down() {
  [[ $(id -u) == 0 ]] || die "run as root"
  local t0=$SECONDS
  if [[ ! -d $STATE ]]; then
    ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE" && log "removed bridge $BRIDGE"
    log "down: nothing to do (no $STATE)"
    return 0
  fi
  # The node first (no new containers), then the containers, then the control plane.
  stop_daemons 20 kubelet kube-proxy
  stop_containers
  stop_daemons 20 containerd
  kill_leftover_processes
  stop_daemons 30 kube-scheduler kube-controller-manager kube-apiserver
  stop_daemons 10 etcd
  stop_build_docker
  unmount_under "$STATE"
  # Machine-wide state only when `up` recorded it (and so found no other Kubernetes here).
  if [[ -f $STATE/snapshot/done ]]; then
    remove_cgroups
    remove_kube_chains
  fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link del "$BRIDGE"
    log "removed bridge $BRIDGE"
  fi
  if [[ -f $STATE/snapshot/done ]]; then
    restore_sysctls
    restore_paths
  fi
  rm -rf "$STATE"
  log "down in $((SECONDS - t0))s"
}

cmd_status() {
  local rc=0 name
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy dockerd; do
    if pid_alive "$STATE/pids/$name.pid"; then echo "$name: running (pid $(cat "$STATE/pids/$name.pid"))"
    elif [[ $name != dockerd ]]; then echo "$name: not running"; rc=1; fi
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then echo "bridge $BRIDGE: $(ip -4 -o addr show "$BRIDGE" | awk '{print $4}')"
  else echo "bridge $BRIDGE: absent"; fi
  if [[ -f $STATE/cluster.env ]]; then
    sed -n "s/^\([A-Z0-9_]*\)=/  \1=/p" "$STATE/cluster.env"
    # shellcheck disable=SC1091
    BIN=$(dirname "$(. "$STATE/cluster.env"; echo "$BALLAST_E2E_CLUSTER_KUBECTL")")
    if pid_alive "$STATE/pids/kube-apiserver.pid"; then
      kubectl_admin get nodes -o wide || rc=1
      kubectl_admin get pods -A -o wide || rc=1
    fi
  else
    echo "cluster.env: absent (not up)"
    rc=1
  fi
  return "$rc"
}

cmd_import_image() {
  [[ $(id -u) == 0 ]] || die "run as root"
  (($# > 0)) || die "usage: $0 import-image <image ref or .tar>..."
  CONTAINERD_SOCK="$STATE/containerd/containerd.sock"
  pid_alive "$STATE/pids/containerd.pid" || die "the cluster does not run: $0 up first"
  mkdir -p "$STATE/logs" "$STATE/tmp"
  local ref tar
  for ref in "$@"; do
    if [[ $ref == *.tar ]]; then
      [[ -f $ref ]] || die "no such file: $ref"
      import_tar "$ref"
    else
      DOCKER_HOST_SOCK=$DOCKER_SOCK
      docker_at "$DOCKER_SOCK" || die "no Docker engine answers on $DOCKER_SOCK to save $ref from (scripts/e2e/host.sh up)"
      tar=$(mktemp "$STATE/tmp/image.XXXXXX.tar")
      dk 600 save -o "$tar" "$ref" || { rm -f "$tar"; die "docker save $ref failed"; }
      import_tar "$tar"
      rm -f "$tar"
    fi
    log "imported $ref"
  done
}

case "${1:-}" in
  up) cmd_up ;;
  build) cmd_build ;;
  down) cmd_down ;;
  status) cmd_status ;;
  import-image) shift; cmd_import_image "$@" ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
