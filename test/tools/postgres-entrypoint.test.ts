/**
 * Postgres' roles and password rotation against a real PostgreSQL (Debian's), with the exact
 * scripts Ballast renders (components/postgres.ts). The data directory is an existing stack's:
 * initialised with the superuser `app` as POSTGRES_USER, its tables, view, type, function and
 * backup records created by that superuser. The entrypoint wrapper then starts it (an upgrade in
 * place): the app role owns the database and every object the superuser had there, data intact;
 * the app role is no superuser (no `COPY ... TO PROGRAM`, no roles, no databases) but migrates its
 * schema; the monitoring role reads other sessions' statistics; the backup role's dump (the
 * shipped backup.sh) restores with the shipped drill. Passwords: the running server takes a new
 * one from its file without a restart (Kubernetes: the kubelet rewrites the mounted Secret);
 * `ballast-postgres-rotate <role>` with the value on stdin sets it at once (Compose: deploy.sh
 * runs it with `docker compose exec`); the gate Job's script passes with the current passwords
 * and fails with an old one; a second start changes nothing. The image's docker-entrypoint.sh
 * is replaced by a stand-in that execs the real server.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  passwordCheckScript,
  postgresEntrypoint,
  postgresRolesSql,
  postgresSetPassword,
  type PostgresRole,
} from "../../components/postgres";

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort() : [];
  const bin = versions.length ? join(root, versions[versions.length - 1], "bin") : "";
  if (!bin || !existsSync(join(bin, "postgres"))) throw new Error("PostgreSQL server binaries not found: apt-get install -y postgresql");
  return bin;
}

const port = 25432 + (process.pid % 1000);
const database = "appdb";
const roles: PostgresRole[] = [
  { kind: "app", name: "ballast_app", secret: "postgres-app-password" },
  { kind: "monitor", name: "ballast_monitor", secret: "postgres-monitor-password" },
  { kind: "backup", name: "ballast_backup", secret: "postgres-backup-password" },
];
const passwords: Record<string, string> = {
  "postgres-password": "SuperPassword111",
  "postgres-app-password": "AppPassword222",
  "postgres-monitor-password": "MonitorPassword333",
  "postgres-backup-password": "BackupPassword444",
};
/** The superuser's password at initdb, before the stack's file took over. */
const initPassword = "InitPassword000";
/** Written to the live file while the server runs (the Kubernetes path). */
const watchedAppPassword = "WatchedAppPassword555";
/** Given on stdin to ballast-postgres-rotate (the Compose path). */
const execMonitorPassword = "ExecMonitorPassword666";
const printed: string[] = [initPassword, ...Object.values(passwords), watchedAppPassword, execMonitorPassword];

let workDir: string;
let postgresUid: number;
let wrapper: ChildProcess | undefined;
let output = "";

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function psqlAs(user: string, password: string, sql: string, db = database): Result {
  const result = spawnSync(
    join(postgresBin(), "psql"),
    ["-X", "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
    {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" },
      encoding: "utf8",
      timeout: 30_000,
      cwd: "/",
    },
  );
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

/** The superuser, over the server's private socket (trusted, as inside the container). */
function superSql(sql: string, db = database): string {
  return execFileSync(
    "runuser",
    [
      "-u",
      "postgres",
      "--",
      join(postgresBin(), "psql"),
      "-X",
      "-h",
      "/var/run/postgresql",
      "-p",
      String(port),
      "-U",
      "app",
      "-d",
      db,
      "-v",
      "ON_ERROR_STOP=1",
      "-tAc",
      sql,
    ],
    {
      encoding: "utf8",
      cwd: "/",
    },
  ).trim();
}

function asPostgres(path: string): void {
  chownSync(path, postgresUid, -1);
}

function writeLive(secret: string, value: string): void {
  writeFileSync(join(workDir, "live", secret), value);
  asPostgres(join(workDir, "live", secret));
}

/** Resolves once the wrapper has logged `count` applications in all (the first start counts one). */
async function applied(count: number, within = 60_000): Promise<void> {
  const deadline = Date.now() + within;
  while (output.split("ballast: roles and passwords are current").length - 1 < count) {
    if (Date.now() > deadline) throw new Error(`the wrapper did not apply roles and passwords within ${within / 1000} s:\n${output}`);
    if (wrapper?.exitCode !== null && wrapper?.exitCode !== undefined)
      throw new Error(`wrapper exited early (${wrapper.exitCode}):\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function startWrapper(): void {
  const bin = postgresBin();
  wrapper = spawn(
    "runuser",
    [
      "-u",
      "postgres",
      "--",
      "env",
      `PATH=${join(workDir, "bin")}:${bin}:/usr/bin:/bin`,
      "POSTGRES_USER=app",
      `POSTGRES_DB=${database}`,
      `PGPORT=${port}`,
      `POSTGRES_PASSWORD_FILE=${join(workDir, "live", "postgres-password")}`,
      `BALLAST_ROLES_SQL=${join(workDir, "roles.sql")}`,
      `BALLAST_ROLE_PASSWORDS=${roles.map((role) => `${role.name}=${join(workDir, "live", role.secret)}`).join(" ")}`,
      join(workDir, "entrypoint"),
      "postgres",
    ],
    { stdio: ["ignore", "pipe", "pipe"], cwd: "/" },
  );
  wrapper.stdout!.on("data", (chunk) => (output += chunk));
  wrapper.stderr!.on("data", (chunk) => (output += chunk));
}

/** SIGTERM to the wrapper itself (in a container it is PID 1; runuser does not forward signals); its exit code. */
async function stopWrapper(): Promise<number | null> {
  const wrapperPid = execFileSync("pgrep", ["-P", String(wrapper!.pid), "-f", join(workDir, "entrypoint")], { encoding: "utf8" })
    .trim()
    .split("\n")[0];
  process.kill(Number(wrapperPid), "SIGTERM");
  const deadline = Date.now() + 30_000;
  while (wrapper!.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  return wrapper!.exitCode;
}

/** The existing stack's data: what the superuser (the old DATABASE_URL user) created. */
const existingStack = `
CREATE TABLE leads (id serial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO leads (name) SELECT 'lead ' || g FROM generate_series(1, 50) g;
CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, lead_id int REFERENCES leads, body text);
INSERT INTO notes (lead_id, body) SELECT id, 'note' FROM leads WHERE id <= 10;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_none ON notes USING (false);
CREATE VIEW lead_names AS SELECT name FROM leads;
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE FUNCTION lead_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM leads';
CREATE SCHEMA crm;
CREATE TABLE crm.accounts (id int PRIMARY KEY);
CREATE SCHEMA ballast;
CREATE TABLE ballast.backup_runs (id bigserial primary key, kind text not null check (kind in ('backup','drill')), started_at timestamptz not null,
  finished_at timestamptz not null, ok boolean not null, bytes bigint, detail text);
INSERT INTO ballast.backup_runs (kind, started_at, finished_at, ok) VALUES ('backup', now(), now(), true);
`;

describe("postgres entrypoint: the stack's roles on an existing database, and their passwords", () => {
  beforeAll(async () => {
    const bin = postgresBin();
    postgresUid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    workDir = mkdtempSync(join(tmpdir(), "ballast-pg-entrypoint-"));
    chmodSync(workDir, 0o755);
    const data = join(workDir, "data");
    const fakeBin = join(workDir, "bin");
    mkdirSync(fakeBin);
    writeFileSync(join(workDir, "pwfile"), `${initPassword}\n`);
    // Stand-in for the image's entrypoint: the real server on a loopback port.
    writeFileSync(
      join(fakeBin, "docker-entrypoint.sh"),
      `#!/bin/sh\nexec "${bin}/postgres" -D "${data}" -p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=/var/run/postgresql\n`,
    );
    chmodSync(join(fakeBin, "docker-entrypoint.sh"), 0o755);
    writeFileSync(
      join(workDir, "entrypoint"),
      postgresEntrypoint.replace("/var/run/postgresql/ballast-roles-current", join(workDir, "roles-current")),
    );
    chmodSync(join(workDir, "entrypoint"), 0o755);
    // On the image's PATH as /usr/local/bin/ballast-postgres-rotate; the wrapper calls it by name.
    writeFileSync(join(fakeBin, "ballast-postgres-rotate"), postgresSetPassword);
    chmodSync(join(fakeBin, "ballast-postgres-rotate"), 0o755);
    writeFileSync(join(workDir, "roles.sql"), postgresRolesSql(database, roles));
    // The live secret files (a Secret volume on Kubernetes, the release's secrets/ files on Compose).
    mkdirSync(join(workDir, "live"));
    mkdirSync("/var/run/postgresql", { recursive: true });
    for (const path of ["/var/run/postgresql", workDir, join(workDir, "live"), join(workDir, "pwfile")]) asPostgres(path);
    for (const [secret, value] of Object.entries(passwords)) writeLive(secret, value);

    // An existing stack: initialised with the superuser as the application's user, its objects the superuser's.
    // No pipes: a server pg_ctl starts would hold them open and execFileSync would wait forever.
    const server = (args: string[]) => execFileSync("runuser", ["-u", "postgres", "--", ...args], { stdio: "ignore", cwd: "/" });
    server([
      join(bin, "initdb"),
      "-D",
      data,
      "-U",
      "app",
      `--pwfile=${join(workDir, "pwfile")}`,
      "--auth-host=scram-sha-256",
      "--auth-local=trust",
    ]);
    server([
      join(bin, "pg_ctl"),
      "-D",
      data,
      "-l",
      join(workDir, "seed.log"),
      "-w",
      "-t",
      "60",
      "-o",
      `-p ${port} -c listen_addresses='' -c unix_socket_directories=/var/run/postgresql`,
      "start",
    ]);
    superSql(`CREATE DATABASE ${database}`, "postgres");
    superSql(existingStack);
    server([join(bin, "pg_ctl"), "-D", data, "-w", "-t", "60", "-m", "fast", "stop"]);

    startWrapper();
    await applied(1);
  });

  afterAll(async () => {
    if (wrapper && wrapper.exitCode === null) {
      wrapper.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      if (wrapper.exitCode === null) spawnSync("pkill", ["-KILL", "-f", `-p ${port}`]);
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("upgrades the existing database in place: the app role owns it and every object the superuser had, data intact", () => {
    expect(existsSync(join(workDir, "roles-current"))).toBe(true);
    expect(superSql(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${database}'`)).toBe("ballast_app");
    const owners = superSql(`
      SELECT string_agg(what || '=' || owner, ';' ORDER BY what) FROM (
        SELECT c.relname::text AS what, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('public', 'crm', 'ballast') AND c.relkind IN ('r', 'v', 'S')
        UNION ALL SELECT 'type mood', pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'mood'
        UNION ALL SELECT 'function lead_count', pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'lead_count'
        UNION ALL SELECT 'schema ' || nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname IN ('public', 'crm', 'ballast')
      ) o`);
    expect(owners.split(";")).toEqual([
      "accounts=ballast_app",
      "backup_runs=app",
      "backup_runs_id_seq=app",
      "function lead_count=ballast_app",
      "lead_names=ballast_app",
      "leads=ballast_app",
      "leads_id_seq=ballast_app",
      "notes=ballast_app",
      "notes_id_seq=ballast_app",
      // PostgreSQL 15 gives public to pg_database_owner: the database's owner, now the app role.
      "schema ballast=app",
      "schema crm=ballast_app",
      "schema public=pg_database_owner",
      "type mood=ballast_app",
    ]);
    expect(superSql("SELECT count(*) FROM leads")).toBe("50");
    expect(superSql("SELECT count(*) FROM notes")).toBe("10");
    expect(superSql("SELECT count(*) FROM ballast.backup_runs")).toBe("1");
  });

  it("gives each role only its attributes: none is superuser or may create roles, databases or replicate; the backup role bypasses RLS", () => {
    expect(
      superSql(
        "SELECT string_agg(rolname || ':' || rolsuper::int || rolcreaterole::int || rolcreatedb::int || rolreplication::int || rolbypassrls::int || rolcanlogin::int || ':' || " +
          "coalesce((SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid), ''), ' ' ORDER BY rolname) " +
          "FROM pg_roles r WHERE rolname LIKE 'ballast\\_%'",
      ),
    ).toBe("ballast_app:000001: ballast_backup:000011:pg_read_all_data ballast_monitor:000001:pg_monitor");
  });

  it("the app role cannot run programs, read server files, create roles or databases", () => {
    const app = (sql: string) => psqlAs("ballast_app", passwords["postgres-app-password"], sql);
    expect(app("COPY (SELECT 1) TO PROGRAM 'id'").stderr).toMatch(
      /must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program/,
    );
    expect(app("SELECT pg_read_file('/etc/passwd')").stderr).toMatch(/permission denied for function pg_read_file/);
    expect(app("CREATE ROLE intruder SUPERUSER").stderr).toMatch(/must be superuser to create superusers/);
    expect(app("CREATE ROLE intruder").stderr).toMatch(/permission denied to create role/);
    expect(app("CREATE DATABASE other").stderr).toMatch(/permission denied to create database/);
    expect(app("ALTER ROLE ballast_app SUPERUSER").stderr).toMatch(
      /must be superuser to alter superuser roles or change superuser attribute/,
    );
    // Backup records are Ballast's: the app can neither read nor forge them.
    expect(app("INSERT INTO ballast.backup_runs (kind, started_at, finished_at, ok) VALUES ('backup', now(), now(), true)").stderr).toMatch(
      /permission denied for schema ballast/,
    );
  });

  it("the app role runs migrations in its database: creates and alters tables, keeps writing data", () => {
    const app = (sql: string) => psqlAs("ballast_app", passwords["postgres-app-password"], sql);
    for (const sql of [
      "CREATE TABLE invoices (id serial PRIMARY KEY, lead_id int REFERENCES leads, amount numeric NOT NULL)",
      "ALTER TABLE leads ADD COLUMN email text",
      "CREATE INDEX leads_email ON leads (email)",
      "ALTER TYPE mood ADD VALUE 'away'",
      "CREATE OR REPLACE VIEW lead_names AS SELECT name, email FROM leads",
      "INSERT INTO invoices (lead_id, amount) SELECT id, 10 FROM leads WHERE id <= 5",
      "UPDATE leads SET email = 'x@example.com' WHERE id = 1",
    ]) {
      expect(app(sql), sql).toMatchObject({ status: 0, stderr: "" });
    }
    expect(app("SELECT lead_count(), (SELECT count(*) FROM invoices)").stdout).toBe("50|5");
  });

  it("the monitoring role reads other sessions' activity and every database's statistics, and the backup records, not the app's tables", async () => {
    const monitor = (sql: string) => psqlAs("ballast_monitor", passwords["postgres-monitor-password"], sql);
    const busy = spawn(
      join(postgresBin(), "psql"),
      ["-X", "-h", "127.0.0.1", "-p", String(port), "-U", "ballast_app", "-d", database, "-c", "SELECT pg_sleep(8) /* busy app */"],
      {
        env: { ...process.env, PGPASSWORD: passwords["postgres-app-password"] },
        stdio: "ignore",
      },
    );
    try {
      let seen = "";
      const deadline = Date.now() + 5000;
      while (!seen && Date.now() < deadline) {
        seen = monitor("SELECT query FROM pg_stat_activity WHERE usename = 'ballast_app' AND query LIKE '%busy app%'").stdout;
        if (!seen) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(seen).toBe("SELECT pg_sleep(8) /* busy app */");
    } finally {
      busy.kill();
    }
    expect(monitor(`SELECT xact_commit > 0 FROM pg_stat_database WHERE datname = '${database}'`).stdout).toBe("t");
    expect(monitor("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'leads'").stdout).toBe("1");
    expect(monitor("SELECT count(*) >= 1 FROM ballast.backup_runs WHERE ok").stdout).toBe("t");
    expect(monitor("SELECT count(*) FROM leads").stderr).toMatch(/permission denied for table leads/);
  });

  it("the backup role's dump (backup.sh) restores with the drill; the backup role cannot write the app's tables", () => {
    const scripts = join(__dirname, "../../components/backups/scripts");
    const backupDir = join(workDir, "backups");
    mkdirSync(backupDir);
    const job = (script: string, user: string, password: string) =>
      spawnSync("bash", [join(scripts, script)], {
        encoding: "utf8",
        timeout: 110_000,
        env: {
          PATH: `${postgresBin()}:${process.env.PATH ?? "/usr/bin:/bin"}`,
          HOME: tmpdir(),
          PGHOST: "127.0.0.1",
          PGPORT: String(port),
          PGUSER: user,
          PGPASSWORD: password,
          PGDATABASE: database,
          BACKUP_DIR: backupDir,
          DRILL_TABLES: "leads,notes,invoices,crm.accounts",
          DRILL_TOLERANCE_PERCENT: "0",
        },
      });
    const backup = job("backup.sh", "ballast_backup", passwords["postgres-backup-password"]);
    expect(backup.stderr).toMatch(/backup ok: appdb-\d{8}T\d{6}Z\.dump/);
    expect(backup.status).toBe(0);
    // The drill creates a scratch database with extensions: the superuser's job.
    const drill = job("restore-drill.sh", "app", passwords["postgres-password"]);
    expect(drill.stderr).toMatch(
      /drill ok: restored appdb-\d{8}T\d{6}Z\.dump into appdb_restore_drill; leads restored 50 \/ live 50 \(0\.00%\); notes restored 10 \/ live 10 \(0\.00%\); invoices restored 5 \/ live 5 \(0\.00%\); crm\.accounts restored 0 \/ live 0 \(0\.00%\)/,
    );
    expect(drill.status).toBe(0);
    expect(superSql("SELECT string_agg(kind || ':' || ok, ' ' ORDER BY id) FROM ballast.backup_runs")).toBe(
      "backup:true backup:true drill:true",
    );
    const backupRole = (sql: string) => psqlAs("ballast_backup", passwords["postgres-backup-password"], sql);
    expect(backupRole("INSERT INTO leads (name) VALUES ('forged')").stderr).toMatch(/permission denied for table leads/);
    expect(backupRole("COPY (SELECT 1) TO PROGRAM 'id'").stderr).toMatch(
      /must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program/,
    );
  });

  it("takes a role's new password from its file while running, without a restart (Kubernetes: kubelet-updated Secret volume)", async () => {
    const serverPid = execFileSync("pgrep", ["-f", "-o", `postgres -D ${join(workDir, "data")}`], { encoding: "utf8" }).trim();
    const before = output.split("ballast: roles and passwords are current").length - 1;
    writeLive("postgres-app-password", watchedAppPassword);
    await applied(before + 1, 30_000);
    expect(psqlAs("ballast_app", watchedAppPassword, "SELECT 1")).toEqual({ status: 0, stdout: "1", stderr: "" });
    const old = psqlAs("ballast_app", passwords["postgres-app-password"], "SELECT 1");
    expect(old.status).not.toBe(0);
    expect(old.stderr).toMatch(/password authentication failed for user "ballast_app"/);
    // The others are unchanged, and the same server process runs: nothing restarted.
    expect(psqlAs("ballast_monitor", passwords["postgres-monitor-password"], "SELECT 1").status).toBe(0);
    expect(psqlAs("app", passwords["postgres-password"], "SELECT 1").status).toBe(0);
    expect(execFileSync("pgrep", ["-f", "-o", `postgres -D ${join(workDir, "data")}`], { encoding: "utf8" }).trim()).toBe(serverPid);
  });

  it("ballast-postgres-rotate <role> sets that role's password from stdin at once (Compose: docker compose exec before the clients roll)", () => {
    const run = (stdin: string, role?: string) =>
      spawnSync(
        "runuser",
        [
          "-u",
          "postgres",
          "--",
          "env",
          `PATH=${postgresBin()}:/usr/bin:/bin`,
          "POSTGRES_USER=app",
          `POSTGRES_DB=${database}`,
          `PGPORT=${port}`,
          join(workDir, "bin", "ballast-postgres-rotate"),
          ...(role ? [role] : []),
        ],
        {
          input: stdin,
          encoding: "utf8",
          timeout: 30_000,
          // The postgres user may not enter the checkout (a CI clone under a 0700 directory): psql warns on stderr.
          cwd: "/",
        },
      );
    const empty = run("", "ballast_monitor");
    expect(empty.status).toBe(2);
    expect(empty.stderr).toBe("ballast: no password on stdin; the password of role ballast_monitor is unchanged\n");
    expect(psqlAs("ballast_monitor", passwords["postgres-monitor-password"], "SELECT 1").status).toBe(0);

    const set = run(execMonitorPassword, "ballast_monitor");
    expect(set.stderr).toBe("");
    expect(set.stdout).toBe("ballast: the password of role ballast_monitor is current\n");
    expect(psqlAs("ballast_monitor", execMonitorPassword, "SELECT 1").status).toBe(0);
    const old = psqlAs("ballast_monitor", passwords["postgres-monitor-password"], "SELECT 1");
    expect(old.status).not.toBe(0);
    expect(old.stderr).toMatch(/password authentication failed for user "ballast_monitor"/);
    // Without a role: the superuser's (the file's value, so nothing changes for it).
    const superuser = run(passwords["postgres-password"]);
    expect(superuser.stdout).toBe("ballast: the password of role app is current\n");
    writeLive("postgres-monitor-password", execMonitorPassword);
  });

  it("the Kubernetes gate Job's script passes with every current password and fails, naming the secret and the error, with an old one", () => {
    const gate = (appPassword: string) =>
      spawnSync(
        "/bin/sh",
        [
          "-c",
          passwordCheckScript(4, [
            { user: "app", passwordEnv: "POSTGRES_PASSWORD", secret: "postgres-password" },
            { user: "ballast_app", passwordEnv: "POSTGRES_APP_PASSWORD", secret: "postgres-app-password" },
            { user: "ballast_monitor", passwordEnv: "POSTGRES_MONITOR_PASSWORD", secret: "postgres-monitor-password" },
          ]),
        ],
        {
          env: {
            PATH: `${postgresBin()}:/usr/bin:/bin`,
            PGHOST: "127.0.0.1",
            PGPORT: String(port),
            PGDATABASE: database,
            PGCONNECT_TIMEOUT: "5",
            POSTGRES_PASSWORD: passwords["postgres-password"],
            POSTGRES_APP_PASSWORD: appPassword,
            POSTGRES_MONITOR_PASSWORD: execMonitorPassword,
          },
          encoding: "utf8",
          timeout: 60_000,
        },
      );
    const current = gate(watchedAppPassword);
    expect(current.stderr).toBe("");
    expect(current.stdout).toBe(
      "ballast: Postgres accepts the current postgres-password, postgres-app-password, postgres-monitor-password\n",
    );
    expect(current.status).toBe(0);
    const stale = gate(passwords["postgres-app-password"]);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(
      /^ballast: Postgres did not accept the current postgres-app-password within 4s: .*password authentication failed for user "ballast_app"/,
    );
  });

  it("stops Postgres cleanly on SIGTERM, and a second start changes nothing (idempotent), data intact", async () => {
    expect(await stopWrapper()).toBe(0);
    output += "\n-- restart --\n";
    const before = output.split("ballast: roles and passwords are current").length - 1;
    startWrapper();
    await applied(before + 1);
    expect(psqlAs("ballast_app", watchedAppPassword, "SELECT count(*) FROM leads").stdout).toBe("50");
    expect(superSql(`SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'invoices'`)).toBe("ballast_app");
    expect(superSql("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'ballast\\_%'")).toBe("3");
    expect(await stopWrapper()).toBe(0);
  });

  it("never prints a password", () => {
    for (const password of printed) expect(output).not.toContain(password);
  });
});
