#!/usr/bin/env bash
# The end-to-end suite's test tools, built from the Go module proxy (no binary can be downloaded
# here) and cached. See docs/e2e.md ("Test tools").
#
# Usage: scripts/e2e/tools.sh build|env|status|prune
#
#   build   build what is missing (each group once per key), nothing on stdout
#   env     build what is missing, then print KEY='value' lines: BALLAST_E2E_TRAEFIK,
#           BALLAST_E2E_TRAEFIK_VERSION, BALLAST_E2E_PEBBLE, BALLAST_E2E_CHALLTESTSRV,
#           BALLAST_E2E_VEGETA (absolute paths of the binaries, the Traefik version built)
#   status  print each group's key, whether it is built, and its recorded build time and peak RSS
#   prune   delete cached tool builds of other keys (older versions, older recipes)
#
# Groups, each a wrapper Go module under scripts/e2e/tools/<group>/ whose go.mod and go.sum are the
# source of truth (copied into the cache and built with -mod=readonly, never tidied here):
#   traefik    github.com/traefik/traefik/v3 ./cmd/traefik
#   acme-load  github.com/letsencrypt/pebble/v2 cmd/pebble and cmd/pebble-challtestsrv, and
#              github.com/tsenart/vegeta/v12, in one `go build` (they share one module graph)
#
# Cache: ${BALLAST_CACHE:-~/.cache/ballast}/e2e/tools/<key>/ with bin/, src/ (the wrapper module),
# build.log, stats and OK. <key> = the group's module versions, the Go version and a hash of the
# wrapper module's files and this script's RECIPE_REV; OK is written only after the build and a
# smoke run of every binary succeeded, and a key without OK is rebuilt from scratch.
# Builds run with GOTOOLCHAIN=local, `nice -n 10` and a time bound; one build at a time (flock).
#
# Environment:
#   BALLAST_CACHE                   cache root (default ~/.cache/ballast)
#   BALLAST_E2E_TOOLS_BUILD_TIMEOUT seconds one group's build may take (default 3600)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODULES_DIR="$SCRIPT_DIR/tools"
# Bump when the build recipe changes in a way that must invalidate cached binaries.
RECIPE_REV=1
CACHE="${BALLAST_CACHE:-$HOME/.cache/ballast}/e2e/tools"
BUILD_TIMEOUT="${BALLAST_E2E_TOOLS_BUILD_TIMEOUT:-3600}"
GROUPS_ALL=(traefik acme-load)

export GOTOOLCHAIN=local

started=$SECONDS
log() { printf 'e2e-tools: [%3ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
die() { printf 'e2e-tools: ERROR: %s\n' "$*" >&2; exit 1; }

# --- what each group builds ----------------------------------------------------------------------------
# group_packages <group>: the main packages, one per line.
group_packages() {
  case $1 in
    traefik) echo github.com/traefik/traefik/v3/cmd/traefik ;;
    acme-load)
      printf '%s\n' github.com/letsencrypt/pebble/v2/cmd/pebble github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv \
        github.com/tsenart/vegeta/v12
      ;;
    *) die "unknown tool group $1" ;;
  esac
}

# group_binaries <group>: the binaries `go build -o DIR/` writes, one per line.
group_binaries() {
  case $1 in
    traefik) echo traefik ;;
    acme-load) printf '%s\n' pebble pebble-challtestsrv vegeta ;;
  esac
}

# module_version <group> <module path>: the version the wrapper's go.mod requires.
module_version() {
  local version
  version=$(awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' \
    "$MODULES_DIR/$1/go.mod")
  [[ -n $version ]] || die "$MODULES_DIR/$1/go.mod does not require $2"
  printf '%s' "$version"
}

# group_versions <group>: "name-version" words for the key.
group_versions() {
  case $1 in
    traefik) printf 'traefik-%s' "$(module_version traefik github.com/traefik/traefik/v3)" ;;
    acme-load)
      printf 'pebble-%s_vegeta-%s' "$(module_version acme-load github.com/letsencrypt/pebble/v2)" \
        "$(module_version acme-load github.com/tsenart/vegeta/v12)"
      ;;
  esac
}

# group_ldflags <group>: version stamps, as upstream's release builds set them.
group_ldflags() {
  case $1 in
    traefik)
      printf -- '-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=%s -X github.com/traefik/traefik/v3/pkg/version.BuildDate=ballast-e2e' \
        "$(module_version traefik github.com/traefik/traefik/v3)"
      ;;
    acme-load)
      printf -- '-s -w -X main.Version=%s' "$(module_version acme-load github.com/tsenart/vegeta/v12)"
      ;;
  esac
}

# smoke_check <group> <bin dir>: every binary starts and names its version.
smoke_check() {
  local dir=$2 out
  case $1 in
    traefik)
      out=$(timeout 30 "$dir/traefik" version 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
      grep -q "$(module_version traefik github.com/traefik/traefik/v3)" <<<"$out" || { printf '%s\n' "$out" >&2; return 1; }
      ;;
    acme-load)
      timeout 30 "$dir/pebble" -version >/dev/null 2>&1 || return 1
      # pebble-challtestsrv has no version flag: -h prints its usage and exits 0 or 2.
      out=$(timeout 30 "$dir/pebble-challtestsrv" -h 2>&1) || true
      grep -q -- '-dnsserver' <<<"$out" || { printf '%s\n' "$out" >&2; return 1; }
      timeout 30 "$dir/vegeta" -version >/dev/null 2>&1 || return 1
      ;;
  esac
}

group_key() {
  local group=$1 hash go_version
  go_version=$(go env GOVERSION 2>/dev/null) || die "no Go toolchain on PATH (the tools are built from Go modules)"
  hash=$( {
    echo "rev=$RECIPE_REV"
    (cd "$MODULES_DIR/$group" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-10)
  printf '%s_%s_%s' "$(group_versions "$group")" "$go_version" "$hash"
}

group_ok() {
  local dir=$1 group=$2 bin
  [[ -f $dir/OK ]] || return 1
  while read -r bin; do [[ -x $dir/bin/$bin ]] || return 1; done < <(group_binaries "$group")
}

# build_group <group>: builds into $CACHE/<key>/ unless that key is already OK.
build_group() {
  local group=$1 key dir part rc=0 t0 packages=()
  key=$(group_key "$group")
  dir="$CACHE/$key"
  group_ok "$dir" "$group" && return 0
  mapfile -t packages < <(group_packages "$group")
  log "building $group ($key): ${packages[*]}"
  rm -rf "$dir"
  mkdir -p "$dir/src"
  cp -R "$MODULES_DIR/$group/." "$dir/src/"
  [[ -f $dir/src/go.sum ]] || die "$MODULES_DIR/$group/go.sum is missing: run \`go mod tidy\` in that directory and commit go.sum"
  part="$dir/bin.part"
  mkdir -p "$part"
  local -a timer=()
  # Peak RSS and wall time of the build go to $dir/stats when GNU time is installed.
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f 'wall_seconds=%e max_rss_kib=%M' -o "$dir/stats")
  t0=$SECONDS
  (cd "$dir/src" && timeout "$BUILD_TIMEOUT" ${timer[@]+"${timer[@]}"} nice -n 10 \
      go build -mod=readonly -trimpath -ldflags "$(group_ldflags "$group")" -o "$part/" "${packages[@]}") \
    >"$dir/build.log" 2>&1 || rc=$?
  if ((rc != 0)); then
    tail -n 15 "$dir/build.log" >&2 || true
    ((rc == 124)) && die "go build of $group took over ${BUILD_TIMEOUT}s (BALLAST_E2E_TOOLS_BUILD_TIMEOUT); see $dir/build.log"
    die "go build of $group failed (exit $rc); see $dir/build.log"
  fi
  smoke_check "$group" "$part" || die "a freshly built $group binary in $part does not run; see above"
  mv "$part" "$dir/bin"
  [[ -f $dir/stats ]] || printf 'wall_seconds=%s max_rss_kib=unknown\n' "$((SECONDS - t0))" >"$dir/stats"
  printf 'built %s %s\n' "$key" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dir/OK"
  log "built $group in $((SECONDS - t0))s ($(cat "$dir/stats")); $dir/bin"
}

# One build at a time: host.sh up and a developer's run may ask at once.
with_lock() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    log "another tools.sh holds $CACHE/.lock: waiting (at most ${BUILD_TIMEOUT}s)"
    flock -w "$BUILD_TIMEOUT" 9 || die "another tools.sh still holds $CACHE/.lock after ${BUILD_TIMEOUT}s"
  fi
}

build_all() {
  local group
  with_lock
  for group in "${GROUPS_ALL[@]}"; do build_group "$group"; done
}

cmd_env() {
  local traefik_dir acme_dir
  build_all
  traefik_dir="$CACHE/$(group_key traefik)/bin"
  acme_dir="$CACHE/$(group_key acme-load)/bin"
  printf "BALLAST_E2E_TRAEFIK='%s'\n" "$traefik_dir/traefik"
  printf "BALLAST_E2E_TRAEFIK_VERSION='%s'\n" "$(module_version traefik github.com/traefik/traefik/v3)"
  printf "BALLAST_E2E_PEBBLE='%s'\n" "$acme_dir/pebble"
  printf "BALLAST_E2E_CHALLTESTSRV='%s'\n" "$acme_dir/pebble-challtestsrv"
  printf "BALLAST_E2E_VEGETA='%s'\n" "$acme_dir/vegeta"
}

cmd_status() {
  local group key dir rc=0
  for group in "${GROUPS_ALL[@]}"; do
    key=$(group_key "$group")
    dir="$CACHE/$key"
    if group_ok "$dir" "$group"; then
      echo "$group: built ($dir) $(cat "$dir/stats" 2>/dev/null || true)"
    else
      echo "$group: not built (key $key)"
      rc=1
    fi
  done
  return "$rc"
}

cmd_prune() {
  local keep=" " group entry
  for group in "${GROUPS_ALL[@]}"; do keep+="$(group_key "$group") "; done
  [[ -d $CACHE ]] || return 0
  with_lock
  for entry in "$CACHE"/*/; do
    [[ -d $entry ]] || continue
    entry=$(basename "$entry")
    [[ $keep == *" $entry "* ]] && continue
    rm -rf "${CACHE:?}/$entry"
    log "pruned $entry"
  done
}

case "${1:-}" in
  build) build_all ;;
  env) cmd_env ;;
  status) cmd_status ;;
  prune) cmd_prune ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
