/**
 * npm run bench:release [-- --runs N] [--rate R] [--no-write]
 *
 * A Compose release under constant HTTPS load, measured on the end-to-end host (real Traefik,
 * Pebble TLS, vegeta; scripts/e2e/host.sh), Ballast's release against the stop-first
 * `docker compose up -d --wait` it replaced, measured the same way:
 *
 *   - a new app image (v1 <-> v2), through `pulumi up` (Ballast) and through `up -d --wait` of the
 *     live release with the image changed (stop-first);
 *   - a failing app image: Ballast's `pulumi up` with its automatic rollback; stop-first: `up -d
 *     --wait` of the failing image, then `up -d --wait` of the previous one (what deploy.sh did).
 *
 * Per case: requests sent and failed (any non-2xx or transport error), p50/p99/max latency over
 * the whole window, the release's own timings (new containers healthy, traffic switched, rolled
 * back) and the wall time. Writes the "compose-release" section of docs/benchmarks.md.
 *
 * Needs what `npm run test:e2e` needs: root, scripts/toolchain.sh, the test host (brought up and
 * taken down here unless BALLAST_E2E_HOST_ENV names a running one).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { pebbleRootPem, restartPebble, waitForAcmeCertificate, type AcmeHost } from "../test/e2e/support/acme";
import { PulumiProject, repoRoot, requirePlugin, toolchainEnv, type InlineResult } from "../test/e2e/support/harness";
import { bringUpHost, freePort, takeDownHost, type TestHost } from "../test/e2e/support/host";
import { runLoad, type LoadReport } from "../test/e2e/support/load";
import { composeStackConfig, E2E_APP_HOST } from "../test/e2e/support/stacks";
import { writeSection } from "./lib/benchmarks-doc";

interface Options {
  runs: number;
  rate: number;
  write: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { runs: 3, rate: 20, write: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--runs") options.runs = Number(argv[++i]);
    else if (arg === "--rate") options.rate = Number(argv[++i]);
    else if (arg === "--no-write") options.write = false;
    else throw new Error(`bench:release: unknown argument ${arg} (allowed: --runs N, --rate R, --no-write)`);
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error("--runs must be a positive integer");
  if (!(options.rate > 0)) throw new Error("--rate must be positive");
  return options;
}

type Path = "ballast" | "stop-first";
type Change = "new image" | "failing image + rollback";

interface Sample {
  path: Path;
  change: Change;
  load: LoadReport;
  /** Wall time of the release (Ballast: `pulumi up`; stop-first: the compose command(s)). */
  wallSeconds: number;
  /** Seconds until the new containers were healthy (Ballast: beside the old ones). */
  healthySeconds?: number;
  /** Seconds until Traefik confirmed the switch (Ballast only). */
  switchSeconds?: number;
  /** Seconds until the failure was detected (failing image). */
  detectSeconds?: number;
  /** Seconds the rollback took once the failure was detected. */
  rollbackSeconds?: number;
}

const APP_HOST = E2E_APP_HOST;

class Bench {
  host!: TestHost;
  acme!: AcmeHost;
  project!: PulumiProject;
  httpsPort = 0;
  rootFile = "";
  rootPem = "";
  work = "";

  constructor(readonly options: Options) {}

  /** Load for as long as `during` runs (plus 2 s on each side). */
  async underLoad<T>(during: () => Promise<T>): Promise<{ value: T; load: LoadReport; wallSeconds: number }> {
    let wallSeconds = 0;
    const work = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const started = Date.now();
      const value = await during();
      wallSeconds = (Date.now() - started) / 1000;
      return value;
    })();
    const [value, load] = await Promise.all([
      work,
      runLoad({
        vegeta: this.acme.vegeta,
        rate: this.options.rate,
        durationSeconds: 900,
        targets: [`https://${APP_HOST}:${this.httpsPort}/api/health`],
        caFile: this.rootFile,
        connectTo: { [`${APP_HOST}:${this.httpsPort}`]: `127.0.0.1:${this.httpsPort}` },
        until: work,
      }),
    ]);
    return { value, load, wallSeconds };
  }

  async up(expectOk: boolean): Promise<InlineResult> {
    const result = await this.project.inline("up", { timeoutSeconds: 900 });
    const ok = !result.timedOut && result.code === 0;
    if (ok !== expectOk)
      throw new Error(`pulumi up ${expectOk ? "failed" : "succeeded"} unexpectedly:\n${result.output.split("\n").slice(-30).join("\n")}`);
    return result;
  }

  /** The deploy.log of the newest release on the host. */
  newestDeployLog(): string {
    const releases = path.join(this.host.remoteDir, "releases");
    const newest = fs
      .readdirSync(releases)
      .filter((name) => !name.startsWith("."))
      .sort()
      .pop();
    return newest ? fs.readFileSync(path.join(releases, newest, "deploy.log"), "utf8") : "";
  }

  async setUp(): Promise<void> {
    const env = toolchainEnv();
    requirePlugin(env, "command", "the compose target's release", { allowStandin: true });
    requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
    this.host = await bringUpHost();
    const httpPort = await freePort();
    this.httpsPort = await freePort(new Set([httpPort]));
    const adminPort = await freePort(new Set([httpPort, this.httpsPort]));
    this.acme = await restartPebble(this.host, httpPort);
    this.rootPem = await pebbleRootPem(this.acme);
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-bench-release-"));
    this.rootFile = path.join(this.work, "pebble-root.pem");
    fs.writeFileSync(this.rootFile, this.rootPem);
    this.project = await PulumiProject.create({
      stack: "bench",
      config: composeStackConfig({
        project: this.host.project,
        ssh: {
          host: this.host.sshHost,
          port: this.host.sshPort,
          user: this.host.sshUser,
          hostKey: this.host.sshHostKey,
          remoteDir: this.host.remoteDir,
        },
        images: {
          app: this.host.images.appV1,
          postgres: this.host.images.postgres,
          redis: this.host.images.redis,
          proxy: this.host.images.proxy,
        },
        httpPort,
        httpsPort: this.httpsPort,
        adminPort,
        acme: { directory: this.acme.directory, caCertificate: fs.readFileSync(this.acme.caFile, "utf8") },
      }),
      secrets: { sshPrivateKey: fs.readFileSync(this.host.sshKeyFile, "utf8") },
    });
    console.log("bench:release: first deploy (v1)");
    await this.up(true);
    await waitForAcmeCertificate(this.httpsPort, APP_HOST, this.rootPem, 180);
  }

  async ballastNewImage(image: string): Promise<Sample> {
    await this.project.setConfig("app.image", image, { path: true });
    const { load, wallSeconds } = await this.underLoad(() => this.up(true));
    const log = this.newestDeployLog();
    const seconds = (pattern: RegExp) => {
      const match = pattern.exec(log);
      return match ? Number(match[1]) : undefined;
    };
    return {
      path: "ballast",
      change: "new image",
      load,
      wallSeconds,
      healthySeconds: seconds(/new containers healthy beside the old ones: \d+ \((\d+)s\)/),
      switchSeconds: seconds(/Traefik confirmed after (\d+)s/),
    };
  }

  async ballastFailingImage(previous: string): Promise<Sample> {
    await this.project.setConfig("app.image", this.host.images.appFailing, { path: true });
    const { value, load, wallSeconds } = await this.underLoad(() => this.up(false));
    await this.project.setConfig("app.image", previous, { path: true });
    const detect = /is unhealthy after (\d+)s/.exec(value.stdout);
    const rollback = /rolled back in (\d+)s/.exec(value.stdout);
    return {
      path: "ballast",
      change: "failing image + rollback",
      load,
      wallSeconds,
      detectSeconds: detect ? Number(detect[1]) : undefined,
      rollbackSeconds: rollback ? Number(rollback[1]) : undefined,
    };
  }

  /**
   * The stop-first path as deploy.sh ran it before: `docker compose up -d --wait` of the app in a
   * copy of the live release with the image changed. Returns the command's seconds and outcome.
   */
  stopFirstUp(image: string): { seconds: number; ok: boolean } {
    const live = fs.realpathSync(path.join(this.host.remoteDir, "current"));
    const scratch = path.join(this.work, "stop-first");
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.cpSync(live, scratch, { recursive: true });
    const file = path.join(scratch, "docker-compose.yml");
    const document = parse(fs.readFileSync(file, "utf8")) as { services: Record<string, { image: string }> };
    document.services.app.image = image;
    fs.writeFileSync(file, stringify(document));
    const started = Date.now();
    // The compose v2 binary host.sh built, run standalone (root has no compose plugin of its own).
    const composeBin = this.host.values.BALLAST_E2E_COMPOSE_BIN;
    if (!composeBin) throw new Error("host.env lacks BALLAST_E2E_COMPOSE_BIN: bring the test host up again (scripts/e2e/host.sh up)");
    const compose = spawnSync(
      composeBin,
      [
        "-p",
        this.host.project,
        "--project-directory",
        scratch,
        "-f",
        file,
        "up",
        "-d",
        "--no-deps",
        "--wait",
        "--wait-timeout",
        "180",
        "app",
      ],
      { encoding: "utf8", timeout: 300_000 },
    );
    return { seconds: (Date.now() - started) / 1000, ok: compose.status === 0 };
  }

  async stopFirstNewImage(image: string): Promise<Sample> {
    let healthy = 0;
    const { value, load, wallSeconds } = await this.underLoad(async () => {
      const result = this.stopFirstUp(image);
      healthy = result.seconds;
      return result;
    });
    if (!value.ok) throw new Error("stop-first up -d --wait of a good image failed");
    return { path: "stop-first", change: "new image", load, wallSeconds, healthySeconds: healthy };
  }

  async stopFirstFailingImage(previous: string): Promise<Sample> {
    let detect = 0;
    let rollback = 0;
    const { load, wallSeconds } = await this.underLoad(async () => {
      const failed = this.stopFirstUp(this.host.images.appFailing);
      if (failed.ok) throw new Error("stop-first up -d --wait of the failing image succeeded");
      detect = failed.seconds;
      const back = this.stopFirstUp(previous);
      if (!back.ok) throw new Error("stop-first rollback failed");
      rollback = back.seconds;
    });
    return { path: "stop-first", change: "failing image + rollback", load, wallSeconds, detectSeconds: detect, rollbackSeconds: rollback };
  }

  async tearDown(): Promise<void> {
    try {
      await this.project?.inline("destroy", { timeoutSeconds: 600, excludeProtected: true });
    } finally {
      this.project?.dispose();
      if (this.work) fs.rmSync(this.work, { recursive: true, force: true });
      await takeDownHost(this.host);
    }
  }
}

const median = (values: number[]) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value: number | undefined, digits = 1) => (value === undefined || Number.isNaN(value) ? "—" : value.toFixed(digits));

function table(samples: Sample[], rate: number): string[] {
  const lines = [
    `| change | path | runs | requests | failed | failed % | p50 ms | p99 ms | max ms | healthy s | switched s | failure seen s | rolled back s | wall s |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const change of ["new image", "failing image + rollback"] as const) {
    for (const releasePath of ["ballast", "stop-first"] as const) {
      const group = samples.filter((s) => s.change === change && s.path === releasePath);
      if (group.length === 0) continue;
      const requests = group.reduce((n, s) => n + s.load.requests, 0);
      const failed = group.reduce((n, s) => n + s.load.failures, 0);
      const pick = (f: (s: Sample) => number | undefined) => median(group.map(f).filter((v): v is number => v !== undefined));
      lines.push(
        `| ${change} | ${releasePath === "ballast" ? "Ballast (`pulumi up`)" : "stop-first `up -d --wait`"} | ${group.length} | ${requests} | ${failed} | ${fmt((100 * failed) / Math.max(requests, 1))} | ${fmt(pick((s) => s.load.p50Ms))} | ${fmt(pick((s) => s.load.p99Ms))} | ${fmt(pick((s) => s.load.maxMs))} | ${fmt(
          pick((s) => s.healthySeconds),
          0,
        )} | ${fmt(
          pick((s) => s.switchSeconds),
          0,
        )} | ${fmt(
          pick((s) => s.detectSeconds),
          0,
        )} | ${fmt(
          pick((s) => s.rollbackSeconds),
          0,
        )} | ${fmt(pick((s) => s.wallSeconds))} |`,
      );
    }
  }
  lines.push(
    "",
    `Load: vegeta at ${rate} requests/s over HTTPS (Pebble's certificate) on \`/api/health\` through Traefik, from 2 s before the release to 2 s after it; *failed* counts transport errors and non-2xx answers. Medians over the runs; requests and failures are totals.`,
  );
  return lines;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const bench = new Bench(options);
  const samples: Sample[] = [];
  const started = new Date();
  try {
    await bench.setUp();
    const { appV1, appV2 } = bench.host.images;
    let current = appV1;
    for (let run = 1; run <= options.runs; run++) {
      const next = current === appV1 ? appV2 : appV1;
      console.log(`bench:release: run ${run}/${options.runs}: Ballast, new image`);
      samples.push(await bench.ballastNewImage(next));
      current = next;
      console.log(`bench:release: run ${run}/${options.runs}: Ballast, failing image`);
      samples.push(await bench.ballastFailingImage(current));
      const other = current === appV1 ? appV2 : appV1;
      console.log(`bench:release: run ${run}/${options.runs}: stop-first, new image`);
      samples.push(await bench.stopFirstNewImage(other));
      console.log(`bench:release: run ${run}/${options.runs}: stop-first, failing image`);
      samples.push(await bench.stopFirstFailingImage(other));
      // Back to what the stack declares: Ballast's next release rolls the stop-first container away.
      console.log(`bench:release: run ${run}/${options.runs}: back to the declared image`);
      await bench.project.setConfig("app.image", other, { path: true });
      await bench.up(true);
      current = other;
    }
  } finally {
    await bench.tearDown();
  }
  for (const sample of samples)
    console.log(`${sample.change} / ${sample.path}: ${JSON.stringify({ ...sample.load, errors: sample.load.errors.slice(0, 3) })}`);
  const cpus = os.cpus();
  const body = [
    "## Compose release under load",
    "",
    `Run on ${started.toISOString().slice(0, 10)} by \`npm run bench:release\` (scripts/bench-release.ts): ${cpus.length} × ${cpus[0]?.model.trim() ?? "CPU"}, the end-to-end host of \`npm run test:e2e\` (real Traefik ${bench.acme?.traefikVersion ?? ""}, Pebble TLS, the e2e app behind it), ${options.runs} runs per row. How the release works: docs/compose-release.md.`,
    "",
    ...table(samples, options.rate),
    "",
    "The stop-first rows run the old `up -d --wait` on today's routing (Traefik's file provider names the container, which keeps its name when recreated, so Traefik reaches the new one as soon as it listens). With the Docker-label routing of the releases before, Traefik routed only healthy containers, and the issue that replaced it measured 213 of about 900 requests failed (an 11.6 s outage) for a new image and 2,291 of 2,849 for a failing image with its rollback.",
  ].join("\n");
  console.log(`\n${body}`);
  if (options.write) {
    const file = path.join(repoRoot, "docs", "benchmarks.md");
    writeSection(file, "compose-release", body);
    console.log(`wrote ${path.relative(repoRoot, file)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
