#!/usr/bin/env bash
# Build the Pulumi engine toolchain (CLI, Node.js language host, provider plugins) from Go modules,
# because no Pulumi binary can be downloaded on these machines. See docs/toolchain.md.
#
# Usage: scripts/toolchain.sh [--only PARTS] [--check] [--smoke] [--retry-failed] [--force] [--strict] [--prune] [--quiet]
#
#   (no option)      build what is missing, install it into PULUMI_HOME, write the env file
#   --only PARTS     comma-separated subset of: cli,nodejs,dynamic,command,random,kubernetes,docker,standins
#   --check          build nothing: exit 0 only if every selected part already has a cached result
#                    (a binary, or a recorded "not buildable" verdict), the CLI is cached and it is
#                    installed (PULUMI_HOME/bin/pulumi and the env file exist)
#   --smoke          after installing, deploy a tiny stack with the Automation API (inline program run by
#                    tsx, scripts/toolchain/smoke.ts): random.RandomPassword + command.local.Command + a
#                    dynamic resource; preview --expect-no-changes; preview with a policy pack whose policy
#                    config makes it refuse the password; destroy. A provider that is not installed is left out.
#   --retry-failed   try again the parts recorded as "not buildable" (verdicts are cached like binaries)
#   --force          rebuild the selected parts even if cached
#   --strict         exit non-zero when any selected part is unavailable, not only the CLI
#   --prune          delete the cached results of other keys (older versions, older recipes) and the
#                    provider plugins in PULUMI_HOME at versions other than the current pins
#   --quiet          print only failures and the final export line
#
# Exit status: 0 when the CLI is available (other parts may have failed: each failure is reported with
# the exact module@version and error line); 1 when the CLI is not available; 2 on a usage error;
# 3 when --smoke failed; 4 with --strict when a part other than the CLI is unavailable.
#
# Environment:
#   BALLAST_CACHE                    cache root (default ~/.cache/ballast); results go to $BALLAST_CACHE/toolchain/<key>
#   PULUMI_HOME                      where to install (default $BALLAST_CACHE/pulumi-home)
#   BALLAST_PULUMI_CLI_VERSION       CLI version to build (default 3.276.0, matching @pulumi/pulumi in package.json)
#   BALLAST_<NAME>_VERSION           provider plugin version for NAME in COMMAND RANDOM KUBERNETES DOCKER
#                                    (default: the exact pin of @pulumi/<name> in package.json)
#   BALLAST_TOOLCHAIN_STANDINS=0     do not install Ballast's stand-in random/command providers when the
#                                    real provider could not be built (see docs/toolchain.md)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
BUILD_DIR="$SCRIPT_DIR/toolchain"
# Bump when the build recipe changes in a way that must invalidate cached binaries.
RECIPE_REV=3

CACHE_ROOT="${BALLAST_CACHE:-$HOME/.cache/ballast}"
PULUMI_HOME="${PULUMI_HOME:-$CACHE_ROOT/pulumi-home}"
ENV_FILE="$CACHE_ROOT/toolchain.env"
CLI_VERSION="${BALLAST_PULUMI_CLI_VERSION:-3.276.0}"
CLI_VERSION="${CLI_VERSION#v}"
ALL_PARTS="cli nodejs dynamic command random kubernetes docker standins"
PROVIDERS="command random kubernetes docker"

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

only=""
check=0
smoke=0
retry=0
force=0
strict=0
quiet=0
prune=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while (($#)); do
  case "$1" in
    --only) only="${2:-}"; shift 2 || { usage >&2; exit 2; } ;;
    --only=*) only="${1#--only=}"; shift ;;
    --check) check=1; shift ;;
    --smoke) smoke=1; shift ;;
    --retry-failed) retry=1; shift ;;
    --force) force=1; shift ;;
    --strict) strict=1; shift ;;
    --quiet) quiet=1; shift ;;
    --prune) prune=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "toolchain: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

selected="$ALL_PARTS"
if [[ -n "$only" ]]; then
  selected="${only//,/ }"
  for p in $selected; do
    [[ " $ALL_PARTS " == *" $p "* ]] || { echo "toolchain: unknown part '$p' (parts: $ALL_PARTS)" >&2; exit 2; }
  done
fi
is_selected() { [[ " $selected " == *" $1 "* ]]; }

log() { ((quiet)) || echo "toolchain: $*" >&2; }
# Keep registry host names out of reports: print "<proxy>" instead of the URL's host.
redact() { sed -E 's#https?://[^/ ]+#<proxy>#g'; }
# The line of a go command's output that says what went wrong.
error_line() {
  local f="$1" line
  line="$(grep -m1 -E '^go: .*(403|404|410|not available|not found|invalid|unknown revision|cannot find|no matching|missing)' "$f" || true)"
  [[ -n "$line" ]] || line="$(grep -m1 -E '(^go: |: undefined:|cannot use|error:|\.go:[0-9]+:[0-9]+: )' "$f" || true)"
  [[ -n "$line" ]] || line="$(grep -v '^go: downloading' "$f" | grep -m1 . || true)"
  [[ -n "$line" ]] || line="(no output)"
  printf '%s\n' "$line" | redact | cut -c1-400
}

# The "Error" of `go mod download -json` output, on one line.
json_error() {
  node -e '
    let e = "";
    try { e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Error || ""; } catch {}
    if (e) console.log("go: " + e.replace(/\s*\n\s*/g, " -- "));
  ' "$1"
}

# --- versions -------------------------------------------------------------------------------------
npm_pin() { # exact version of a dependency in package.json, without ^ ~ or v
  node -e '
    const p = require(process.argv[1]);
    const v = (p.dependencies || {})[process.argv[2]] || (p.devDependencies || {})[process.argv[2]] || "";
    process.stdout.write(v.replace(/^[\^~=v]+/, ""));
  ' "$REPO_ROOT/package.json" "$1"
}
provider_version() { # $1 = command|random|kubernetes|docker
  local var v
  var="BALLAST_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_VERSION"
  v="${!var:-}"
  [[ -n "$v" ]] || v="$(npm_pin "@pulumi/$1")"
  printf '%s' "${v#v}"
}
# Module holding the provider's main package for a plugin version (semantic import versioning: /vN for N>=2).
provider_module() { # $1 name $2 version
  local major="${2%%.*}" suffix=""
  ((major >= 2)) && suffix="/v$major"
  printf 'github.com/pulumi/pulumi-%s/provider%s' "$1" "$suffix"
}

go_version="$(go env GOVERSION 2>/dev/null || echo nogo)"
declare -A VERSION
VERSION[cli]="$CLI_VERSION"
VERSION[nodejs]="$CLI_VERSION"
VERSION[dynamic]="$CLI_VERSION"
VERSION[standins]="$CLI_VERSION"
for p in $PROVIDERS; do VERSION[$p]="$(provider_version "$p")"; done

recipe_hash="$( { echo "rev=$RECIPE_REV"; find "$BUILD_DIR" -type f \( -name '*.go' -o -name 'go.mod' -o -name 'pulumi-*' \) \
  -print0 2>/dev/null \
  | sort -z | xargs -0 -r cat; } | sha256sum | cut -c1-10)"
KEY="pulumi-${CLI_VERSION}_command-${VERSION[command]}_random-${VERSION[random]}_kubernetes-${VERSION[kubernetes]}"
KEY+="_docker-${VERSION[docker]}_${go_version}_${recipe_hash}"
KEYDIR="$CACHE_ROOT/toolchain/$KEY"

# --- part state: $KEYDIR/<part>/{bin/, OK, FAILED} --------------------------------------------------
part_dir() { printf '%s/%s' "$KEYDIR" "$1"; }
part_ok() { [[ -f "$(part_dir "$1")/OK" ]]; }
part_failed() { [[ -f "$(part_dir "$1")/FAILED" ]]; }
part_reason() { cat "$(part_dir "$1")/FAILED" 2>/dev/null || true; }
mark_ok() { local d; d="$(part_dir "$1")"; rm -f "$d/FAILED"; printf '%s\n' "$2" >"$d/OK"; }
mark_failed() { # $1 part, $2 reason (one line)
  local d; d="$(part_dir "$1")"; mkdir -p "$d"; rm -f "$d/OK"
  printf '%s\n' "$2" >"$d/FAILED"
  log "FAILED $1: $2"
}
needs_build() { # $1 part: 0 if it should be (re)built now
  ((force)) && return 0
  part_ok "$1" && return 1
  part_failed "$1" && ((!retry)) && return 1
  return 0
}

# --- building from Go modules ---------------------------------------------------------------------
gocmd() { nice -n 10 go "$@"; }

# build_from_module PART BINARY MODULE VERSION MAINPKG VERSIONVAR=VALUE [COMPANION@VERSION ...]
# Writes a build module of our own that requires MODULE@VERSION (and the companions its go.mod replaces
# with local paths), repeats MODULE's non-local replace lines, tidies it and builds MAINPKG.
build_from_module() {
  local part="$1" bin="$2" module="$3" version="$4" mainpkg="$5" versionflag="$6"
  shift 6
  local companions=("$@")
  local d work out
  d="$(part_dir "$part")"
  work="$d/work"
  rm -rf "$d"
  mkdir -p "$work" "$d/bin"
  log "building $part: $mainpkg from $module@$version"

  # Ask the proxy only (not `direct`, which cannot reach any VCS host here and would hide its answer).
  local proxy
  proxy="$(go env GOPROXY)"
  [[ "$proxy" == *,* || "$proxy" == *"|"* ]] && proxy="$(sed -E 's/[,|](direct|off)$//' <<<"$proxy")"
  if ! (cd "$work" && GOPROXY="$proxy" go mod download -json "$module@$version") >"$work/download.json" \
      2>"$work/download.err"; then
    json_error "$work/download.json" >>"$work/download.err"
    mark_failed "$part" "module $module@$version not served: $(error_line "$work/download.err")"
    return 1
  fi
  local modfile
  modfile="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).GoMod||"")' \
    "$work/download.json")"

  # Our build module: go line and replace lines taken from the module's own go.mod.
  local edits
  edits="$(go mod edit -json "$modfile" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0));
    const companions = new Set(process.argv.slice(1).map((c) => c.split("@")[0]));
    const out = ["go " + (j.Go || "1.25")];
    for (const r of j.Replace || []) {
      const old = r.Old.Path + (r.Old.Version ? "@" + r.Old.Version : "");
      if (r.New.Version) out.push("replace " + old + "=" + r.New.Path + "@" + r.New.Version);
      else if (!companions.has(r.Old.Path)) out.push("local " + old + "=>" + r.New.Path);
    }
    console.log(out.join("\n"));
  ' "${companions[@]}")"
  local local_repl
  local_repl="$(grep '^local ' <<<"$edits" | sed 's/^local //' | paste -sd ';' - || true)"
  if [[ -n "$local_repl" ]]; then
    mark_failed "$part" "$module@$version replaces modules with local directories that are not published: $local_repl"
    return 1
  fi

  # A main package that embeds files its release generates (not carried by the module) is copied
  # into the build module and its files generated there, by a hook named local_main_<part>.
  local hook="local_main_$part"
  if declare -F "$hook" >/dev/null; then
    local moddir
    moddir="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).Dir||"")' \
      "$work/download.json")"
    if ! "$hook" "$moddir/${mainpkg#"$module"/}" "$work/main" >"$work/generate.log" 2>&1; then
      mark_failed "$part" "generating the main package of $module@$version failed: $(error_line "$work/generate.log")"
      return 1
    fi
    mainpkg=./main
  fi

  (
    cd "$work"
    printf 'module ballast.local/toolchain/%s\n' "$part" >go.mod
    go mod edit -go="$(sed -n 's/^go //p' <<<"$edits")"
    go mod edit -require="$module@$version"
    local c
    for c in "${companions[@]}"; do go mod edit -require="$c"; done
    local r
    while read -r r; do [[ -n "$r" ]] && go mod edit -replace="$r"; done < <(sed -n 's/^replace //p' <<<"$edits")
    [[ "$mainpkg" == ./* ]] || go mod edit -tool="$mainpkg"
  )
  if ! (cd "$work" && gocmd mod tidy) >"$work/tidy.log" 2>&1; then
    mark_failed "$part" "go mod tidy for $module@$version failed: $(error_line "$work/tidy.log")"
    return 1
  fi
  out="$d/bin/$bin"
  if ! (cd "$work" && gocmd build -trimpath -ldflags "-s -w -X $versionflag" -o "$out" "$mainpkg") \
      >"$work/build.log" 2>&1; then
    mark_failed "$part" "go build $mainpkg ($module@$version) failed: $(error_line "$work/build.log")"
    return 1
  fi
  mark_ok "$part" "$module@$version"
  log "built $part -> $out"
}

build_cli() {
  build_from_module cli pulumi github.com/pulumi/pulumi/pkg/v3 "v$CLI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI_VERSION" \
    "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION"
}

build_nodejs() {
  local m=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
  build_from_module nodejs pulumi-language-nodejs "$m" "v$CLI_VERSION" "$m" \
    "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI_VERSION" \
    "github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION" "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION"
}

# The dynamic-provider plugin (pulumi.dynamic.Resource) is a shell script shipped in the sdk module.
build_dynamic() {
  local d src
  d="$(part_dir dynamic)"
  rm -rf "$d"
  mkdir -p "$d/bin"
  (cd "$d" && go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION") >"$d/download.json" \
    2>"$d/download.err" || true
  json_error "$d/download.json" >>"$d/download.err"
  src="$(node -e 'try { process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1])).Dir || "") } catch {}' \
    "$d/download.json")"
  if [[ -z "$src" ]]; then
    mark_failed dynamic "module github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION not served: $(error_line "$d/download.err")"
    return 1
  fi
  if [[ ! -f "$src/nodejs/dist/pulumi-resource-pulumi-nodejs" ]]; then
    mark_failed dynamic "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION has no nodejs/dist/pulumi-resource-pulumi-nodejs"
    return 1
  fi
  install -m 0755 "$src/nodejs/dist/pulumi-resource-pulumi-nodejs" "$d/bin/pulumi-resource-pulumi-nodejs"
  mark_ok dynamic "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION nodejs/dist/pulumi-resource-pulumi-nodejs"
}

# Node.js policy packs need no part of their own: without the language host, the places that hand a
# pack to the engine hand it a generated launcher instead (scripts/toolchain/policy-pack-launcher.ts).

# Module versions to build a provider from when the proxy refuses the release of the npm pin: the one
# that go-partial.tsv lists as served. The plugin is installed under the npm SDK's version (the version
# the SDK asks the engine for); OK and the env file name the module version it was really built from.
# kubernetes: the served pseudo-version is the commit tagged v4.25.0 (f47bc2d6f199, 2026-01-15;
# `git tag --points-at` in pulumi/pulumi-kubernetes; its CHANGELOG still lists the release as
# "Unreleased", after 4.24.0), while provider/v4@v4.25.0 itself is refused.
declare -A MODULE_FALLBACK=(
  [kubernetes]="${BALLAST_KUBERNETES_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}"
)
# The release each default fallback commit is: the npm pin must name it, so the plugin is never
# installed under the version of an SDK whose schema it does not match. An override of the fallback
# (BALLAST_<NAME>_MODULE_VERSION) is taken as it is.
declare -A FALLBACK_RELEASE=(
  [kubernetes]="${BALLAST_KUBERNETES_MODULE_VERSION:+any}"
)
[[ -n "${FALLBACK_RELEASE[kubernetes]}" ]] || FALLBACK_RELEASE[kubernetes]=4.25.0
# Modules a fallback's go.mod replaces with a local directory, required at the version it names instead.
declare -A FALLBACK_COMPANIONS=(
  [kubernetes]="github.com/pulumi/pulumi-kubernetes/sdk/v4@v4.24.0"
)

build_provider() { # $1 name
  local name="$1" v="${VERSION[$1]}" m
  if [[ -z "$v" ]]; then
    mark_failed "$name" "no version: @pulumi/$name is not in package.json and BALLAST_${name^^}_VERSION is unset"
    return 1
  fi
  m="$(provider_module "$name" "$v")"
  if build_from_module "$name" "pulumi-resource-$name" "$m" "v$v" "$m/cmd/pulumi-resource-$name" "$m/pkg/version.Version=$v"; then
    return 0
  fi
  local fallback="${MODULE_FALLBACK[$name]:-}" release="${FALLBACK_RELEASE[$name]:-any}" refused
  refused="$(part_reason "$name")"
  [[ -n "$fallback" && "$refused" == "module "*" not served: "* ]] || return 1
  if [[ "$release" != any && "$release" != "$v" ]]; then
    mark_failed "$name" "$refused; the served $m@$fallback is release $release, not $v: pin @pulumi/$name $release in package.json"
    return 1
  fi
  log "$m@v$v is not served; building $name $v from $m@$fallback"
  local companions
  read -r -a companions <<<"${FALLBACK_COMPANIONS[$name]:-}"
  if ! build_from_module "$name" "pulumi-resource-$name" "$m" "$fallback" "$m/cmd/pulumi-resource-$name" \
      "$m/pkg/version.Version=$v" "${companions[@]}"; then
    mark_failed "$name" "$refused; and from $m@$fallback: $(part_reason "$name")"
    return 1
  fi
}

# pulumi-resource-kubernetes embeds schema-embed.json and terraform-mapping-embed.json, which its
# Makefile generates from schema.json and terraform-mapping.json (go:generate ./generate.go: the schema
# with the plugin version set, both minified). $1 the module's main package dir, $2 where to write it.
# shellcheck disable=SC2317 # called by build_from_module as the hook local_main_<part>
local_main_kubernetes() {
  local src="$1" dest="$2"
  mkdir -p "$dest"
  cp "$src/main.go" "$dest/main.go"
  chmod u+w "$dest/main.go"
  node -e '
    const fs = require("fs");
    const [src, dest, version] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(src + "/schema.json", "utf8"));
    schema.version = version;
    fs.writeFileSync(dest + "/schema-embed.json", JSON.stringify(schema));
    const mapping = JSON.parse(fs.readFileSync(src + "/terraform-mapping.json", "utf8"));
    fs.writeFileSync(dest + "/terraform-mapping-embed.json", JSON.stringify(mapping));
  ' "$src" "$dest" "${VERSION[kubernetes]}"
}

# Ballast's own stand-in providers (scripts/toolchain/standin): used only for a provider whose real
# module could not be built. They implement the subset of the schema that Ballast uses.
build_standins() {
  local d work
  d="$(part_dir standins)"
  work="$d/work"
  rm -rf "$d"
  mkdir -p "$work" "$d/bin"
  cp -R "$BUILD_DIR/standin/." "$work/"
  log "building standins from scripts/toolchain/standin"
  if ! (cd "$work" && gocmd mod tidy) >"$work/tidy.log" 2>&1; then
    mark_failed standins "go mod tidy for scripts/toolchain/standin failed: $(error_line "$work/tidy.log")"
    return 1
  fi
  local name
  for name in random command; do
    # One binary per provider, with the plugin version that the npm SDK asks for linked in.
    if ! (cd "$work" && gocmd build -trimpath -ldflags "-s -w -X main.version=${VERSION[$name]}" \
        -o "$d/bin/pulumi-resource-$name" .) >"$work/build.log" 2>&1; then
      mark_failed standins "go build scripts/toolchain/standin failed: $(error_line "$work/build.log")"
      return 1
    fi
  done
  mark_ok standins "scripts/toolchain/standin (random ${VERSION[random]}, command ${VERSION[command]})"
}

build_part() {
  case "$1" in
    cli) build_cli ;;
    nodejs) build_nodejs ;;
    dynamic) build_dynamic ;;
    standins) build_standins ;;
    *) build_provider "$1" ;;
  esac
}

# --- install into PULUMI_HOME -----------------------------------------------------------------------
link_or_copy() { # $1 src $2 dest (hard link when possible: no second copy on disk)
  if [[ -e "$2" ]] && [[ "$1" -ef "$2" ]]; then return 0; fi
  rm -f "$2"
  ln "$1" "$2" 2>/dev/null || cp "$1" "$2"
}

plugin_install() { # $1 kind $2 name $3 version $4 binary
  local dest="$PULUMI_HOME/plugins/$1-$2-v$3/pulumi-$1-$2"
  if [[ -f "$dest" ]] && cmp -s "$4" "$dest"; then return 0; fi
  local pulumi="$PULUMI_HOME/bin/pulumi" out
  if ! out="$(PULUMI_HOME="$PULUMI_HOME" "$pulumi" plugin install "$1" "$2" "$3" --file "$4" --reinstall 2>&1)"; then
    echo "toolchain: FAILED to install plugin $1 $2 $3 from $4: $(tail -n1 <<<"$out")" >&2
    return 1
  fi
  log "installed plugin $1 $2 $3 from $4"
}

PLUGINS_REPORT=()
install_all() {
  # The CLI and its bundled plugins (found next to the pulumi executable) in bin/ and in
  # versions/VERSION/bin/, where the npm `pulumi` wrapper looks.
  local dir part file
  for dir in "$PULUMI_HOME/bin" "$PULUMI_HOME/versions/$CLI_VERSION/bin"; do
    mkdir -p "$dir"
    link_or_copy "$(part_dir cli)/bin/pulumi" "$dir/pulumi"
    # Retired: the policy analyzer shim of earlier recipes (CLI 3.276 no longer looks for it).
    rm -f "$dir/pulumi-analyzer-policy-nodejs"
    for part in nodejs:pulumi-language-nodejs dynamic:pulumi-resource-pulumi-nodejs; do
      file="${part#*:}"
      if part_ok "${part%%:*}"; then
        link_or_copy "$(part_dir "${part%%:*}")/bin/$file" "$dir/$file"
      else
        rm -f "$dir/$file"
      fi
    done
  done
  local name v bin tag
  for name in $PROVIDERS; do
    v="${VERSION[$name]}"
    bin=""
    tag=""
    if part_ok "$name"; then
      bin="$(part_dir "$name")/bin/pulumi-resource-$name"
    elif [[ "${BALLAST_TOOLCHAIN_STANDINS:-1}" != 0 && -n "$v" ]] && part_ok standins \
        && [[ "$name" == random || "$name" == command ]]; then
      bin="$(part_dir standins)/bin/pulumi-resource-$name"
      tag="(standin)"
    fi
    [[ -n "$bin" ]] || continue
    link_or_copy "$bin" "$PULUMI_HOME/bin/pulumi-resource-$name"
    if plugin_install resource "$name" "$v" "$bin"; then
      PLUGINS_REPORT+=("$name=$v$tag")
    fi
  done
}

write_env() {
  local tmp="$ENV_FILE.tmp.$$"
  mkdir -p "$(dirname "$ENV_FILE")"
  {
    echo "# Written by scripts/toolchain.sh; source it: . \"$ENV_FILE\""
    printf 'export PULUMI_HOME=%q\n' "$PULUMI_HOME"
    # shellcheck disable=SC2016 # $PATH is expanded when the file is sourced
    printf 'case ":$PATH:" in *":%s/bin:"*) ;; *) export PATH="%s/bin:$PATH" ;; esac\n' "$PULUMI_HOME" "$PULUMI_HOME"
    echo "export PULUMI_SKIP_UPDATE_CHECK=true"
    echo "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
    # Take provider plugins from PULUMI_HOME/plugins (exact versions), not from pulumi-resource-* on PATH.
    echo "export PULUMI_IGNORE_AMBIENT_PLUGINS=true"
    printf 'export BALLAST_TOOLCHAIN_KEY=%q\n' "$KEY"
    printf 'export BALLAST_PULUMI_CLI=%q\n' "$PULUMI_HOME/bin/pulumi"
    # Which provider plugins are installed, NAME=VERSION, "(standin)" for Ballast's stand-ins.
    printf "export BALLAST_TOOLCHAIN_PLUGINS='%s'\n" "${PLUGINS_REPORT[*]:-}"
    printf 'export BALLAST_TOOLCHAIN_LANGUAGE_HOST=%q\n' "$(part_ok nodejs && echo 1 || echo 0)"
  } >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

# The parts that count for --check, the status table and --strict: the selected ones, with the stand-ins
# only when asked for or when a real random/command provider is not available.
standins_wanted() {
  is_selected standins && return 0
  [[ "${BALLAST_TOOLCHAIN_STANDINS:-1}" != 0 ]] || return 1
  { is_selected random && ! part_ok random; } || { is_selected command && ! part_ok command; }
}
effective_parts() {
  local p out=""
  for p in $selected; do [[ "$p" == standins ]] || out+="$p "; done
  if standins_wanted; then out+="standins"; fi
  printf '%s' "$out"
}

status_table() {
  local p
  for p in $(effective_parts); do
    if part_ok "$p"; then
      printf '  %-11s ok      %s\n' "$p" "$(cat "$(part_dir "$p")/OK")"
    elif part_failed "$p"; then
      printf '  %-11s FAILED  %s\n' "$p" "$(part_reason "$p")"
    else
      printf '  %-11s missing (not built yet)\n' "$p"
    fi
  done
}

# --- smoke test ------------------------------------------------------------------------------------
run_smoke() {
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  local tmp rc=0
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/ballast-smoke.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  mkdir -p "$tmp/state"
  # The dynamic-provider plugin resolves @pulumi/pulumi from the stack's directory.
  ln -s "$REPO_ROOT/node_modules" "$tmp/node_modules"
  log "smoke: $tmp (plugins: ${BALLAST_TOOLCHAIN_PLUGINS:-none})"
  # The program runs from the repository, so it resolves @pulumi/* from the repository's node_modules;
  # its stack, state and Pulumi.yaml live in the temporary directory. PULUMI_BACKEND_URL instead of
  # `pulumi login` leaves PULUMI_HOME/credentials.json alone for whoever else uses this PULUMI_HOME.
  (
    cd "$tmp"
    export PULUMI_BACKEND_URL="file://$tmp/state" PULUMI_CONFIG_PASSPHRASE=ballast-smoke
    export BALLAST_SMOKE_DIR="$tmp"
    timeout 600 "$REPO_ROOT/node_modules/.bin/tsx" "$BUILD_DIR/smoke.ts"
  ) || rc=$?
  return "$rc"
}

# --- main ------------------------------------------------------------------------------------------
log "key $KEY"

if ((check)); then
  status_table
  missing=0
  for p in $(effective_parts); do part_ok "$p" || part_failed "$p" || missing=1; done
  if ! part_ok cli; then missing=1; fi
  # ... and installed: the env file and the CLI in PULUMI_HOME.
  if [[ ! -f "$ENV_FILE" || ! -x "$PULUMI_HOME/bin/pulumi" ]]; then
    echo "  (not installed into $PULUMI_HOME yet)"
    missing=1
  fi
  exit "$missing"
fi

# One build at a time per cache (other engineers' test runs may call this script concurrently).
mkdir -p "$CACHE_ROOT/toolchain"
exec 9>"$CACHE_ROOT/toolchain/.lock"
if ! flock -n 9; then
  log "another toolchain.sh is running; waiting for it"
  flock 9
fi
mkdir -p "$KEYDIR"

start=$SECONDS
# The CLI first (every other part needs it to be installed); then the rest, each failure on its own.
if ! is_selected cli && ! part_ok cli; then
  needs_build cli && { build_part cli || true; }
fi
for p in $selected; do
  [[ "$p" == standins ]] && continue
  needs_build "$p" || continue
  build_part "$p" || true
done
# Stand-ins are built when asked for, or when a real random/command provider is not available.
if standins_wanted && needs_build standins; then
  build_part standins || true
fi

if ! part_ok cli; then
  status_table >&2
  echo "toolchain: the Pulumi CLI is not available: $(part_reason cli)" >&2
  exit 1
fi
install_all
write_env
if ((prune)); then
  for old in "$CACHE_ROOT"/toolchain/*/; do
    [[ "${old%/}" == "$KEYDIR" ]] && continue
    log "prune: removing ${old%/}"
    rm -rf "${old%/}"
  done
  # Provider plugins this script installed at versions that are no longer pinned.
  for name in $PROVIDERS; do
    for old in "$PULUMI_HOME/plugins/resource-$name-v"*/; do
      [[ -d "$old" && "${old%/}" != "$PULUMI_HOME/plugins/resource-$name-v${VERSION[$name]}" ]] || continue
      log "prune: removing ${old%/}"
      rm -rf "${old%/}" "${old%/}.lock" "${old%/}.lastused"
    done
  done
fi
((quiet)) || status_table >&2
flock -u 9
log "done in $((SECONDS - start)) s; cache $KEYDIR"
echo "export PULUMI_HOME=$PULUMI_HOME PATH=$PULUMI_HOME/bin:\$PATH PULUMI_IGNORE_AMBIENT_PLUGINS=true   # or: . $ENV_FILE"

if ((smoke)); then
  if ! run_smoke; then
    echo "toolchain: smoke test FAILED" >&2
    exit 3
  fi
  log "smoke test passed"
fi

if ((strict)); then
  for p in $(effective_parts); do
    part_ok "$p" || exit 4
  done
fi
exit 0
