/**
 * The drift report of `npm run drift`: reads the JSON of `pulumi refresh --preview-only --json`
 * (what a refresh would change in the state: the live resources against what the last `pulumi up`
 * recorded) and says, per resource, what differs. Pure: JSON in, report and Markdown out.
 *
 * A refresh step counts as drift when its op is anything but "same"/"refresh" (a resource gone,
 * replaced, or updated), when the engine names changed properties (detailedDiff, diffReasons), or
 * when a property the stack declares (a leaf of its recorded inputs) reads back different, in the
 * inputs the provider returns (the Kubernetes provider does) or in its outputs (all providers).
 * Output fields the stack never set (status, `resourceVersion`, defaults) are not compared: they
 * change on their own.
 * Values the engine masks stay masked, and values of secret-looking keys are never printed.
 */

export interface DriftChange {
  /** The resource's name (the last URN segment), e.g. `ballast-app`. */
  name: string;
  /** Its type token, e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  urn: string;
  /** What a refresh would do to its state: `update` (properties differ), `delete` (gone), ... */
  op: string;
  /** One line per changed property: `spec.replicas: 2 → 5`, `data: (changed)`. */
  properties: string[];
}

export interface DriftReport {
  stack: string;
  /** Resources whose live state differs from the state. */
  changes: DriftChange[];
  /** Resources that match. */
  unchanged: number;
}

interface RefreshStep {
  op?: string;
  urn?: string;
  diffReasons?: string[];
  detailedDiff?: Record<string, unknown> | null;
  oldState?: ResourceState | null;
  newState?: ResourceState | null;
}

interface ResourceState {
  type?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

/** Ops of a refresh step that mean "the live resource matches the state". */
const UNCHANGED_OPS = new Set(["same", "refresh", "read"]);
/** Keys under which values are never printed (at any depth), even when the engine did not mark them secret. */
const SECRET_KEY = /(password|passwd|secret|token|key|credential|data|env)$/i;
/** Engine-internal properties: the dynamic providers' serialized code, Pulumi's own metadata. */
const INTERNAL_KEY = /^__/;
const MAX_VALUE = 60;
const MAX_PROPERTIES = 8;

/** Parses the CLI's JSON; throws a message that says what was expected when it is not that. */
export function driftFromRefreshPreview(stack: string, jsonText: string): DriftReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(jsonText);
  } catch (error) {
    throw new Error(`the output of \`pulumi refresh --preview-only --json\` is not JSON (${(error as Error).message})`, { cause: error });
  }
  const steps = (parsed as { steps?: unknown }).steps;
  if (!Array.isArray(steps)) {
    throw new Error("the output of `pulumi refresh --preview-only --json` has no `steps` list");
  }
  const changes: DriftChange[] = [];
  let unchanged = 0;
  for (const step of steps as RefreshStep[]) {
    if (!step.urn || isStackResource(step.urn)) continue;
    const change = changeOf(step);
    if (change) changes.push(change);
    else unchanged++;
  }
  return { stack, changes, unchanged };
}

function isStackResource(urn: string): boolean {
  return typeOfUrn(urn) === "pulumi:pulumi:Stack";
}

function changeOf(step: RefreshStep): DriftChange | undefined {
  const urn = step.urn!;
  const base = { name: nameOfUrn(urn), type: step.oldState?.type ?? typeOfUrn(urn), urn };
  const op = step.op ?? "unknown";
  const gone = step.oldState && !step.newState;
  if (gone) return { ...base, op: "delete", properties: ["the resource no longer exists"] };
  const named = Object.keys(step.detailedDiff ?? {}).concat(step.diffReasons ?? []);
  const inputChanges = declaredChanges(step.oldState ?? {}, step.newState ?? {});
  if (UNCHANGED_OPS.has(op) && named.length === 0 && inputChanges.length === 0) return undefined;
  const properties = inputChanges.length > 0 ? inputChanges : [...new Set(named)].sort().map((path) => `${path}: (changed)`);
  return {
    ...base,
    op: UNCHANGED_OPS.has(op) ? "update" : op,
    properties: properties.length > 0 ? properties : ["(no property named by the provider)"],
  };
}

/** `urn:pulumi:<stack>::<project>::<parent types $ ...>$<type>::<name>` → the type. */
function typeOfUrn(urn: string): string {
  const parts = urn.split("::");
  const types = parts[2] ?? "";
  return types.split("$").pop() ?? types;
}

function nameOfUrn(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

type Leaves = Map<string, unknown>;

function leaves(value: unknown, prefix: string, into: Leaves): Leaves {
  if (value !== null && typeof value === "object" && !isMasked(value)) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) into.set(prefix, value);
    for (const [key, child] of entries) {
      if (!prefix && INTERNAL_KEY.test(key)) continue;
      leaves(child, Array.isArray(value) ? `${prefix}[${key}]` : prefix ? `${prefix}.${key}` : key, into);
    }
    return into;
  }
  into.set(prefix, value);
  return into;
}

/** A secret as the CLI prints it: the string "[secret]" or the engine's secret envelope. */
function isMasked(value: unknown): boolean {
  if (value === "[secret]") return true;
  return value !== null && typeof value === "object" && "4dabf18193072939515e22adb298388d" in value;
}

/**
 * One line per declared property that reads back different, in path order, at most MAX_PROPERTIES
 * (then a count): the inputs' leaves compared as returned, and the outputs' leaves at the paths
 * the recorded inputs hold.
 */
export function declaredChanges(before: ResourceState, after: ResourceState): string[] {
  const declared = leaves(before.inputs ?? {}, "", new Map());
  const changed = new Map<string, [unknown, unknown]>();
  const compare = (old: Leaves, now: Leaves, only?: Leaves) => {
    for (const path of new Set([...old.keys(), ...now.keys()])) {
      if (path === "" || (only && !only.has(path)) || changed.has(path)) continue;
      const a = old.get(path);
      const b = now.get(path);
      if (JSON.stringify(a) === JSON.stringify(b) || (isMasked(a) && isMasked(b))) continue;
      changed.set(path, [a, b]);
    }
  };
  // A provider that returns no inputs from its read (dynamic providers) leaves them as recorded.
  if (after.inputs) compare(declared, leaves(after.inputs, "", new Map()));
  if (before.outputs && after.outputs) compare(leaves(before.outputs, "", new Map()), leaves(after.outputs, "", new Map()), declared);
  const lines = [...changed.keys()].sort().map((path) => {
    const [a, b] = changed.get(path)!;
    return `${path}: ${shown(path, a)} → ${shown(path, b)}`;
  });
  if (lines.length <= MAX_PROPERTIES) return lines;
  return [...lines.slice(0, MAX_PROPERTIES), `… and ${lines.length - MAX_PROPERTIES} more`];
}

function shown(path: string, value: unknown): string {
  if (value === undefined) return "(none)";
  const segments = path.split(/[.[\]]/).filter(Boolean);
  if (isMasked(value) || segments.some((segment) => SECRET_KEY.test(segment))) return "(hidden)";
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** Markdown for a terminal and for `$GITHUB_STEP_SUMMARY`. */
export function formatDriftReport(report: DriftReport): string {
  const total = report.changes.length + report.unchanged;
  if (report.changes.length === 0) {
    return `No drift in stack \`${report.stack}\`: all ${total} resources match the last deployment.\n`;
  }
  const rows = report.changes.map(
    (c) => `| \`${c.name}\` | \`${c.type}\` | ${c.op} | ${c.properties.map((p) => p.replaceAll("|", "\\|")).join("<br>")} |`,
  );
  return [
    `**Drift in stack \`${report.stack}\`**: ${report.changes.length} of ${total} resources differ from the last deployment.`,
    "",
    "| resource | type | refresh would | what differs (recorded → live) |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
    'Reconcile (docs/ci-workflows.md, "drift.yml"): to put back what the stack declares, run',
    `\`pulumi up --refresh --stack ${report.stack}\` (it reads the live resources first, then changes them back and`,
    "creates what was deleted; review its preview first).",
    `To keep a live change, write it into \`Pulumi.${report.stack}.yaml\` or the code, then \`pulumi up\`.`,
    `\`pulumi refresh --stack ${report.stack}\` alone only records the live values in the state: the next \`pulumi up\` would revert them.`,
    "",
  ].join("\n");
}
