/**
 * Schemas of `ballast:compose` (the Compose-on-VPS target: SSH connection, releases, host
 * bootstrap, host maintenance). Defaults: ./defaults.ts.
 */
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { cronSchedule, dnsLabel, logSize, port } from "./primitives";

/** Why a CIDR (or bare address) is not acceptable to ufw, or undefined when it is. */
export function cidrProblem(value: string): string | undefined {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || address === "") return 'must be an IPv4 or IPv6 address or CIDR range, e.g. "203.0.113.0/24" or "2001:db8::/32"';
  const v4 = isIPv4(address);
  if (address.includes("%")) return `"${address}" has a zone index (%...), which ufw does not take`;
  if (!v4 && !isIPv6(address)) return `"${address}" is not an IPv4 or IPv6 address (expected e.g. "203.0.113.0/24" or "2001:db8::/32")`;
  const bits = v4 ? 32 : 128;
  if (prefix === undefined) return undefined;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits)
    return `prefix length "/${prefix}" must be 0-${bits} for an IPv${v4 ? 4 : 6} range`;
  const network = networkOf(address, Number(prefix), v4);
  if (network !== address && network !== undefined) {
    return `has host bits set below the /${prefix} prefix; did you mean "${network}/${prefix}"?`;
  }
  return undefined;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, octet) => (acc << 8n) + BigInt(Number(octet)), 0n);
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, an IPv4 tail converted). */
function ipv6Groups(address: string): string[] {
  let text = address;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const n = ipv4ToBigInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  if (rest === undefined) return headGroups;
  const restGroups = rest ? rest.split(":") : [];
  return [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill("0"), ...restGroups];
}

function ipToBigInt(address: string, v4: boolean): bigint {
  if (v4) return ipv4ToBigInt(address);
  return ipv6Groups(address).reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** The canonical network address of `address/prefix` (IPv6 compressed), for the host-bits message. */
function networkOf(address: string, prefix: number, v4: boolean): string | undefined {
  const bits = v4 ? 32 : 128;
  const value = ipToBigInt(address, v4);
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  const network = value & mask;
  if (network === value) return address;
  if (v4) return [24n, 16n, 8n, 0n].map((shift) => String((network >> shift) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return compressIPv6(groups);
}

function compressIPv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(":");
  return `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLength).join(":")}`;
}

export const cidr = z.string().superRefine((value, ctx) => {
  const problem = cidrProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** An OpenSSH public key line: type, base64 blob, optional comment without quotes or control characters. */
export const publicKeyPattern =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\s'"`\\$][^'"`\\$\r\n]*)?$/;

export const authorizedKey = z.string().regex(publicKeyPattern, {
  message: 'must be one OpenSSH public key line such as "ssh-ed25519 AAAA... deploy@ci" (the .pub file), without quotes',
});

const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]*$/, { message: "must be a Unix user name (lower-case letters, digits, '_' and '-')" });

export const bootstrapSchema = z.strictObject({
  /** Run the bootstrap over SSH before the first release (idempotent, re-run when it changes). */
  enabled: z.boolean(),
  /** User the FIRST bootstrap connects as (root, or the image's sudoer); later runs log in as adminUser. */
  user: unixUser,
  /** Sudoer the bootstrap creates and logs in as after its first run (root may not log in then). */
  adminUser: unixUser,
  /** Public keys of adminUser: the .pub of ballast:bootstrapSshPrivateKey, never a deploy key. */
  adminKeys: z.array(authorizedKey),
  /** Sources allowed to reach sshd; everything else is dropped by ufw. */
  sshAllowFrom: z.array(cidr),
  /** Public keys of the deploy user (`compose.ssh.user`); more than one while a key is rotated. */
  authorizedKeys: z.array(authorizedKey),
  /** Keys of people who log in as the deploy user for the runbooks: a terminal, still no forwarding. */
  operatorKeys: z.array(authorizedKey),
  /** Security updates installed daily by unattended-upgrades. */
  unattendedUpgrades: z.boolean(),
  /** sshd: keys only, no root login, no forwarding, only the deploy and admin users (checked with sshd -T). */
  hardenSsh: z.boolean(),
  fail2ban: z.strictObject({
    maxRetry: z.number().int().min(1).max(100),
    findTimeSeconds: z.number().int().min(60).max(86400),
    banTimeSeconds: z.number().int().min(60).max(31536000),
    /** Never banned (keep this short: an allow-everything entry would switch the jail off). */
    ignoreFrom: z.array(cidr),
  }),
  /** Defaults for containers' json-file logs (/etc/docker/daemon.json), merged into existing settings. */
  dockerLogs: z.strictObject({ maxSize: logSize, maxFile: z.number().int().min(1).max(100) }),
});

const hostKey = z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/, {
  message: 'must be a public host key line such as "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 <host>)',
});

export const sshSchema = z.strictObject({
  host: z.string().min(1, { message: "must be the host name or address of the VPS" }),
  port,
  user: unixUser,
  /** Pinned host public key (`ssh-ed25519 AAAA...`). Required outside dev. */
  hostKey: hostKey.optional(),
  /** Where releases live on the host. */
  remoteDir: z.string().regex(/^\/[A-Za-z0-9._/-]+$/, { message: "must be an absolute path without spaces" }),
  /** Seconds per dial attempt and number of attempts: an unreachable host fails fast. */
  dialTimeoutSeconds: z.number().int().min(1).max(120),
  dialAttempts: z.number().int().min(1).max(20),
});

/**
 * Host maintenance: a scheduled prune of images and build cache. Images of the releases kept
 * for rollback (`keepReleases`) are never removed: rollback needs them.
 */
export const maintenanceSchema = z.strictObject({
  enabled: z.boolean(),
  schedule: cronSchedule,
  /** Build cache kept by `docker builder prune --keep-storage` (e.g. "5g"). */
  buildCacheKeep: logSize,
});

export const composeSchema = z.strictObject({
  /** `ssh`: a VPS over SSH; `local`: the Docker engine of this machine (dev). */
  mode: z.enum(["ssh", "local"]),
  /** Compose project name; volumes are named `<project>_<volume>`. */
  project: dnsLabel,
  ssh: sshSchema.optional(),
  /** Release directory for `local` mode. */
  localDir: z.string().min(1),
  /** Releases kept on the host for rollback. */
  keepReleases: z.number().int().min(2).max(50),
  /** Seconds `docker compose up --wait` may take before the release counts as failed. */
  deployTimeoutSeconds: z.number().int().min(30).max(3600),
  /** Docker binary invocation on the host. */
  composeCommand: z.enum(["docker compose", "docker-compose"]),
  /** Host preparation over SSH before the first deploy (Docker, firewall, fail2ban, upgrades). */
  bootstrap: bootstrapSchema,
  maintenance: maintenanceSchema,
});
