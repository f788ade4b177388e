/**
 * The Compose target's host scripts with real bash and shellcheck: every rendered script and
 * crontab command is shellcheck-clean; deploy.sh refuses bad bundles and leaves the live stack
 * untouched when a release fails before it starts anything; destroy.sh only takes down its own
 * release; the crontab block is installed and removed without touching the user's own lines.
 * `docker`, `curl` and `crontab` are fakes first on PATH that record their calls. The release
 * itself (new containers beside the old, the routing switch, rollback under load) runs against a
 * real Docker engine, Traefik and compose in the end-to-end suite (test/e2e/compose.test.ts).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ComposeConfig } from "../../components/config/types";
import type { StackModel } from "../../components/spec";
import { ComposeTarget, releaseStdin } from "../../components/targets/compose";
import { releaseDeleteCommand } from "../../components/targets/compose/apply";
import { bundleId } from "../../components/targets/compose/bundle";
import { composeHostDefaults } from "../fixtures/config";
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

/** Records `docker` calls in $FAKE_STATE/calls.log; knows volumes, and fails config or pull on request. */
const FAKE_DOCKER = `#!/usr/bin/env bash
set -euo pipefail
state=\${FAKE_STATE:?}
printf '%s\\n' "$*" >>"$state/calls.log"
if [[ $1 == compose ]]; then
  for arg in "$@"; do
    case $arg in
      config) exit "\${FAKE_CONFIG_EXIT:-0}" ;;
      pull) exit "\${FAKE_PULL_EXIT:-0}" ;;
      exec)
        # What the command in the container got on stdin, one file per exec, in call order.
        n=$(find "$state" -maxdepth 1 -name 'exec-stdin-*' | wc -l)
        cat >"$state/exec-stdin-$n"
        exit "\${FAKE_EXEC_EXIT:-0}"
        ;;
    esac
  done
  exit 0
fi
case $1 in
  volume)
    case $2 in
      inspect) [[ -e $state/volumes/$3 ]] ;;
      create) touch "$state/volumes/\${*: -1}" ;;
      rm) rm -f "$state/volumes/$3" ;;
    esac
    ;;
  ps)
    # Services named in $FAKE_RUNNING have one running container.
    for arg in "$@"; do
      if [[ $arg == label=com.docker.compose.service=* && " \${FAKE_RUNNING:-} " == *" \${arg#*service=} "* ]]; then
        printf '2026-01-01 00:00:00 +0000 UTC|id-%s\n' "\${arg#*service=}"
      fi
    done
    ;;
esac
`;

const FAKE_CURL = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"\${FAKE_STATE:?}/curl.log"
`;

/** crontab -l prints $FAKE_STATE/crontab; crontab - replaces it. */
const FAKE_CRONTAB = `#!/usr/bin/env bash
file=\${FAKE_STATE:?}/crontab
case \${1:-} in
  -l) [[ -f $file ]] && cat "$file" || { echo "no crontab for $(id -un)" >&2; exit 1; } ;;
  -) cat >"$file" ;;
  *) exit 2 ;;
esac
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
  fs.writeFileSync(path.join(host.bin, "crontab"), FAKE_CRONTAB, { mode: 0o755 });
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

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(host: Host, commandLine: string, input: string, env: Record<string, string> = {}): Run {
  const result = spawnSync("sh", ["-c", commandLine], {
    input,
    encoding: "utf8",
    env: { PATH: `${host.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: os.tmpdir(), FAKE_STATE: host.state, ...env },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What the release Command does: `bash -s` with deploy.sh and the bundle on stdin. */
function deploy(host: Host, stdin: string, env: Record<string, string> = {}): Run {
  return run(host, "bash --noprofile --norc -s", stdin, env);
}

function stdinFor(host: Host, model: StackModel, values = fixtureSecretValues): { stdin: string; id: string } {
  const t = target(host);
  const files = t.releaseFiles(model, values);
  return { stdin: releaseStdin(t.scripts(model).deploy, files), id: bundleId(files) };
}

function calls(host: Host): string[] {
  const file = path.join(host.state, "calls.log");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

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
  const scripts = (model: StackModel, tls = true) => target(host, tls).scripts(model);
  const variants: [string, string][] = [
    ["deploy.sh (tls)", scripts(fixtureModel()).deploy],
    ["deploy.sh (dev, no tls)", scripts(fixtureModel({ tls: false }), false).deploy],
    ["deploy.sh (no jobs, no volumes)", scripts(withoutJobsAndVolumes(fixtureModel())).deploy],
    ["destroy.sh (volumes kept)", scripts(fixtureModel()).destroy],
    ["destroy.sh (allowDataLoss)", scripts(fixtureModel({ allowDataLoss: true })).destroy],
    ["maintenance.sh", scripts(fixtureModel()).maintenance],
  ];
  it.each(variants)("%s is shellcheck-clean", (label, script) => {
    const file = path.join(path.dirname(host.base), `${label.replace(/\W+/g, "-")}.sh`);
    fs.writeFileSync(file, script);
    const result = shellcheck(file);
    expect(result.error, "shellcheck must be installed (apt-get install -y shellcheck)").toBeUndefined();
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("every crontab command and the delete command are clean POSIX sh commands", () => {
    const crontab =
      target(host)
        .render(fixtureModel())
        .find((f) => f.path === "crontab")?.content ?? "";
    const commands = crontab
      .split("\n")
      .filter((line) => line && !line.startsWith("#"))
      .map((line) => line.split(/\s+/).slice(5).join(" "));
    expect(commands.length).toBeGreaterThan(1);
    const file = path.join(path.dirname(host.base), "crontab-commands.sh");
    fs.writeFileSync(file, `#!/bin/sh\n${commands.join("\n")}\n${releaseDeleteCommand("/opt/ballast", "a".repeat(64))}\n`);
    const result = shellcheck(file, "sh");
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("deploy.sh before it starts anything", () => {
  const model = fixtureModel();

  it("refuses stdin that is not a bundle, a truncated bundle and an unsafe path, and writes nothing", () => {
    const host = newHost();
    const { stdin } = stdinFor(host, model);
    const script = stdin.slice(0, stdin.indexOf("ballast-bundle 1 "));
    expect(deploy(host, `${script}hello\n`).stderr).toContain("stdin is not a ballast release bundle (version 1)");
    expect(deploy(host, stdin.slice(0, stdin.indexOf("\nend\n") + 1)).stderr).toContain("release bundle is truncated");
    const unsafe = `${script}ballast-bundle 1 ${"a".repeat(64)}\nfile 0644 ../escape\nAA==\n.\nend\n`;
    expect(deploy(host, unsafe).stderr).toContain("release bundle holds an unsafe path: ../escape");
    expect(calls(host).filter((c) => c.startsWith("compose"))).toEqual([]);
    expect(fs.existsSync(path.join(host.base, "current"))).toBe(false);
  });

  it("a project that does not load fails in a few lines naming the log; the live release is untouched", () => {
    const host = newHost();
    const first = deploy(host, stdinFor(host, model).stdin, { FAKE_PULL_EXIT: "1" });
    expect(first.status).toBe(1);
    const failed = deploy(host, stdinFor(host, model, { ...fixtureSecretValues, "redis-password": "rotated" }).stdin, {
      FAKE_CONFIG_EXIT: "1",
    });
    expect(failed.status).toBe(1);
    const lines = failed.stderr.trim().split("\n");
    expect(lines.length).toBeLessThanOrEqual(15);
    expect(lines[0]).toMatch(
      /^ballast: release \d{8}T\d{6}\.\d{3}Z-[0-9a-f]{12} FAILED at check: its compose project does not load; the live stack was not touched$/,
    );
    expect(failed.stderr).toMatch(/full log on the host: .*\.failed\/deploy\.log/);
    expect(fs.existsSync(path.join(host.base, "current"))).toBe(false);
    for (const value of Object.values(fixtureSecretValues)) expect(`${failed.stdout}${failed.stderr}`).not.toContain(value);
  });

  it("a failed pull creates the volumes, installs destroy.sh and the routing directory, and touches no container", () => {
    const host = newHost();
    const failed = deploy(host, stdinFor(host, model).stdin, { FAKE_PULL_EXIT: "1" });
    expect(failed.stderr).toContain("FAILED at pull: pulling its images failed or took over 60s; the live stack was not touched");
    expect(fs.readdirSync(path.join(host.state, "volumes")).sort()).toEqual([
      "ballast_postgres-data",
      "ballast_redis-data",
      "ballast_traefik-acme",
    ]);
    expect(fs.existsSync(path.join(host.base, ".ballast", "destroy.sh"))).toBe(true);
    expect(fs.statSync(path.join(host.base, "routing")).mode & 0o777).toBe(0o755);
    expect(calls(host).some((c) => / up | run /.test(c))).toBe(false);
  });
});

describe("deploy.sh after an interruption, and on a full disk", () => {
  const model = fixtureModel();
  const LIVE = "20260101T000000.000Z-aaaaaaaaaaaa";
  const INTERRUPTED = "20260101T000100.000Z-bbbbbbbbbbbb";

  /** A host where release LIVE went live and INTERRUPTED was cut off half way (`current` links it). */
  function interruptedHost(withLiveRecord: boolean): Host {
    const host = newHost();
    for (const id of [LIVE, INTERRUPTED]) {
      fs.mkdirSync(path.join(host.base, "releases", id), { recursive: true });
      fs.writeFileSync(path.join(host.base, "releases", id, "deploy.log"), "");
    }
    fs.symlinkSync(`releases/${INTERRUPTED}`, path.join(host.base, "current"));
    fs.mkdirSync(path.join(host.base, ".ballast"));
    if (withLiveRecord) fs.writeFileSync(path.join(host.base, ".ballast", "live"), `${LIVE} ${"a".repeat(64)}\n`);
    return host;
  }

  it("marks a release that neither went live nor failed as failed and rolls back to the live one, not to it", () => {
    const host = interruptedHost(true);
    const failed = deploy(host, stdinFor(host, model).stdin, { FAKE_PULL_EXIT: "1" });
    expect(failed.status).toBe(1);
    const releases = fs.readdirSync(path.join(host.base, "releases"));
    expect(releases).toContain(`${INTERRUPTED}.failed`);
    expect(releases).not.toContain(INTERRUPTED);
    expect(fs.readFileSync(path.join(host.base, "releases", `${INTERRUPTED}.failed`, "deploy.log"), "utf8")).toMatch(
      /interrupted: it neither went live nor failed/,
    );
    expect(fs.readlinkSync(path.join(host.base, "current"))).toBe(`releases/${LIVE}`);
    expect(failed.stderr).toContain(`the stack runs release ${LIVE}`);
    const log = /full log on the host: (\S+)/.exec(failed.stderr)![1];
    expect(fs.readFileSync(log, "utf8")).toContain(`interrupted releases marked failed: ${INTERRUPTED}`);
  });

  it("a host deployed before the live record existed keeps `current` as the live release", () => {
    const host = interruptedHost(false);
    const failed = deploy(host, stdinFor(host, model).stdin, { FAKE_PULL_EXIT: "1" });
    expect(failed.status).toBe(1);
    expect(fs.readdirSync(path.join(host.base, "releases"))).toContain(INTERRUPTED);
    expect(fs.readlinkSync(path.join(host.base, "current"))).toBe(`releases/${INTERRUPTED}`);
  });

  it("a full disk stops the release before it writes anything, in one line naming the device, its mount point and the space", () => {
    const host = newHost();
    // df as GNU df -Pk prints a 16 MiB filesystem with 4 KiB left.
    fs.writeFileSync(
      path.join(host.bin, "df"),
      "#!/usr/bin/env bash\nprintf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/loop7 16384 16380 4 100%% /srv/releases\\n'\n",
      { mode: 0o755 },
    );
    const failed = deploy(host, stdinFor(host, model).stdin);
    expect(failed.status).toBe(1);
    expect(failed.stderr.trim()).toBe(
      `ballast: the disk holding ${host.base} is full: /dev/loop7 on /srv/releases has 4 KiB free of 16384 KiB (a release needs 10240 KiB); ` +
        "nothing was written and the live stack was not touched: free space there (old logs, `docker system prune`) and run pulumi up again",
    );
    expect(fs.existsSync(host.base)).toBe(false);
    expect(calls(host).filter((c) => c.startsWith("compose"))).toEqual([]);
  });
});

describe("deploy.sh: a secret Postgres takes in place (postgres-password)", () => {
  /** The fixture with Postgres as Ballast renders it: the password as a live secret file. */
  const liveModel = (): StackModel => {
    const model = fixtureModel();
    return {
      ...model,
      workloads: model.workloads.map((w) =>
        w.name === "postgres"
          ? {
              ...w,
              secretEnv: {},
              secretFiles: [{ secret: "postgres-password", mountPath: "/run/ballast/live/postgres-password" }],
              liveSecrets: [{ secret: "postgres-password", apply: ["/usr/local/bin/ballast-postgres-rotate"] }],
            }
          : w,
      ),
    };
  };

  /** A live release as a previous deploy left it: its secret file and `current` pointing at it. */
  function previousRelease(host: Host, password: string): string {
    const id = "20261201T000000.000Z-aaaaaaaaaaaa";
    fs.mkdirSync(path.join(host.base, "releases", id, "secrets"), { recursive: true });
    fs.writeFileSync(path.join(host.base, "releases", id, "secrets", "postgres-password"), password);
    fs.writeFileSync(path.join(host.base, "releases", id, "docker-compose.yml"), "services: {}\n");
    fs.symlinkSync(`releases/${id}`, path.join(host.base, "current"));
    return id;
  }

  const execCalls = (host: Host) => calls(host).filter((c) => / exec -T /.test(c));
  const stdins = (host: Host) =>
    fs
      .readdirSync(host.state)
      .filter((f) => f.startsWith("exec-stdin-"))
      .sort()
      .map((f) => fs.readFileSync(path.join(host.state, f), "utf8"));

  it("runs the apply command in the running Postgres with the release's password on stdin, before any singleton is recreated", () => {
    const host = newHost();
    previousRelease(host, "old-password");
    const values = { ...fixtureSecretValues, "postgres-password": "new-password" };
    const result = deploy(host, stdinFor(host, liveModel(), values).stdin, { FAKE_RUNNING: "postgres" });
    expect(execCalls(host)[0]).toMatch(
      /^compose -p ballast --project-directory \S+\/current -f \S+\/current\/docker-compose\.yml .*exec -T postgres \/usr\/local\/bin\/ballast-postgres-rotate$/,
    );
    expect(stdins(host)[0]).toBe("new-password");
    const log = calls(host);
    const applied = log.findIndex((c) => / exec -T postgres /.test(c));
    const singletons = log.findIndex((c) => / up -d --no-deps --wait /.test(c));
    expect(applied).toBeGreaterThanOrEqual(0);
    expect(applied).toBeLessThan(singletons);
    // The release fails later (the fakes start no app container): the rollback gives Postgres the previous password back.
    expect(result.status).toBe(1);
    expect(stdins(host)).toEqual(["new-password", "old-password"]);
    for (const value of ["new-password", "old-password"]) expect(`${result.stdout}${result.stderr}`).not.toContain(value);
  });

  it("an unchanged password (nothing rotated) is not applied again", () => {
    const host = newHost();
    previousRelease(host, "same-password");
    deploy(host, stdinFor(host, liveModel(), { ...fixtureSecretValues, "postgres-password": "same-password" }).stdin, {
      FAKE_RUNNING: "postgres",
    });
    expect(execCalls(host)).toEqual([]);
  });

  it("a Postgres that is not running yet reads the file when it starts: nothing is exec'd", () => {
    const host = newHost();
    previousRelease(host, "old-password");
    deploy(host, stdinFor(host, liveModel(), { ...fixtureSecretValues, "postgres-password": "new-password" }).stdin);
    expect(execCalls(host)).toEqual([]);
  });

  it("a failed apply fails the release before anything restarts, naming the service", () => {
    const host = newHost();
    previousRelease(host, "old-password");
    const result = deploy(host, stdinFor(host, liveModel(), { ...fixtureSecretValues, "postgres-password": "new-password" }).stdin, {
      FAKE_RUNNING: "postgres",
      FAKE_EXEC_EXIT: "3",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/FAILED at live-secrets: a running service did not take a rotated secret in place\n/);
    expect(result.stderr).toContain(
      "ballast:   service postgres: applying the release's postgres-password inside it failed; its output is in the log",
    );
    expect(calls(host).filter((c) => / up -d --no-deps --wait /.test(c)).length).toBe(1);
  });
});

describe("deploy.sh after a release: the kept releases take the live secrets (refresh_older_secrets)", () => {
  /** The fixture with Postgres' password as a secret file, so a release holds .env and secrets/. */
  const model = (): StackModel => {
    const base = fixtureModel();
    return {
      ...base,
      workloads: base.workloads.map((w) =>
        w.name === "postgres"
          ? { ...w, secretEnv: {}, secretFiles: [{ secret: "postgres-password", mountPath: "/run/ballast/live/postgres-password" }] }
          : w,
      ),
    };
  };

  function writeRelease(host: Host, id: string, values: Record<string, string>): string {
    const dir = path.join(host.base, "releases", id);
    for (const file of target(host).releaseFiles(model(), values)) {
      fs.mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
      fs.writeFileSync(path.join(dir, file.path), file.content, { mode: file.mode });
      fs.chmodSync(path.join(dir, file.path), file.mode);
    }
    return dir;
  }

  /** Sources the rendered deploy.sh without its last line (main), then runs `code`. */
  function inDeployScript(host: Host, code: string): Run {
    const script = target(host)
      .scripts(model())
      .deploy.replace(/main "\$@"; exit \$\?\n?$/, "");
    const file = path.join(host.state, "deploy-functions.sh");
    fs.writeFileSync(file, script);
    return run(host, `bash --noprofile --norc -c 'source "$1"; ${code}' deploy-test "${file}"`, "");
  }

  it("rewrites older releases' .env and secret files with the live values, drops what the live release lacks, and empties failed releases", () => {
    const host = newHost();
    const oldValues = { ...fixtureSecretValues, "postgres-password": "old-password" };
    const liveValues = { ...fixtureSecretValues, "postgres-password": "rotated-password" };
    const old = writeRelease(host, "20261201T000000.000Z-aaaaaaaaaaaa", oldValues);
    fs.writeFileSync(path.join(old, "secrets", "dropped-secret"), "no longer in the stack", { mode: 0o444 });
    fs.mkdirSync(path.join(old, ".docker"));
    fs.writeFileSync(path.join(old, ".docker", "config.json"), '{"auths":{"old":{}}}', { mode: 0o600 });
    // A container started from the old release has its secret file mounted: it must keep what it read.
    fs.linkSync(path.join(old, "secrets", "postgres-password"), path.join(host.state, "mounted-by-a-container"));
    const failed = writeRelease(host, "20261202T000000.000Z-bbbbbbbbbbbb.failed", {
      ...fixtureSecretValues,
      "postgres-password": "never-live",
    });
    fs.writeFileSync(path.join(failed, "deploy.log"), "why it failed\n");
    const live = writeRelease(host, "20261203T000000.000Z-cccccccccccc", liveValues);
    const composeBefore = fs.readFileSync(path.join(old, "docker-compose.yml"), "utf8");

    const result = inDeployScript(host, "refresh_older_secrets 20261203T000000.000Z-cccccccccccc");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);

    const liveEnv = fs.readFileSync(path.join(live, ".env"), "utf8");
    expect(fs.readFileSync(path.join(old, ".env"), "utf8")).toBe(liveEnv);
    expect(fs.statSync(path.join(old, ".env")).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.join(old, "secrets"))).toEqual(["postgres-password"]);
    expect(fs.readFileSync(path.join(old, "secrets", "postgres-password"), "utf8")).toBe("rotated-password");
    expect(fs.statSync(path.join(old, "secrets", "postgres-password")).mode & 0o777).toBe(0o444);
    expect(fs.existsSync(path.join(old, ".docker", "config.json"))).toBe(false);
    expect(fs.readFileSync(path.join(old, "docker-compose.yml"), "utf8")).toBe(composeBefore);
    expect(fs.readFileSync(path.join(host.state, "mounted-by-a-container"), "utf8")).toBe("old-password");
    expect([".env", "secrets"].filter((f) => fs.existsSync(path.join(failed, f)))).toEqual([]);
    expect(fs.existsSync(path.join(failed, "deploy.log"))).toBe(true);
    // The live release itself is untouched, and no temporary copy is left anywhere.
    expect(fs.readFileSync(path.join(live, "secrets", "postgres-password"), "utf8")).toBe("rotated-password");
    const leftovers = spawnSync("find", [path.join(host.base, "releases"), "-name", "*.refresh"], { encoding: "utf8" }).stdout;
    expect(leftovers).toBe("");
    // Old values are gone from every release.
    const everything = spawnSync("grep", ["-r", "-l", "-e", "old-password", "-e", "never-live", path.join(host.base, "releases")], {
      encoding: "utf8",
    });
    expect(everything.stdout).toBe("");
  });

  it("a registry login the live release has replaces the old one", () => {
    const host = newHost();
    const old = writeRelease(host, "20261201T000000.000Z-aaaaaaaaaaaa", fixtureSecretValues);
    const live = writeRelease(host, "20261203T000000.000Z-cccccccccccc", fixtureSecretValues);
    fs.mkdirSync(path.join(live, ".docker"));
    fs.writeFileSync(path.join(live, ".docker", "config.json"), '{"auths":{"rotated":{}}}', { mode: 0o600 });
    expect(inDeployScript(host, "refresh_older_secrets 20261203T000000.000Z-cccccccccccc").status).toBe(0);
    expect(fs.readFileSync(path.join(old, ".docker", "config.json"), "utf8")).toBe('{"auths":{"rotated":{}}}');
    expect(fs.statSync(path.join(old, ".docker", "config.json")).mode & 0o777).toBe(0o600);
  });
});

describe("destroy.sh", () => {
  const model = fixtureModel();

  /** A host as a deploy leaves it: a release, `current`, routing, the installed destroy.sh, the crontab block. */
  function deployed(host: Host, values = fixtureSecretValues): string {
    const files = target(host).releaseFiles(model, values);
    const id = bundleId(files);
    const dir = path.join(host.base, "releases", `20260101T000000.000Z-${id.slice(0, 12)}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "docker-compose.yml"), "name: ballast\n");
    fs.symlinkSync(`releases/${path.basename(dir)}`, path.join(host.base, "current"));
    fs.mkdirSync(path.join(host.base, "routing"));
    fs.mkdirSync(path.join(host.base, ".ballast"));
    fs.writeFileSync(path.join(host.base, ".ballast", "destroy.sh"), target(host).scripts(model).destroy);
    fs.writeFileSync(path.join(host.base, ".ballast", "live"), `${path.basename(dir)} ${id}\n`);
    fs.writeFileSync(
      path.join(host.state, "crontab"),
      "MAILTO=ops\n# BEGIN ballast ballast (rendered by Ballast: do not edit)\n0 3 * * * job\n# END ballast ballast\n5 5 * * * my-own-job\n",
    );
    return id;
  }

  const destroy = (host: Host, id: string) => run(host, releaseDeleteCommand(host.base, id), "");

  it("leaves the stack running when a newer bundle is live (the delete half of a replacement)", () => {
    const host = newHost();
    deployed(host);
    const run = destroy(host, "b".repeat(64));
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("came from another bundle");
    expect(fs.existsSync(path.join(host.base, "current"))).toBe(true);
    expect(calls(host).some((c) => c.includes(" down "))).toBe(false);
  });

  it("takes its own release down, turns its jobs off, keeps the user's cron lines, volumes and releases", () => {
    const host = newHost();
    const id = deployed(host);
    const result = destroy(host, id);
    expect(result.status, result.stderr).toBe(0);
    expect(calls(host).some((c) => c.endsWith("--profile jobs down --remove-orphans"))).toBe(true);
    expect(fs.existsSync(path.join(host.base, "current"))).toBe(false);
    expect(fs.existsSync(path.join(host.base, "routing"))).toBe(false);
    expect(fs.existsSync(path.join(host.base, ".ballast", "live")), "the live record goes with the stack").toBe(false);
    expect(fs.readFileSync(path.join(host.state, "crontab"), "utf8")).toBe("MAILTO=ops\n5 5 * * * my-own-job\n");
    expect(calls(host).some((c) => c.startsWith("volume rm"))).toBe(false);
    expect(result.stdout).toContain("kept volumes ballast_postgres-data ballast_redis-data ballast_traefik-acme");
    expect(destroy(host, id).stdout).toContain("no current release: nothing to take down");
  });

  it("with allowDataLoss also removes the volumes and the release directories", () => {
    const host = newHost();
    const lossy = fixtureModel({ allowDataLoss: true });
    const id = deployed(host);
    fs.writeFileSync(path.join(host.base, ".ballast", "destroy.sh"), target(host).scripts(lossy).destroy);
    for (const v of ["ballast_postgres-data", "ballast_redis-data", "ballast_traefik-acme"])
      fs.writeFileSync(path.join(host.state, "volumes", v), "");
    const result = destroy(host, id);
    expect(result.status, result.stderr).toBe(0);
    expect(
      calls(host)
        .filter((c) => c.startsWith("volume rm"))
        .sort(),
    ).toEqual(["volume rm ballast_postgres-data", "volume rm ballast_redis-data", "volume rm ballast_traefik-acme"]);
    expect(fs.existsSync(path.join(host.base, "releases"))).toBe(false);
  });

  it("is a no-op before any deploy installed it", () => {
    const host = newHost();
    expect(destroy(host, "a".repeat(64)).status).toBe(0);
  });
});

describe("the crontab block", () => {
  it("replaces only Ballast's block and keeps every other line of the user's crontab", () => {
    const host = newHost();
    const script = target(host)
      .scripts(fixtureModel())
      .destroy.replace(/\nmain "\$@"\n?$/, '\ninstall_crontab "$1"\n');
    const scriptFile = path.join(host.state, "cron.sh");
    fs.writeFileSync(scriptFile, script);
    const block = path.join(host.state, "block");
    fs.writeFileSync(block, "15 3 * * * new-job\n");
    fs.writeFileSync(
      path.join(host.state, "crontab"),
      "MAILTO=ops\n# BEGIN ballast ballast (rendered by Ballast: do not edit)\n0 3 * * * old-job\n# END ballast ballast\n",
    );
    expect(run(host, `bash ${scriptFile} ${block}`, "").status).toBe(0);
    expect(fs.readFileSync(path.join(host.state, "crontab"), "utf8")).toBe(
      "MAILTO=ops\n# BEGIN ballast ballast (rendered by Ballast: do not edit)\n15 3 * * * new-job\n# END ballast ballast\n",
    );
    fs.rmSync(path.join(host.state, "crontab"));
    expect(run(host, `bash ${scriptFile} ${block}`, "").status).toBe(0);
    expect(fs.readFileSync(path.join(host.state, "crontab"), "utf8")).toContain("15 3 * * * new-job\n# END ballast ballast\n");
  });
});
