/**
 * The shape of a Compose service record's properties: the service's slice of the project,
 * flattened to one property per leaf (`services.app.image`, `services.app.environment.LOG_LEVEL`,
 * `services.app.deploy.replicas`, `services.app.cap_drop[0]`).
 *
 * Why flat: `pulumi preview --diff` prints a changed object whole, unchanged keys included, but
 * hides unchanged top-level properties. With one property per leaf, a one-line change in the
 * declaration is one line in the preview, and it names the service and the key.
 *
 * Dependency-free: the policy pack (policies/lib/compose.ts) reads records with `unflattenDocument`.
 *
 * Path syntax: segments joined by `.`; a key that is not a plain name (`ballast.component`,
 * `traefik/x`) is written `["..."]` (a JSON string); array items are `[n]`. An empty object,
 * empty array or null leaf is kept as the path plus `{}`, `[]` or `=null`, with the value `true`.
 */

export type FlatValue = string | number | boolean;
export type FlatDocument = Record<string, FlatValue>;

const plainKey = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function keySegment(path: string, key: string): string {
  if (plainKey.test(key)) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** Every leaf of `value` under `path`, into `out`. */
function flattenInto(value: unknown, path: string, out: FlatDocument): void {
  if (value === null) {
    out[`${path}=null`] = true;
  } else if (Array.isArray(value)) {
    if (value.length === 0) out[`${path}[]`] = true;
    value.forEach((item, index) => flattenInto(item, `${path}[${index}]`, out));
  } else if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) out[`${path}{}`] = true;
    for (const [key, item] of entries) flattenInto(item, keySegment(path, key), out);
  } else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    out[path] = value;
  } else if (value !== undefined) {
    throw new Error(`record-shape: ${path} holds a ${typeof value}, not JSON`);
  }
}

/** One property per leaf of a JSON document (an object at the top). */
export function flattenDocument(document: Record<string, unknown>): FlatDocument {
  const out: FlatDocument = {};
  for (const [key, value] of Object.entries(document)) {
    if (value !== undefined) flattenInto(value, keySegment("", key), out);
  }
  return out;
}

type Segment = string | number;

/** Splits a flattened path into keys (strings) and array indexes (numbers). */
export function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  while (i < path.length) {
    if (path[i] === ".") {
      i++;
      continue;
    }
    if (path[i] === "[") {
      if (path[i + 1] === '"') {
        // A JSON string: find its closing quote (not escaped), then the bracket.
        let j = i + 2;
        while (j < path.length && !(path[j] === '"' && path[j - 1] !== "\\")) j++;
        segments.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        i = j + 2;
      } else {
        const close = path.indexOf("]", i);
        segments.push(Number(path.slice(i + 1, close)));
        i = close + 1;
      }
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
    segments.push(path.slice(i, j));
    i = j;
  }
  return segments;
}

function setAt(root: Record<string, unknown>, segments: Segment[], value: unknown): void {
  let node: Record<string | number, unknown> = root;
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (last) {
      node[segment] = value;
      return;
    }
    const next = segments[index + 1];
    if (node[segment] === undefined) node[segment] = typeof next === "number" ? [] : {};
    node = node[segment] as Record<string | number, unknown>;
  });
}

/**
 * The document `flattenDocument` flattened. Pulumi's own properties (`__provider`, `__...`) are
 * skipped; other properties must be paths of the document.
 */
export function unflattenDocument(flat: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(flat)) {
    if (path.startsWith("__")) continue;
    if (path.endsWith("=null")) setAt(root, parsePath(path.slice(0, -"=null".length)), null);
    else if (path.endsWith("{}") && value === true) setAt(root, parsePath(path.slice(0, -2)), {});
    else if (path.endsWith("[]") && value === true) setAt(root, parsePath(path.slice(0, -2)), []);
    else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") setAt(root, parsePath(path), value);
    // Any other leaf is a value the engine does not know yet (a preview: the policy pack's
    // `Unknown`, the digest of an image this update builds): kept, so a reader can tell it from absent.
    else if (value !== undefined && value !== null) setAt(root, parsePath(path), value);
  }
  return root;
}
