/**
 * Upgrading Ballast under a deployed stack: the previous landed version (the commit in
 * test/e2e/fixtures/upgrade-from) extracted into a temp dir, and the judgement of the first preview
 * of this tree over the state that version left. Shared by the compose and the Kubernetes upgrade
 * scenarios.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { installedPlugins, repoRoot, run, type InlineResult, type PulumiProject } from "./harness";

/** The commit of the previous landed version: the first line of the fixture that is not a comment. */
export function upgradeFromCommit(file = path.join(repoRoot, "test", "e2e", "fixtures", "upgrade-from")): string {
  const line = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith("#"));
  if (!line || !/^[0-9a-f]{7,40}$/.test(line)) throw new Error(`${file} names no commit (a line of 7-40 hex digits)`);
  return line;
}

/**
 * The tree of `commit` in a temp dir, with node_modules: this checkout's when the lock file is the
 * same, else its own `npm ci` (no install scripts); and the stand-in plugins under the versions it
 * pins (`toolchain` is the harness's toolchain env).
 */
export async function extractVersion(commit: string, into: string, toolchain: Record<string, string>): Promise<void> {
  try {
    execFileSync("git", ["-C", repoRoot, "cat-file", "-e", `${commit}^{commit}`], { stdio: "ignore" });
  } catch {
    throw new Error(
      `commit ${commit} (test/e2e/fixtures/upgrade-from) is not in this clone: fetch the full history (git fetch --unshallow)`,
    );
  }
  execFileSync("bash", ["-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "extract", repoRoot, commit, into]);
  const sameLock = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  if (sameLock(path.join(into, "package-lock.json")) === sameLock(path.join(repoRoot, "package-lock.json"))) {
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(into, "node_modules"));
    return;
  }
  const installed = await run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: into, timeoutSeconds: 900 });
  if (installed.code !== 0) throw new Error(`npm ci of Ballast ${commit} failed:\n${installed.stderr.slice(-2000)}`);
  await installStandinsFor(into, toolchain);
}

/**
 * The stand-in providers (scripts/toolchain/standin) also under the versions the tree in `root`
 * pins: its SDKs ask the engine for exactly those (`@pulumi/random` 4.16.7 before 4.21.2), and the
 * toolchain installs the stand-ins under this tree's pins only. A stand-in serves every version of
 * its SDK; a real provider is left alone (a different pin of it would need its own build).
 */
async function installStandinsFor(root: string, toolchain: Record<string, string>): Promise<void> {
  const pins = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { dependencies?: Record<string, string> })
    .dependencies;
  for (const [name, installed] of installedPlugins(toolchain)) {
    const pinned = pins?.[`@pulumi/${name}`];
    const version = installed.replace("(standin)", "");
    if (!installed.endsWith("(standin)") || !pinned || pinned === version) continue;
    const binary = `pulumi-resource-${name}`;
    if (fs.existsSync(path.join(toolchain.PULUMI_HOME, "plugins", `resource-${name}-v${pinned}`, binary))) continue;
    const source = path.join(toolchain.PULUMI_HOME, "plugins", `resource-${name}-v${version}`, binary);
    const cli = toolchain.BALLAST_PULUMI_CLI ?? path.join(toolchain.PULUMI_HOME, "bin", "pulumi");
    const done = await run(cli, ["plugin", "install", "resource", name, pinned, "--file", source], {
      env: { ...process.env, ...toolchain },
      timeoutSeconds: 120,
    });
    if (done.code !== 0) throw new Error(`installing the ${name} stand-in as ${pinned} failed:\n${done.stderr.slice(-2000)}`);
  }
}

/** Steps of a preview that delete or replace a resource (or drop one the state holds). */
export const DESTRUCTIVE_OPS = new Set([
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "read-replacement",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
]);

/**
 * The components this version turned into plain functions (issue 16): they owned no resource, so
 * their deletion by the first update after the upgrade loses nothing. Only a `delete` of exactly
 * these types is allowed, nothing else of theirs.
 */
export const REMOVED_EMPTY_COMPONENTS = new Set([
  "ballast:postgres:Postgres",
  "ballast:redis:Redis",
  "ballast:proxy:Proxy",
  "ballast:backups:Backups",
  "ballast:observability:Observability",
  "ballast:app:App",
  "ballast:workers:WorkerPool",
  "ballast:cron:CronJobs",
  "ballast:services:ExtraServices",
]);

export interface PlannedStep {
  op: string;
  urn: string;
  type: string;
}

/** The steps scripts/e2e/inline.ts reported for a preview (every op but `same`). */
export function plannedSteps(preview: InlineResult): PlannedStep[] {
  return (preview.result?.steps ?? []) as PlannedStep[];
}

/** `<op> <type> <name>` of a step, as the assertions and the log print it. */
export function describeStep(step: PlannedStep): string {
  return `${step.op} ${step.type} ${step.urn.split("::").pop()}`;
}

/** Counts by op: what the report quotes (`update 3, create 1`). */
export function stepsByOp(steps: PlannedStep[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const step of steps) counts[step.op] = (counts[step.op] ?? 0) + 1;
  return counts;
}

/** The name of a default provider (`default_4_16_7`): the engine's own, one per plugin version. */
const DEFAULT_PROVIDER = /::default(_\d+_\d+_\d+.*)?$/;

/**
 * Whether `step` deletes a default provider that the same plan creates again at another plugin
 * version (an SDK bump: `@pulumi/random` 4.16.7 -> 4.21.2). A provider holds no state; its resources
 * move to the new one, and any replace that would cause is caught as a step of its own.
 */
function supersededDefaultProvider(step: PlannedStep, steps: PlannedStep[]): boolean {
  return (
    step.op === "delete" &&
    step.type.startsWith("pulumi:providers:") &&
    DEFAULT_PROVIDER.test(step.urn) &&
    steps.some((other) => other.op === "create" && other.type === step.type && DEFAULT_PROVIDER.test(other.urn))
  );
}

/**
 * The destructive steps an upgrade must not plan: every delete or replace, except those
 * `replaceable` says a version bump may do (the compose release command), the delete of a removed
 * empty component, and the delete of a default provider superseded by the new plugin version's.
 */
export function forbiddenSteps(steps: PlannedStep[], replaceable: (step: PlannedStep) => boolean = () => false): PlannedStep[] {
  return steps.filter(
    (step) =>
      DESTRUCTIVE_OPS.has(step.op) &&
      !replaceable(step) &&
      !(step.op === "delete" && REMOVED_EMPTY_COMPONENTS.has(step.type)) &&
      !supersededDefaultProvider(step, steps),
  );
}

/** Runs `operation`, logs how long it took under `label`, and records the seconds in `timings`. */
export async function timed<T>(timings: Record<string, number>, label: string, operation: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await operation();
  } finally {
    timings[label] = Math.round((Date.now() - started) / 100) / 10;
    console.log(`timing: ${label} ${timings[label]} s`);
  }
}

/** One resource of a `pulumi stack export`, as the upgrade checks read it. */
export interface StateResource {
  urn: string;
  type: string;
  /** When the engine created it: a resource kept under a new name (alias) keeps it, a recreated one does not. */
  created: string;
  /** `<provider URN>::<provider id>` of a custom resource. */
  provider?: string;
}

/** The stack's resources from `pulumi stack export`. */
export async function stateResources(project: PulumiProject): Promise<StateResource[]> {
  const exported = JSON.parse((await project.cli(["stack", "export", "--stack", project.stack], 120)).stdout) as {
    deployment: { resources?: { urn: string; type: string; created?: string; provider?: string }[] };
  };
  return (exported.deployment.resources ?? []).map((resource) => {
    if (!resource.created) throw new Error(`the state records no creation time for ${resource.urn} (pulumi >= 3.60 does)`);
    return { urn: resource.urn, type: resource.type, created: resource.created, provider: resource.provider };
  });
}

/** The name part of a URN. */
export function urnName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/**
 * `<type> created <time>` of every resource `kept` selects, sorted: equal before and after an
 * upgrade exactly when none of them was created anew, whatever their names became.
 */
export function creations(resources: StateResource[], kept: (resource: StateResource) => boolean): string[] {
  return resources
    .filter(kept)
    .map((resource) => `${resource.type} created ${resource.created}`)
    .sort();
}
