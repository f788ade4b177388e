/**
 * Postgres' side of a password rotation against a real PostgreSQL (Debian's), with the exact
 * scripts Ballast renders (components/postgres.ts): a data directory initialised with an old
 * password accepts the rotated one after the entrypoint wrapper starts (a restart); the running
 * server takes a new password from its file without a restart (Kubernetes: the kubelet rewrites
 * the mounted Secret); `ballast-postgres-rotate` with the value on stdin sets it at once
 * (Compose: deploy.sh runs it with `docker compose exec` before the clients roll); the gate
 * Job's script passes with the current password and fails with the old one. After each change
 * the new password connects over TCP and the old one is refused. The image's
 * docker-entrypoint.sh is replaced by a stand-in that execs the real server.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordCheckScript, postgresEntrypoint, postgresSetPassword } from "../../components/postgres";

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort() : [];
  const bin = versions.length ? join(root, versions[versions.length - 1], "bin") : "";
  if (!bin || !existsSync(join(bin, "postgres"))) throw new Error("PostgreSQL server binaries not found: apt-get install -y postgresql");
  return bin;
}

const port = 25432 + (process.pid % 1000);
const oldPassword = "OldPassword111";
const newPassword = "RotatedPassword222";
/** Written to the live file while the server runs (the Kubernetes path). */
const watchedPassword = "WatchedPassword333";
/** Given on stdin to ballast-postgres-rotate (the Compose path). */
const execPassword = "ExecPassword444";
let workDir: string;
let wrapper: ChildProcess | undefined;
let output = "";

function psqlAs(password: string): { status: number | null; stderr: string } {
  const result = spawnSync(join(postgresBin(), "psql"), ["-h", "127.0.0.1", "-p", String(port), "-U", "app", "-d", "postgres", "-tAc", "select 1"], {
    env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" },
    encoding: "utf8",
    timeout: 15_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe("postgres entrypoint re-applies a rotated password", () => {
  beforeAll(async () => {
    const bin = postgresBin();
    workDir = mkdtempSync(join(tmpdir(), "ballast-pg-entrypoint-"));
    chmodSync(workDir, 0o755);
    const data = join(workDir, "data");
    const fakeBin = join(workDir, "bin");
    const postgresUser = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    mkdirSync(fakeBin);
    writeFileSync(join(workDir, "pwfile"), `${oldPassword}\n`);
    // Stand-in for the image's entrypoint: the real server on a loopback port.
    writeFileSync(
      join(fakeBin, "docker-entrypoint.sh"),
      `#!/bin/sh\nexec "${bin}/postgres" -D "${data}" -p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=/var/run/postgresql\n`,
    );
    chmodSync(join(fakeBin, "docker-entrypoint.sh"), 0o755);
    writeFileSync(join(workDir, "entrypoint"), postgresEntrypoint);
    chmodSync(join(workDir, "entrypoint"), 0o755);
    // On the image's PATH as /usr/local/bin/ballast-postgres-rotate; the wrapper calls it by name.
    writeFileSync(join(fakeBin, "ballast-postgres-rotate"), postgresSetPassword);
    chmodSync(join(fakeBin, "ballast-postgres-rotate"), 0o755);
    // The live secret file (a Secret volume on Kubernetes, the release's secrets/ file on Compose).
    mkdirSync(join(workDir, "live"));
    writeFileSync(join(workDir, "live", "postgres-password"), newPassword);
    chownSync(join(workDir, "live"), postgresUser, -1);
    chownSync(join(workDir, "live", "postgres-password"), postgresUser, -1);
    mkdirSync("/var/run/postgresql", { recursive: true });
    chownSync("/var/run/postgresql", postgresUser, -1);
    chownSync(workDir, postgresUser, -1);
    chownSync(join(workDir, "pwfile"), postgresUser, -1);
    execFileSync("runuser", ["-u", "postgres", "--", join(bin, "initdb"), "-D", data, "-U", "app", `--pwfile=${join(workDir, "pwfile")}`, "--auth-host=scram-sha-256", "--auth-local=trust"], {
      stdio: "pipe",
      cwd: "/",
    });
    wrapper = spawn("runuser", ["-u", "postgres", "--", "env", `PATH=${fakeBin}:${bin}:/usr/bin:/bin`, "POSTGRES_USER=app", "POSTGRES_DB=postgres", `POSTGRES_PASSWORD_FILE=${join(workDir, "live", "postgres-password")}`, `PGPORT=${port}`, join(workDir, "entrypoint"), "postgres"], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: "/",
    });
    wrapper.stdout!.on("data", (chunk) => (output += chunk));
    wrapper.stderr!.on("data", (chunk) => (output += chunk));
    const deadline = Date.now() + 60_000;
    while (!output.includes("application role password is current")) {
      if (Date.now() > deadline) throw new Error(`wrapper did not apply the password within 60 s:\n${output}`);
      if (wrapper.exitCode !== null) throw new Error(`wrapper exited early (${wrapper.exitCode}):\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  });

  afterAll(async () => {
    if (wrapper && wrapper.exitCode === null) {
      wrapper.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      if (wrapper.exitCode === null) spawnSync("pkill", ["-KILL", "-f", `-p ${port}`]);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("accepts the rotated password over TCP", () => {
    const result = psqlAs(newPassword);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("refuses the old password", () => {
    const result = psqlAs(oldPassword);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/password authentication failed/);
  });

  it("takes a new password from its file while running, without a restart (Kubernetes: kubelet-updated Secret volume)", async () => {
    const serverPid = execFileSync("pgrep", ["-f", "-o", `postgres -D ${join(workDir, "data")}`], { encoding: "utf8" }).trim();
    const applied = output.split("application role password is current").length;
    writeFileSync(join(workDir, "live", "postgres-password"), watchedPassword);
    const deadline = Date.now() + 30_000;
    while (output.split("application role password is current").length === applied) {
      if (Date.now() > deadline) throw new Error(`the watcher did not apply the new file within 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(psqlAs(watchedPassword)).toEqual({ status: 0, stderr: "" });
    const old = psqlAs(newPassword);
    expect(old.status).not.toBe(0);
    expect(old.stderr).toMatch(/password authentication failed for user "app"/);
    // The same server process: nothing restarted.
    expect(execFileSync("pgrep", ["-f", "-o", `postgres -D ${join(workDir, "data")}`], { encoding: "utf8" }).trim()).toBe(serverPid);
  });

  it("ballast-postgres-rotate sets the password on stdin at once (Compose: docker compose exec before the clients roll)", () => {
    const run = (stdin: string) =>
      spawnSync("runuser", ["-u", "postgres", "--", "env", `PATH=${postgresBin()}:/usr/bin:/bin`, "POSTGRES_USER=app", "POSTGRES_DB=postgres", `PGPORT=${port}`, join(workDir, "bin", "ballast-postgres-rotate")], {
        input: stdin,
        encoding: "utf8",
        timeout: 30_000,
        // The postgres user may not enter the checkout (a CI clone under a 0700 directory): psql warns on stderr.
        cwd: "/",
      });
    const empty = run("");
    expect(empty.status).toBe(2);
    expect(empty.stderr).toBe("ballast: no password on stdin; the role's password is unchanged\n");
    expect(psqlAs(watchedPassword).status).toBe(0);

    const applied = run(execPassword);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toBe("ballast: application role password is current\n");
    expect(psqlAs(execPassword)).toEqual({ status: 0, stderr: "" });
    const old = psqlAs(watchedPassword);
    expect(old.status).not.toBe(0);
    expect(old.stderr).toMatch(/password authentication failed for user "app"/);
  });

  it("the Kubernetes gate Job's script passes with the current password and fails, naming the error, with the old one", () => {
    const gate = (password: string) =>
      spawnSync("/bin/sh", ["-c", passwordCheckScript(4)], {
        env: { PATH: `${postgresBin()}:/usr/bin:/bin`, PGHOST: "127.0.0.1", PGPORT: String(port), PGUSER: "app", PGDATABASE: "postgres", PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" },
        encoding: "utf8",
        timeout: 60_000,
      });
    const current = gate(execPassword);
    expect(current.status).toBe(0);
    expect(current.stdout).toBe("ballast: Postgres accepts the current postgres-password\n");
    const stale = gate(watchedPassword);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/^ballast: Postgres did not accept the current postgres-password within 4s: .*password authentication failed for user "app"/);
  });

  it("never prints a password", () => {
    for (const password of [newPassword, watchedPassword, execPassword]) expect(output).not.toContain(password);
  });

  it("stops Postgres cleanly on SIGTERM and exits 0", async () => {
    // In a container the wrapper is PID 1 and receives the signal itself; runuser does not forward it.
    // The wrapper is runuser's child; its password watcher (a subshell) has the same command line.
    const wrapperPid = execFileSync("pgrep", ["-P", String(wrapper!.pid), "-f", join(workDir, "entrypoint")], { encoding: "utf8" }).trim().split("\n")[0];
    process.kill(Number(wrapperPid), "SIGTERM");
    const deadline = Date.now() + 30_000;
    while (wrapper!.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(wrapper!.exitCode).toBe(0);
  });
});
