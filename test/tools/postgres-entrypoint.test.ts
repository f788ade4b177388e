/**
 * The Postgres entrypoint wrapper against a real PostgreSQL (Debian's): a data directory
 * initialised with an old password accepts the rotated one after the wrapper starts, and
 * the old one is refused. The image's docker-entrypoint.sh is replaced by a stand-in that
 * execs the real server.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresEntrypoint } from "../../components/postgres";

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
    mkdirSync("/var/run/postgresql", { recursive: true });
    const postgresUser = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    chownSync("/var/run/postgresql", postgresUser, -1);
    chownSync(workDir, postgresUser, -1);
    chownSync(join(workDir, "pwfile"), postgresUser, -1);
    execFileSync("runuser", ["-u", "postgres", "--", join(bin, "initdb"), "-D", data, "-U", "app", `--pwfile=${join(workDir, "pwfile")}`, "--auth-host=scram-sha-256", "--auth-local=trust"], {
      stdio: "pipe",
    });
    wrapper = spawn("runuser", ["-u", "postgres", "--", "env", `PATH=${fakeBin}:${bin}:/usr/bin:/bin`, "POSTGRES_USER=app", "POSTGRES_DB=postgres", `POSTGRES_PASSWORD=${newPassword}`, `PGPORT=${port}`, join(workDir, "entrypoint"), "postgres"], {
      stdio: ["ignore", "pipe", "pipe"],
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

  it("never prints the password", () => {
    expect(output).not.toContain(newPassword);
  });

  it("stops Postgres cleanly on SIGTERM and exits 0", async () => {
    // In a container the wrapper is PID 1 and receives the signal itself; runuser does not forward it.
    const wrapperPid = execFileSync("pgrep", ["-f", "-n", join(workDir, "entrypoint")], { encoding: "utf8" }).trim().split("\n")[0];
    process.kill(Number(wrapperPid), "SIGTERM");
    const deadline = Date.now() + 30_000;
    while (wrapper!.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(wrapper!.exitCode).toBe(0);
  });
});
