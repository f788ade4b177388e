/**
 * `ballast:compose.bootstrap`: how the Compose host is prepared before the first deploy
 * (components/host/bootstrap.ts renders the script).
 *
 * For the lead to embed: `bootstrap: bootstrapSchema` in `composeSchema`, the
 * `bootstrapDefaults(environment)` object under `compose.bootstrap` in the environment
 * presets, and `bootstrapProblems(...)` among the cross-field checks (it needs the target
 * and the compose mode, which the fragment cannot see). Every message names its key.
 *
 *   ballast:compose:
 *     bootstrap:
 *       sshAllowFrom: ["203.0.113.0/24", "2001:db8:42::/48"]
 *       authorizedKeys: ["ssh-ed25519 AAAA... deploy@ci"]
 */
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { configKey, showValue } from "../config/errors";
import type { Environment } from "../config/types";

/** Why a CIDR (or bare address) is not acceptable to ufw, or undefined when it is. */
export function cidrProblem(value: string): string | undefined {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || address === "") return "must be an IPv4 or IPv6 address or CIDR range, e.g. \"203.0.113.0/24\" or \"2001:db8::/32\"";
  const v4 = isIPv4(address);
  if (address.includes("%")) return `"${address}" has a zone index (%...), which ufw does not take`;
  if (!v4 && !isIPv6(address)) return `"${address}" is not an IPv4 or IPv6 address (expected e.g. "203.0.113.0/24" or "2001:db8::/32")`;
  const bits = v4 ? 32 : 128;
  if (prefix === undefined) return undefined;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return `prefix length "/${prefix}" must be 0-${bits} for an IPv${v4 ? 4 : 6} range`;
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
  for (let i = 0; i < groups.length; ) {
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

/** json-file `max-size`: a number with k, m or g. */
const logSize = z.string().regex(/^[1-9]\d*[kmg]$/, { message: 'must be a size such as "10m", "512k" or "1g"' });

export const bootstrapSchema = z.strictObject({
  /** Run the bootstrap over SSH before the first release (idempotent, re-run when it changes). */
  enabled: z.boolean(),
  /** User the bootstrap connects as: it installs packages and creates the deploy user, so root or a sudoer. */
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, { message: "must be a Unix user name" }),
  /** Sources allowed to reach sshd; everything else is dropped by ufw. */
  sshAllowFrom: z.array(cidr),
  /** Public keys of the deploy user (`compose.ssh.user`); more than one while a key is rotated. */
  authorizedKeys: z.array(authorizedKey),
  /** Security updates installed daily by unattended-upgrades. */
  unattendedUpgrades: z.boolean(),
  /** sshd: no passwords, no keyboard-interactive, root by key only. */
  hardenSsh: z.boolean(),
  fail2ban: z.strictObject({
    maxRetry: z.number().int().min(1).max(100),
    findTimeSeconds: z.number().int().min(60).max(86400),
    banTimeSeconds: z.number().int().min(60).max(31536000),
    /** Never banned (keep this short: an allow-everything entry would switch the jail off). */
    ignoreFrom: z.array(cidr),
  }),
  /** Defaults for containers' json-file logs (/etc/docker/daemon.json), merged into existing settings. */
  dockerLogs: z.strictObject({
    maxSize: logSize,
    maxFile: z.number().int().min(1).max(100),
  }),
});

export type BootstrapConfig = z.output<typeof bootstrapSchema>;

/** Defaults per environment: on for staging and prod (hosts over SSH), off for the local dev stack. */
export function bootstrapDefaults(environment: Environment): BootstrapConfig {
  return {
    enabled: environment !== "dev",
    user: "root",
    sshAllowFrom: [],
    authorizedKeys: [],
    unattendedUpgrades: true,
    hardenSsh: true,
    fail2ban: { maxRetry: 5, findTimeSeconds: 600, banTimeSeconds: 3600, ignoreFrom: [] },
    dockerLogs: { maxSize: "10m", maxFile: 3 },
  };
}

const base: ReadonlyArray<PropertyKey> = ["compose", "bootstrap"];

/**
 * Cross-field checks: an enabled bootstrap for a Compose host over SSH needs the ranges SSH
 * may come from (an empty list would shut everyone out) and the deploy user's key.
 */
export function bootstrapProblems(args: { target: string; mode: string; bootstrap: BootstrapConfig }): string[] {
  const { bootstrap } = args;
  if (!bootstrap.enabled || args.target !== "compose" || args.mode !== "ssh") return [];
  const problems: string[] = [];
  if (bootstrap.sshAllowFrom.length === 0) {
    problems.push(
      `${configKey([...base, "sshAllowFrom"])}: required when the bootstrap is enabled: the CIDR ranges SSH may come from (your office, VPN or CI egress, e.g. ["203.0.113.0/24"]); ufw drops SSH from anywhere else. Set ballast:compose.bootstrap.enabled false to prepare the host yourself`,
    );
  }
  if (bootstrap.authorizedKeys.length === 0) {
    problems.push(
      `${configKey([...base, "authorizedKeys"])}: required when the bootstrap is enabled: the deploy user's public key (the .pub of ballast:sshPrivateKey)`,
    );
  }
  const everyone = bootstrap.fail2ban.ignoreFrom.filter((c) => /\/0$/.test(c));
  if (everyone.length > 0) {
    problems.push(`${configKey([...base, "fail2ban", "ignoreFrom"])}: ${everyone.map((c) => showValue(c)).join(", ")} would exempt every address and switch the sshd jail off`);
  }
  return problems;
}

/**
 * Parses `ballast:compose.bootstrap` on its own (defaults for the environment under the
 * given value); throws an Error whose lines each name the offending key.
 */
export function parseBootstrapConfig(raw: unknown, environment: Environment): BootstrapConfig {
  const defaults = bootstrapDefaults(environment);
  const given = (raw ?? {}) as Record<string, unknown>;
  const merged = {
    ...defaults,
    ...given,
    fail2ban: { ...defaults.fail2ban, ...((given.fail2ban as object | undefined) ?? {}) },
    dockerLogs: { ...defaults.dockerLogs, ...((given.dockerLogs as object | undefined) ?? {}) },
  };
  const result = bootstrapSchema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    let value: unknown = merged;
    for (const part of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[part as string];
    const got = issue.code === "unrecognized_keys" ? "" : ` (got ${showValue(value)})`;
    const message = issue.code === "unrecognized_keys" ? `unknown key(s) ${issue.keys.join(", ")}` : issue.message;
    return `${configKey([...base, ...issue.path])}: ${message}${got}`;
  });
  throw new Error(lines.join("\n"));
}
