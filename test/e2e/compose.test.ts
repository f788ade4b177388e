/**
 * Scenario 2: the compose target against a real host, on the real Pulumi engine.
 *
 * scripts/e2e/host.sh brings up the host: dockerd, sshd on 127.0.0.1 with a per-run user and key,
 * compose v2, the Debian-built test images in a loopback registry. The e2e stack deploys over SSH
 * (host key pinned) with the real deploy.sh/destroy.sh; the test then walks a release's life:
 * deploy, data, new version, a failing version rolled back, disaster recovery into a fresh
 * backend, destroy without allowDataLoss, and a redeploy that finds the data again.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { PulumiProject, requirePlugin, toolchainEnv } from "./support/harness";
import { bringUpHost, docker, freePort, psql, takeDownHost, waitForAnswer, type TestHost } from "./support/host";
import { composeStackConfig, E2E_APP_HOST } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

const STACK = "e2e";
const APP_HOST = E2E_APP_HOST;
/** Bounds of one engine operation: a deploy waits at most deployTimeoutSeconds per release plus a rollback. */
const UP_TIMEOUT = 900;
const PREVIEW_TIMEOUT = 300;

describe("compose target on a real host over SSH", () => {
  const step = scenarioSteps();
  let host: TestHost | undefined;
  /** host.sh up was started: take the host down afterwards even if up failed half way. */
  let hostAttempted = false;
  let project: PulumiProject | undefined;
  let restored: PulumiProject | undefined;
  let httpPort = 0;
  let httpsPort = 0;
  const marker = `row-${Date.now().toString(36)}`;
  const tmp: string[] = [];

  const appAnswers = (version: string) =>
    waitForAnswer(httpPort, APP_HOST, "/api/health", (a) => a.status === 200 && a.body.includes(`"version": "${version}"`), 60);

  // Set-up is the first step, not a beforeAll: a missing prerequisite fails the scenario
  // (every later step then fails naming it) instead of leaving its steps skipped.
  step("set-up: toolchain and plugins, the test host (scripts/e2e/host.sh up), the e2e stack", async () => {
    const env = toolchainEnv();
    requirePlugin(env, "command", "the compose target's SSH release (command:remote:Command)", { allowStandin: true });
    requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
    hostAttempted = true;
    host = await bringUpHost();
    httpPort = await freePort();
    httpsPort = await freePort(new Set([httpPort]));
    const adminPort = await freePort(new Set([httpPort, httpsPort]));
    project = await PulumiProject.create({
      stack: STACK,
      config: composeStackConfig({
        project: host.project,
        ssh: { host: host.sshHost, port: host.sshPort, user: host.sshUser, hostKey: host.sshHostKey, remoteDir: host.remoteDir },
        images: { app: host.images.appV1, postgres: host.images.postgres, redis: host.images.redis, proxy: host.images.proxy },
        httpPort,
        httpsPort,
        adminPort,
      }),
      secrets: { sshPrivateKey: fs.readFileSync(host.sshKeyFile, "utf8") },
    });
  }, 75 * 60_000);

  afterAll(async () => {
    project?.dispose();
    restored?.dispose();
    for (const dir of tmp) fs.rmSync(dir, { recursive: true, force: true });
    if (hostAttempted) await takeDownHost(host);
  });

  step("pulumi up deploys the stack; the app answers on its health endpoint through the declared route", async () => {
    const up = await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    const outputs = up.result?.outputs as Record<string, unknown>;
    expect(outputs.appUrl).toBe(`http://${APP_HOST}:${httpPort}`);
    expect(outputs.location).toBe(`ssh ${host!.sshUser}@${host!.sshHost}:${host!.remoteDir} (port ${host!.sshPort})`);
    await appAnswers("v1");
    const metrics = await waitForAnswer(httpPort, APP_HOST, "/api/v1/metrics", (a) => a.status === 200, 30);
    expect(metrics.body).toContain('ballast_e2e_app_info{version="v1"} 1');
  });

  step("data written to Postgres", async () => {
    await psql(host!.project, `CREATE TABLE e2e_marker (value text NOT NULL); INSERT INTO e2e_marker VALUES ('${marker}')`);
    expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
  });

  step("pulumi preview right after up shows no changes", async () => {
    await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
  });

  step("a new app image: pulumi up again and the new version serves, data kept", async () => {
    await project!.setConfig("app.image", host!.images.appV2, { path: true });
    await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    await appAnswers("v2");
    expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
  });

  step("an app image whose health check fails: pulumi up fails naming the service, the previous release serves, no data lost", async () => {
    await project!.setConfig("app.image", host!.images.appFailing, { path: true });
    const failed = await project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
    expect(failed.timedOut, "pulumi up of the failing release timed out instead of failing").toBe(false);
    expect(failed.code, "pulumi up of the failing release must fail").not.toBe(0);
    expect(failed.output).toMatch(/service app: new container \S+ is unhealthy/);
    expect(failed.output).toMatch(/rolled back: the stack runs release/);
    await appAnswers("v2");
    expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
    // Back to the release that runs: the declaration matches the state again.
    await project!.setConfig("app.image", host!.images.appV2, { path: true });
    await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
  });

  step("disaster recovery: dr:export, a fresh backend and project dir, dr:import, preview --expect-no-changes", async () => {
    const bundles = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-dr-"));
    tmp.push(bundles);
    await project!.npm("dr:export", [STACK, "--project-dir", project!.projectDir, "--out", bundles], 300);
    const written = fs.readdirSync(bundles);
    expect(written).toHaveLength(1);
    restored = PulumiProject.empty(STACK);
    expect(fs.existsSync(restored.stackFile)).toBe(false);
    await restored.npm("dr:import", [path.join(bundles, written[0]), STACK, "--project-dir", restored.projectDir], 300);
    expect(fs.existsSync(restored.stackFile), "dr:import restores Pulumi.e2e.yaml from the bundle").toBe(true);
    await restored.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
  });

  step("pulumi destroy without allowDataLoss takes the stack down and leaves the Postgres volume", async () => {
    // The encryption key is protected (it must outlive any data encrypted with it), so destroy
    // leaves protected resources: --exclude-protected.
    await restored!.inlineOk("destroy", { timeoutSeconds: UP_TIMEOUT, excludeProtected: true });
    const running = await docker(["ps", "-q", "--filter", `label=com.docker.compose.project=${host!.project}`]);
    expect(running, "no container of the project runs after destroy").toBe("");
    const volumes = (await docker(["volume", "ls", "-q", "--filter", `label=ballast.project=${host!.project}`])).split("\n");
    expect(volumes).toContain(`${host!.project}_postgres-data`);
  });

  step("a new pulumi up finds the old rows", async () => {
    await restored!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    await appAnswers("v2");
    expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
  });
});
