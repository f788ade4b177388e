# Template: the body of maintenance.sh. components/targets/compose/scripts.ts drops this
# paragraph and puts the settings (readonly variables) and common.sh in front of it.

# maintenance.sh: prunes what deploys leave behind on the host (nyxcore's runbook ran
# `docker system prune -af && docker builder prune -af` by hand). deploy.sh runs it after each
# release and the host's cron on ballast:compose.maintenance.schedule. It never removes:
#   - an image a container uses, or one the releases kept for rollback (keepReleases) name:
#     a rollback must not need a registry;
#   - images of anything but this stack (only repositories its releases name are considered);
#   - volumes (data), networks, or build cache younger than what BUILD_CACHE_KEEP allows.

referenced_images() {
  local file
  for file in "$RELEASES_DIR"/*/docker-compose.yml; do
    [[ -f $file && $file != *.failed/* ]] || continue
    sed -n 's/^ *image: *//p' "$file" | tr -d "\"'"
  done | sort -u
}

# kept <reference>: the releases kept for rollback name this reference.
kept() { printf '%s\n' ${KEEP[@]+"${KEEP[@]}"} | grep -qxF "$1"; }

# ours <repository>: some kept release names an image of this repository.
ours() { printf '%s\n' ${KEEP[@]+"${KEEP[@]}"} | grep -q "^$1[:@]"; }

main() {
  local image repository id digests digest removed=0 before after keep_it
  [[ -d $RELEASES_DIR ]] || {
    log "no releases under $BASE_DIR: nothing to prune"
    return 0
  }
  before=$(timeout 60 docker system df --format '{{.Type}} {{.Size}}' 2>/dev/null | tr '\n' ' ' || true)
  mapfile -t KEEP < <(referenced_images)
  # Tagged images of this stack's repositories that no kept release names. `docker image rm`
  # refuses an image a container uses, so those stay too.
  while IFS= read -r image; do
    repository=${image%:*}
    if ours "$repository" && ! kept "$image" && timeout 60 docker image rm "$image" >/dev/null 2>&1; then
      removed=$((removed + 1))
    fi
  done < <(timeout 60 docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | sort -u)
  # Untagged images: built or pulled by digest. Kept when a kept release names one of their digests.
  while IFS= read -r id; do
    digests=$(timeout 30 docker image inspect --format '{{join .RepoDigests " "}}' "$id" 2>/dev/null || true)
    keep_it=0
    for digest in $digests; do kept "$digest" && keep_it=1; done
    ((keep_it)) && continue
    if timeout 60 docker image rm "$id" >/dev/null 2>&1; then removed=$((removed + 1)); fi
  done < <(timeout 60 docker images --filter dangling=true --format '{{.ID}}' | sort -u)
  timeout 300 docker builder prune -f --keep-storage "$BUILD_CACHE_KEEP" >/dev/null 2>&1 || true
  after=$(timeout 60 docker system df --format '{{.Type}} {{.Size}}' 2>/dev/null | tr '\n' ' ' || true)
  log "maintenance: removed $removed image(s) no kept release names, build cache over $BUILD_CACHE_KEEP; disk before: ${before:-?}; after: ${after:-?}"
}

main "$@"
