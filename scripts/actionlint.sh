#!/usr/bin/env bash
# Lint the GitHub workflows in .github/workflows/ with actionlint, offline.
#
# actionlint is built once from source with `go install` (through the Go
# module proxy) into a versioned cache OUTSIDE the repository and reused on
# every later run, so a second run takes seconds:
#
#   ${BALLAST_CACHE:-$HOME/.cache/ballast}/actionlint/<version>/actionlint
#
# When shellcheck is on PATH, actionlint also lints every `run:` block with
# it. Under CI (CI=true) a missing shellcheck is an error, so a CI machine
# that lacks it cannot pass silently; locally it is a warning.
#
# Usage: bash scripts/actionlint.sh [extra actionlint flags...]
# Checks, in order:
#   1. actionlint on .github/workflows/*.y{a,}ml, from the repository root;
#   2. every third-party action pinned to a 40-hex commit SHA + `# vX.Y.Z`;
#   3. actionlint again with each pin read as its major tag, so the inputs of
#      actions actionlint knows (actions/checkout@v5, ...) are checked too.
# Exit status: actionlint's own when check 1 fails (1 = problems found,
# >1 = actionlint failed); else 1 when check 2 or 3 fails; 2 when actionlint
# cannot be built or there is nothing to lint; 0 when all is clean.
set -euo pipefail

readonly ACTIONLINT_VERSION="v1.7.12"
readonly ACTIONLINT_MODULE="github.com/rhysd/actionlint/cmd/actionlint"

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd -- "${script_dir}/.." && pwd -P)"

cache_root="${BALLAST_CACHE:-${HOME:?HOME is not set}/.cache/ballast}"
if [[ "${cache_root}" != /* ]]; then
  cache_root="${PWD}/${cache_root}"
fi
bin_dir="${cache_root}/actionlint/${ACTIONLINT_VERSION}"
bin="${bin_dir}/actionlint"

log() { printf 'actionlint.sh: %s\n' "$*" >&2; }

# The cache must live outside the work tree: a binary under the repo would be
# picked up by `git add -A` and by other tools that walk the tree.
case "${bin_dir}/" in
  "${repo_root}/"*)
    log "BALLAST_CACHE (${cache_root}) is inside the repository; point it elsewhere"
    exit 2
    ;;
esac

# A cached binary is reused only when it reports the pinned version, so a
# corrupt or foreign file in the cache is rebuilt rather than trusted.
cached_version_ok() {
  [[ -x "${bin}" ]] || return 1
  local reported
  reported="$("${bin}" -version 2>/dev/null)" || return 1
  reported="${reported%%$'\n'*}"
  [[ "${reported}" == "${ACTIONLINT_VERSION}" ]]
}

stage_dir=""
cleanup_stage() {
  if [[ -n "${stage_dir}" ]]; then
    rm -rf -- "${stage_dir}"
  fi
}
trap cleanup_stage EXIT

build_actionlint() {
  if ! command -v go >/dev/null 2>&1; then
    log "Go is needed to build actionlint ${ACTIONLINT_VERSION} and is not on PATH"
    exit 2
  fi
  mkdir -p "${cache_root}/actionlint"
  # Build into a private directory, then rename into place: an interrupted
  # or concurrent build never leaves a half-written binary at ${bin}.
  stage_dir="$(mktemp -d "${cache_root}/actionlint/.build.XXXXXX")"

  log "building actionlint ${ACTIONLINT_VERSION} into ${bin_dir} (first run only)"
  local started=${SECONDS}
  # Run from the stage dir so no go.mod of the caller's tree is consulted.
  if ! (
    cd -- "${stage_dir}"
    GOBIN="${stage_dir}" nice -n 10 \
      go install -trimpath "${ACTIONLINT_MODULE}@${ACTIONLINT_VERSION}"
  ); then
    log "go install ${ACTIONLINT_MODULE}@${ACTIONLINT_VERSION} failed"
    exit 2
  fi
  mkdir -p "${bin_dir}"
  mv -f -- "${stage_dir}/actionlint" "${bin}"
  cleanup_stage
  stage_dir=""
  log "built in $((SECONDS - started))s"
}

if cached_version_ok; then
  :
else
  build_actionlint
  if ! cached_version_ok; then
    log "the built binary at ${bin} does not report ${ACTIONLINT_VERSION}"
    exit 2
  fi
fi

if ! command -v shellcheck >/dev/null 2>&1; then
  if [[ "${CI:-}" == "true" ]]; then
    log "shellcheck is not on PATH: install it (apt-get install -y shellcheck) so run: blocks are checked"
    exit 2
  fi
  log "warning: shellcheck is not on PATH, so run: blocks are NOT checked"
fi

cd -- "${repo_root}"
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
shopt -u nullglob
if ((${#workflows[@]} == 0)); then
  log "no workflow files under .github/workflows/"
  exit 2
fi

# 1. actionlint on the workflow files as they are. Its status is ours when
#    it finds anything.
status=0
"${bin}" "$@" "${workflows[@]}" || status=$?
if ((status != 0)); then
  exit "${status}"
fi

# 2. Pin policy: every action that is not local (./) or a docker:// image is
#    pinned to a full-length commit SHA, followed by a `# vX.Y.Z` comment
#    naming the release, e.g.
#      - uses: actions/checkout@<40 hex digits> # v5.0.0
pin_errors=0
uses_re='^[[:space:]]*(-[[:space:]]+)?uses:[[:space:]]*([^[:space:]#]+)(.*)$'
for file in "${workflows[@]}"; do
  n=0
  while IFS= read -r line || [[ -n "${line}" ]]; do
    n=$((n + 1))
    [[ "${line}" =~ ${uses_re} ]] || continue
    ref="${BASH_REMATCH[2]}"
    rest="${BASH_REMATCH[3]}"
    ref="${ref//\"/}"
    ref="${ref//\'/}"
    case "${ref}" in
      ./* | docker://*) continue ;;
    esac
    if [[ ! "${ref}" =~ @[0-9a-f]{40}$ ]]; then
      printf '%s:%d: %s is not pinned to a full-length commit SHA [pin]\n' "${file}" "${n}" "${ref}"
      pin_errors=1
    elif [[ ! "${rest}" =~ ^[[:space:]]+\#[[:space:]]*v[0-9] ]]; then
      printf '%s:%d: %s has no "# vX.Y.Z" comment naming its release [pin]\n' "${file}" "${n}" "${ref}"
      pin_errors=1
    fi
  done <"${file}"
done

# 3. actionlint knows the inputs of popular actions by tag (actions/checkout@v5)
#    but not by commit SHA, so the pins above hide `with:` typos from it. Lint
#    once more with each `@<sha> # vX.Y.Z` read as `@vX` (lines unchanged, so
#    reported positions are the real ones).
input_errors=0
for file in "${workflows[@]}"; do
  sed -E 's/^([[:space:]]*(-[[:space:]]+)?uses:[[:space:]]*[^@[:space:]#]+)@[0-9a-f]{40}([[:space:]]+#[[:space:]]*(v[0-9]+)[^[:space:]]*)/\1@\4\3/' "${file}" |
    "${bin}" "$@" -stdin-filename "${file}" - || input_errors=1
done

if ((pin_errors != 0 || input_errors != 0)); then
  exit 1
fi
