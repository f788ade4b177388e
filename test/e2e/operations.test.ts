/**
 * Scenario: operations on a real host. The compose target deployed over SSH with monitoring and
 * backups on, everything running for real on scripts/e2e/host.sh's test host:
 *
 * - Prometheus (Debian's, scripts/e2e/images/monitoring) scrapes the app, itself, Alertmanager,
 *   Traefik and the node, Postgres, Redis and blackbox exporters (all targets `up`); stopping
 *   Postgres fires DatabaseDown, which Alertmanager delivers to a webhook server this test runs,
 *   and starting it again delivers `resolved`.
 * - The host's cron daemon runs the deploy user's crontab (components/targets/compose/cron.ts):
 *   the backup job starts on its own every minute, as the deploy user, and writes a backup; the
 *   restore drill restores the newest one and records its duration and row counts; Prometheus'
 *   backup-age metric follows; docs/backup-restore.md's real restore brings back rows deleted after
 *   the backup. The test never runs a backup or drill itself, except the real restore by hand.
 * - The backup volume is a 16 MiB tmpfs the test mounts: filled to the last byte, the scheduled
 *   backup fails naming the disk, keeps no partial file, and the drill keeps taking the newest
 *   complete backup.
 *
 * Timings (backup, drill, alert fire and resolve) are printed as `operations timing:` lines.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { PulumiProject, requirePlugin, run, runOk, toolchainEnv } from "./support/harness";
import { bringUpHost, docker, freePort, psql, serviceContainer, takeDownHost, waitForAnswer, type TestHost } from "./support/host";
import { operationsImages, operationsStackConfig } from "./support/operations";
import { E2E_APP_HOST } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

const STACK = "e2eops";
const UP_TIMEOUT = 900;
const TABLE = "e2e_marker";
const ROWS = 500;
/** Rows the "accident" deletes after the backup; the real restore must bring them back. */
const DELETED = 300;
/** Size of the tmpfs behind the backups volume: room for many backups of this small database. */
const BACKUP_DISK_MIB = 16;

interface RunRow {
  id: number;
  ok: boolean;
  started: number;
  finished: number;
  detail: string;
}

interface Delivery {
  at: number;
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a value, at most `seconds`; throws with `what` and the last state. */
async function waitUntil<T>(
  what: string,
  seconds: number,
  check: () => Promise<T | undefined>,
  describeState: () => Promise<string> | string,
  everyMs = 2000,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${seconds}s; last state:\n${await describeState()}`);
}

/** The webhook receiver Alertmanager posts to: every delivery, as received. */
function startWebhook(address: string, port: number): Promise<{ server: http.Server; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = http.createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      try {
        const payload = JSON.parse(body) as Omit<Delivery, "at">;
        deliveries.push({ at: Date.now(), status: payload.status, alerts: payload.alerts });
      } catch {
        deliveries.push({ at: Date.now(), status: `unparsable: ${body.slice(0, 200)}`, alerts: [] });
      }
      response.writeHead(200).end("ok");
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve({ server, deliveries }));
  });
}

describe("operations on a real host: monitoring, alerts, scheduled backups, drill, restore, full backup disk", () => {
  const step = scenarioSteps();
  let host: TestHost | undefined;
  let hostAttempted = false;
  let project: PulumiProject | undefined;
  let webhook: { server: http.Server; deliveries: Delivery[] } | undefined;
  let backupDisk = "";
  let backupDiskMounted = false;
  let httpPort = 0;
  let rowsWrittenAt = 0;
  let scheduledBackup: RunRow | undefined;
  const timings: Record<string, number> = {};

  const deployUser = () => host!.sshUser;
  const releaseBase = () => host!.remoteDir;
  const jobsLog = () => path.join(releaseBase(), ".ballast", "jobs.log");

  /** A command on the host as the deploy user, over the stack's own SSH endpoint (host key pinned). */
  const ssh = async (command: string, timeoutSeconds = 300) => {
    const result = await runOk(
      `ssh ${deployUser()}: ${command}`,
      "ssh",
      [
        "-i",
        host!.sshKeyFile,
        "-p",
        String(host!.sshPort),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${path.join(host!.state, "known_hosts")}`,
        "-o",
        "LogLevel=ERROR",
        `${deployUser()}@${host!.sshHost}`,
        command,
      ],
      { timeoutSeconds },
    );
    return result.stdout.trim();
  };

  const runsOf = async (kind: "backup" | "drill"): Promise<RunRow[]> => {
    const out = await psql(
      host!.project,
      `SELECT coalesce(json_agg(r ORDER BY id), '[]') FROM (SELECT id, ok, extract(epoch FROM started_at)::float8 AS started, extract(epoch FROM finished_at)::float8 AS finished, detail FROM ballast.backup_runs WHERE kind = '${kind}') r`,
    ).catch(() => "[]");
    return JSON.parse(out || "[]") as RunRow[];
  };

  /** Files on the backup disk (the tmpfs behind the backups volume), hidden ones included. */
  const backupFiles = () => fs.readdirSync(backupDisk).sort();
  const completeBackups = () => backupFiles().filter((name) => /^app-\d{8}T\d{6}Z\.dump$/.test(name));

  /** PromQL through Prometheus' API inside its container (it publishes no port). */
  const prometheus = async (apiPath: string): Promise<unknown> => {
    const container = await serviceContainer(host!.project, "prometheus");
    const out = await docker(["exec", container, "wget", "-qO-", `http://127.0.0.1:9090${apiPath}`]);
    return (JSON.parse(out) as { data: unknown }).data;
  };
  const query = async (promql: string) =>
    (await prometheus(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as {
      result: { metric: Record<string, string>; value: [number, string] }[];
    };

  const jobsLogTail = () =>
    fs.existsSync(jobsLog()) ? fs.readFileSync(jobsLog(), "utf8").split("\n").slice(-40).join("\n") : `(no ${jobsLog()})`;

  step(
    "set-up: toolchain, the test host with cron, a tmpfs backup disk behind the backups volume, the webhook receiver, the stack",
    async () => {
      const env = toolchainEnv();
      requirePlugin(env, "command", "the compose target's SSH release (command:remote:Command)", { allowStandin: true });
      requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
      hostAttempted = true;
      host = await bringUpHost();
      const images = operationsImages(host);
      // The backups volume, created before the first deploy (deploy.sh keeps an existing volume): a
      // bind of a tmpfs this test mounts, so "the backup disk is full" is a real ENOSPC.
      backupDisk = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-backup-disk-"));
      await runOk("mount the backup disk", "mount", ["-t", "tmpfs", "-o", `size=${BACKUP_DISK_MIB}m,mode=0755`, "tmpfs", backupDisk], {
        timeoutSeconds: 30,
      });
      backupDiskMounted = true;
      await docker([
        "volume",
        "create",
        "--label",
        `ballast.project=${host.project}`,
        "--label",
        "ballast.e2e=1",
        "--opt",
        "type=none",
        "--opt",
        "o=bind",
        "--opt",
        `device=${backupDisk}`,
        `${host.project}_backups`,
      ]);
      // Alertmanager reaches the host at the default bridge's gateway (as Traefik reaches Pebble).
      const gateway = host.values.BALLAST_E2E_ACME_HOST_GATEWAY;
      if (!gateway)
        throw new Error("host.env lacks BALLAST_E2E_ACME_HOST_GATEWAY: run `bash scripts/e2e/host.sh down && bash scripts/e2e/host.sh up`");
      httpPort = await freePort();
      const httpsPort = await freePort(new Set([httpPort]));
      const adminPort = await freePort(new Set([httpPort, httpsPort]));
      const webhookPort = await freePort(new Set([httpPort, httpsPort, adminPort]));
      webhook = await startWebhook(gateway, webhookPort);
      project = await PulumiProject.create({
        stack: STACK,
        config: operationsStackConfig({
          project: host.project,
          ssh: { host: host.sshHost, port: host.sshPort, user: host.sshUser, hostKey: host.sshHostKey, remoteDir: host.remoteDir },
          images: { app: host.images.appV1, postgres: host.images.postgres, redis: host.images.redis, proxy: host.images.proxy, ...images },
          httpPort,
          httpsPort,
          adminPort,
          webhookUrl: `http://${gateway}:${webhookPort}/alerts`,
          drillTable: TABLE,
        }),
        secrets: { sshPrivateKey: fs.readFileSync(host.sshKeyFile, "utf8") },
      });
    },
    75 * 60_000,
  );

  afterAll(async () => {
    console.log(`operations timing: ${JSON.stringify(timings)}`);
    project?.dispose();
    await new Promise<void>((resolve) => (webhook ? webhook.server.close(() => resolve()) : resolve()));
    if (hostAttempted) await takeDownHost(host);
    if (backupDiskMounted) await run("umount", [backupDisk], { timeoutSeconds: 30 });
    if (backupDisk) fs.rmSync(backupDisk, { recursive: true, force: true });
  }, 10 * 60_000);

  step("pulumi up deploys the stack with monitoring and backups; the deploy user's crontab holds the backup and drill lines", async () => {
    await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
    await waitForAnswer(httpPort, E2E_APP_HOST, "/api/health", (answer) => answer.status === 200, 60);
    await psql(
      host!.project,
      `CREATE TABLE ${TABLE} (id int PRIMARY KEY, value text NOT NULL); INSERT INTO ${TABLE} SELECT g, 'row ' || g FROM generate_series(1, ${ROWS}) g`,
    );
    rowsWrittenAt = Date.now() / 1000;
    const crontab = (await runOk("crontab -l", "crontab", ["-l", "-u", deployUser()], { timeoutSeconds: 20 })).stdout;
    expect(crontab).toMatch(
      new RegExp(
        `^\\* \\* \\* \\* \\* flock -n ${releaseBase()}/\\.ballast/backup\\.lock .*--profile jobs run --rm --no-deps -T backup `,
        "m",
      ),
    );
    expect(crontab).toMatch(/^\* \* \* \* \* flock -n .*run --rm --no-deps -T restore-drill /m);
  });

  step("Prometheus scrapes the app, itself, Alertmanager, Traefik and every exporter: all targets up", async () => {
    const expected = [
      "alertmanager",
      "app",
      "blackbox-exporter",
      "deep-health",
      "node-exporter",
      "postgres-exporter",
      "prometheus",
      "redis-exporter",
      "traefik",
    ];
    type Target = { labels: { job: string }; health: string; lastError: string; scrapeUrl: string };
    const started = Date.now();
    let last: Target[] = [];
    await waitUntil(
      "every Prometheus target up",
      180,
      async () => {
        last = ((await prometheus("/api/v1/targets?state=active").catch(() => ({ activeTargets: [] }))) as { activeTargets: Target[] })
          .activeTargets;
        const jobs = [...new Set(last.map((t) => t.labels.job))].sort();
        return jobs.join() === expected.join() && last.every((t) => t.health === "up") ? true : undefined;
      },
      () => last.map((t) => `${t.labels.job} ${t.scrapeUrl}: ${t.health} ${t.lastError}`).join("\n"),
    );
    timings.targetsUpSeconds = Math.round((Date.now() - started) / 1000);
    // The exporters' own signals, not just their scrape: the database and Redis answer them.
    expect((await query("pg_up")).result.map((r) => r.value[1])).toEqual(["1"]);
    expect((await query("redis_up")).result.map((r) => r.value[1])).toEqual(["1"]);
    expect((await query('up{job="app"}')).result.length).toBeGreaterThan(0);
  });

  step("the host's cron starts the backup job on its own, as the deploy user, and it writes a verified backup", async () => {
    const started = Date.now();
    scheduledBackup = await waitUntil(
      "a scheduled backup that includes the rows",
      200,
      async () => (await runsOf("backup")).find((r) => r.ok && r.started >= rowsWrittenAt),
      async () => `runs: ${JSON.stringify(await runsOf("backup"))}\njobs.log:\n${jobsLogTail()}`,
    );
    timings.backupSeconds = Math.round(scheduledBackup.finished - scheduledBackup.started);
    timings.firstScheduledBackupAfterDeploySeconds = Math.round((Date.now() - started) / 1000);
    const name = /^(app-\d{8}T\d{6}Z\.dump) sha256=([0-9a-f]{64})/.exec(scheduledBackup.detail);
    expect(name, scheduledBackup.detail).not.toBeNull();
    expect(completeBackups()).toContain(name![1]);
    expect(fs.readFileSync(path.join(backupDisk, `${name![1]}.sha256`), "utf8")).toContain(name![2]);
    // Written by the crontab's shell: the log belongs to the deploy user and shows the run.
    const log = fs.statSync(jobsLog());
    const uid = Number((await runOk("id -u", "id", ["-u", deployUser()], { timeoutSeconds: 10 })).stdout.trim());
    expect(log.uid, `${jobsLog()} is written by the deploy user's cron job`).toBe(uid);
    expect(fs.readFileSync(jobsLog(), "utf8")).toContain(`backup ok: ${name![1]}`);
    console.log(`scheduled backup: ${scheduledBackup.detail}`);
  });

  step("the scheduled restore drill restores the newest backup and records its duration and row counts", async () => {
    const drill = await waitUntil(
      "a scheduled drill of a backup with the rows",
      200,
      async () => (await runsOf("drill")).find((r) => r.ok && r.started >= scheduledBackup!.finished),
      async () => `drills: ${JSON.stringify(await runsOf("drill"))}\njobs.log:\n${jobsLogTail()}`,
    );
    timings.drillSeconds = Math.round(drill.finished - drill.started);
    console.log(`scheduled drill: ${drill.detail}`);
    expect(drill.detail).toMatch(/^restored app-\d{8}T\d{6}Z\.dump into app_restore_drill; /);
    expect(drill.detail).toContain(`${TABLE} restored ${ROWS} / live ${ROWS}`);
    expect(drill.detail).toMatch(/drill took \d+s \(goal 900s\)/);
  });

  step(
    "Postgres stopped: DatabaseDown/PostgresDown fires and reaches the webhook; Postgres started: the webhook receives resolved",
    async () => {
      const postgres = await serviceContainer(host!.project, "postgres");
      // A stopped container leaves its name unresolvable: postgres-exporter 0.11's scrape itself fails,
      // so PostgresDown (no health signal for 2 m) fires rather than DatabaseDown (pg_up 0 for 1 m).
      const databaseAlerts = ["DatabaseDown", "PostgresDown"];
      let alertname = "";
      const firingOf = (d: Delivery) =>
        d.status === "firing" && d.alerts.some((a) => databaseAlerts.includes(a.labels.alertname) && a.status === "firing");
      const resolvedOf = (d: Delivery) => d.alerts.some((a) => a.labels.alertname === alertname && a.status === "resolved");
      const stoppedAt = Date.now();
      // The entrypoint passes SIGTERM on as a smart shutdown, which waits for every session up to the
      // 120 s grace period: 15 s, then SIGKILL (a crash, as an outage would be).
      await docker(["stop", "--time", "15", postgres], 60);
      const fired = await waitUntil(
        "DatabaseDown or PostgresDown delivered to the webhook",
        330,
        async () => webhook!.deliveries.find((d) => d.at >= stoppedAt && firingOf(d)),
        () => `deliveries: ${JSON.stringify(webhook!.deliveries)}`,
        1000,
      );
      timings.alertFireSeconds = Math.round((fired.at - stoppedAt) / 1000);
      alertname = fired.alerts.find((a) => databaseAlerts.includes(a.labels.alertname))!.labels.alertname;
      console.log(`alert delivered: ${alertname}`);
      const startedAt = Date.now();
      await docker(["start", postgres], 120);
      await waitUntil(
        "Postgres healthy again",
        120,
        async () => ((await docker(["inspect", "--format", "{{.State.Health.Status}}", postgres])) === "healthy" ? true : undefined),
        () => "not healthy",
        2000,
      );
      const resolved = await waitUntil(
        `${alertname} resolved at the webhook`,
        300,
        async () => webhook!.deliveries.find((d) => d.at >= startedAt && resolvedOf(d)),
        () => `deliveries: ${JSON.stringify(webhook!.deliveries)}`,
        1000,
      );
      timings.alertResolveSeconds = Math.round((resolved.at - startedAt) / 1000);
      const alert = fired.alerts.find((a) => a.labels.alertname === alertname)!;
      expect(alert.labels.severity).toBe("critical");
      expect(alert.labels.project).toBe(host!.project);
    },
  );

  step("Prometheus' backup-age and drill metrics reflect the scheduler's runs", async () => {
    const latest = async () => Math.max(...(await runsOf("backup")).filter((r) => r.ok).map((r) => r.finished));
    // postgres-exporter caches the query for 60 s: checked after the alert step, by when it has
    // queried again (the metric may name a run after the first scheduled backup).
    const value = await waitUntil(
      "ballast_backup_last_success_timestamp_seconds at a recorded backup",
      150,
      async () => {
        const result = (await query("ballast_backup_last_success_timestamp_seconds")).result;
        const seconds = Number(result[0]?.value[1] ?? 0);
        const okRuns = (await runsOf("backup")).filter((r) => r.ok).map((r) => Math.floor(r.finished));
        return seconds >= Math.floor(scheduledBackup!.finished) && okRuns.includes(Math.floor(seconds)) ? seconds : undefined;
      },
      async () =>
        `metric: ${JSON.stringify((await query("ballast_backup_last_success_timestamp_seconds")).result)}; newest run ${await latest()}`,
      5000,
    );
    const age = Number((await query("time() - ballast_backup_last_success_timestamp_seconds")).result[0].value[1]);
    console.log(`backup age in Prometheus: ${Math.round(age)} s (last success ${new Date(value * 1000).toISOString()})`);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(300);
    // The rule over that metric is loaded and quiet: the newest backup is within the 1 h RPO.
    const rules = (await prometheus("/api/v1/rules?type=alert")) as { groups: { rules: { name: string; state: string }[] }[] };
    const backupTooOld = rules.groups.flatMap((g) => g.rules).find((r) => r.name === "BackupTooOld");
    expect(backupTooOld?.state).toBe("inactive");
    const drillDuration = await waitUntil(
      "ballast_restore_drill_last_duration_seconds",
      150,
      async () => (await query("ballast_restore_drill_last_duration_seconds > 0")).result[0]?.value[1],
      () => "no drill duration yet",
      5000,
    );
    expect(Number(drillDuration)).toBeGreaterThan(0);
  });

  step(
    "a full backup disk: the scheduled backup fails naming the disk, keeps no partial file, and the drill keeps the newest complete backup",
    async () => {
      const newestBefore = completeBackups().at(-1)!;
      const filler = path.join(backupDisk, ".e2e-filler");
      // Fill the tmpfs to the last byte (ENOSPC ends the write).
      await run("dd", ["if=/dev/zero", `of=${filler}`, "bs=1M"], { timeoutSeconds: 60 });
      const filledAt = Date.now() / 1000;
      try {
        const failed = await waitUntil(
          "a scheduled backup on the full disk",
          200,
          async () => (await runsOf("backup")).find((r) => r.started >= filledAt),
          async () => `runs: ${JSON.stringify(await runsOf("backup"))}\njobs.log:\n${jobsLogTail()}`,
        );
        console.log(`backup on the full disk: ${failed.detail}`);
        expect(failed.ok).toBe(false);
        expect(failed.detail).toMatch(
          /^the backup disk is full: \/backups \(the backups volume\) has [\d.]+ (B|KiB) free of 16\.0 MiB; this run kept nothing/,
        );
        expect(fs.readFileSync(jobsLog(), "utf8")).toContain("ERROR: the backup disk is full: /backups (the backups volume)");
        // Nothing of the failed run: no partial file, no new set.
        expect(backupFiles().filter((name) => name.endsWith(".partial"))).toEqual([]);
        expect(completeBackups().at(-1)).toBe(newestBefore);
        const drill = await waitUntil(
          "a scheduled drill while the disk is full",
          200,
          async () => (await runsOf("drill")).find((r) => r.started >= filledAt),
          async () => `drills: ${JSON.stringify(await runsOf("drill"))}`,
        );
        expect(drill.ok, drill.detail).toBe(true);
        expect(drill.detail).toContain(`restored ${newestBefore} into app_restore_drill`);
      } finally {
        fs.rmSync(filler, { force: true });
      }
    },
  );

  step("the documented real restore (docs/backup-restore.md) brings back rows deleted after the backup", async () => {
    const base = releaseBase();
    const compose = `cd ${base}/current && docker compose -p ${host!.project}`;
    // 1. Stop everything that writes: the scheduled jobs (the deploy user's crontab, saved), any
    //    job still running (its lock), the app and the workers.
    await ssh(
      `crontab -l > ~/crontab.before-restore && crontab -r && flock ${base}/.ballast/backup.lock true && flock ${base}/.ballast/restore-drill.lock true`,
    );
    const newest = completeBackups().at(-1)!;
    await psql(host!.project, `DELETE FROM ${TABLE} WHERE id > ${ROWS - DELETED}`);
    expect(await psql(host!.project, `SELECT count(*) FROM ${TABLE}`)).toBe(String(ROWS - DELETED));
    await ssh(`${compose} stop app worker`);
    // 2. Restore the newest backup.
    const started = Date.now();
    const restore = await ssh(
      `${compose} run --rm restore-drill --restore-for-real --i-understand-this-replaces app --terminate-connections 2>&1`,
      600,
    );
    timings.realRestoreSeconds = Math.round((Date.now() - started) / 1000);
    console.log(`real restore:\n${restore}`);
    expect(restore).toContain(`restore ok: restore-for-real of ${newest} in`);
    expect(restore).toContain(`${TABLE} ${ROWS} rows`);
    // 3. Start again, put the schedule back, check.
    await ssh(`${compose} up -d --wait && crontab ~/crontab.before-restore && rm ~/crontab.before-restore`, 600);
    expect(await psql(host!.project, `SELECT count(*) FROM ${TABLE}`)).toBe(String(ROWS));
    expect(await psql(host!.project, "SELECT datname FROM pg_database WHERE datname LIKE 'app_before_restore_%'")).toMatch(
      /^app_before_restore_\d{8}T\d{6}Z$/,
    );
    await waitForAnswer(httpPort, E2E_APP_HOST, "/api/health", (answer) => answer.status === 200, 60);
    const crontab = (await runOk("crontab -l", "crontab", ["-l", "-u", deployUser()], { timeoutSeconds: 20 })).stdout;
    expect(crontab).toContain("-T backup ");
  });
});
