/**
 * Reads `Pulumi.<stack>.yaml` into the flat `ballast:key -> string` form Pulumi hands a
 * program. Encrypted (`secure:`) values cannot be decrypted without the passphrase, so the
 * render path replaces them with a recognisable placeholder and marks them secret.
 */
import { readFileSync, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";

export interface StackFile {
  stack: string;
  raw: Record<string, string>;
  /** Keys whose values were encrypted in the file (and are placeholders here). */
  secretKeys: string[];
}

export const projectRoot = join(__dirname, "..", "..");

export function stackFilePath(stack: string, root = projectRoot): string {
  return join(root, `Pulumi.${stack}.yaml`);
}

/** Flattens a parsed stack file's `config:` block. */
export function flattenStackConfig(config: Record<string, unknown> | undefined | null): {
  raw: Record<string, string>;
  secretKeys: string[];
} {
  const raw: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(config ?? {})) {
    const { value: plain, hadSecret } = replaceSecure(value);
    raw[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
    if (hadSecret) secretKeys.push(key);
  }
  return { raw, secretKeys };
}

function replaceSecure(value: unknown): { value: unknown; hadSecret: boolean } {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === "secure") return { value: "encrypted-in-stack-file", hadSecret: true };
    let hadSecret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const inner = replaceSecure(v);
      out[k] = inner.value;
      hadSecret ||= inner.hadSecret;
    }
    return { value: out, hadSecret };
  }
  if (Array.isArray(value)) {
    let hadSecret = false;
    const out = value.map((v) => {
      const inner = replaceSecure(v);
      hadSecret ||= inner.hadSecret;
      return inner.value;
    });
    return { value: out, hadSecret };
  }
  return { value, hadSecret: false };
}

export function readStackFile(stack: string, root = projectRoot): StackFile {
  const path = stackFilePath(stack, root);
  if (!existsSync(path)) throw new Error(`no stack file ${path}: expected one of Pulumi.dev.yaml, Pulumi.staging.yaml, Pulumi.prod.yaml`);
  return readStackFileAt(path, stack);
}

/** The stack name a file is for: `Pulumi.<stack>.yaml` -> `<stack>`. */
export function stackNameOfPath(path: string): string {
  const match = /^Pulumi\.([^/]+)\.ya?ml$/.exec(basename(path));
  if (!match) throw new Error(`${path}: a stack file is named Pulumi.<stack>.yaml; pass the stack name explicitly for another name`);
  return match[1];
}

/** A stack file at any path (the examples under examples/), for the stack `stack`. */
export function readStackFileAt(path: string, stack = stackNameOfPath(path)): StackFile {
  if (!existsSync(path)) throw new Error(`no stack file ${path}`);
  const parsed = parse(readFileSync(path, "utf8")) as { config?: Record<string, unknown> } | null;
  return { stack, ...flattenStackConfig(parsed?.config) };
}
