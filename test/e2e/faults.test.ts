/**
 * Faults during a Compose release, on the real engine and host (scripts/e2e/host.sh): an SSH
 * connection dropped, `pulumi up` interrupted (SIGINT, then SIGKILL), the release disk full, the
 * Docker engine restarted, the host rebooted. One deploy is shared; each fault is one step:
 * inject it, then the next `pulumi up` converges, and the same checks follow every fault:
 *
 * - the app serves through Traefik, the Postgres row count written before the first fault is
 *   unchanged;
 * - no orphan: each service runs exactly the containers the first deploy ran, all running; no
 *   `.incoming.*` directory, no release newer than the live one that is not marked failed, at most
 *   keepReleases kept and one failed release;
 * - the release resource's recorded bundle hash (its trigger in the state) is the host's live
 *   record (`.ballast/live`) and `current` links that release;
 * - `pulumi refresh` then `pulumi preview --expect-no-changes` is clean, and neither
 *   `pulumi stack export` nor `npm run dr:export` holds any of the stack's secret values.
 *
 * The release root (the SSH user's remote dir) is a 64 MiB tmpfs, so the disk can be filled for
 * real. Figures (time to detect, time to converge, failed requests under vegeta, rows lost) go to
 * out/e2e/faults.json (BALLAST_E2E_FAULTS_REPORT) and docs/benchmarks.md.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { PulumiProject, repoRoot, requirePlugin, run, runOk, toolchainEnv, type InlineResult } from "./support/harness";
import { bringUpHost, docker, freePort, get, hostScript, psql, takeDownHost, type TestHost } from "./support/host";
import { runLoad, type LoadReport } from "./support/load";
import { composeStackConfig, E2E_APP_HOST } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

const STACK = "faults";
const UP_TIMEOUT = 600;
const PREVIEW_TIMEOUT = 300;
const LOAD_RATE = 20;
const ROWS = 500;
const KEEP_RELEASES = 3;
const REPORT = process.env.BALLAST_E2E_FAULTS_REPORT ?? path.join(repoRoot, "out", "e2e", "faults.json");

/** One row of docs/benchmarks.md's faults table. */
interface FaultFigure {
  fault: string;
  /** Seconds from the fault to the moment it showed: `pulumi up` failed, or the app served again. */
  detectSeconds: number | null;
  /** Seconds of the next `pulumi up` (plus the pending-operation steps where there are some). */
  convergeSeconds: number;
  /** vegeta's failed requests over the fault and the next `pulumi up`, of the requests sent. */
  failedRequests: number;
  requests: number;
  rowsLost: number;
  notes: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/** Polls `check` every 250 ms until it is true, at most `limit` seconds; throws naming `what`. */
async function waitFor(what: string, limit: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limit * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what}: not within ${limit}s`);
}

/**
 * The secret values of a `stack export --show-secrets` (decrypted secrets read
 * `{"4dabf...": ..., "plaintext": "<json>"}`): every secret that is a string (generated passwords,
 * keys, config secrets). A secret object is secret as a whole because one field is (the SSH
 * connection, for its private key): of those only the fields named like secrets count, not its
 * public host, user or host key.
 */
function secretLeaves(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) return node.forEach((n) => secretLeaves(n, found));
  if (node === null || typeof node !== "object") return;
  const record = node as Record<string, unknown>;
  if (record["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270" && typeof record.plaintext === "string") {
    const collect = (value: unknown, key: string | undefined): void => {
      if (typeof value === "string") {
        if (key === undefined || /password|privateKey|secret|token/i.test(key)) found.add(value);
      } else if (Array.isArray(value)) value.forEach((v) => collect(v, key));
      else if (value && typeof value === "object") Object.entries(value).forEach(([k, v]) => collect(v, k));
    };
    collect(JSON.parse(record.plaintext), undefined);
    return;
  }
  Object.values(record).forEach((n) => secretLeaves(n, found));
}

/**
 * What must never be in a plain export: each short secret whole (passwords, tokens), each long
 * line of a multi-line one (the SSH key). The release's stdin (the bundle, megabytes of mostly
 * public files) is left out: the secrets it carries are the generated values checked on their own.
 */
function secretNeedles(values: Set<string>): string[] {
  const needles = new Set<string>();
  for (const value of values) {
    if (value.length > 16_384) continue;
    if (!value.includes("\n")) {
      if (value.length >= 8) needles.add(value);
      continue;
    }
    for (const line of value.split("\n")) if (line.trim().length >= 40 && !line.startsWith("-----")) needles.add(line.trim());
  }
  return [...needles];
}

describe("compose target: faults during a release, and the next pulumi up", () => {
  const step = scenarioSteps();
  let host: TestHost | undefined;
  let hostAttempted = false;
  let project: PulumiProject | undefined;
  let httpPort = 0;
  let releaseRoot = "";
  let mounted = false;
  /** Containers per service after the first deploy: what every converged state must run again. */
  const declared: Record<string, number> = {};
  let needles: string[] = [];
  const figures: FaultFigure[] = [];
  const tmp: string[] = [];
  let generation = 0;

  const sh = async (script: string, timeoutSeconds = 60) => (await runOk(script, "bash", ["-c", script], { timeoutSeconds })).stdout.trim();

  const appServes = async (): Promise<boolean> => {
    const answer = await get(httpPort, E2E_APP_HOST, "/api/health", 3000);
    return answer.status === 200;
  };

  const rowCount = async () => Number(await psql(host!.project, "SELECT count(*) FROM fault_rows"));

  /** Running and stopped long-running containers of the project, per service. */
  const containers = async (): Promise<Array<{ id: string; service: string; state: string }>> => {
    const out = await docker([
      "ps",
      "-a",
      "--filter",
      `label=com.docker.compose.project=${host!.project}`,
      "--filter",
      "label=com.docker.compose.oneoff=False",
      "--format",
      '{{.ID}}|{{.Label "com.docker.compose.service"}}|{{.State}}',
    ]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id, service, state] = line.split("|");
        return { id, service, state };
      });
  };
  const countOf = async (service: string) => (await containers()).filter((c) => c.service === service).length;

  /** A config change that makes the next `pulumi up` a release with new app containers. */
  const nextRelease = async (fault: string) => {
    generation += 1;
    await project!.setConfig("app.env.FAULT_GENERATION", `${generation}-${fault}`, { path: true });
  };

  /** Resolves once the release has started new app containers beside the old ones. */
  const newContainersStarting = () =>
    waitFor("new app containers beside the old ones", 240, async () => (await countOf("app")) > declared.app);

  /** Runs `body` under vegeta at LOAD_RATE req/s on /api/health through Traefik; the load stops 2 s after it. */
  const underLoad = async <T>(body: () => Promise<T>): Promise<{ value: T; load: LoadReport }> => {
    const done = body();
    const load = runLoad({
      vegeta: host!.values.BALLAST_E2E_VEGETA,
      rate: LOAD_RATE,
      durationSeconds: 900,
      targets: [`http://${E2E_APP_HOST}:${httpPort}/api/health`],
      connectTo: { [`${E2E_APP_HOST}:${httpPort}`]: `127.0.0.1:${httpPort}` },
      until: done.catch(() => undefined),
    });
    const [value, report] = await Promise.all([done, load]);
    return { value, load: report };
  };

  const upOk = async (what: string): Promise<number> => {
    const started = Date.now();
    const up = await project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
    expect(up.timedOut, `${what}: pulumi up timed out`).toBe(false);
    expect(up.code, `${what}: pulumi up failed:\n${up.output.split("\n").slice(-40).join("\n")}`).toBe(0);
    return seconds(started);
  };

  /** The stack state as `pulumi stack export` writes it (secrets encrypted). */
  const exportState = async (): Promise<{
    text: string;
    json: { deployment: { resources?: Array<Record<string, any>>; pending_operations?: Array<Record<string, any>> } };
  }> => {
    const text = (await project!.cli(["stack", "export", "--stack", STACK], 120)).stdout;
    return { text, json: JSON.parse(text) };
  };

  const hostFile = (relative: string) => path.join(releaseRoot, relative);

  /** The checks after every fault (see the file comment). */
  const expectConverged = async (fault: string) => {
    // The app serves through Traefik; the rows are all there.
    await waitFor(`${fault}: the app answers through Traefik`, 60, appServes);
    expect(await rowCount(), `${fault}: Postgres rows`).toBe(ROWS);
    // No orphaned container: the first deploy's count per service, every one running.
    const all = await containers();
    const perService: Record<string, number> = {};
    for (const c of all) perService[c.service] = (perService[c.service] ?? 0) + 1;
    expect(perService, `${fault}: containers per service (${JSON.stringify(all)})`).toEqual(declared);
    expect(
      all.filter((c) => c.state !== "running"),
      `${fault}: containers not running`,
    ).toEqual([]);
    // No orphaned release directory.
    const releases = fs.readdirSync(hostFile("releases")).sort();
    const current = path.basename(fs.readlinkSync(hostFile("current")));
    const kept = releases.filter((r) => !r.endsWith(".failed"));
    expect(
      releases.filter((r) => r.startsWith(".incoming")),
      `${fault}: unpacked bundles left`,
    ).toEqual([]);
    expect(
      kept.filter((r) => r > current),
      `${fault}: releases newer than the live one, not marked failed`,
    ).toEqual([]);
    expect(kept.length, `${fault}: releases kept (${releases.join(", ")})`).toBeLessThanOrEqual(KEEP_RELEASES);
    expect(releases.filter((r) => r.endsWith(".failed")).length, `${fault}: failed releases kept`).toBeLessThanOrEqual(1);
    // The bundle Pulumi recorded is the one that runs.
    const [liveId, liveBundle] = fs.readFileSync(hostFile(".ballast/live"), "utf8").trim().split(" ");
    expect(liveId, `${fault}: the live record names the release current links`).toBe(current);
    const state = await exportState();
    const release = (state.json.deployment.resources ?? []).find(
      (r) => r.type === "command:remote:Command" && String(r.urn).endsWith("-release"),
    );
    expect(release, "the release resource in the state").toBeDefined();
    expect(
      release!.outputs?.triggers?.[0] ?? release!.inputs?.triggers?.[0],
      `${fault}: the recorded bundle hash is the host's live bundle`,
    ).toBe(liveBundle);
    expect(state.json.deployment.pending_operations ?? [], `${fault}: pending operations left in the state`).toEqual([]);
    // refresh, then an empty preview.
    const refreshed = await project!.inlineOk("refresh", { timeoutSeconds: PREVIEW_TIMEOUT });
    const changed = Object.entries((refreshed.result?.summary ?? {}) as Record<string, number>).filter(([kind]) => kind !== "same");
    expect(changed, `${fault}: pulumi refresh changed the state`).toEqual([]);
    await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
    // No plaintext secret in the exported state, nor in the DR bundle.
    const bundles = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-faults-dr-"));
    tmp.push(bundles);
    await project!.npm("dr:export", [STACK, "--project-dir", project!.projectDir, "--out", bundles], 300);
    const exported: Array<[string, string]> = [["pulumi stack export", (await exportState()).text]];
    for (const dir of fs.readdirSync(bundles)) {
      for (const file of fs.readdirSync(path.join(bundles, dir)))
        exported.push([`dr:export ${file}`, fs.readFileSync(path.join(bundles, dir, file), "utf8")]);
    }
    for (const [name, text] of exported) {
      // Where each leaked value sits (the value itself masked), so a failure says what leaked without printing it.
      const leaked = needles
        .filter((needle) => text.includes(needle))
        .map((needle) => {
          const at = text.indexOf(needle);
          return `${needle.length} characters at …${text.slice(Math.max(0, at - 120), at)}<secret>${text.slice(at + needle.length, at + needle.length + 40)}…`;
        });
      expect(leaked, `${fault}: secret values in plaintext in ${name}`).toEqual([]);
    }
  };

  const record = (figure: FaultFigure) => {
    figures.push(figure);
    console.log(`fault figures: ${JSON.stringify(figure)}`);
    fs.mkdirSync(path.dirname(REPORT), { recursive: true });
    fs.writeFileSync(REPORT, `${JSON.stringify(figures, null, 2)}\n`);
  };

  /** The per-connection sshd processes of the test host's sshd (not the listener): killing them drops every session. */
  const killSshSessions = async (): Promise<number> => {
    const master = fs.readFileSync(path.join(host!.state, "sshd.pid"), "utf8").trim();
    const children = await sh(`pgrep -P ${master} || true`);
    const pids = children.split("\n").filter(Boolean);
    for (const pid of [...pids]) pids.push(...(await sh(`pgrep -P ${pid} || true`)).split("\n").filter(Boolean));
    if (pids.length > 0) await sh(`kill -KILL ${pids.join(" ")} 2>/dev/null || true`);
    return pids.length;
  };

  /** deploy.sh of the dropped session, if it still runs: bash -s of the SSH user. */
  const deployScriptRuns = async () => (await sh(`pgrep -u ${host!.sshUser} -f '^bash --noprofile --norc -s' || true`)) !== "";

  step(
    "set-up: the test host, its release root on a 64 MiB tmpfs, the stack, one deploy, rows written",
    async () => {
      const env = toolchainEnv();
      requirePlugin(env, "command", "the compose target's SSH release (command:remote:Command)", { allowStandin: true });
      requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
      hostAttempted = true;
      host = await bringUpHost();
      releaseRoot = host.remoteDir;
      // The release root on its own small filesystem: the disk-full fault fills it for real.
      const owner = await sh(`stat -c '%u:%g' ${releaseRoot}`);
      const [uid, gid] = owner.split(":");
      await sh(
        `mountpoint -q ${releaseRoot} || mount -t tmpfs -o size=64m,mode=0700,uid=${uid},gid=${gid} ballast-e2e-releases ${releaseRoot}`,
      );
      mounted = true;
      httpPort = await freePort();
      const httpsPort = await freePort(new Set([httpPort]));
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
      await upOk("first deploy");
      await waitFor("the app answers through Traefik", 60, appServes);
      await psql(
        host.project,
        `CREATE TABLE fault_rows (id integer PRIMARY KEY, value text NOT NULL); INSERT INTO fault_rows SELECT g, md5(g::text) FROM generate_series(1, ${ROWS}) g`,
      );
      for (const c of await containers()) declared[c.service] = (declared[c.service] ?? 0) + 1;
      expect(declared.app, "the first deploy runs the app").toBeGreaterThan(0);
      const shown = (await project.cli(["stack", "export", "--show-secrets", "--stack", STACK], 120)).stdout;
      const values = new Set<string>();
      secretLeaves(JSON.parse(shown), values);
      needles = secretNeedles(values);
      // The SSH key and the generated passwords at least: a check against nothing would prove nothing.
      expect(needles.length, "secret values found in the state").toBeGreaterThanOrEqual(3);
      await expectConverged("first deploy");
    },
    75 * 60_000,
  );

  afterAll(async () => {
    // The tmpfs goes before host.sh down removes the user's home (lazily: containers may still hold its files).
    if (mounted) await run("umount", ["-l", releaseRoot], { timeoutSeconds: 60 });
    project?.dispose();
    for (const dir of tmp) fs.rmSync(dir, { recursive: true, force: true });
    if (hostAttempted) await takeDownHost(host);
  });

  step("SSH connection dropped while the new containers start: pulumi up fails, the next one converges, no request fails", async () => {
    await nextRelease("ssh-drop");
    const notes: string[] = [];
    let detect = 0;
    let converge = 0;
    const { load } = await underLoad(async () => {
      const up = project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
      await newContainersStarting();
      const killedAt = Date.now();
      const killed = await killSshSessions();
      expect(killed, "sshd session processes to kill").toBeGreaterThan(0);
      const failed = await up;
      detect = seconds(killedAt);
      expect(failed.timedOut).toBe(false);
      expect(failed.code, "pulumi up must fail when its SSH session drops").not.toBe(0);
      notes.push(
        `deploy.sh after the drop: ${(await deployScriptRuns()) ? "still running (it holds the deploy lock; the next release waits for it)" : "gone"}`,
      );
      converge = await upOk("the up after the SSH drop");
    });
    expect(load.failures, `failed requests:\n${load.errors.join("\n")}`).toBe(0);
    await expectConverged("SSH drop");
    record({
      fault: "SSH connection dropped mid-release",
      detectSeconds: detect,
      convergeSeconds: converge,
      failedRequests: load.failures,
      requests: load.requests,
      rowsLost: ROWS - (await rowCount()),
      notes,
    });
  });

  step(
    "pulumi up interrupted (SIGINT, then SIGKILL) mid-release: up, then refresh --clear-pending-creates (pulumi cancel first if locked) converge, no request fails",
    async () => {
      await nextRelease("interrupt");
      const notes: string[] = [];
      let detect = 0;
      let converge = 0;
      const { load } = await underLoad(async () => {
        const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");
        const child = spawn(
          tsx,
          ["scripts/e2e/inline.ts", "up", "--stack", STACK, "--work-dir", project!.projectDir, "--timeout", String(UP_TIMEOUT)],
          {
            cwd: repoRoot,
            env: project!.env(),
            detached: true,
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let output = "";
        child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
        await newContainersStarting();
        const interruptedAt = Date.now();
        // Ctrl-C, then a kill before the CLI could finish cancelling (a second Ctrl-C, a CI job cancelled).
        process.kill(-child.pid!, "SIGINT");
        await sleep(500);
        try {
          process.kill(-child.pid!, "SIGKILL");
          notes.push("SIGKILL 0.5 s after SIGINT hit the running CLI");
        } catch {
          notes.push("the CLI had exited within 0.5 s of SIGINT (the SIGKILL found nothing)");
        }
        await exited;
        detect = seconds(interruptedAt);
        const locks = path.join(project!.backendDir, ".pulumi", "locks");
        const lockFiles = fs.existsSync(locks) ? fs.readdirSync(locks, { recursive: true }).filter((f) => String(f).endsWith(".json")) : [];
        notes.push(`update locks left in the file backend: ${lockFiles.length}`);
        console.log(`interrupted up:\n${output.split("\n").slice(-20).join("\n")}`);
        const started = Date.now();
        const pending = (await exportState()).json.deployment.pending_operations ?? [];
        notes.push(
          `pending operations after the kill: ${pending.map((p) => `${p.type} ${String(p.resource?.urn).split("::").pop()}`).join(", ") || "none"}`,
        );
        // What the CLI does next, step by step, each noted: `up` as is; if refused, `pulumi cancel`
        // (the killed update's lock), `up` again; if still refused, refresh --clear-pending-creates, `up`.
        const cliPath = String(project!.env().BALLAST_PULUMI_CLI ?? "pulumi");
        const firstError = (result: { stdout: string; stderr: string }) =>
          /error: .*/.exec(`${result.stdout}\n${result.stderr}`)?.[0] ?? "failed";
        const retried = await project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
        if (retried.code === 0) {
          notes.push("the next up ran without pulumi cancel");
        } else {
          notes.push(`the next up without pulumi cancel: ${firstError(retried)}`);
          const cancel = await run(cliPath, ["cancel", "--yes", "--stack", STACK, "--non-interactive"], {
            cwd: project!.projectDir,
            env: project!.env(),
            timeoutSeconds: 120,
          });
          notes.push(`pulumi cancel --yes: ${cancel.code === 0 ? "ok" : firstError(cancel)}`);
          const again = await project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
          if (again.code === 0) {
            notes.push("then pulumi up converged");
          } else {
            notes.push(`then pulumi up: ${firstError(again)}`);
            await project!.inlineOk("refresh", { timeoutSeconds: PREVIEW_TIMEOUT, clearPendingCreates: true });
            notes.push("pulumi refresh --clear-pending-creates, then pulumi up");
            await upOk("the up after refresh --clear-pending-creates");
          }
        }
        const left = (await exportState()).json.deployment.pending_operations ?? [];
        notes.push(`pending operations after that up: ${left.length}`);
        if (left.length > 0) {
          await project!.inlineOk("refresh", { timeoutSeconds: PREVIEW_TIMEOUT, clearPendingCreates: true });
          notes.push(
            `pulumi refresh --clear-pending-creates left ${((await exportState()).json.deployment.pending_operations ?? []).length}`,
          );
        }
        converge = seconds(started);
      });
      expect(load.failures, `failed requests:\n${load.errors.join("\n")}`).toBe(0);
      await expectConverged("pulumi up interrupted");
      record({
        fault: "pulumi up interrupted (SIGINT, then SIGKILL 0.5 s later)",
        detectSeconds: detect,
        convergeSeconds: converge,
        failedRequests: load.failures,
        requests: load.requests,
        rowsLost: ROWS - (await rowCount()),
        notes,
      });
    },
  );

  step(
    "the release disk full: pulumi up fails naming the disk, the previous release keeps serving (no request fails), the next up converges once space is freed",
    async () => {
      await nextRelease("disk-full");
      const filler = hostFile("fill");
      let detect = 0;
      let converge = 0;
      let message = "";
      const { load } = await underLoad(async () => {
        // dd stops at ENOSPC: the tmpfs is then full.
        await run("dd", ["if=/dev/zero", `of=${filler}`, "bs=1M"], { timeoutSeconds: 60 });
        const started = Date.now();
        const failed = await project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
        detect = seconds(started);
        expect(failed.code, "pulumi up on a full disk must fail").not.toBe(0);
        message = /ballast: the disk holding .*/.exec(failed.output)?.[0] ?? failed.output.split("\n").slice(-30).join("\n");
        expect(message).toMatch(
          new RegExp(
            `^ballast: the disk holding ${releaseRoot} is full: ballast-e2e-releases on ${releaseRoot} has \\d+ KiB free of 65536 KiB`,
          ),
        );
        expect(await appServes(), "the previous release serves while the disk is full").toBe(true);
        fs.rmSync(filler);
        converge = await upOk("the up after space was freed");
      });
      expect(load.failures, `failed requests:\n${load.errors.join("\n")}`).toBe(0);
      await expectConverged("disk full");
      record({
        fault: "release disk full",
        detectSeconds: detect,
        convergeSeconds: converge,
        failedRequests: load.failures,
        requests: load.requests,
        rowsLost: ROWS - (await rowCount()),
        notes: [message],
      });
    },
  );

  step("the Docker engine restarted while the new containers start: the next pulumi up converges", async () => {
    await nextRelease("engine-restart");
    const notes: string[] = [];
    let detect = 0;
    let converge = 0;
    const { load } = await underLoad(async () => {
      const up = project!.inline("up", { timeoutSeconds: UP_TIMEOUT });
      await newContainersStarting();
      const restartedAt = Date.now();
      await runOk("host.sh dockerd-restart", "bash", [hostScript, "dockerd-restart", "0"], { timeoutSeconds: 180 });
      notes.push(`engine down and back in ${seconds(restartedAt)}s`);
      const result: InlineResult = await up;
      detect = seconds(restartedAt);
      notes.push(
        result.code === 0
          ? "the release itself succeeded"
          : `the release failed: ${/ballast: release \S+ FAILED at [^\n]*/.exec(result.output)?.[0] ?? result.output.split("\n").slice(-5).join(" ")}`,
      );
      await waitFor("the app serves again after the engine restart", 180, appServes);
      notes.push(`the app served again ${seconds(restartedAt)}s after the restart began`);
      converge = await upOk("the up after the engine restart");
    });
    await expectConverged("engine restart");
    // Without live-restore (the e2e engine) a restart stops every container: requests fail until they are back.
    record({
      fault: "Docker engine restarted mid-release",
      detectSeconds: detect,
      convergeSeconds: converge,
      failedRequests: load.failures,
      requests: load.requests,
      rowsLost: ROWS - (await rowCount()),
      notes,
    });
  });

  step(
    "host reboot simulated (engine stopped with every container, started again): restart policies bring the stack back, the next release's health gate passes",
    async () => {
      const notes: string[] = [];
      let back = 0;
      let converge = 0;
      const { load } = await underLoad(async () => {
        const stoppedAt = Date.now();
        await runOk("host.sh dockerd-restart 5", "bash", [hostScript, "dockerd-restart", "5"], { timeoutSeconds: 180 });
        await waitFor("the app serves again after the reboot", 240, appServes);
        back = seconds(stoppedAt);
        // The order the engine started them in (restart policies; compose's depends_on is not the engine's).
        const running = await docker([
          "ps",
          "--filter",
          `label=com.docker.compose.project=${host!.project}`,
          "--format",
          '{{.Names}}|{{.Label "com.docker.compose.service"}}',
        ]);
        const startedAt = await Promise.all(
          running
            .split("\n")
            .filter(Boolean)
            .map(async (line) => {
              const [name, service] = line.split("|");
              return { service, at: await docker(["inspect", "--format", "{{.State.StartedAt}}", name]) };
            }),
        );
        const order = startedAt.sort((a, b) => a.at.localeCompare(b.at)).map((s) => s.service);
        notes.push(`started by the engine in this order: ${[...new Set(order)].join(", ")}`);
        await nextRelease("after-reboot");
        converge = await upOk("the release after the reboot (its health gate)");
      });
      await expectConverged("reboot");
      record({
        fault: "host reboot (engine and every container stopped, engine started)",
        detectSeconds: back,
        convergeSeconds: converge,
        failedRequests: load.failures,
        requests: load.requests,
        rowsLost: ROWS - (await rowCount()),
        notes,
      });
    },
  );
});
