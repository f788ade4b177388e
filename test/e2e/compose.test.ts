/**
 * Scenario 2: the compose target against a real host, on the real Pulumi engine.
 *
 * scripts/e2e/host.sh brings up the host: dockerd, sshd on 127.0.0.1 with a per-run user and key,
 * compose v2, the Debian-built test images in a loopback registry, the real Traefik, Pebble (an
 * ACME CA) and vegeta. The e2e stack deploys over SSH (host key pinned) with the real
 * deploy.sh/destroy.sh and gets its certificate from Pebble through Traefik's ACME resolver. The
 * test walks a release's life under HTTPS load: deploy, data, a preview a reviewer reads, a new
 * version while a long response streams, a config-only change, a worker release while jobs run, a
 * failing version rolled back, disaster recovery into a fresh backend, destroy without
 * allowDataLoss, and a redeploy that finds the data again. Every release under load must fail no
 * request.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import {
  httpsGet,
  httpsRequest,
  pebbleIntermediatePem,
  pebbleOrderCount,
  pebbleRootPem,
  restartPebble,
  waitForAcmeCertificate,
  type AcmeHost,
  type ServedCertificate,
} from "./support/acme";
import { PulumiProject, requirePlugin, run, toolchainEnv, type InlineResult } from "./support/harness";
import { bringUpHost, docker, freePort, get, psql, takeDownHost, type TestHost } from "./support/host";
import { runLoad, type LoadReport } from "./support/load";
import { composeStackConfig, E2E_APP_HOST, E2E_WORKER } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

const STACK = "e2e";
const APP_HOST = E2E_APP_HOST;
/** Bounds of one engine operation: a deploy waits at most deployTimeoutSeconds per release plus a rollback. */
const UP_TIMEOUT = 900;
const PREVIEW_TIMEOUT = 300;
/** Constant HTTPS load during a release: requests per second, and the longest a release may take. */
const LOAD_RATE = 20;
const LOAD_MAX_SECONDS = 600;

describe("compose target on a real host over SSH", () => {
  const step = scenarioSteps();
  let host: TestHost | undefined;
  /** host.sh up was started: take the host down afterwards even if up failed half way. */
  let hostAttempted = false;
  let project: PulumiProject | undefined;
  let restored: PulumiProject | undefined;
  let acme: AcmeHost | undefined;
  let httpPort = 0;
  let httpsPort = 0;
  let rootPem = "";
  let rootFile = "";
  let certificate: ServedCertificate | undefined;
  let ordersAfterFirstCertificate = 0;
  const marker = `row-${Date.now().toString(36)}`;
  const tmp: string[] = [];

  const appGet = (urlPath: string, timeoutMs = 5000) => httpsGet(httpsPort, APP_HOST, urlPath, rootPem, timeoutMs);

  /** GETs /api/health over HTTPS until it reports `version` (at most 60 s). */
  const appAnswers = async (version: string) => {
    const deadline = Date.now() + 60_000;
    let last = "nothing yet";
    while (Date.now() < deadline) {
      try {
        const answer = await appGet("/api/health");
        if (answer.status === 200 && answer.body.includes(`"version": "${version}"`)) return answer;
        last = `HTTP ${answer.status} ${answer.body.slice(0, 200)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new Error(`https://${APP_HOST}:${httpsPort}/api/health did not report ${version} within 60s; last: ${last}`);
  };

  const traefikLogs = async () => {
    const id = (
      await docker([
        "ps",
        "-q",
        "--filter",
        `label=com.docker.compose.project=${host!.project}`,
        "--filter",
        "label=com.docker.compose.service=traefik",
      ])
    ).split("\n")[0];
    if (!id) return "(no traefik container)";
    const logs = await run("docker", ["logs", "--tail", "40", id], { timeoutSeconds: 20 });
    return `--- traefik logs ---\n${logs.stdout}${logs.stderr}`;
  };

  /**
   * `pulumi up` under constant HTTPS load on /api/health through Traefik: the load starts before
   * the release and stops 2 s after it. Returns both results; the caller checks the release.
   */
  const upUnderLoad = async (label: string): Promise<{ up: InlineResult; load: LoadReport }> => {
    const up = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
    })();
    const load = runLoad({
      vegeta: acme!.vegeta,
      rate: LOAD_RATE,
      durationSeconds: LOAD_MAX_SECONDS,
      targets: [`https://${APP_HOST}:${httpsPort}/api/health`],
      caFile: rootFile,
      connectTo: { [`${APP_HOST}:${httpsPort}`]: `127.0.0.1:${httpsPort}` },
      until: up,
    });
    const [upResult, report] = await Promise.all([up, load]);
    console.log(`load during ${label}: ${JSON.stringify(report)}`);
    return { up: upResult, load: report };
  };

  const expectNoFailedRequest = (report: LoadReport) => {
    expect(report.requests, "the load ran across the release").toBeGreaterThan(LOAD_RATE * 5);
    expect(report.failures, `failed requests during the release:\n${report.errors.join("\n")}`).toBe(0);
    expect(Object.keys(report.statusCodes)).toEqual(["200"]);
  };

  const expectUpOk = (result: InlineResult) => {
    expect(result.timedOut, "pulumi up timed out").toBe(false);
    expect(result.code, `pulumi up failed:\n${result.output.split("\n").slice(-40).join("\n")}`).toBe(0);
  };

  /** The certificate still served is the first one; Pebble received no new order. */
  const expectSameCertificate = async () => {
    const served = await waitForAcmeCertificate(httpsPort, APP_HOST, rootPem, 30, traefikLogs);
    expect(served.leaf.fingerprint256, "the certificate changed: the ACME store did not survive").toBe(certificate!.leaf.fingerprint256);
    expect(pebbleOrderCount(acme!), "Pebble received a new order").toBe(ordersAfterFirstCertificate);
  };

  // Set-up is the first step, not a beforeAll: a missing prerequisite fails the scenario
  // (every later step then fails naming it) instead of leaving its steps skipped.
  step(
    "set-up: toolchain and plugins, the test host (scripts/e2e/host.sh up), Pebble on the proxy's HTTP port, the e2e stack",
    async () => {
      const env = toolchainEnv();
      requirePlugin(env, "command", "the compose target's SSH release (command:remote:Command)", { allowStandin: true });
      requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
      hostAttempted = true;
      host = await bringUpHost();
      httpPort = await freePort();
      httpsPort = await freePort(new Set([httpPort]));
      const adminPort = await freePort(new Set([httpPort, httpsPort]));
      // Pebble validates HTTP-01 on 127.0.0.1:<httpPort>: the proxy's published HTTP port.
      acme = await restartPebble(host, httpPort);
      rootPem = await pebbleRootPem(acme);
      const work = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-compose-"));
      tmp.push(work);
      rootFile = path.join(work, "pebble-root.pem");
      fs.writeFileSync(rootFile, rootPem);
      project = await PulumiProject.create({
        stack: STACK,
        config: composeStackConfig({
          project: host.project,
          ssh: { host: host.sshHost, port: host.sshPort, user: host.sshUser, hostKey: host.sshHostKey, remoteDir: host.remoteDir },
          images: { app: host.images.appV1, postgres: host.images.postgres, redis: host.images.redis, proxy: host.images.proxy },
          httpPort,
          httpsPort,
          adminPort,
          acme: { directory: acme.directory, caCertificate: fs.readFileSync(acme.caFile, "utf8") },
        }),
        secrets: { sshPrivateKey: fs.readFileSync(host.sshKeyFile, "utf8") },
      });
    },
    75 * 60_000,
  );

  afterAll(async () => {
    project?.dispose();
    restored?.dispose();
    for (const dir of tmp) fs.rmSync(dir, { recursive: true, force: true });
    if (hostAttempted) await takeDownHost(host);
  });

  step("pulumi up deploys the stack; HTTPS serves a certificate issued through ACME (Pebble) for the route host", async () => {
    const up = await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    const outputs = up.result?.outputs as Record<string, unknown>;
    expect(outputs.appUrl).toBe(`https://${APP_HOST}:${httpsPort}`);
    expect(outputs.location).toBe(`ssh ${host!.sshUser}@${host!.sshHost}:${host!.remoteDir} (port ${host!.sshPort})`);
    certificate = await waitForAcmeCertificate(httpsPort, APP_HOST, rootPem, 180, traefikLogs);
    const intermediate = new X509Certificate(await pebbleIntermediatePem(acme!));
    expect(certificate.leaf.checkIssued(intermediate)).toBe(true);
    expect(certificate.leaf.subjectAltName).toContain(`DNS:${APP_HOST}`);
    ordersAfterFirstCertificate = pebbleOrderCount(acme!);
    expect(ordersAfterFirstCertificate).toBeGreaterThan(0);
    await appAnswers("v1");
    const metrics = await appGet("/api/v1/metrics");
    expect(metrics.body).toContain('ballast_e2e_app_info{version="v1"} 1');
  });

  step("HTTP redirects to HTTPS on the published port", async () => {
    const answer = await get(httpPort, APP_HOST, "/api/health");
    expect([301, 308]).toContain(answer.status);
    expect(answer.headers.location).toBe(`https://${APP_HOST}:${httpsPort}/api/health`);
  });

  step("data written to Postgres", async () => {
    await psql(host!.project, `CREATE TABLE e2e_marker (value text NOT NULL); INSERT INTO e2e_marker VALUES ('${marker}')`);
    expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
  });

  step("pulumi preview right after up shows no changes", async () => {
    await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
  });

  step("pulumi preview --diff of a one-line image change names the service and the key in under 40 lines", async () => {
    await project!.setConfig("app.image", host!.images.appV2, { path: true });
    const preview = await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, diff: true });
    const shown = preview.stdout.slice(0, preview.stdout.indexOf("BALLAST_E2E_RESULT")).trimEnd();
    console.log(`preview --diff of app.image (${shown.split("\n").length} lines):\n${shown}`);
    expect(shown.split("\n").length).toBeLessThan(40);
    expect(shown).toMatch(/\bapp\b/);
    expect(shown).toContain("image");
    expect(shown).toContain(host!.images.appV2);
    // The plain preview names the changed service, not only the release command.
    const plain = await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT });
    expect(plain.stdout).toMatch(/~\s+.*\bapp\b.*update/);
  });

  step(
    "(a)+(e) a new app image under HTTPS load, with a long streamed response open: no request fails, the stream completes, v2 serves, the certificate survives",
    async () => {
      // A 20 s stream (like a long LLM answer) begun on v1 before the release: v1 must finish it.
      const stream = appGet("/api/stream?seconds=20", 120_000);
      const { up, load } = await upUnderLoad("v1 -> v2");
      expectUpOk(up);
      expectNoFailedRequest(load);
      const streamed = await stream;
      expect(streamed.status).toBe(200);
      expect(streamed.body.trim().split("\n").pop()).toMatch(/^done v1 after \d+ ticks$/);
      await appAnswers("v2");
      expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
      await expectSameCertificate();
    },
  );

  step("(c) a config-only change (one app env var) under HTTPS load: no request fails", async () => {
    await project!.setConfig("app.env.FEATURE_FLAG", "on", { path: true });
    const { up, load } = await upUnderLoad("app env change");
    expectUpOk(up);
    expectNoFailedRequest(load);
    await appAnswers("v2");
  });

  step(
    "(d) a worker release while jobs run: the old workers finish the job in hand, no job is lost or run twice, no request fails",
    async () => {
      const batch = `b${Date.now().toString(36)}`;
      // 80 jobs of 1 s on two workers: about 40 s of work, longer than the release, so the old
      // workers are stopped (SIGTERM) while jobs are queued and the new ones take the rest.
      const jobs = 80;
      const queued = await httpsRequest("POST", httpsPort, APP_HOST, `/api/jobs?batch=${batch}&count=${jobs}&ms=1000`, rootPem);
      expect(queued.status, queued.body).toBe(202);
      await project!.setConfig("workers[0].env.WORKER_GENERATION", "2", { path: true });
      const { up, load } = await upUnderLoad("worker release");
      expectUpOk(up);
      expectNoFailedRequest(load);
      const deadline = Date.now() + 180_000;
      let status = { queued: -1, done: 0, duplicates: 0, versions: {} as Record<string, number>, workers: {} as Record<string, number> };
      while (Date.now() < deadline) {
        status = JSON.parse((await appGet(`/api/jobs?batch=${batch}`)).body) as typeof status;
        if (status.done === jobs && status.queued === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      console.log(`jobs of batch ${batch}: ${JSON.stringify(status)}`);
      expect(status.done, "jobs lost in the worker release").toBe(jobs);
      expect(status.queued).toBe(0);
      expect(status.duplicates).toBe(0);
      const running = (
        await docker([
          "ps",
          "-q",
          "--filter",
          `label=com.docker.compose.project=${host!.project}`,
          "--filter",
          `label=com.docker.compose.service=${E2E_WORKER}`,
        ])
      )
        .split("\n")
        .filter(Boolean);
      expect(running).toHaveLength(2);
      // Old and new workers both took jobs of the batch: the release happened while it ran.
      const hostnames = Object.keys(status.workers);
      const current = await Promise.all(running.map((id) => docker(["inspect", "--format", "{{.Config.Hostname}}", id])));
      expect(hostnames.filter((h) => current.includes(h)).length, "the new workers took jobs").toBeGreaterThan(0);
      expect(hostnames.filter((h) => !current.includes(h)).length, "the old workers took jobs before they were stopped").toBeGreaterThan(0);
    },
  );

  step(
    "(b) an app image whose health check fails, under HTTPS load: pulumi up fails in a few lines naming the service, rolls back within 60 s, no request fails, no data lost",
    async () => {
      await project!.setConfig("app.image", host!.images.appFailing, { path: true });
      const { up: failed, load } = await upUnderLoad("failing image + rollback");
      expect(failed.timedOut, "pulumi up of the failing release timed out instead of failing").toBe(false);
      expect(failed.code, "pulumi up of the failing release must fail").not.toBe(0);
      expectNoFailedRequest(load);
      // What the CLI printed (inline.ts repeats the error on stderr; a person sees this stream once).
      const shown = failed.stdout;
      expect(shown).toMatch(/service app: new container \S+ is unhealthy after \d+s \(health check: /);
      const rolledBack = /rolled back in (\d+)s: the stack runs release/.exec(shown);
      expect(rolledBack, shown).not.toBeNull();
      expect(Number(rolledBack![1]), "seconds from the failed check to the rollback's end").toBeLessThanOrEqual(60);
      expect(shown).toMatch(/full log on the host: \S+\.failed\/deploy\.log/);
      const ballastLines = shown.split("\n").filter((line) => line.includes("ballast: "));
      console.log(`failure output (${shown.split("\n").length} lines from the CLI, ${ballastLines.length} from deploy.sh):\n${shown}`);
      expect(ballastLines.length).toBeLessThanOrEqual(15);
      expect(shown).not.toContain("set -euo pipefail");
      await appAnswers("v2");
      expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
      // Back to the release that runs: the declaration matches the state again.
      await project!.setConfig("app.image", host!.images.appV2, { path: true });
      await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
      await expectSameCertificate();
    },
  );

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

  step("pulumi destroy without allowDataLoss takes the stack down and leaves the Postgres volume and the certificate store", async () => {
    // The encryption key is protected (it must outlive any data encrypted with it), so destroy
    // leaves protected resources: --exclude-protected.
    await restored!.inlineOk("destroy", { timeoutSeconds: UP_TIMEOUT, excludeProtected: true });
    const running = await docker(["ps", "-q", "--filter", `label=com.docker.compose.project=${host!.project}`]);
    expect(running, "no container of the project runs after destroy").toBe("");
    const volumes = (await docker(["volume", "ls", "-q", "--filter", `label=ballast.project=${host!.project}`])).split("\n");
    expect(volumes).toContain(`${host!.project}_postgres-data`);
    expect(volumes).toContain(`${host!.project}_traefik-acme`);
  });

  step("a new pulumi up finds the old rows and serves the same certificate without a new ACME order", async () => {
    await restored!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    await appAnswers("v2");
    expect(await psql(host!.project, "SELECT value FROM e2e_marker")).toBe(marker);
    await expectSameCertificate();
  });
});
