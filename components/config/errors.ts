/**
 * Config errors: every message names the key (`ballast:app.port`), the bad value,
 * and what is allowed, so a stack file can be fixed without reading code. This is the one
 * formatter of validation issues (`describeIssue`), for every area of the config.
 */
import type { z } from "zod";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `Invalid Ballast stack config: ${problems[0]}`
        : `Invalid Ballast stack config (${problems.length} problems):\n  - ${problems.join("\n  - ")}`,
    );
    this.name = "ConfigError";
  }
}

/** `["app", "autoscaling", 0]` -> `ballast:app.autoscaling[0]`. */
export function configKey(path: ReadonlyArray<PropertyKey>): string {
  let key = "ballast:";
  path.forEach((part, i) => {
    if (typeof part === "number") key += `[${part}]`;
    else key += i === 0 ? String(part) : `.${String(part)}`;
  });
  return key;
}

/** Short, single-line rendering of a config value for error messages. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Levenshtein distance, for "did you mean" suggestions on unknown keys. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The closest known key, if it is close enough to be a plausible typo. */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(unknown, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(unknown.length / 3)) ? best : undefined;
}

/** Follows a path into the (merged) input to show the offending value. */
export function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[part as string];
  }
  return node;
}

/** Zod's internal definition, read only to list the keys a config object may have. */
interface SchemaDef {
  type?: string;
  innerType?: unknown;
  in?: unknown;
  schema?: unknown;
  element?: unknown;
  valueType?: unknown;
  shape?: Record<string, unknown>;
  options?: unknown[];
  discriminator?: string;
}

function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

/**
 * The object schema at `path`, seeing through optional/default/pipe wrappers, arrays,
 * records, and discriminated unions (picking the option the input's discriminator names).
 */
function objectDefAt(root: unknown, path: ReadonlyArray<PropertyKey>, input: unknown): SchemaDef | undefined {
  let def = defOf(root);
  let value = input;
  const unwrap = () => {
    for (let depth = 0; depth < 20 && def; depth++) {
      if (def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "prefault")
        def = defOf(def.innerType);
      else if (def.type === "pipe") def = defOf(def.in);
      else if (def.type === "union" && def.options) {
        const discriminator = def.discriminator;
        const chosen =
          discriminator && value !== null && typeof value === "object" ? (value as Record<string, unknown>)[discriminator] : undefined;
        const objects = def.options.map(defOf).filter((d): d is SchemaDef => d?.type === "object" || d?.type === "pipe");
        const matching = objects.find((d) => {
          const literal = defOf(d.shape?.[discriminator ?? ""]) as { values?: unknown[] } | undefined;
          return literal?.values?.includes(chosen);
        });
        def = matching ?? objects.map((d) => (d.type === "pipe" ? defOf(d.in) : d)).find((d) => d?.type === "object");
      } else break;
    }
  };
  unwrap();
  for (const part of path) {
    if (!def) return undefined;
    if (typeof part === "number") def = defOf(def.element);
    else if (def.type === "record") def = defOf(def.valueType);
    else def = defOf(def.shape?.[String(part)]);
    value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[part as string] : undefined;
    unwrap();
  }
  return def;
}

/** The keys allowed at `path` of `root` (for "did you mean" and "allowed here"). */
export function allowedKeysAt(root: unknown, path: ReadonlyArray<PropertyKey>, input: unknown): string[] {
  return Object.keys(objectDefAt(root, path, input)?.shape ?? {});
}

function unit(origin: string): string {
  return origin === "array" ? " items" : origin === "string" ? " characters" : "";
}

/** zod's own messages start like this; ours say in words what is allowed. */
const zodDefaultMessage = /^(Too (small|big)|Invalid (input|string|option|type)|Expected )/;

/**
 * One validation issue as one line: the full key, what is wrong and allowed, the value seen.
 * `root` is the schema the issue paths are relative to; `input` the value it parsed.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown, root: unknown): string {
  const key = configKey(issue.path);
  const value = valueAt(input, issue.path);
  const got = `(got ${showValue(value)})`;
  const custom = issue.message && !zodDefaultMessage.test(issue.message) ? issue.message : undefined;
  switch (issue.code) {
    case "unrecognized_keys": {
      const parent = valueAt(input, issue.path);
      const known = allowedKeysAt(root, issue.path, input).filter(
        (k) => !(parent !== null && typeof parent === "object" && k in parent && issue.keys.includes(k)),
      );
      return issue.keys
        .map((unknown) => {
          const suggestion = nearestKey(unknown, known);
          return `${configKey([...issue.path, unknown])}: unknown key${suggestion ? `; did you mean ${configKey([...issue.path, suggestion])}?` : ""}${
            known.length ? ` (allowed here: ${known.join(", ")})` : ""
          }`;
        })
        .join("; ");
    }
    case "invalid_type":
      if (custom) return `${key}: ${custom} ${got}`;
      return value === undefined ? `${key}: required, expected ${issue.expected}` : `${key}: expected ${issue.expected} ${got}`;
    case "invalid_value":
      return `${key}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")} ${got}`;
    case "too_small":
      return `${key}: ${custom ?? `must be at least ${String(issue.minimum)}${unit(issue.origin)}`} ${got}`;
    case "too_big":
      return `${key}: ${custom ?? `must be at most ${String(issue.maximum)}${unit(issue.origin)}`} ${got}`;
    case "invalid_key":
      // zod 4 leaves `input` unset on record keys; the key is the last path element.
      return `${key}: invalid key name ${showValue(valueAt(issue, ["input"]) ?? issue.path[issue.path.length - 1])}: ${issue.issues.map((inner) => inner.message).join("; ")}`;
    case "invalid_element":
      return `${key}: invalid entry: ${issue.issues.map((inner) => inner.message).join("; ")}`;
    case "invalid_union": {
      if (custom) return `${key}: ${custom} ${got}`;
      const inner = issue.errors
        .flat()
        .map((i) => i.message)
        .find((m) => !zodDefaultMessage.test(m));
      return `${key}: ${inner ?? "is not any of the allowed forms"} ${got}`;
    }
    case "invalid_format":
      return `${key}: ${custom ?? `must be a valid ${issue.format}`} ${got}`;
    default:
      return `${key}: ${custom ?? "is not allowed here"} ${got}`;
  }
}
