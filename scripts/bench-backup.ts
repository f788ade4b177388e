/**
 * `npm run bench:backup [-- --size-gib 1]`
 *
 * Times the shipped backup and restore-drill scripts on a real local PostgreSQL
 * (Debian's `postgresql` package; see test/backups/support/local-postgres.ts): builds
 * a database of at least --size-gib GiB with generate_series (documents with wide,
 * partly incompressible text, plus narrow event rows and their indexes), runs
 * backup.sh and restore-drill.sh exactly as the jobs do, and prints a markdown table
 * against the Dealix goal (restore drill in at most 15 minutes).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startLocalPostgres, type LocalPostgres } from "../test/backups/support/local-postgres";

const GOAL_SECONDS = 15 * 60;
const scriptsDir = path.join(__dirname, "../components/backups/scripts");

function parseSize(argv: string[]): number {
  const i = argv.indexOf("--size-gib");
  const size = i >= 0 ? Number(argv[i + 1]) : 1;
  if (!Number.isFinite(size) || size <= 0) throw new Error("--size-gib needs a positive number");
  return size;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${new Date().toISOString()} ${message}\n`);
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

function populate(pg: LocalPostgres, targetBytes: number): void {
  pg.psql(
    "app",
    `CREATE EXTENSION IF NOT EXISTS pgcrypto;
     CREATE TABLE documents (
       id bigserial PRIMARY KEY,
       tenant_id int NOT NULL,
       title text NOT NULL,
       body text NOT NULL,
       created_at timestamptz NOT NULL
     );
     CREATE TABLE events (
       id bigserial PRIMARY KEY,
       document_id bigint NOT NULL,
       kind text NOT NULL,
       payload jsonb NOT NULL,
       created_at timestamptz NOT NULL
     );`,
  );
  const batch = 200_000;
  let round = 0;
  for (;;) {
    const size = Number(pg.psql("app", "SELECT pg_database_size(current_database())"));
    log(`database is ${gib(size)}`);
    if (size >= targetBytes) break;
    const start = round * batch;
    pg.psql(
      "app",
      `INSERT INTO documents (tenant_id, title, body, created_at)
         SELECT g % 97, 'document ' || g || ' ' || md5(g::text),
                encode(gen_random_bytes(450), 'base64') || ' ' || repeat('the quick brown fox jumps over the lazy dog ', 12),
                now() - interval '30 minutes' - (g % 86400) * interval '1 second'
         FROM generate_series(${start + 1}, ${start + batch}) g;
       INSERT INTO events (document_id, kind, payload, created_at)
         SELECT g, (ARRAY['created','viewed','embedded','shared'])[1 + g % 4],
                jsonb_build_object('ip', '10.0.' || (g % 250) || '.' || (g % 200), 'ms', g % 1000),
                now() - interval '30 minutes' - (g % 86400) * interval '1 second'
         FROM generate_series(${start + 1}, ${start + batch * 2}) g;`,
    );
    round++;
  }
  log("building indexes and analyzing");
  pg.psql(
    "app",
    `CREATE INDEX documents_tenant_created ON documents (tenant_id, created_at);
     CREATE INDEX events_document ON events (document_id);
     CREATE INDEX events_created ON events (created_at);
     VACUUM ANALYZE;`,
  );
}

function timed(script: string, env: Record<string, string>): { seconds: number; stderr: string } {
  const started = process.hrtime.bigint();
  const result = spawnSync("bash", [path.join(scriptsDir, script)], { env, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${script} failed (exit ${result.status}):\n${result.stderr}`);
  return { seconds, stderr: result.stderr };
}

async function main(): Promise<void> {
  const sizeGiB = parseSize(process.argv.slice(2));
  log(`starting PostgreSQL; target database size ${sizeGiB} GiB`);
  const pg = await startLocalPostgres({
    settings: { shared_buffers: "512MB", max_wal_size: "4GB", maintenance_work_mem: "256MB", checkpoint_timeout: "30min" },
  });
  const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-bench-backups-"));
  try {
    pg.psql("postgres", "CREATE DATABASE app");
    populate(pg, sizeGiB * 1024 ** 3);
    const dbBytes = Number(pg.psql("app", "SELECT pg_database_size('app')"));
    const rows = pg.psql("app", "SELECT (SELECT count(*) FROM documents) || ' documents, ' || (SELECT count(*) FROM events) || ' events'");
    const env = {
      PATH: `${pg.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: os.tmpdir(),
      ...pg.env("app"),
      BACKUP_DIR: backupDir,
      EXTENSIONS: "pgcrypto",
      DRILL_TABLES: "documents,events",
      FRESHNESS_TABLE: "documents",
      FRESHNESS_COLUMN: "created_at",
      RPO_HOURS: "24",
      DRILL_GOAL_SECONDS: String(GOAL_SECONDS),
      RESTORE_JOBS: "2",
    };
    log(`backing up ${gib(dbBytes)} (${rows})`);
    const backup = timed("backup.sh", env);
    const dump = fs.readdirSync(backupDir).find((f) => f.endsWith(".dump"));
    if (!dump) throw new Error("backup.sh wrote no dump");
    const dumpBytes = fs.statSync(path.join(backupDir, dump)).size;
    log(`backup took ${backup.seconds.toFixed(1)} s; restore drill next`);
    const drill = timed("restore-drill.sh", env);
    log(`drill took ${drill.seconds.toFixed(1)} s`);
    const detail = pg.psql("app", "SELECT detail FROM ballast.backup_runs WHERE kind = 'drill' ORDER BY id DESC LIMIT 1");

    const cpu = os.cpus();
    console.log(
      `\n### Backup benchmark (${cpu.length} × ${cpu[0]?.model ?? "cpu"}, PostgreSQL ${pg.psql("app", "SHOW server_version")}, pg_dump -Fc -Z6, pg_restore -j2)\n`,
    );
    console.log("| database size | rows | dump size | backup (s) | restore drill (s) | goal | verdict |");
    console.log("|---|---|---|---|---|---|---|");
    console.log(
      `| ${gib(dbBytes)} | ${rows} | ${mib(dumpBytes)} | ${backup.seconds.toFixed(1)} | ${drill.seconds.toFixed(1)} | ≤ ${GOAL_SECONDS / 60} min | ${
        drill.seconds <= GOAL_SECONDS ? "meets the goal" : "MISSES the goal"
      } |`,
    );
    console.log(`\nDrill record: ${detail}`);
  } finally {
    pg.stop();
    fs.rmSync(backupDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench:backup failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
