/**
 * Plain-data access to resource properties.
 *
 * CrossGuard hands policies `props` wrapped in a proxy that throws `UnknownValueError` when a
 * value is not known yet (during `pulumi preview`, e.g. an image digest built in the same
 * update). One unknown field would abort a whole policy for that resource, so every policy
 * first copies the props into plain data where each unknown value becomes an `Unknown`
 * marker; checks then skip what they cannot judge yet and still check everything else.
 * `pulumi up` runs the policies again with every value known.
 */
import { UnknownValueError } from "@pulumi/policy";

/** A value the engine does not know yet (preview only). */
export class Unknown {
  constructor(readonly path: string) {}
}

export type Props = Record<string, unknown>;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep copy of (possibly proxied) props into plain data, unknown values replaced by `Unknown`. */
export function materialise(value: unknown, path = ""): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(readField(value, i, `${path}[${i}]`));
    return out;
  }
  // Assets, archives and other class instances are leaves for policy purposes.
  if (!isPlainObject(value)) return value;
  const out: Props = {};
  for (const key of Object.keys(value)) out[key] = readField(value as Props, key, path ? `${path}.${key}` : key);
  return out;
}

function readField(container: object, key: string | number, path: string): unknown {
  try {
    return materialise((container as Record<string | number, unknown>)[key], path);
  } catch (error) {
    if (error instanceof UnknownValueError) return new Unknown(path);
    throw error;
  }
}

/** The value as a plain object, or undefined. */
export function asObject(value: unknown): Props | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Unknown) ? (value as Props) : undefined;
}

/** The value as an array (empty when absent or not an array). */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string, or undefined (numbers are not strings here). */
export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function isUnknown(value: unknown): value is Unknown {
  return value instanceof Unknown;
}

/** Follows a path of keys/indices through plain data. */
export function at(root: unknown, ...path: (string | number)[]): unknown {
  let node: unknown = root;
  for (const part of path) {
    if (node === null || typeof node !== "object" || node instanceof Unknown) return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

/** String-valued map (labels, annotations); non-string values are dropped. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const obj = asObject(value);
  if (!obj) return out;
  for (const [key, v] of Object.entries(obj)) {
    if (typeof v === "string") out[key] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[key] = String(v);
  }
  return out;
}
