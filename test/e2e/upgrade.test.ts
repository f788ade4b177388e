/**
 * Upgrading Ballast under a running stack, on the real engine and the compose test host.
 *
 * The previous landed version of Ballast (the commit in test/e2e/fixtures/upgrade-from, extracted
 * with `git archive`) deploys the e2e compose stack with the stack file it would have written
 * (its own test/e2e/support/stacks.ts). Then the project is pointed at this tree, exactly as a team
 * would bump Ballast under an existing stack: `pulumi preview` must plan no delete and no replace of
 * any resource that holds state (generated secrets, the encryption key, the service records of the
 * datastores, ...), only updates, creates and the release command's own replacement, and the
 * deletes of the empty components this version turned into functions (support/upgrade.ts lists
 * them); `pulumi up` converges, the row written under the old version is still there, and a preview
 * after it is empty. The target's resources took the Platform's name (`ballast-e2e-release` is now
 * `ballast-release`, `ballast-e2e-postgres` `ballast-postgres`): their aliases keep them.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { PulumiProject, repoRoot, requirePlugin, run, toolchainEnv } from "./support/harness";
import { bringUpHost, freePort, psql, takeDownHost, waitForAnswer, type TestHost } from "./support/host";
import { E2E_APP_HOST, type ComposeStackInputs } from "./support/stacks";
import { scenarioSteps } from "./support/steps";
import {
  creations,
  describeStep,
  extractVersion,
  forbiddenSteps,
  plannedSteps,
  stateResources,
  stepsByOp,
  timed,
  upgradeFromCommit,
  urnName,
  type PlannedStep,
  type StateResource,
} from "./support/upgrade";

const STACK = "upgrade";
const UP_TIMEOUT = 900;
const PREVIEW_TIMEOUT = 300;
/** Steps a version bump may plan: the release command is replaced whenever the bundle changes. */
const REPLACEABLE_TYPES = new Set(["command:remote:Command", "command:local:Command"]);
const replaceable = (step: PlannedStep) => REPLACEABLE_TYPES.has(step.type);
/** What holds the stack's state besides the release: the service records and the generated secrets. */
const RECORD_TYPE = "pulumi-nodejs:dynamic/ballast:ComposeService";
const kept = (resource: StateResource) => resource.type === RECORD_TYPE || resource.type.startsWith("random:");

/** The stack config the old version's own e2e helper writes for these inputs. */
async function oldStackConfig(oldRoot: string, inputs: ComposeStackInputs): Promise<Record<string, unknown>> {
  const script =
    // tsx evaluates as CommonJS: the module's exports arrive under `default`.
    "import('./test/e2e/support/stacks.ts').then((m) => { const f = m.composeStackConfig ?? m.default.composeStackConfig;" +
    " process.stdout.write(JSON.stringify(f(JSON.parse(process.env.BALLAST_E2E_INPUTS)))); })";
  const result = await run(path.join(repoRoot, "node_modules", ".bin", "tsx"), ["--eval", script], {
    cwd: oldRoot,
    env: { ...process.env, BALLAST_E2E_INPUTS: JSON.stringify(inputs) },
    timeoutSeconds: 120,
  });
  if (result.code !== 0) throw new Error(`the old version's composeStackConfig failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe("upgrading Ballast under a running compose stack", () => {
  const step = scenarioSteps();
  let host: TestHost | undefined;
  let hostAttempted = false;
  let project: PulumiProject | undefined;
  let oldRoot = "";
  let commit = "";
  let httpPort = 0;
  const marker = `upgrade-${Date.now().toString(36)}`;
  const timings: Record<string, number> = {};
  let before: StateResource[] = [];

  const appServes = () =>
    waitForAnswer(httpPort, E2E_APP_HOST, "/api/health", (a) => a.status === 200 && a.body.includes('"version": "v1"'), 90);

  step(
    "set-up: the previous landed version extracted, the test host, the stack written as that version would",
    async () => {
      const env = toolchainEnv();
      requirePlugin(env, "command", "the compose target's SSH release (command:remote:Command)", { allowStandin: true });
      requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
      commit = upgradeFromCommit();
      oldRoot = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-upgrade-from-"));
      await extractVersion(commit, oldRoot, env);
      hostAttempted = true;
      host = await bringUpHost();
      httpPort = await freePort();
      const httpsPort = await freePort(new Set([httpPort]));
      const adminPort = await freePort(new Set([httpPort, httpsPort]));
      const inputs: ComposeStackInputs = {
        project: host.project,
        ssh: { host: host.sshHost, port: host.sshPort, user: host.sshUser, hostKey: host.sshHostKey, remoteDir: host.remoteDir },
        images: { app: host.images.appV1, postgres: host.images.postgres, redis: host.images.redis, proxy: host.images.proxy },
        httpPort,
        httpsPort,
        adminPort,
      };
      project = await PulumiProject.create({
        stack: STACK,
        config: await oldStackConfig(oldRoot, inputs),
        secrets: { sshPrivateKey: fs.readFileSync(host.sshKeyFile, "utf8") },
        sourceRoot: oldRoot,
      });
    },
    75 * 60_000,
  );

  afterAll(async () => {
    console.log(`timings (s): ${JSON.stringify(timings)}`);
    if (project) {
      // The stack goes (its volumes stay on the test host, which host.sh down removes with the rest).
      const destroyed = await project.inline("destroy", { timeoutSeconds: UP_TIMEOUT, excludeProtected: true });
      if (destroyed.code !== 0) console.log(`destroy after the upgrade scenario failed:\n${destroyed.output.slice(-3000)}`);
      project.dispose();
    }
    if (oldRoot) fs.rmSync(oldRoot, { recursive: true, force: true });
    if (hostAttempted) await takeDownHost(host);
  });

  step("the previous version deploys the stack; a row is written", async () => {
    await timed(timings, "up (previous version)", () => project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT }));
    await appServes();
    await psql(host!.project, `CREATE TABLE upgrade_marker (value text NOT NULL); INSERT INTO upgrade_marker VALUES ('${marker}')`);
    before = await stateResources(project!);
  });

  step(
    "pulumi preview with this version plans no delete or replace of anything but the release command and the removed empty components",
    async () => {
      project!.useSource(repoRoot);
      const preview = await timed(timings, "preview (upgrade)", () => project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT }));
      const steps = plannedSteps(preview);
      console.log(
        `upgrade ${commit.slice(0, 12)} -> this tree: ${steps.length} planned steps ${JSON.stringify(stepsByOp(steps))}\n` +
          steps.map((s) => `  ${describeStep(s)}`).join("\n"),
      );
      expect(
        forbiddenSteps(steps, replaceable).map(describeStep),
        "an upgrade would delete or replace these: add aliases (or a CHANGELOG manual step) before landing",
      ).toEqual([]);
    },
  );

  step("pulumi up with this version converges; the app serves and the row is still there; a preview after it is empty", async () => {
    const up = await timed(timings, "up (upgrade)", () => project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT }));
    console.log(`up (upgrade): ${JSON.stringify(up.result?.summary)}`);
    await appServes();
    expect(await psql(host!.project, "SELECT value FROM upgrade_marker")).toBe(marker);
    // Records and secrets are the old version's own (same creation time), now named after the Platform
    // (`ballast`), no longer after the Compose project (host.project, `ballast-e2e`).
    const after = await stateResources(project!);
    expect(creations(after, kept), "created anew by the upgrade").toEqual(creations(before, kept));
    const targetNames = after.filter((r) => r.type === RECORD_TYPE || r.type.startsWith("command:")).map((r) => urnName(r.urn));
    expect(targetNames).toEqual(expect.arrayContaining(["ballast-release", "ballast-app", "ballast-postgres"]));
    expect(targetNames.filter((name) => name.startsWith(`${host!.project}-`))).toEqual([]);
    await timed(timings, "preview (after)", () => project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true }));
  });
});
