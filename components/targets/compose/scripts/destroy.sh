# Template: the body of destroy.sh. components/targets/compose/scripts.ts drops this paragraph
# and puts the settings (readonly variables) and common.sh in front of it.

# destroy.sh <sha256 of the release bundle>: Pulumi's delete of a release runs it (deploy.sh
# installs it as <base>/.ballast/destroy.sh). It takes the stack down only while `current` is
# the release that bundle deployed: a replacement deploys the new release first and deletes the
# old resource afterwards, and that delete must leave the new release running.

main() {
  local bundle_id=${1:-} current volume
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
  if [[ $current != *-"${bundle_id:0:12}" ]]; then
    log "current release $current came from another bundle (a newer deploy replaced ${bundle_id:0:12}): leaving it running"
    return 0
  fi
  compose "$CURRENT_LINK" "$STOP_TIMEOUT" down --remove-orphans || die "docker compose down failed for release $current"
  install_crontab ""
  rm -f "$CURRENT_LINK" "$LIVE_RECORD"
  rm -rf -- "${ROUTING_DIR:?}"
  log "release $current is down; its scheduled jobs are off"
  if ((ALLOW_DATA_LOSS)); then
    # allowDataLoss is on: the volumes and every release directory (with its .env) go too.
    for volume in ${EXTERNAL_VOLUMES[@]+"${EXTERNAL_VOLUMES[@]}"}; do
      if timeout 60 docker volume inspect "$volume" >/dev/null 2>&1; then
        timeout 60 docker volume rm "$volume" >/dev/null || die "could not remove volume $volume"
        log "removed volume $volume"
      fi
    done
    rm -rf -- "${RELEASES_DIR:?}"
    log "removed the release directories"
  else
    log "kept volumes ${EXTERNAL_VOLUMES[*]:-(none)} and the releases in $RELEASES_DIR (allowDataLoss is off)"
  fi
}

main "$@"
