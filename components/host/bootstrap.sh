# Template: the body of the host bootstrap script. components/host/bootstrap.ts drops this
# paragraph and puts the shebang and the settings (readonly variables) in front of the rest.

# Prepares a Debian or Ubuntu host for the Compose target, as root, before the first
# deploy; every step checks before it changes anything, so running it again is safe and
# applies changed settings:
#   1. Docker engine (docker.io) and the Compose v2 plugin (docker-compose-plugin,
#      docker-compose-v2 or a v2 docker-compose, whichever the distribution packages);
#   2. /etc/docker/daemon.json: json-file log rotation and hardening defaults (no-new-privileges,
#      live-restore, icc false) merged into what is there;
#   3. the deploy user: docker group, restricted authorized keys, the release directory; the
#      admin user (sudo) that later runs of this script log in as, with its own key;
#   4. sshd: key-only logins for those two users, no root login, no forwarding (drop-in,
#      validated with sshd -t before the reload, the effective settings checked with sshd -T);
#   5. fail2ban with an sshd jail (systemd journal backend);
#   6. unattended security upgrades;
#   7. ufw: SSH only from the allowed ranges, 80 and 443 from anywhere, everything else
#      dropped; refuses to run when no current SSH session comes from an allowed range.

log() { printf '[ballast-bootstrap] %s\n' "$*"; }
warn() { printf '[ballast-bootstrap] warning: %s\n' "$*" >&2; }
die() {
  printf '[ballast-bootstrap] error: %s\n' "$*" >&2
  exit 1
}

require_root() {
  [[ ${EUID} -eq 0 ]] || die "run as root: ssh root@HOST 'bash -s' < bootstrap.sh, or sudo bash bootstrap.sh"
}

require_debian() {
  [[ -r /etc/os-release ]] || die "/etc/os-release is missing: this script supports Debian and Ubuntu only"
  local ids
  # shellcheck source=/dev/null
  ids=$(. /etc/os-release && printf ' %s %s ' "${ID:-}" "${ID_LIKE:-}")
  case "${ids}" in
    *" debian "* | *" ubuntu "*) ;;
    *) die "unsupported distribution (${ids# }): this script supports Debian and Ubuntu only" ;;
  esac
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found"
  command -v systemctl >/dev/null 2>&1 || die "systemd (systemctl) not found"
}

APT_UPDATED=0
apt_update_once() {
  if [[ ${APT_UPDATED} -eq 0 ]]; then
    log "apt-get update"
    apt-get update -q </dev/null
    APT_UPDATED=1
  fi
}

is_installed() {
  local status
  # shellcheck disable=SC2016 # ${Status} is dpkg-query's field name, not a shell expansion
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
  [[ ${status} == "install ok installed" ]]
}

ensure_packages() {
  local missing=() package
  for package in "$@"; do
    is_installed "${package}" || missing+=("${package}")
  done
  if ((${#missing[@]} > 0)); then
    apt_update_once
    log "installing ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  fi
}

candidate_version() {
  local version
  version=$(apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
  [[ -n ${version} && ${version} != "(none)" ]] && printf '%s\n' "${version}"
}

# Writes stdin to a file when the content differs; WROTE=1 when it did. Atomic (same directory).
WROTE=0
write_file() {
  local path=$1 mode=$2 tmp
  tmp=$(mktemp "${path}.ballast.XXXXXX")
  cat >"${tmp}"
  if [[ -f ${path} ]] && cmp -s "${tmp}" "${path}"; then
    rm -f "${tmp}"
    WROTE=0
    return 0
  fi
  chmod "${mode}" "${tmp}"
  mv -f "${tmp}" "${path}"
  WROTE=1
  log "wrote ${path}"
}

install_docker() {
  if command -v docker >/dev/null 2>&1; then
    log "docker present ($(docker --version 2>/dev/null || echo unknown version))"
  else
    ensure_packages docker.io
  fi
  systemctl enable --now docker >/dev/null
  if docker compose version >/dev/null 2>&1; then
    log "compose plugin present ($(docker compose version --short 2>/dev/null || echo v2))"
    return 0
  fi
  apt_update_once
  local package version
  for package in docker-compose-plugin docker-compose-v2 docker-compose; do
    version=$(candidate_version "${package}") || continue
    # Debian's docker-compose is the Compose v2 plugin from trixie on; before that it is the v1 Python tool.
    if [[ ${package} == docker-compose && ! ${version} =~ ^([0-9]+:)?[2-9]\. ]]; then
      continue
    fi
    ensure_packages "${package}"
    break
  done
  docker compose version >/dev/null 2>&1 || die "no Compose v2 plugin is packaged for this release (looked for docker-compose-plugin, docker-compose-v2, docker-compose >= 2): add Docker's apt repository (docker-compose-plugin) and run this script again"
  log "compose plugin installed ($(docker compose version --short 2>/dev/null || echo v2))"
}

# Merges DAEMON_JSON_FILTER's defaults (json-file, max-size, max-file) into daemon.json,
# keeping every key that is already set.
configure_docker_logs() {
  ensure_packages jq
  local file=$1 current merged
  install -d -m 0755 "$(dirname "${file}")"
  if [[ -s ${file} ]]; then
    jq -e 'type == "object"' "${file}" >/dev/null 2>&1 || die "${file} is not a JSON object; fix it by hand (nothing was changed) and run again"
    current=$(cat "${file}")
  else
    current='{}'
  fi
  merged=$(jq --arg size "${LOG_MAX_SIZE}" --arg files "${LOG_MAX_FILE}" "${DAEMON_JSON_FILTER}" <<<"${current}")
  if [[ $(jq -S . <<<"${current}") == $(jq -S . <<<"${merged}") ]]; then
    log "${file}: log rotation already set"
    return 0
  fi
  write_file "${file}" 0644 <<<"$(jq . <<<"${merged}")"
  # The daemon reads log options at start; running containers keep theirs until recreated.
  log "restarting docker to apply ${file}"
  systemctl restart docker
}

# install_authorized_keys <user> <line...>: the user's ~/.ssh/authorized_keys is exactly these
# lines (Ballast owns the file: a key removed from the config, or added by hand, goes).
install_authorized_keys() {
  local user=$1 home group keys
  shift
  home=$(getent passwd "${user}" | cut -d: -f6)
  group=$(id -gn "${user}")
  [[ -n ${home} && -d ${home} ]] || die "user ${user} has no home directory"
  install -d -m 0700 -o "${user}" -g "${group}" "${home}/.ssh"
  keys="${home}/.ssh/authorized_keys"
  write_file "${keys}" 0600 < <(printf '%s\n' "$@")
  [[ ${WROTE} -eq 0 ]] || log "authorized keys of ${user}: $(printf '%s\n' "$@" | awk '{ print $NF }' | paste -sd ' ')"
  chown "${user}:${group}" "${keys}"
  chmod 0600 "${keys}"
}

ensure_user() {
  if ! id -u "$1" >/dev/null 2>&1; then
    log "creating user $1"
    useradd --create-home --shell /bin/bash --user-group "$1"
  fi
}

ensure_deploy_user() {
  ensure_user "${DEPLOY_USER}"
  getent group docker >/dev/null || groupadd --system docker
  if ! id -nG "${DEPLOY_USER}" | tr ' ' '\n' | grep -qx docker; then
    log "adding ${DEPLOY_USER} to the docker group"
    usermod -aG docker "${DEPLOY_USER}"
  fi
  install_authorized_keys "${DEPLOY_USER}" "${DEPLOY_KEY_LINES[@]}"
  local group
  group=$(id -gn "${DEPLOY_USER}")
  mkdir -p "${RELEASE_DIR}"
  chown "${DEPLOY_USER}:${group}" "${RELEASE_DIR}"
  chmod 0750 "${RELEASE_DIR}"
  log "release directory ${RELEASE_DIR} owned by ${DEPLOY_USER}"
}

# The admin user: what this script logs in as once root may not (sudo without a password,
# its own key). Not in the docker group: it changes the host, it does not deploy.
ensure_admin_user() {
  ensure_packages sudo
  ensure_user "${ADMIN_USER}"
  install_authorized_keys "${ADMIN_USER}" "${ADMIN_KEY_LINES[@]}"
  local sudoers="${SUDOERS_DIR}/ballast-admin"
  install -d -m 0750 "${SUDOERS_DIR}"
  write_file "${sudoers}" 0440 <<EOF
# Rendered by Ballast: the host bootstrap runs as this user (sudo -n bash -s).
${ADMIN_USER} ALL=(root) NOPASSWD: ALL
EOF
  if [[ ${WROTE} -eq 1 ]] && ! visudo -cf "${sudoers}" >/dev/null; then
    rm -f "${sudoers}"
    die "visudo rejected ${sudoers} (removed again)"
  fi
}

# Where sshd and sudo read their configuration (tests point these at scratch copies).
SSHD_CONFIG=/etc/ssh/sshd_config
SUDOERS_DIR=/etc/sudoers.d

# The drop-in's settings, each checked in sshd -T's output after the reload ("Keyword value").
readonly -a SSHD_SETTINGS=(
  "PasswordAuthentication no"
  "KbdInteractiveAuthentication no"
  "PubkeyAuthentication yes"
  "PermitRootLogin no"
  "PermitEmptyPasswords no"
  "PermitUserEnvironment no"
  "X11Forwarding no"
  "AllowAgentForwarding no"
  "AllowTcpForwarding no"
  "AllowStreamLocalForwarding no"
  "PermitTunnel no"
)

sshd_dropin() {
  printf '%s\n' "# Rendered by Ballast: keys only, no root, no forwarding; only the deploy and admin users."
  printf '%s\n' "${SSHD_SETTINGS[@]}"
  printf 'AllowUsers %s %s\n' "${DEPLOY_USER}" "${ADMIN_USER}"
}

# setting_sources <Keyword> <drop-in>: "; set in <files>" for the sshd files other than the
# drop-in that set the keyword (sshd keeps the first value it reads).
setting_sources() {
  local dropin=$2 files
  files=$(grep -ilE "^[[:space:]]*$1([[:space:]]|=)" "${SSHD_CONFIG}" "$(dirname "${SSHD_CONFIG}")"/sshd_config.d/*.conf 2>/dev/null | grep -vxF "${dropin}" | paste -sd ' ') || true
  [[ -z ${files} ]] || printf '; set in %s' "${files}"
}

# verify_sshd_effective <drop-in>: reads sshd's effective settings (sshd -T) and stops, naming
# each setting and the files that set it, when the distribution's config or another drop-in
# overrides ours. (Match blocks are not evaluated: the drop-in adds none.)
verify_sshd_effective() {
  local dropin=$1 effective line keyword want got users wanted
  local -a problems=()
  effective=$(sshd -T -f "${SSHD_CONFIG}" 2>&1) || die "sshd -T could not read the effective settings: ${effective}"
  for line in "${SSHD_SETTINGS[@]}"; do
    keyword=${line%% *}
    want=${line#* }
    got=$(awk -v k="${keyword,,}" '$1 == k { print $2; exit }' <<<"${effective}")
    # sshd -T prints prohibit-password by its old name.
    [[ ${got} != without-password ]] || got=prohibit-password
    [[ ${got} == "${want}" ]] || problems+=("${keyword} is ${got:-unset}, not ${want}$(setting_sources "${keyword}" "${dropin}")")
  done
  users=$(awk '$1 == "allowusers" { print $2 }' <<<"${effective}" | sort -u | paste -sd ' ')
  wanted=$(printf '%s\n' "${DEPLOY_USER}" "${ADMIN_USER}" | sort -u | paste -sd ' ')
  [[ ${users} == "${wanted}" ]] || problems+=("AllowUsers is ${users:-unset}, not ${wanted}$(setting_sources AllowUsers "${dropin}")")
  if ((${#problems[@]} > 0)); then
    die "sshd's effective settings (sshd -T) override ${dropin}: $(printf '%s\n' "${problems[@]}" | paste -sd '|' | sed 's/|/ | /g'). Remove those lines (sshd keeps the first value it reads), then run this script again"
  fi
  log "sshd -T: keys only, no root login, no forwarding, AllowUsers ${wanted}"
}

reload_sshd() {
  systemctl reload ssh 2>/dev/null || systemctl reload sshd
}

harden_sshd() {
  local dir dropin
  dir=$(dirname "${SSHD_CONFIG}")
  dropin="${dir}/sshd_config.d/50-ballast.conf"
  if [[ ${HARDEN_SSH} -ne 1 ]]; then
    if [[ -f ${dropin} ]]; then
      rm -f "${dropin}"
      reload_sshd
    fi
    return 0
  fi
  if ! grep -qE "^[[:space:]]*Include[[:space:]]+${dir}/sshd_config\.d/\*\.conf" "${SSHD_CONFIG}"; then
    die "${SSHD_CONFIG} does not include ${dir}/sshd_config.d/*.conf; add the Include line or set ballast:compose.bootstrap.hardenSsh false"
  fi
  install -d -m 0755 "${dir}/sshd_config.d"
  write_file "${dropin}" 0644 < <(sshd_dropin)
  if [[ ${WROTE} -eq 1 ]]; then
    if ! sshd -t -f "${SSHD_CONFIG}"; then
      rm -f "${dropin}"
      die "sshd rejected ${dropin} (removed again); set ballast:compose.bootstrap.hardenSsh false on this host"
    fi
    reload_sshd
    log "sshd: keys only for ${DEPLOY_USER} and ${ADMIN_USER}; root logins off"
  fi
  verify_sshd_effective "${dropin}"
}

configure_fail2ban() {
  # python3-systemd: the jail reads the journal (Debian 12 has no /var/log/auth.log by default).
  ensure_packages fail2ban python3-systemd
  write_file /etc/fail2ban/jail.d/ballast-sshd.local 0644 <<EOF
# Rendered by Ballast: bans addresses that keep failing SSH logins.
[sshd]
enabled = true
port = ${SSH_PORT}
backend = systemd
maxretry = ${F2B_MAXRETRY}
findtime = ${F2B_FINDTIME}
bantime = ${F2B_BANTIME}
ignoreip = ${F2B_IGNOREIP}
EOF
  systemctl enable fail2ban >/dev/null 2>&1
  if [[ ${WROTE} -eq 1 ]]; then
    systemctl restart fail2ban
  else
    systemctl start fail2ban
  fi
}

configure_upgrades() {
  local enabled=0 state=off
  if [[ ${UNATTENDED_UPGRADES} -eq 1 ]]; then
    enabled=1
    state=on
  fi
  if [[ ${enabled} -eq 1 ]]; then
    ensure_packages unattended-upgrades
  elif ! is_installed unattended-upgrades; then
    return 0
  fi
  # The distribution's 50unattended-upgrades limits upgrades to the security archive.
  write_file /etc/apt/apt.conf.d/20auto-upgrades 0644 <<EOF
// Rendered by Ballast: daily package lists, unattended security upgrades ${state}.
APT::Periodic::Update-Package-Lists "${enabled}";
APT::Periodic::Unattended-Upgrade "${enabled}";
EOF
  if [[ ${enabled} -eq 1 ]]; then
    systemctl enable --now unattended-upgrades >/dev/null 2>&1 || true
  fi
}

# Is an address inside one of the allowed SSH ranges? (python3 comes with ufw.)
address_allowed() {
  python3 - "$1" "${SSH_ALLOW_FROM[@]}" <<'EOF'
import ipaddress
import sys

peer = ipaddress.ip_address(sys.argv[1].split("%")[0])
if peer.version == 6 and peer.ipv4_mapped is not None:
    peer = peer.ipv4_mapped
allowed = [ipaddress.ip_network(cidr, strict=False) for cidr in sys.argv[2:]]
sys.exit(0 if any(peer.version == net.version and peer in net for net in allowed) else 1)
EOF
}

# Refuses to close the door on the operator: sshd must listen on the configured port, and
# when SSH sessions are open at least one must come from an allowed range.
guard_ssh_access() {
  if [[ -z $(ss -Htln "( sport = :${SSH_PORT} )") ]]; then
    die "nothing listens on TCP port ${SSH_PORT} (ballast:compose.ssh.port); enabling the firewall would cut off SSH"
  fi
  local peers=() peer line
  while read -r line; do
    peer=$(awk '{ print $4 }' <<<"${line}")
    peer=${peer%:*}
    peer=${peer#[}
    peer=${peer%]}
    [[ -n ${peer} ]] && peers+=("${peer}")
  done < <(ss -Htn state established "( sport = :${SSH_PORT} )")
  ((${#peers[@]} > 0)) || return 0
  for peer in "${peers[@]}"; do
    if address_allowed "${peer}"; then
      return 0
    fi
  done
  if [[ ${BALLAST_BOOTSTRAP_ALLOW_LOCKOUT:-0} == 1 ]]; then
    warn "no open SSH session comes from an allowed range (${peers[*]}); continuing because BALLAST_BOOTSTRAP_ALLOW_LOCKOUT=1"
    return 0
  fi
  die "no open SSH session comes from ${SSH_ALLOW_FROM[*]} (sessions from: ${peers[*]}); after this run you could not log in again. Add your range to ballast:compose.bootstrap.sshAllowFrom, or set BALLAST_BOOTSTRAP_ALLOW_LOCKOUT=1"
}

# ufw rules opening the SSH port to sources outside the allowed ranges (a cloud image's
# "allow OpenSSH", or a range removed from the config), as rule numbers, highest first.
stale_ssh_rules() {
  local number to action from v6 source
  ufw status numbered | sed -E -n 's/^\[ *([0-9]+)\] /\1\t/p' | sed -E 's/ {2,}/\t/g' |
    while IFS=$'\t' read -r number to action from _; do
      [[ ${action} == ALLOW* ]] || continue
      v6=0
      [[ ${to} == *"(v6)"* || ${from} == *"(v6)"* ]] && v6=1
      to=${to% (v6)}
      from=${from% (v6)}
      case "${to}" in
        "${SSH_PORT}" | "${SSH_PORT}/tcp" | OpenSSH) ;;
        *) continue ;;
      esac
      source=${from}
      if [[ ${from} == Anywhere ]]; then
        source=0.0.0.0/0
        [[ ${v6} -eq 1 ]] && source=::/0
      fi
      if [[ " ${SSH_ALLOW_FROM[*]} " != *" ${source} "* ]]; then
        printf '%s\n' "${number}"
      fi
    done | sort -rn
}

configure_firewall() {
  ensure_packages ufw
  guard_ssh_access
  ufw default deny incoming >/dev/null
  ufw default allow outgoing >/dev/null
  local cidr port number
  for cidr in "${SSH_ALLOW_FROM[@]}"; do
    ufw allow proto tcp from "${cidr}" to any port "${SSH_PORT}" comment 'ballast ssh' >/dev/null
  done
  for port in "${PUBLIC_TCP_PORTS[@]}"; do
    ufw allow proto tcp to any port "${port}" comment 'ballast public' >/dev/null
  done
  if ! ufw status | grep -q '^Status: active'; then
    log "enabling ufw"
    ufw --force enable >/dev/null
  fi
  while read -r number; do
    [[ -n ${number} ]] || continue
    log "removing ufw rule ${number} (SSH from outside the allowed ranges)"
    ufw --force delete "${number}" >/dev/null
  done < <(stale_ssh_rules)
  log "ufw: SSH (${SSH_PORT}/tcp) from ${SSH_ALLOW_FROM[*]}; ${PUBLIC_TCP_PORTS[*]}/tcp from anywhere; all else dropped"
}

summary() {
  log "done: $(docker --version), compose $(docker compose version --short 2>/dev/null || echo '?')"
  ufw status verbose | sed 's/^/[ballast-bootstrap]   /'
  fail2ban-client status sshd 2>/dev/null | sed 's/^/[ballast-bootstrap]   /' || warn "fail2ban sshd jail not answering yet"
  log "note: ports published by containers bypass ufw (Docker's own iptables rules); only the proxy publishes ports"
}

main() {
  require_root
  require_debian
  export DEBIAN_FRONTEND=noninteractive
  install_docker
  configure_docker_logs /etc/docker/daemon.json
  ensure_deploy_user
  ensure_admin_user
  harden_sshd
  configure_fail2ban
  configure_upgrades
  configure_firewall
  summary
}

# Tests source this file with BALLAST_BOOTSTRAP_SOURCED=1 to call single functions. The last
# command reads nothing from stdin, so `ssh host 'bash -s' < bootstrap.sh` works too.
if [[ ${BALLAST_BOOTSTRAP_SOURCED:-0} != 1 ]]; then
  main "$@" </dev/null
fi
