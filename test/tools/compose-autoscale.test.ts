/**
 * The Compose queue scaler (autoscale.sh) against a real redis-server (Debian's, started here on
 * a private unix socket with a password, stopped after the tests), and deploy.sh keeping the
 * scaled count across a release. `docker` is a fake first on PATH: it records every call, keeps a
 * container count per service, and runs `compose exec -T redis sh -c ...` on this machine the
 * way the Redis container would: the container's REDIS_PASSWORD in its environment, and a
 * `redis-cli` that talks to the test server (the container's default address) — so the script's
 * own query, quoting and REDISCLI_AUTH reach a real server.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComposeConfig } from "../../components/config/types";
import type { AutoscalingSpec, StackModel, WorkloadSpec } from "../../components/spec";
import { ComposeTarget, releaseStdin } from "../../components/targets/compose";
import { composeHostDefaults } from "../fixtures/config";
import { fixtureModel, fixtureSecretValues } from "../fixtures/stack-model";

const temps: string[] = [];
let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill("SIGTERM");
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

const PASSWORD = "s3cret-redis-password-for-the-test";
const root = tempDir("ballast-autoscale-");
const socket = path.join(root, "redis.sock");

/** Records calls; `ps` lists $FAKE_STATE/replicas-<service> containers; `up --scale s=N` sets it; `exec -T redis` runs here. */
const FAKE_DOCKER = `#!/usr/bin/env bash
set -euo pipefail
state=\${FAKE_STATE:?}
printf '%s\\n' "$*" >>"$state/calls.log"
if [[ $1 == compose ]]; then
  args=("$@")
  for ((i = 0; i < \${#args[@]}; i++)); do
    case \${args[i]} in
      exec)
        # exec -T <service> <command...>: the command runs with the Redis container's environment.
        cmd=("\${args[@]:i+3}")
        exec env REDIS_PASSWORD="\${FAKE_REDIS_PASSWORD:?}" PATH="$state/container-bin:$PATH" "\${cmd[@]}"
        ;;
      config)
        if [[ " $* " == *" --hash "* ]]; then printf '%s sha-new\\n' "\${args[-1]}"; fi
        exit 0
        ;;
      up)
        for arg in "$@"; do
          if [[ $arg =~ ^([a-z0-9-]+)=([0-9]+)$ ]]; then
            [[ \${BASH_REMATCH[1]} == "\${FAKE_FAIL_SCALE:-}" ]] && exit 1
            printf '%s\\n' "\${BASH_REMATCH[2]}" >"$state/replicas-\${BASH_REMATCH[1]}"
          fi
        done
        exit 0
        ;;
    esac
  done
  exit 0
fi
case $1 in
  ps)
    service=""
    for arg in "$@"; do [[ $arg == label=com.docker.compose.service=* ]] && service=\${arg#*service=}; done
    n=$(cat "$state/replicas-$service" 2>/dev/null || echo 0)
    for ((i = 1; i <= n; i++)); do printf '2026-01-01 00:00:0%s +0000 UTC|%s-%s\\n' "$i" "$service" "$i"; done
    ;;
  inspect) echo stale ;;
  volume) [[ $2 != inspect ]] || [[ -e $state/volume-\${3:-x} ]] ;;
esac
`;

/** The Redis container's redis-cli: the server it reaches by default is the test's. */
const CONTAINER_REDIS_CLI = `#!/usr/bin/env bash
exec /usr/bin/redis-cli -s "\${FAKE_REDIS_SOCKET:?}" "$@"
`;

interface Host {
  base: string;
  bin: string;
  state: string;
  config: ComposeConfig;
}

function newHost(): Host {
  const dir = tempDir("ballast-autoscale-host-");
  const host = { base: path.join(dir, "base"), bin: path.join(dir, "bin"), state: path.join(dir, "state") };
  fs.mkdirSync(host.bin);
  fs.mkdirSync(path.join(host.state, "container-bin"), { recursive: true });
  fs.writeFileSync(path.join(host.bin, "docker"), FAKE_DOCKER, { mode: 0o755 });
  fs.writeFileSync(path.join(host.state, "container-bin", "redis-cli"), CONTAINER_REDIS_CLI, { mode: 0o755 });
  const config: ComposeConfig = {
    mode: "local",
    project: "ballast",
    localDir: host.base,
    keepReleases: 2,
    deployTimeoutSeconds: 30,
    composeCommand: "docker compose",
    ...composeHostDefaults(),
  };
  return { ...host, config };
}

function target(host: Host): ComposeTarget {
  return new ComposeTarget(host.config, {
    domain: "example.com",
    tls: true,
    healthUrlPath: "/api/health",
    appName: "app",
    pullTimeoutSeconds: 60,
  });
}

function queueModel(queue: NonNullable<AutoscalingSpec["queue"]>): StackModel {
  const model = fixtureModel();
  const worker = (w: WorkloadSpec): WorkloadSpec => ({
    ...w,
    replicas: 2,
    autoscaling: { minReplicas: 2, maxReplicas: 6, cpuTargetPercent: 80, configKey: "ballast:workers[0].autoscaling", queue },
  });
  return { ...model, workloads: model.workloads.map((w) => (w.name === "worker" ? worker(w) : w)) };
}

const listQueue = {
  kind: "redis-list",
  key: "bull:analyst:wait",
  targetPerReplica: 50,
  datastore: "redis",
  passwordSecret: "redis-password",
} as const;
const streamQueue = {
  kind: "redis-stream",
  key: "events",
  consumerGroup: "workers",
  targetPerReplica: 20,
  datastore: "redis",
  passwordSecret: "redis-password",
} as const;

/** Writes the release's autoscale.sh where `current` points, as a deploy would. */
function install(host: Host, model: StackModel): string {
  const release = path.join(host.base, "releases", "r1");
  fs.mkdirSync(release, { recursive: true });
  const script = target(host).scripts(model).autoscale;
  if (script === undefined) throw new Error("no autoscale.sh rendered");
  fs.writeFileSync(path.join(release, "autoscale.sh"), script, { mode: 0o500 });
  fs.rmSync(path.join(host.base, "current"), { force: true });
  fs.symlinkSync("releases/r1", path.join(host.base, "current"));
  return path.join(host.base, "current", "autoscale.sh");
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function env(host: Host, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: `${host.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: os.tmpdir(),
    FAKE_STATE: host.state,
    FAKE_REDIS_SOCKET: socket,
    FAKE_REDIS_PASSWORD: PASSWORD,
    ...extra,
  };
}

/** What the crontab line runs (without its own flock, which only keeps runs from overlapping). */
function autoscale(host: Host, script: string, extra: Record<string, string> = {}, wrapper: string[] = []): Run {
  const result = spawnSync(
    wrapper[0] ?? "bash",
    [...wrapper.slice(1), ...(wrapper.length > 0 ? ["bash"] : []), "--noprofile", "--norc", script],
    {
      encoding: "utf8",
      env: env(host, extra),
      timeout: 60_000,
    },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function redis(...args: string[]): string {
  const result = spawnSync("redis-cli", ["-s", socket, ...args], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: PASSWORD } });
  if (result.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

function setReplicas(host: Host, service: string, count: number): void {
  fs.writeFileSync(path.join(host.state, `replicas-${service}`), `${count}\n`);
}

function scaleCalls(host: Host): string[] {
  const file = path.join(host.state, "calls.log");
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.includes(" up "))
    .map((line) => line.replace(/^.* up /, "up "));
}

function stateOf(host: Host): string {
  return fs.readFileSync(path.join(host.base, ".ballast", "autoscale.state"), "utf8");
}

beforeAll(async () => {
  server = spawn(
    "redis-server",
    ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(fs.existsSync(socket), "redis-server must be installed (apt-get install -y redis-server)").toBe(true);
  expect(redis("PING")).toBe("PONG");
});

describe("autoscale.sh", () => {
  it.each([
    ["autoscale.sh, list", listQueue, "autoscale"],
    ["autoscale.sh, stream", streamQueue, "autoscale"],
    ["deploy.sh with the bounds", listQueue, "deploy"],
  ] as const)("%s is shellcheck-clean", (_, queue, script) => {
    const host = newHost();
    let file = install(host, queueModel(queue));
    if (script === "deploy") {
      file = path.join(host.base, "deploy.sh");
      fs.writeFileSync(file, target(host).scripts(queueModel(queue)).deploy);
    }
    const result = spawnSync("shellcheck", ["--shell", "bash", "--severity", "style", file], { encoding: "utf8" });
    expect(result.error, "shellcheck must be installed").toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.status).toBe(0);
  });

  it("follows a list's length: ceil(length / 50) within 2..6, up at once, down only after the cooldown", () => {
    const host = newHost();
    const script = install(host, queueModel(listQueue));
    redis("DEL", "bull:analyst:wait");
    setReplicas(host, "worker", 2);

    // Empty queue, at the minimum: nothing to do; the state file shows the reading.
    let run = autoscale(host, script);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(scaleCalls(host)).toEqual([]);
    expect(stateOf(host)).toMatch(/^\S+Z worker queue=0 replicas=2 wanted=2\n$/);

    // 120 jobs: 3 replicas.
    redis("RPUSH", "bull:analyst:wait", ...Array.from({ length: 120 }, (_, i) => `job-${i}`));
    run = autoscale(host, script);
    expect(run.status).toBe(0);
    expect(scaleCalls(host)).toEqual(["up -d --no-deps --no-recreate --scale worker=3 worker"]);
    expect(run.stdout).toMatch(/^\S+Z worker: 2 -> 3 replicas \(redis-list bull:analyst:wait: 120, 50 per replica, bounds 2-6\)\n$/);

    // 1000 jobs: 20 wanted, the maximum 6 it gets.
    redis("RPUSH", "bull:analyst:wait", ...Array.from({ length: 880 }, (_, i) => `more-${i}`));
    run = autoscale(host, script);
    expect(run.status).toBe(0);
    expect(scaleCalls(host).at(-1)).toBe("up -d --no-deps --no-recreate --scale worker=6 worker");
    expect(stateOf(host)).toMatch(/worker queue=1000 replicas=3 wanted=6\n$/);

    // Drained to 60: 2 wanted, but the scale-up was just now: it stays at 6 (the state says what is wanted).
    redis("LTRIM", "bull:analyst:wait", "0", "59");
    run = autoscale(host, script);
    expect(run.stdout).toBe("");
    expect(scaleCalls(host)).toHaveLength(2);
    expect(stateOf(host)).toMatch(/worker queue=60 replicas=6 wanted=2\n$/);

    // Five minutes later it goes down, once.
    fs.writeFileSync(path.join(host.base, ".ballast", "autoscale-worker.up"), `${Math.floor(Date.now() / 1000) - 301}\n`);
    run = autoscale(host, script);
    expect(scaleCalls(host).at(-1)).toBe("up -d --no-deps --no-recreate --scale worker=2 worker");
    expect(run.stdout).toMatch(/worker: 6 -> 2 replicas/);
    autoscale(host, script);
    expect(scaleCalls(host)).toHaveLength(3);
  });

  it("counts a stream's pending entries in the consumer group", () => {
    const host = newHost();
    const script = install(host, queueModel(streamQueue));
    redis("DEL", "events");
    redis("XGROUP", "CREATE", "events", "workers", "$", "MKSTREAM");
    for (let i = 0; i < 70; i++) redis("XADD", "events", "*", "n", String(i));
    // Delivered to a consumer and not acknowledged: 70 pending. Never-read entries would not count.
    redis("XREADGROUP", "GROUP", "workers", "c1", "COUNT", "70", "STREAMS", "events", ">");
    setReplicas(host, "worker", 2);
    const run = autoscale(host, script);
    expect(run.status).toBe(0);
    expect(scaleCalls(host)).toEqual(["up -d --no-deps --no-recreate --scale worker=4 worker"]);
    expect(run.stdout).toMatch(/worker: 2 -> 4 replicas \(redis-stream events: 70, 20 per replica, bounds 2-6\)/);
  });

  it("skips the minute while a deploy holds .deploy.lock, and scales nothing", () => {
    const host = newHost();
    const script = install(host, queueModel(listQueue));
    redis("DEL", "bull:analyst:wait");
    redis("RPUSH", "bull:analyst:wait", ...Array.from({ length: 300 }, (_, i) => `job-${i}`));
    setReplicas(host, "worker", 2);
    const run = autoscale(host, script, {}, ["flock", path.join(host.base, ".deploy.lock")]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\S+Z skipped: a deploy or destroy holds .*\/base\/\.deploy\.lock\n$/);
    expect(scaleCalls(host)).toEqual([]);
    // The lock free again: it scales.
    autoscale(host, script);
    expect(scaleCalls(host)).toEqual(["up -d --no-deps --no-recreate --scale worker=6 worker"]);
  });

  it("leaves the workers alone when Redis refuses the read, says why, and exits non-zero; the password is on no command line", () => {
    const host = newHost();
    const script = install(host, queueModel(listQueue));
    setReplicas(host, "worker", 3);
    const run = autoscale(host, script, { FAKE_REDIS_PASSWORD: "wrong" });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /worker: left as it is: reading redis-list bull:analyst:wait failed: .*(WRONGPASS|invalid username-password)/,
    );
    expect(scaleCalls(host)).toEqual([]);
    autoscale(host, script);
    const calls = fs.readFileSync(path.join(host.state, "calls.log"), "utf8");
    expect(calls).toContain('exec -T redis sh -c export REDISCLI_AUTH="$REDIS_PASSWORD"; exec redis-cli "$@" sh LLEN bull:analyst:wait');
    expect(calls).not.toContain(PASSWORD);
    expect(calls).not.toMatch(/redis-cli[^\n]* -a /);
  });

  it("logs a failed scale and keeps going", () => {
    const host = newHost();
    const script = install(host, queueModel(listQueue));
    redis("DEL", "bull:analyst:wait");
    redis("RPUSH", "bull:analyst:wait", ...Array.from({ length: 200 }, (_, i) => `job-${i}`));
    setReplicas(host, "worker", 2);
    const run = autoscale(host, script, { FAKE_FAIL_SCALE: "worker" });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/worker: scaling 2 -> 4 FAILED \(redis-list bull:analyst:wait: 200, 50 per replica, bounds 2-6\)/);
  });
});

describe("deploy.sh keeps the scaled count across a release", () => {
  /**
   * The release runs up to its rolling stage on the fake engine; the fake then refuses the
   * worker's scale-up, so the release rolls back. What matters is how many new containers it
   * asked for beside the old ones: as many as run now, within the bounds.
   */
  function newContainersAsked(running: number): string | undefined {
    const host = newHost();
    const model = queueModel(listQueue);
    const t = target(host);
    setReplicas(host, "worker", running);
    const stdin = releaseStdin(t.scripts(model).deploy, t.releaseFiles(model, fixtureSecretValues));
    const result = spawnSync("bash", ["--noprofile", "--norc", "-s"], {
      input: stdin,
      encoding: "utf8",
      env: env(host, { FAKE_FAIL_SCALE: "worker" }),
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("FAILED at rolling");
    expect(result.stderr).toMatch(/service worker: docker compose could not start \d+ new container\(s\)/);
    return fs
      .readFileSync(path.join(host.state, "calls.log"), "utf8")
      .split("\n")
      .find((line) => line.includes("--scale worker="))
      ?.replace(/^.*--scale (worker=\d+) worker$/, "$1");
  }

  it("4 running (the scaler's count): 4 new beside them; 9 (above the maximum): 6; none: the minimum 2", () => {
    expect(newContainersAsked(4)).toBe("worker=8");
    expect(newContainersAsked(9)).toBe("worker=15");
    expect(newContainersAsked(0)).toBe("worker=2");
  });
});
