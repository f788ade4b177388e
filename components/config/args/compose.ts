/** The Compose target (`ballast:compose`): one host over SSH or the local Docker engine, its releases, bootstrap and maintenance. */

/** How Ballast reaches the VPS: the deploy user's SSH connection and where releases live. */
export interface ComposeSshArgs {
  /**
   * Host name or address of the VPS.
   * @default none (required)
   */
  host: string;
  /**
   * SSH port of the VPS.
   * @default 22
   */
  port?: number;
  /**
   * The deploy user releases are made as (its key: `sshPrivateKey`). Must differ from `bootstrap.adminUser`.
   * @default "deploy"
   */
  user?: string;
  /**
   * The pinned host public key line, e.g. `"ssh-ed25519 AAAA..."` (`ssh-keyscan -t ed25519 <host>`); without it any host key is accepted.
   * @default none (required outside dev)
   */
  hostKey?: string;
  /**
   * Absolute path of the release directory on the host: releases live in `<remoteDir>/releases`, `current` links the live one.
   * @default "/opt/ballast"
   */
  remoteDir?: string;
  /**
   * Seconds one SSH dial attempt may take, so an unreachable host fails fast (1-120).
   * @default 10
   */
  dialTimeoutSeconds?: number;
  /**
   * SSH dial attempts before the update fails (1-20).
   * @default 3
   */
  dialAttempts?: number;
}

/** The sshd jail fail2ban runs on a bootstrapped host. */
export interface Fail2banArgs {
  /**
   * Failed logins within `findTimeSeconds` that ban an address (1-100).
   * @default 5
   */
  maxRetry?: number;
  /**
   * Window in seconds in which `maxRetry` failures count (60-86400).
   * @default 600
   */
  findTimeSeconds?: number;
  /**
   * How long in seconds a banned address stays banned (60-31536000).
   * @default 3600
   */
  banTimeSeconds?: number;
  /**
   * Addresses or CIDR ranges that are never banned. Keep it short: a `/0` range would switch the jail off and is refused.
   * @default []
   */
  ignoreFrom?: string[];
}

/** Defaults for containers' json-file logs, merged into the host's existing /etc/docker/daemon.json. */
export interface DockerLogsArgs {
  /**
   * Size at which a container's log file is rotated: `"10m"`, `"512k"`, `"1g"`.
   * @default "10m"
   */
  maxSize?: string;
  /**
   * Rotated log files kept per container (1-100).
   * @default 3
   */
  maxFile?: number;
}

/**
 * Preparation of the VPS over SSH before the first release: Docker and the compose plugin, daemon
 * log rotation, ufw, fail2ban, unattended upgrades, the deploy and admin users. Idempotent; re-run
 * when it changes. Its checks apply in `ssh` mode only.
 */
export interface HostBootstrapArgs {
  /**
   * Run the bootstrap before the first release (and again whenever its settings change).
   * @default false (dev), true (staging, prod)
   */
  enabled?: boolean;
  /**
   * User the FIRST bootstrap connects as (root, or the image's sudoer): its last SSH login, as root logins are switched off afterwards.
   * @default "root"
   */
  user?: string;
  /**
   * Sudoer the bootstrap creates and logs in as on later runs; never root or `ssh.user`, and not in the docker group.
   * @default "ballast-admin"
   */
  adminUser?: string;
  /**
   * OpenSSH public key lines of `adminUser`: the `.pub` of `bootstrapSshPrivateKey`. A deploy or operator key here is refused.
   * @default [] (required when the bootstrap is enabled)
   */
  adminKeys?: string[];
  /**
   * Addresses or CIDR ranges SSH may come from (office, VPN, CI egress); ufw allows only these plus 80/443.
   * Grafana on Compose follows them unless `monitoring.grafana.allowFrom` is set.
   * @default [] (required when the bootstrap is enabled)
   */
  sshAllowFrom?: string[];
  /**
   * Public keys of the deploy user (`ssh.user`) for releases, restricted (no terminal, no forwarding) and limited to
   * the `sshAllowFrom` ranges; more than one while a key is rotated.
   * @default [] (required when the bootstrap is enabled)
   */
  authorizedKeys?: string[];
  /**
   * Keys of people who log in as the deploy user for the runbooks (`ssh deploy@host`): a terminal, still no forwarding.
   * @default []
   */
  operatorKeys?: string[];
  /**
   * Install security updates daily with unattended-upgrades.
   * @default true
   */
  unattendedUpgrades?: boolean;
  /**
   * Harden sshd: keys only, no root login, no forwarding, only the deploy and admin users (checked with `sshd -T`).
   * @default true
   */
  hardenSsh?: boolean;
  /**
   * The sshd jail.
   * @default maxRetry 5, findTimeSeconds 600, banTimeSeconds 3600, ignoreFrom [] (see {@link Fail2banArgs})
   */
  fail2ban?: Fail2banArgs;
  /**
   * Docker's json-file log rotation.
   * @default maxSize "10m", maxFile 3 (see {@link DockerLogsArgs})
   */
  dockerLogs?: DockerLogsArgs;
}

/**
 * A scheduled prune from the deploy user's crontab: unused images and build cache. Images of the
 * releases kept for rollback (`keepReleases`) are never removed.
 */
export interface HostMaintenanceArgs {
  /**
   * Run the prune. Pruning a developer's own engine is not the stack's business, so it follows `mode`.
   * @default true with `mode: ssh`, false with `mode: local`
   */
  enabled?: boolean;
  /**
   * When the prune runs: a five-field cron expression in UTC.
   * @default "30 4 * * 0" (Sundays 04:30)
   */
  schedule?: string;
  /**
   * Build cache kept by `docker builder prune --keep-storage`: `"5g"`, `"512m"`.
   * @default "5g"
   */
  buildCacheKeep?: string;
}

/** The Compose target. */
export interface ComposeArgs {
  /**
   * `ssh`: a VPS over SSH (see `ssh`); `local`: the Docker engine of this machine.
   * @default "local" (dev), "ssh" (staging, prod)
   */
  mode?: "ssh" | "local";
  /**
   * Compose project name (a DNS label); volumes are named `<project>_<volume>`.
   * @default the Pulumi project name
   */
  project?: string;
  /**
   * The VPS connection.
   * @default none (required with `mode: ssh`); when given, see {@link ComposeSshArgs}
   */
  ssh?: ComposeSshArgs;
  /**
   * Release directory in `local` mode; a relative path is taken from the working directory of the Pulumi program.
   * @default ".ballast/<stack>"
   */
  localDir?: string;
  /**
   * Releases kept on the host for rollback, their images never pruned (2-50).
   * @default 5
   */
  keepReleases?: number;
  /**
   * Seconds a release's new containers may take to become healthy and routed (`docker compose up --wait`) before
   * the release is rolled back and the update fails (30-3600).
   * @default 300
   */
  deployTimeoutSeconds?: number;
  /**
   * The Compose invocation on the host.
   * @default "docker compose"
   */
  composeCommand?: "docker compose" | "docker-compose";
  /**
   * Host preparation over SSH before the first release.
   * @default on outside dev, from `root` to the admin user `ballast-admin`; see {@link HostBootstrapArgs}
   */
  bootstrap?: HostBootstrapArgs;
  /**
   * The weekly prune of images and build cache.
   * @default on with `mode: ssh`, `"30 4 * * 0"`, keeping 5g of build cache; see {@link HostMaintenanceArgs}
   */
  maintenance?: HostMaintenanceArgs;
}
