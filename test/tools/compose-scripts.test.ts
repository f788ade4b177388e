/**
 * The Compose target's host scripts for real: shellcheck on every rendered script and
 * crontab command, then deploy.sh and destroy.sh run by bash exactly as the release
 * Command runs them (`sh -c "bash --noprofile --norc -c '<script>' deploy.sh"`, bundle on stdin) against a
 * temp release base, with a fake `docker` and `curl` first on PATH. The fakes record
 * every call and simulate `up --wait` passing or failing per release, `ps`, `inspect`
 * health output and `volume create`. A missing shellcheck fails the suite
 * (install: apt-get install -y shellcheck); bash, coreutils and util-linux flock are needed too.
 */
import { composeHostDefaults } from "../fixtures/config";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ComposeConfig } from "../../components/config/types";
import type { StackModel } from "../../components/spec";
import { ComposeTarget, releaseBundleFiles } from "../../components/targets/compose";
import { bashInvocation } from "../../components/targets/compose/apply";
import { bundleId, encodeBundle } from "../../components/targets/compose/bundle";
import { renderEnvText } from "../../components/targets/compose/env";
import { fixtureModel, fixtureSecretValues } from "../fixtures/stack-model";

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Records `docker` calls in $FAKE_DOCKER_STATE/calls.log and plays the engine's part. (`\${` keeps bash's own expansions.) */
const FAKE_DOCKER = `#!/usr/bin/env bash
set -euo pipefail
state=\${FAKE_DOCKER_STATE:?}
record() { printf '%s\\n' "$*" >>"$state/calls.log"; }

if [[ $1 == compose ]]; then
  shift
  project="" dir="" profiles=""
  args=()
  while (($#)); do
    case $1 in
      -p) project=$2; shift 2 ;;
      --project-directory) dir=$2; shift 2 ;;
      -f) [[ -f $2 ]] || { echo "fake docker: no compose file $2" >&2; exit 14; }; shift 2 ;;
      --profile) profiles+="$2 "; shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  release=$(basename "$(readlink -f "$dir")")
  record "compose $project $release profiles=[$profiles] \${args[*]}"
  case \${args[0]} in
    config) exit "\${FAKE_CONFIG_EXIT:-0}" ;;
    up)
      [[ $(stat -c %a "$dir/.env") == 600 ]] || { echo "fake docker: .env is not 0600" >&2; exit 15; }
      if [[ -n \${FAKE_UP_FAIL_SUFFIX:-} && $release == *"$FAKE_UP_FAIL_SUFFIX" ]]; then
        echo "container ballast-app-1 is unhealthy" >&2
        exit 1
      fi
      ;;
    ps)
      printf 'cid-app-1\\ncid-postgres-1\\n'
      if [[ -n \${FAKE_WORKER_OOM:-} ]]; then printf 'cid-worker-2\\n'; fi
      ;;
  esac
  exit 0
fi

case $1 in
  volume)
    case $2 in
      inspect) [[ -e $state/volumes/$3 ]] ;;
      create) name=\${*: -1}; touch "$state/volumes/$name"; record "volume create $name" ;;
      rm) record "volume rm $3"; rm -f "$state/volumes/$3" ;;
      *) exit 2 ;;
    esac
    ;;
  inspect)
    format=$3 id=$4
    if [[ $format == *com.docker.compose.service* ]]; then
      case $id in
        cid-app-1) echo "app|1|running|\${FAKE_APP_HEALTH:-healthy}|0|false" ;;
        cid-postgres-1) echo "postgres|1|running|healthy|0|false" ;;
        cid-worker-2) echo "worker|2|restarting||137|true" ;;
      esac
    else
      printf '%s\\n' '"starting"' '"wget: server returned error: HTTP/1.1 503 Service Unavailable\\n"'
    fi
    ;;
  *) exit 2 ;;
esac
`;

const FAKE_CURL = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"\${FAKE_DOCKER_STATE:?}/curl.log"
if [[ -n \${FAKE_CURL_FAIL:-} ]]; then
  echo "curl: (22) The requested URL returned error: 503" >&2
  exit 22
fi
`;

interface Host {
  base: string;
  bin: string;
  state: string;
  config: ComposeConfig;
}

function newHost(): Host {
  const root = tempDir("ballast-compose-");
  const host = { base: path.join(root, "base"), bin: path.join(root, "bin"), state: path.join(root, "state") };
  fs.mkdirSync(host.bin);
  fs.mkdirSync(path.join(host.state, "volumes"), { recursive: true });
  fs.writeFileSync(path.join(host.bin, "docker"), FAKE_DOCKER, { mode: 0o755 });
  fs.writeFileSync(path.join(host.bin, "curl"), FAKE_CURL, { mode: 0o755 });
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

function target(host: Host, tls = true): ComposeTarget {
  return new ComposeTarget(host.config, {
    domain: "example.com",
    tls,
    healthUrlPath: "/api/health",
    appName: "app",
    healthGateAttempts: 2,
    healthGateDelaySeconds: 1,
    pullTimeoutSeconds: 60,
  });
}

interface Release {
  bundle: string;
  id: string;
  /** First 12 hex characters: the suffix of the release directory. */
  short: string;
}

function release(host: Host, model: StackModel, values: Record<string, string>): Release {
  const files = releaseBundleFiles(model, host.config, values);
  const id = bundleId(files);
  return { bundle: encodeBundle(files), id, short: id.slice(0, 12) };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runCommand(host: Host, commandLine: string, input: string, env: Record<string, string>): Run {
  const result = spawnSync("sh", ["-c", commandLine], {
    input,
    encoding: "utf8",
    env: { PATH: `${host.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: os.tmpdir(), FAKE_DOCKER_STATE: host.state, ...env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function deploy(host: Host, model: StackModel, rel: Release, env: Record<string, string> = {}): Run {
  return runCommand(host, bashInvocation(target(host).deployScript(model), "deploy.sh"), rel.bundle, env);
}

function destroy(host: Host, model: StackModel, rel: Release): Run {
  return runCommand(host, bashInvocation(target(host).destroyScript(model), "destroy.sh", [rel.id]), "", {});
}

function calls(host: Host): string[] {
  const file = path.join(host.state, "calls.log");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

function current(host: Host): string | undefined {
  const link = path.join(host.base, "current");
  return fs.existsSync(link) ? fs.readlinkSync(link) : undefined;
}

function releaseDirs(host: Host): string[] {
  return fs.readdirSync(path.join(host.base, "releases")).sort();
}

function expectNoSecrets(run: Run): void {
  for (const value of Object.values(fixtureSecretValues)) {
    expect(run.stdout).not.toContain(value);
    expect(run.stderr).not.toContain(value);
  }
}

const RELEASE_NAME = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{12}$/;
const rotated = (n: number) => ({ ...fixtureSecretValues, "redis-password": `LEAKCHECKrotated${n}` });

function shellcheck(file: string, shell = "bash"): { status: number | null; output: string; error?: Error } {
  const result = spawnSync("shellcheck", ["--shell", shell, "--severity", "style", file], { encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, error: result.error };
}

/** Empty bash arrays are where `set -u` bites: render that case too. */
function withoutJobsAndVolumes(model: StackModel): StackModel {
  return {
    ...model,
    workloads: model.workloads
      .filter((w) => w.role !== "job")
      .map((w) => ({ ...w, volumes: w.volumes.filter((v) => v.kind !== "persistent") })),
  };
}

describe("shellcheck", () => {
  const host = newHost();
  const variants: [string, string][] = [
    ["deploy.sh (tls)", target(host).deployScript(fixtureModel())],
    ["deploy.sh (dev, no tls)", target(host, false).deployScript(fixtureModel({ tls: false }))],
    ["destroy.sh (volumes kept)", target(host).destroyScript(fixtureModel())],
    ["destroy.sh (allowDataLoss)", target(host).destroyScript(fixtureModel({ allowDataLoss: true }))],
    ["deploy.sh (no jobs, no volumes)", target(host).deployScript(withoutJobsAndVolumes(fixtureModel()))],
  ];
  it.each(variants)("%s is shellcheck-clean", (label, script) => {
    const file = path.join(host.base.replace(/base$/, ""), `${label.replace(/\W+/g, "-")}.sh`);
    fs.writeFileSync(file, script);
    const result = shellcheck(file);
    expect(result.error, "shellcheck must be installed (apt-get install -y shellcheck)").toBeUndefined();
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("every crontab command is a clean POSIX sh command", () => {
    const crontab = target(host).render(fixtureModel()).find((f) => f.path === "crontab")?.content ?? "";
    const commands = crontab
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(/\s+/).slice(5).join(" "));
    expect(commands.length).toBeGreaterThan(0);
    const file = path.join(host.base.replace(/base$/, ""), "crontab-commands.sh");
    fs.writeFileSync(file, `#!/bin/sh\n${commands.join("\n")}\n`);
    const result = shellcheck(file, "sh");
    expect(result.error, "shellcheck must be installed (apt-get install -y shellcheck)").toBeUndefined();
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("deploy.sh", () => {
  const model = fixtureModel();

  it("first deploy: unpacks the release, creates the volumes, comes up health-gated and says so", () => {
    const host = newHost();
    const first = release(host, model, fixtureSecretValues);
    const run = deploy(host, model, first);
    expect(run.stderr).not.toMatch(/failed/);
    expect(run.status).toBe(0);
    expectNoSecrets(run);

    const live = current(host) ?? "";
    expect(live).toMatch(/^releases\//);
    const releaseId = path.basename(live);
    expect(releaseId).toMatch(RELEASE_NAME);
    expect(releaseId.endsWith(first.short)).toBe(true);
    const dir = path.join(host.base, live);
    expect(fs.statSync(path.join(dir, ".env")).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, ".env"), "utf8")).toBe(renderEnvText(model, fixtureSecretValues));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, "config/redis/redis.conf")).mode & 0o777).toBe(0o444);
    expect(fs.readFileSync(path.join(dir, "docker-compose.yml"), "utf8")).toContain("name: ballast");
    expect(fs.existsSync(path.join(dir, "crontab"))).toBe(true);

    expect(calls(host)).toEqual([
      `compose ballast ${releaseId} profiles=[jobs ] config --quiet`,
      "volume create ballast_postgres-data",
      "volume create ballast_redis-data",
      "volume create ballast_traefik-acme",
      `compose ballast ${releaseId} profiles=[jobs ] pull --quiet --policy missing`,
      `compose ballast ${releaseId} profiles=[] up -d --wait --wait-timeout 30 --remove-orphans`,
      `compose ballast ${releaseId} profiles=[] ps --quiet`,
    ]);
    const curl = fs.readFileSync(path.join(host.state, "curl.log"), "utf8");
    expect(curl).toContain("-fsS -k -o /dev/null --max-time 5 --resolve app.example.com:443:127.0.0.1 https://app.example.com/api/health");
    expect(run.stdout).toContain(`release ${releaseId} is live: 2 containers up, health gate https://app.example.com/api/health passed, previous release none`);
  });

  it("later deploys switch current, keep the previous release, reuse volumes and prune beyond keepReleases", () => {
    const host = newHost();
    const releases = [1, 2, 3].map((n) => release(host, model, rotated(n)));
    const ids: string[] = [];
    for (const rel of releases) {
      const run = deploy(host, model, rel);
      expect(run.status, run.stderr).toBe(0);
      expectNoSecrets(run);
      ids.push(path.basename(current(host) ?? ""));
    }
    expect(ids.map((id) => id.slice(-12))).toEqual(releases.map((r) => r.short));
    expect(calls(host).filter((c) => c.startsWith("volume create"))).toHaveLength(3);
    // keepReleases is 2: the first release is gone, the live one and its predecessor stay.
    expect(releaseDirs(host)).toEqual([ids[1], ids[2]]);
    expect(current(host)).toBe(`releases/${ids[2]}`);
  });

  it("a failing release rolls back: names the unhealthy service and its health output, re-ups the previous release, keeps volumes", () => {
    const host = newHost();
    const good = release(host, model, rotated(1));
    expect(deploy(host, model, good).status).toBe(0);
    const previous = path.basename(current(host) ?? "");
    const bad = release(host, model, rotated(2));
    const callsBefore = calls(host).length;

    const run = deploy(host, model, bad, { FAKE_UP_FAIL_SUFFIX: bad.short, FAKE_APP_HEALTH: "unhealthy", FAKE_WORKER_OOM: "1" });
    expect(run.status).not.toBe(0);
    expectNoSecrets(run);
    const failed = releaseDirs(host).find((name) => name.endsWith(`${bad.short}.failed`)) ?? "";
    const failedId = failed.replace(/\.failed$/, "");
    expect(failedId).toMatch(RELEASE_NAME);
    expect(run.stderr).toContain(
      `release ${failedId} failed: docker compose up did not get every service running and healthy within 30s: ` +
        `service app is unhealthy (health check: "wget: server returned error: HTTP/1.1 503 Service Unavailable\\n"); ` +
        `service worker (replica 2) keeps restarting (last exit code 137, OOMKilled: it hit its memory limit); ` +
        `rolled back to release ${previous}`,
    );
    expect(current(host)).toBe(`releases/${previous}`);
    const newCalls = calls(host).slice(callsBefore);
    expect(newCalls).toContain(`compose ballast ${failedId} profiles=[] up -d --wait --wait-timeout 30 --remove-orphans`);
    expect(newCalls[newCalls.length - 1]).toBe(`compose ballast ${previous} profiles=[] up -d --wait --wait-timeout 30 --remove-orphans`);
    expect(calls(host).some((c) => c.startsWith("volume rm"))).toBe(false);
    expect(fs.readdirSync(path.join(host.state, "volumes")).sort()).toEqual([
      "ballast_postgres-data",
      "ballast_redis-data",
      "ballast_traefik-acme",
    ]);

    // The failed release is never a rollback target: the next good deploy prunes it.
    const next = release(host, model, rotated(3));
    expect(deploy(host, model, next).status).toBe(0);
    expect(releaseDirs(host).some((name) => name.endsWith(".failed"))).toBe(false);
  });

  it("a failed public health gate rolls back with curl's reason", () => {
    const host = newHost();
    expect(deploy(host, model, release(host, model, rotated(1))).status).toBe(0);
    const previous = path.basename(current(host) ?? "");
    const run = deploy(host, model, release(host, model, rotated(2)), { FAKE_CURL_FAIL: "1" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(
      /failed: health gate https:\/\/app\.example\.com\/api\/health failed \(curl: \(22\) The requested URL returned error: 503\): every container reports running and healthy; rolled back to release /,
    );
    expect(run.stderr).toContain(`rolled back to release ${previous}`);
    expect(current(host)).toBe(`releases/${previous}`);
    // One passing check for the first release, then the two bounded attempts of the failing one.
    expect(fs.readFileSync(path.join(host.state, "curl.log"), "utf8").trim().split("\n")).toHaveLength(1 + 2);
  });

  it("a failing first deploy says there is nothing to roll back to and leaves the stack down, volumes kept", () => {
    const host = newHost();
    const first = release(host, model, fixtureSecretValues);
    const run = deploy(host, model, first, { FAKE_UP_FAIL_SUFFIX: first.short, FAKE_APP_HEALTH: "unhealthy" });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/failed: docker compose up did not get every service running and healthy within 30s: service app is unhealthy/);
    expect(run.stderr).toContain("first deploy, no previous release: the stack is left down");
    expect(current(host)).toBeUndefined();
    expect(calls(host).some((c) => / profiles=\[jobs \] down --remove-orphans$/.test(c))).toBe(true);
    expect(calls(host).some((c) => c.startsWith("volume rm"))).toBe(false);
  });

  it("a project that does not load or a truncated bundle leaves the live release untouched", () => {
    const host = newHost();
    expect(deploy(host, model, release(host, model, rotated(1))).status).toBe(0);
    const live = current(host);
    const upsBefore = calls(host).filter((c) => c.includes(" up ")).length;

    const broken = deploy(host, model, release(host, model, rotated(2)), { FAKE_CONFIG_EXIT: "1" });
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toMatch(/its compose project does not load \(see above\); the live release was not touched/);

    const truncated = release(host, model, rotated(3));
    const cut = truncated.bundle.slice(0, truncated.bundle.lastIndexOf("\nend"));
    const run = runCommand(host, bashInvocation(target(host).deployScript(model), "deploy.sh"), `${cut}\n`, {});
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("release bundle is truncated (no end record)");
    expectNoSecrets(run);

    expect(current(host)).toBe(live);
    expect(calls(host).filter((c) => c.includes(" up ")).length).toBe(upsBefore);
  });
});

describe("destroy.sh", () => {
  const model = fixtureModel();

  it("leaves the stack running when a newer bundle is live (the delete half of a replacement)", () => {
    const host = newHost();
    const older = release(host, model, rotated(1));
    const newer = release(host, model, rotated(2));
    expect(deploy(host, model, older).status).toBe(0);
    expect(deploy(host, model, newer).status).toBe(0);
    const live = current(host);
    const run = destroy(host, model, older);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("leaving it running");
    expect(current(host)).toBe(live);
    expect(calls(host).some((c) => c.includes(" down "))).toBe(false);
  });

  it("takes its own release down and keeps volumes and releases without allowDataLoss", () => {
    const host = newHost();
    const rel = release(host, model, rotated(1));
    expect(deploy(host, model, rel).status).toBe(0);
    const run = destroy(host, model, rel);
    expect(run.status, run.stderr).toBe(0);
    expect(calls(host).some((c) => c.endsWith("profiles=[jobs ] down --remove-orphans"))).toBe(true);
    expect(current(host)).toBeUndefined();
    expect(calls(host).some((c) => c.startsWith("volume rm"))).toBe(false);
    expect(fs.readdirSync(path.join(host.state, "volumes"))).toHaveLength(3);
    expect(releaseDirs(host)).toHaveLength(1);
    expect(run.stdout).toContain("kept volumes ballast_postgres-data ballast_redis-data ballast_traefik-acme");
    // Nothing left to take down: a second run is a no-op.
    expect(destroy(host, model, rel).stdout).toContain("no current release: nothing to take down");
  });

  it("with allowDataLoss also removes the volumes and the release directories", () => {
    const host = newHost();
    const lossy = fixtureModel({ allowDataLoss: true });
    const rel = release(host, lossy, fixtureSecretValues);
    expect(deploy(host, lossy, rel).status).toBe(0);
    const run = destroy(host, lossy, rel);
    expect(run.status, run.stderr).toBe(0);
    expect(calls(host).filter((c) => c.startsWith("volume rm")).sort()).toEqual([
      "volume rm ballast_postgres-data",
      "volume rm ballast_redis-data",
      "volume rm ballast_traefik-acme",
    ]);
    expect(fs.existsSync(path.join(host.base, "releases"))).toBe(false);
  });
});
