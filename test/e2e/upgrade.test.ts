/**
 * Upgrading Ballast under a running stack, on the real engine and the compose test host.
 *
 * The previous landed version of Ballast (the commit in test/e2e/fixtures/upgrade-from, extracted
 * with `git archive`) deploys the e2e compose stack with the stack file it would have written
 * (its own test/e2e/support/stacks.ts). Then the project is pointed at this tree, exactly as a team
 * would bump Ballast under an existing stack: `pulumi preview` must plan no delete and no replace of
 * any resource that holds state (generated secrets, the encryption key, the service records of the
 * datastores, ...), only updates, creates and the release command's own replacement; `pulumi up`
 * converges, the row written under the old version is still there, and a preview after it is empty.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { PulumiProject, repoRoot, requirePlugin, run, toolchainEnv } from "./support/harness";
import { bringUpHost, freePort, psql, takeDownHost, waitForAnswer, type TestHost } from "./support/host";
import { E2E_APP_HOST, type ComposeStackInputs } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

const STACK = "upgrade";
const UP_TIMEOUT = 900;
const PREVIEW_TIMEOUT = 300;
/** Steps a version bump may plan: the release command is replaced whenever the bundle changes. */
const REPLACEABLE_TYPES = new Set(["command:remote:Command", "command:local:Command"]);
const DESTRUCTIVE_OPS = new Set([
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "read-replacement",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
]);

/** The commit of the previous landed version: the first line of the fixture that is not a comment. */
function upgradeFromCommit(file = path.join(repoRoot, "test", "e2e", "fixtures", "upgrade-from")): string {
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
 * same, else its own `npm ci` (no install scripts).
 */
async function extractVersion(commit: string, into: string): Promise<void> {
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
}

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
      await extractVersion(commit, oldRoot);
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
    await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    await appServes();
    await psql(host!.project, `CREATE TABLE upgrade_marker (value text NOT NULL); INSERT INTO upgrade_marker VALUES ('${marker}')`);
  });

  step("pulumi preview with this version plans no delete or replace of anything but the release command", async () => {
    project!.useSource(repoRoot);
    const preview = await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT });
    const steps = (preview.result?.steps ?? []) as { op: string; urn: string; type: string }[];
    console.log(
      `upgrade ${commit.slice(0, 12)} -> this tree: ${steps.length} planned steps\n` +
        steps.map((s) => `  ${s.op} ${s.type} ${s.urn.split("::").pop()}`).join("\n"),
    );
    const destructive = steps.filter((s) => DESTRUCTIVE_OPS.has(s.op) && !REPLACEABLE_TYPES.has(s.type));
    expect(
      destructive.map((s) => `${s.op} ${s.type} ${s.urn.split("::").pop()}`),
      "an upgrade would delete or replace these: add aliases (or a CHANGELOG manual step) before landing",
    ).toEqual([]);
  });

  step("pulumi up with this version converges; the app serves and the row is still there; a preview after it is empty", async () => {
    await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    await appServes();
    expect(await psql(host!.project, "SELECT value FROM upgrade_marker")).toBe(marker);
    await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
  });
});
