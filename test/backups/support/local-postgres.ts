/**
 * A real, throw-away PostgreSQL server (Debian's `postgresql` package) for the tools
 * suite and the backup benchmark: temp data directory, loopback port, password auth
 * over TCP like the containers use. initdb refuses to run as root, so as root the
 * server runs as the `postgres` user (`runuser`) in a directory it owns.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface LocalPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Server binaries (pg_dump, pg_restore, psql of the same major version live here too). */
  binDir: string;
  baseDir: string;
  /** libpq environment for a client of this server. */
  env(database: string): Record<string, string>;
  /** Runs SQL through psql; returns the unaligned, tuples-only output. Throws on error. */
  psql(database: string, sql: string): string;
  stop(): void;
}

export const PG_BIN_DIR = process.env.BALLAST_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export function requirePostgresBinaries(): void {
  for (const tool of ["initdb", "pg_ctl", "postgres", "pg_dump", "pg_restore", "psql"]) {
    if (!fs.existsSync(path.join(PG_BIN_DIR, tool))) {
      throw new Error(
        `${tool} not found in ${PG_BIN_DIR}: the tools suite needs Debian's PostgreSQL server ` +
          "(apt-get install -y postgresql postgresql-contrib), or BALLAST_PG_BIN pointing at a PostgreSQL bin directory",
      );
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function check(result: SpawnSyncReturns<string>, what: string): string {
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${what} exited with ${result.status}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export async function startLocalPostgres(options: { settings?: Record<string, string> } = {}): Promise<LocalPostgres> {
  requirePostgresBinaries();
  const asRoot = process.getuid?.() === 0;
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-pg-"));
  const dataDir = path.join(baseDir, "data");
  const socketDir = path.join(baseDir, "sock");
  const logFile = path.join(baseDir, "server.log");
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const pwFile = path.join(baseDir, "pwfile");
  fs.mkdirSync(socketDir);
  fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    for (const p of [baseDir, socketDir, pwFile]) fs.chownSync(p, uid, gid);
  }
  const asServer = (tool: string, args: string[]): SpawnSyncReturns<string> =>
    asRoot
      ? spawnSync("runuser", ["-u", "postgres", "--", path.join(PG_BIN_DIR, tool), ...args], { encoding: "utf8", cwd: baseDir })
      : spawnSync(path.join(PG_BIN_DIR, tool), args, { encoding: "utf8", cwd: baseDir });

  check(
    asServer("initdb", [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--pwfile",
      pwFile,
      "-E",
      "UTF8",
      "--locale=C",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
    ]),
    "initdb",
  );
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: socketDir,
    fsync: "on",
    ...options.settings,
  };
  const serverOptions = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  check(asServer("pg_ctl", ["-D", dataDir, "-l", logFile, "-o", serverOptions, "-w", "-t", "60", "start"]), "pg_ctl start");

  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    asServer("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
    fs.rmSync(baseDir, { recursive: true, force: true });
  };
  process.once("exit", stop);

  const env = (database: string): Record<string, string> => ({
    PGHOST: "127.0.0.1",
    PGPORT: String(port),
    PGUSER: "postgres",
    PGPASSWORD: password,
    PGDATABASE: database,
  });
  const psql = (database: string, sql: string): string =>
    check(
      spawnSync(path.join(PG_BIN_DIR, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t"], {
        input: sql,
        encoding: "utf8",
        env: { ...process.env, ...env(database) },
        maxBuffer: 64 * 1024 * 1024,
      }),
      "psql",
    ).trim();

  return { host: "127.0.0.1", port, user: "postgres", password, binDir: PG_BIN_DIR, baseDir, env, psql, stop };
}
