/**
 * The Compose host bootstrap: a bash script for Debian/Ubuntu that an operator runs as root
 * (over SSH or with sudo) before the first deploy and again after changing the settings.
 * Docker + the Compose v2 plugin, log rotation defaults, ufw (SSH only from the allowed
 * ranges, 80/443 open), fail2ban's sshd jail, unattended security upgrades, key-only sshd
 * without root logins or forwarding (checked with `sshd -T`), the admin user later runs of
 * this script log in as (its own key), and the deploy user with its restricted keys and
 * release directory (docs/host-bootstrap.md).
 *
 * `renderBootstrapScript` is pure: options in, script text out. The shell body lives next
 * to this file (bootstrap.sh, loaded once) so reviewers and shellcheck read real shell; the
 * renderer validates every option and puts them in front of it as quoted readonly variables.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BootstrapConfig, ComposeConfig } from "../config";
import type { RenderedFile } from "../targets/target";
import { cidrProblem, publicKeyPattern } from "../config";

export interface BootstrapScriptOptions {
  /** Unprivileged user the deploys log in as (`ballast:compose.ssh.user`); joins the docker group. */
  deployUser: string;
  /** Port sshd listens on (`ballast:compose.ssh.port`); the script does not move sshd. */
  sshPort: number;
  /** Where releases live (`ballast:compose.ssh.remoteDir`); owned by the deploy user, mode 0750. */
  releaseDir: string;
  /** Sources allowed to reach sshd (CIDR ranges or single addresses); at least one. */
  sshAllowFrom: string[];
  /** OpenSSH public key lines authorized for the deploy user (releases: `restrict`, no terminal); at least one. */
  authorizedKeys: string[];
  /** Keys of people who log in as the deploy user for the runbooks (`restrict,pty`: a terminal, no forwarding). Default []. */
  operatorKeys?: string[];
  /** Sudoer the bootstrap logs in as after its first run, when root may no longer log in. Default "ballast-admin". */
  adminUser?: string;
  /** OpenSSH public key lines of the admin user (the bootstrap key, never a deploy key); at least one. */
  adminKeys: string[];
  /** TCP ports open to everyone: the proxy's HTTP and HTTPS ports. Default [80, 443]. */
  publicTcpPorts?: number[];
  /** Daily unattended security upgrades. Default true. */
  unattendedUpgrades?: boolean;
  /** Key-only sshd without root logins or forwarding, for the deploy and admin users only (drop-in in /etc/ssh/sshd_config.d). Default true. */
  hardenSsh?: boolean;
  fail2ban?: { maxRetry: number; findTimeSeconds: number; banTimeSeconds: number; ignoreFrom: string[] };
  /** json-file log rotation defaults merged into /etc/docker/daemon.json. */
  dockerLogs?: { maxSize: string; maxFile: number };
}

/** Where `npm run render` puts the script, next to the compose bundle. */
export const BOOTSTRAP_FILE = "host/bootstrap.sh";

/** The shell body, without its first comment paragraph (a note about the template itself). */
const body = readFileSync(join(__dirname, "bootstrap.sh"), "utf8").replace(/^(#[^\n]*\n)+\n/, "");

/**
 * jq filter merging the daemon defaults into daemon.json: `log-driver` is set only when absent,
 * and `max-size`/`max-file` are added (never overridden) only for the drivers that take them
 * (json-file, local). Hardening defaults, each only when the key is absent (an operator's own
 * value wins): `no-new-privileges` for every container (Ballast's services set it too),
 * `live-restore` (containers keep running while dockerd restarts, e.g. for this very file) and
 * `icc: false` (no traffic between containers on the default bridge; Ballast's networks are
 * user-defined). Any other key is kept as it is. `$size`/`$files` come in with `jq --arg`.
 */
export const daemonJsonFilter = [
  '(.["log-driver"] // "json-file") as $driver',
  '| .["log-driver"] = $driver',
  '| if ($driver == "json-file" or $driver == "local")',
  '  then .["log-opts"] = ({"max-size": $size, "max-file": $files} + (.["log-opts"] // {}))',
  "  else . end",
  '| {"no-new-privileges": true, "live-restore": true, "icc": false} + .',
].join("\n");

/** Single-quoted for bash: nothing inside is expanded. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A CIDR as ufw prints it (IPv6 compressed, lower case), so the script recognises its own rules. */
export function canonicalCidr(value: string): string {
  const [address, prefix] = value.split("/");
  if (!address.includes(":")) return value;
  const text = address.toLowerCase();
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  let expanded = text;
  if (tail.includes(".")) {
    const n = tail.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
    expanded = `${text.slice(0, lastColon + 1)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head, rest] = expanded.split("::");
  const headGroups = head ? head.split(":") : [];
  const restGroups = rest === undefined ? [] : rest ? rest.split(":") : [];
  const groups =
    rest === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill("0"), ...restGroups];
  const short = groups.map((g) => parseInt(g, 16).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < short.length;) {
    let j = i;
    while (j < short.length && short[j] === "0") j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const compressed =
    bestStart === -1 ? short.join(":") : `${short.slice(0, bestStart).join(":")}::${short.slice(bestStart + bestLength).join(":")}`;
  return prefix === undefined ? compressed : `${compressed}/${prefix}`;
}

function fail(key: string, message: string): never {
  throw new Error(`host bootstrap: ${key} ${message}`);
}

interface Resolved {
  deployUser: string;
  sshPort: number;
  releaseDir: string;
  sshAllowFrom: string[];
  authorizedKeys: string[];
  operatorKeys: string[];
  adminUser: string;
  adminKeys: string[];
  publicTcpPorts: number[];
  unattendedUpgrades: boolean;
  hardenSsh: boolean;
  fail2ban: NonNullable<BootstrapScriptOptions["fail2ban"]>;
  dockerLogs: NonNullable<BootstrapScriptOptions["dockerLogs"]>;
}

function resolveOptions(options: BootstrapScriptOptions): Resolved {
  const resolved: Resolved = {
    deployUser: options.deployUser,
    sshPort: options.sshPort,
    releaseDir: options.releaseDir,
    sshAllowFrom: options.sshAllowFrom,
    authorizedKeys: options.authorizedKeys,
    operatorKeys: options.operatorKeys ?? [],
    adminUser: options.adminUser ?? "ballast-admin",
    adminKeys: options.adminKeys,
    publicTcpPorts: options.publicTcpPorts ?? [80, 443],
    unattendedUpgrades: options.unattendedUpgrades ?? true,
    hardenSsh: options.hardenSsh ?? true,
    fail2ban: options.fail2ban ?? { maxRetry: 5, findTimeSeconds: 600, banTimeSeconds: 3600, ignoreFrom: [] },
    dockerLogs: options.dockerLogs ?? { maxSize: "10m", maxFile: 3 },
  };
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(resolved.deployUser))
    fail("deployUser", `"${resolved.deployUser}" must be a Unix user name (lower-case letters, digits, _ and -)`);
  if (resolved.deployUser === "root") fail("deployUser", "must not be root: deploys run as an unprivileged user in the docker group");
  const port = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!port(resolved.sshPort)) fail("sshPort", `${resolved.sshPort} must be a port between 1 and 65535`);
  if (
    !/^\/[A-Za-z0-9._/-]+$/.test(resolved.releaseDir) ||
    /(^|\/)\.\.?(\/|$)/.test(resolved.releaseDir) ||
    resolved.releaseDir.replace(/\/+$/, "") === ""
  ) {
    fail("releaseDir", `"${resolved.releaseDir}" must be an absolute path below / without spaces, "." or ".."`);
  }
  if (resolved.sshAllowFrom.length === 0)
    fail("sshAllowFrom", "needs at least one range: with none, the firewall would shut SSH for everyone");
  resolved.sshAllowFrom.forEach((c, i) => {
    const problem = cidrProblem(c);
    if (problem) fail(`sshAllowFrom[${i}]`, `"${c}" ${problem}`);
  });
  resolved.fail2ban.ignoreFrom.forEach((c, i) => {
    const problem = cidrProblem(c);
    if (problem) fail(`fail2ban.ignoreFrom[${i}]`, `"${c}" ${problem}`);
  });
  if (resolved.authorizedKeys.length === 0) fail("authorizedKeys", "needs at least one public key for the deploy user");
  for (const list of ["authorizedKeys", "operatorKeys", "adminKeys"] as const) {
    resolved[list].forEach((k, i) => {
      if (!publicKeyPattern.test(k))
        fail(`${list}[${i}]`, 'must be one OpenSSH public key line ("ssh-ed25519 AAAA... comment") without quotes');
    });
  }
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(resolved.adminUser))
    fail("adminUser", `"${resolved.adminUser}" must be a Unix user name (lower-case letters, digits, _ and -)`);
  if (resolved.adminUser === "root") fail("adminUser", "must not be root: root does not log in over SSH once the host is bootstrapped");
  if (resolved.adminUser === resolved.deployUser)
    fail("adminUser", `"${resolved.adminUser}" is the deploy user; the bootstrap needs its own user and key`);
  if (resolved.adminKeys.length === 0)
    fail("adminKeys", "needs at least one public key: later runs of this script log in as the admin user");
  const deployBlobs = new Set([...resolved.authorizedKeys, ...resolved.operatorKeys].map(keyBlob));
  resolved.adminKeys.forEach((k, i) => {
    if (deployBlobs.has(keyBlob(k)))
      fail(`adminKeys[${i}]`, "is also a key of the deploy user; the bootstrap (root) key and the deploy key must differ");
  });
  resolved.publicTcpPorts.forEach((p, i) => {
    if (!port(p)) fail(`publicTcpPorts[${i}]`, `${p} must be a port between 1 and 65535`);
    if (p === resolved.sshPort) fail(`publicTcpPorts[${i}]`, `${p} is the SSH port, which only the allowed ranges may reach`);
  });
  const { maxRetry, findTimeSeconds, banTimeSeconds } = resolved.fail2ban;
  for (const [key, value] of Object.entries({ maxRetry, findTimeSeconds, banTimeSeconds })) {
    if (!Number.isInteger(value) || value < 1) fail(`fail2ban.${key}`, `${value} must be a positive integer`);
  }
  if (!/^[1-9]\d*[kmg]$/.test(resolved.dockerLogs.maxSize))
    fail("dockerLogs.maxSize", `"${resolved.dockerLogs.maxSize}" must be a size such as "10m"`);
  if (!Number.isInteger(resolved.dockerLogs.maxFile) || resolved.dockerLogs.maxFile < 1)
    fail("dockerLogs.maxFile", `${resolved.dockerLogs.maxFile} must be a positive integer`);
  return resolved;
}

/** The type and base64 part of a public key line: the key itself, without its comment. */
export function keyBlob(line: string): string {
  return line.split(" ").slice(0, 2).join(" ");
}

/**
 * authorized_keys options: `restrict` switches off every forwarding, the terminal and
 * ~/.ssh/rc (`pty` gives the terminal back to people's keys); `from=` repeats the firewall's
 * ranges, so a key copied off the machine is useless from anywhere else even if ufw is off.
 * No `from=` when every address may connect (both 0.0.0.0/0 and ::/0).
 */
export function keyOptions(sshAllowFrom: string[], terminal: boolean): string {
  const ranges = [...new Set(sshAllowFrom.map(canonicalCidr))];
  const everyone = ranges.includes("0.0.0.0/0") && ranges.includes("::/0");
  return [terminal ? "restrict,pty" : "restrict", ...(everyone ? [] : [`from="${ranges.join(",")}"`])].join(",");
}

/** The lines of an authorized_keys file: each key with its options, in order, once. */
export function authorizedKeyLines(keys: string[], options: string): string[] {
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(keyBlob(k)) && seen.add(keyBlob(k))).map((k) => `${options} ${k}`);
}

function array(name: string, values: (string | number)[]): string {
  return `readonly -a ${name}=(${values.map((v) => (typeof v === "number" ? String(v) : shellQuote(v))).join(" ")})`;
}

/** Pure: the bootstrap script for these options; throws naming the option when one is invalid. */
export function renderBootstrapScript(options: BootstrapScriptOptions): string {
  const o = resolveOptions(options);
  const ignore = ["127.0.0.1/8", "::1", ...o.fail2ban.ignoreFrom.map(canonicalCidr)];
  const settings = [
    `readonly DEPLOY_USER=${shellQuote(o.deployUser)}`,
    `readonly SSH_PORT=${o.sshPort}`,
    `readonly RELEASE_DIR=${shellQuote(o.releaseDir.replace(/\/+$/, ""))}`,
    array("SSH_ALLOW_FROM", [...new Set(o.sshAllowFrom.map(canonicalCidr))]),
    `readonly ADMIN_USER=${shellQuote(o.adminUser)}`,
    array("DEPLOY_KEY_LINES", [
      ...authorizedKeyLines(o.authorizedKeys, keyOptions(o.sshAllowFrom, false)),
      ...authorizedKeyLines(
        o.operatorKeys.filter((k) => !o.authorizedKeys.map(keyBlob).includes(keyBlob(k))),
        keyOptions(o.sshAllowFrom, true),
      ),
    ]),
    array("ADMIN_KEY_LINES", authorizedKeyLines(o.adminKeys, keyOptions(o.sshAllowFrom, false))),
    array("PUBLIC_TCP_PORTS", [...new Set(o.publicTcpPorts)]),
    `readonly LOG_MAX_SIZE=${shellQuote(o.dockerLogs.maxSize)}`,
    `readonly LOG_MAX_FILE=${shellQuote(String(o.dockerLogs.maxFile))}`,
    "# shellcheck disable=SC2016 # a jq program: $driver, $size and $files are jq variables",
    `readonly DAEMON_JSON_FILTER=${shellQuote(daemonJsonFilter)}`,
    `readonly UNATTENDED_UPGRADES=${o.unattendedUpgrades ? 1 : 0}`,
    `readonly HARDEN_SSH=${o.hardenSsh ? 1 : 0}`,
    `readonly F2B_MAXRETRY=${o.fail2ban.maxRetry}`,
    `readonly F2B_FINDTIME=${o.fail2ban.findTimeSeconds}`,
    `readonly F2B_BANTIME=${o.fail2ban.banTimeSeconds}`,
    `readonly F2B_IGNOREIP=${shellQuote(ignore.join(" "))}`,
  ];
  const header = [
    "#!/usr/bin/env bash",
    "# Rendered by Ballast (components/host/bootstrap.ts): prepares a Debian/Ubuntu host for the",
    "# Compose target. Run it as root before the first deploy (root's last SSH login when",
    "# hardenSsh is on), then as the admin user after changing ballast:compose.bootstrap (it is",
    "# idempotent; pulumi up does both):",
    `#   ssh -p ${o.sshPort} root@HOST 'bash -s' < bootstrap.sh     later:  ssh -p ${o.sshPort} ${o.adminUser}@HOST 'sudo -n bash -s' < bootstrap.sh`,
    "set -euo pipefail",
    "",
    "# Settings (from the stack config).",
    ...settings,
    "",
  ];
  return `${header.join("\n")}\n${body}`;
}

/** The options for a stack's Compose host, from its compose config and bootstrap settings. */
export function bootstrapOptions(
  compose: Pick<ComposeConfig, "ssh">,
  bootstrap: BootstrapConfig,
  proxyPorts: { httpPort: number; httpsPort: number },
): BootstrapScriptOptions {
  if (!compose.ssh)
    throw new Error("host bootstrap: ballast:compose.ssh is required (the host, the deploy user and the release directory)");
  return {
    deployUser: compose.ssh.user,
    sshPort: compose.ssh.port,
    releaseDir: compose.ssh.remoteDir,
    sshAllowFrom: bootstrap.sshAllowFrom,
    authorizedKeys: bootstrap.authorizedKeys,
    operatorKeys: bootstrap.operatorKeys,
    adminUser: bootstrap.adminUser,
    adminKeys: bootstrap.adminKeys,
    publicTcpPorts: [proxyPorts.httpPort, proxyPorts.httpsPort],
    unattendedUpgrades: bootstrap.unattendedUpgrades,
    hardenSsh: bootstrap.hardenSsh,
    fail2ban: bootstrap.fail2ban,
    dockerLogs: bootstrap.dockerLogs,
  };
}

/** The script as a rendered file (`host/bootstrap.sh`, 0755) for `npm run render`. */
export function renderBootstrapFile(options: BootstrapScriptOptions): RenderedFile {
  return { path: BOOTSTRAP_FILE, content: renderBootstrapScript(options), mode: 0o755 };
}
