/**
 * The backup scripts for real: Debian's PostgreSQL 15 server in a temp directory on a
 * loopback port, the shipped bash scripts (components/backups/scripts) run as the job
 * containers run them, pg_dump/pg_restore/psql of the same version, shellcheck on every
 * script. A missing tool fails the suite (install: apt-get install -y postgresql shellcheck).
 *
 * pgvector is not packaged for Debian's PostgreSQL 15, so the extension list used here
 * is contrib's pg_trgm and pgcrypto (a trigram index makes the restore depend on them);
 * the pgvector SQL itself is tested on PGlite in the unit suite.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalPostgres, type LocalPostgres } from "../backups/support/local-postgres";

const scriptsDir = path.join(__dirname, "../../components/backups/scripts");
const backupSh = path.join(scriptsDir, "backup.sh");
const drillSh = path.join(scriptsDir, "restore-drill.sh");
const TS = /^app-(\d{8}T\d{6}Z)\.dump$/;

let pg: LocalPostgres;
let backupDir: string;
const temps: string[] = [];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[] = [], env: Record<string, string> = {}): Run {
  const result = spawnSync("bash", [script, ...args], {
    encoding: "utf8",
    env: {
      PATH: `${pg.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: os.tmpdir(),
      ...pg.env("app"),
      BACKUP_DIR: backupDir,
      EXTENSIONS: "pg_trgm,pgcrypto",
      DRILL_TABLES: "leads,public.Users",
      DRILL_TOLERANCE_PERCENT: "5",
      FRESHNESS_TABLE: "leads",
      FRESHNESS_COLUMN: "created_at",
      RPO_HOURS: "24",
      ...env,
    },
    timeout: 110_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runs(db = "app"): { kind: string; ok: boolean; bytes: number | null; detail: string }[] {
  const out = pg.psql(db, "SELECT json_agg(r ORDER BY id) FROM (SELECT id, kind, ok, bytes, detail FROM ballast.backup_runs) r");
  return out ? JSON.parse(out) : [];
}

function dumps(dir = backupDir): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => TS.test(f))
    .sort();
}

function databases(): string[] {
  return pg.psql("postgres", "SELECT datname FROM pg_database ORDER BY datname").split("\n");
}

/** A psql session that stays connected (application_name `holder`) until closed. */
function holdSession(db: string, sql: string): ChildProcess {
  const child = spawn(path.join(pg.binDir, "psql"), ["-X", "-q"], {
    env: { ...process.env, ...pg.env(db), PGAPPNAME: "holder" },
    stdio: ["pipe", "ignore", "ignore"],
  });
  child.stdin?.write(`${sql}\n`);
  return child;
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

const SNAPSHOT = `SELECT json_build_object(
  'leads', (SELECT count(*) FROM leads),
  'users', (SELECT count(*) FROM "Users"),
  'newest', (SELECT to_char(max(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') FROM leads),
  'oldest', (SELECT to_char(min(created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') FROM leads),
  'titles', (SELECT md5(string_agg(title, ',' ORDER BY id)) FROM leads))`;

beforeAll(async () => {
  pg = await startLocalPostgres();
  backupDir = tempDir("ballast-backups-");
  pg.psql("postgres", "CREATE DATABASE app");
  pg.psql(
    "app",
    `CREATE EXTENSION pg_trgm;
     CREATE EXTENSION pgcrypto;
     CREATE TABLE leads (
       id bigserial PRIMARY KEY,
       title text NOT NULL,
       secret_hash text NOT NULL DEFAULT encode(digest(gen_random_uuid()::text, 'sha256'), 'hex'),
       created_at timestamptz NOT NULL
     );
     CREATE INDEX leads_title_trgm ON leads USING gin (title gin_trgm_ops);
     INSERT INTO leads (title, created_at)
       SELECT 'lead ' || g || ' ' || md5(g::text), now() - interval '2 hours' - g * interval '1 minute'
       FROM generate_series(1, 1000) g;
     CREATE TABLE "Users" (id int PRIMARY KEY, email text UNIQUE NOT NULL);
     INSERT INTO "Users" SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 40) g;`,
  );
});

afterAll(() => {
  pg?.stop();
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

describe("shellcheck", () => {
  it("passes on every script (sourced helpers followed)", () => {
    const which = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    if (which.error || which.status !== 0) {
      throw new Error("shellcheck is not installed: apt-get install -y shellcheck");
    }
    const scripts = fs.readdirSync(scriptsDir).filter((f) => f.endsWith(".sh"));
    expect(scripts.sort()).toEqual(["backup.sh", "common.sh", "restore-drill.sh"]);
    for (const script of scripts) {
      const result = spawnSync("shellcheck", ["--external-sources", "--severity=style", "--shell=bash", script], {
        cwd: scriptsDir,
        encoding: "utf8",
      });
      expect(`${script}: ${result.stdout}${result.stderr}`).toBe(`${script}: `);
      expect(result.status).toBe(0);
    }
  });
});

describe("retention (backup.sh --prune-only on fabricated files)", () => {
  function fabricate(names: string[]): string {
    const dir = tempDir("ballast-retention-");
    for (const name of names) {
      fs.writeFileSync(path.join(dir, name), `dump ${name}`);
      if (TS.test(name)) fs.writeFileSync(path.join(dir, `${name}.sha256`), `0000  ${name}\n`);
    }
    return dir;
  }
  const prune = (dir: string, retain: [number, number, number], extra: string[] = []) =>
    run(backupSh, ["--prune-only", ...extra], {
      BACKUP_DIR: dir,
      RETAIN_DAILY: String(retain[0]),
      RETAIN_WEEKLY: String(retain[1]),
      RETAIN_MONTHLY: String(retain[2]),
      PGHOST: "",
    });

  const november = [
    "app-20261123T120000Z.dump", // Mon W48, a manual run after the nightly one
    "app-20261123T031500Z.dump", // Mon W48
    "app-20261122T031500Z.dump", // Sun W47
    "app-20261121T031500Z.dump", // Sat W47
    "app-20261120T031500Z.dump", // Fri W47
    "app-20261116T031500Z.dump", // Mon W47
    "app-20261115T031500Z.dump", // Sun W46
    "app-20261108T031500Z.dump", // Sun W45
    "app-20261101T031500Z.dump", // Sun W44
    "app-20261031T031500Z.dump", // Sat W44, October
    "app-20261015T031500Z.dump", // October
    "app-20260930T031500Z.dump", // September
    "app-20251231T031500Z.dump", // December 2025
  ];
  const bystanders = ["other-20200101T000000Z.dump", "app-latest.dump", ".app-20200101T000000Z.dump.partial", "notes.txt"];

  it("keeps the newest per day / ISO week / month and deletes exactly the rest", () => {
    const dir = fabricate([...november, ...bystanders]);
    const result = prune(dir, [3, 2, 2]);
    expect(result.stderr).toContain("retention: kept 4 of 13 backups (daily 3, weekly 2, monthly 2), deleted 9");
    expect(result.status).toBe(0);
    // daily: 23rd (newest of the day), 22nd, 21st; weekly: W48 (23rd), W47 (22nd); monthly: Nov (23rd), Oct (31st).
    expect(dumps(dir)).toEqual([
      "app-20261031T031500Z.dump",
      "app-20261121T031500Z.dump",
      "app-20261122T031500Z.dump",
      "app-20261123T120000Z.dump",
    ]);
    const left = fs.readdirSync(dir).sort();
    for (const kept of dumps(dir)) expect(left).toContain(`${kept}.sha256`);
    expect(left.filter((f) => f.endsWith(".sha256"))).toHaveLength(4);
    for (const other of bystanders) expect(left).toContain(other);
  });

  it("uses ISO weeks across the new year", () => {
    const dir = fabricate(["app-20260102T031500Z.dump", "app-20251229T031500Z.dump", "app-20251228T031500Z.dump"]);
    const result = prune(dir, [1, 2, 0]);
    expect(result.status).toBe(0);
    // 2025-12-29 is in ISO week 2026-W01 with 2026-01-02; 2025-12-28 is 2025-W52.
    expect(dumps(dir)).toEqual(["app-20251228T031500Z.dump", "app-20260102T031500Z.dump"]);
  });

  it("keeps everything the limits cover, and --dry-run deletes nothing", () => {
    const all = fabricate(november);
    expect(prune(all, [7, 4, 6]).status).toBe(0);
    // 7 days: 23 (12:00), 22, 21, 20, 16, 15, 8; weeks W48..W45 add nothing new; months add Nov 1? no:
    // monthly newest per month: Nov (23rd), Oct (31st), Sep (30th), Dec 2025 (31st).
    expect(dumps(all)).toEqual([
      "app-20251231T031500Z.dump",
      "app-20260930T031500Z.dump",
      "app-20261031T031500Z.dump",
      "app-20261108T031500Z.dump",
      "app-20261115T031500Z.dump",
      "app-20261116T031500Z.dump",
      "app-20261120T031500Z.dump",
      "app-20261121T031500Z.dump",
      "app-20261122T031500Z.dump",
      "app-20261123T120000Z.dump",
    ]);

    const dry = fabricate(november);
    const result = prune(dry, [3, 2, 2], ["--dry-run"]);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(9);
    expect(result.stdout).toContain("would delete app-20261123T031500Z.dump");
    expect(dumps(dry)).toHaveLength(13);
  });

  it("refuses a retention that would delete the newest backup", () => {
    const result = prune(fabricate(november), [0, 4, 6]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("RETAIN_DAILY must be at least 1");
  });
});

describe("backup and restore drill on PostgreSQL 15", () => {
  let before: string;

  it("backup.sh writes a verified custom-format dump atomically and records the run", () => {
    before = pg.psql("app", SNAPSHOT);
    const result = run(backupSh);
    expect(result.stderr).toContain("backup ok: app-");
    expect(result.status).toBe(0);
    const files = fs.readdirSync(backupDir);
    expect(files.filter((f) => f.includes("partial"))).toEqual([]);
    const [dump] = dumps();
    expect(dump).toMatch(TS);
    const stamp = TS.exec(dump)![1];
    const age =
      Date.now() -
      Date.parse(
        `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
      );
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60_000);
    const file = path.join(backupDir, dump);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(`${file}.sha256`, "utf8")).toBe(`${sha256(file)}  ${dump}\n`);
    const toc = spawnSync(path.join(pg.binDir, "pg_restore"), ["--list", file], { encoding: "utf8" });
    expect(toc.status).toBe(0);
    expect(toc.stdout).toContain("TABLE public leads");
    expect(toc.stdout).toContain("EXTENSION - pg_trgm");

    const recorded = runs();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ kind: "backup", ok: true, bytes: fs.statSync(file).size });
    expect(recorded[0].detail).toContain(`${dump} sha256=${sha256(file)}`);
    const columns = pg.psql(
      "app",
      "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'ballast' AND table_name = 'backup_runs'",
    );
    expect(columns).toBe(
      "id bigint NO, kind text NO, started_at timestamp with time zone NO, finished_at timestamp with time zone NO, ok boolean NO, bytes bigint YES, detail text YES",
    );
  });

  it("the drill restores the newest backup into a scratch database, compares, records and drops it", () => {
    const result = run(drillSh);
    expect(result.stderr).toContain("extensions created in app_restore_drill first: pg_trgm pgcrypto");
    expect(result.stderr).toContain("drill ok:");
    expect(result.status).toBe(0);
    expect(databases()).not.toContain("app_restore_drill");
    const drill = runs().at(-1)!;
    expect(drill).toMatchObject({ kind: "drill", ok: true, bytes: fs.statSync(path.join(backupDir, dumps()[0])).size });
    expect(drill.detail).toContain("leads restored 1000 / live 1000 (0.00%)");
    expect(drill.detail).toContain("public.Users restored 40 / live 40 (0.00%)");
    expect(drill.detail).toContain("freshness: leads.created_at lags live by 0.0 h (RPO 24 h)");
    expect(drill.detail).toMatch(/drill took \d+s \(goal 900s\)/);
  });

  it("the drill fails when row counts drift beyond the tolerance", () => {
    pg.psql("app", "INSERT INTO leads (title, created_at) SELECT 'late ' || g, now() - interval '3 hours' FROM generate_series(1, 60) g");
    try {
      const result = run(drillSh);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("drill failed: table leads: restored 1000 rows, live has 1060 (5.66% off, tolerance 5%)");
      expect(run(drillSh, [], { DRILL_TOLERANCE_PERCENT: "6" }).status).toBe(0);
    } finally {
      pg.psql("app", "DELETE FROM leads WHERE title LIKE 'late %'");
    }
    expect(databases()).not.toContain("app_restore_drill");
    const failed = runs().filter((r) => r.kind === "drill" && !r.ok);
    expect(failed.at(-1)!.detail).toContain("table leads: restored 1000 rows, live has 1060");
  });

  it("the drill fails when the restored data is older than the RPO", () => {
    pg.psql("app", "INSERT INTO leads (title, created_at) VALUES ('fresh', now())");
    try {
      const result = run(drillSh, [], { RPO_HOURS: "1" });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/restored data is 2\.0 h older than live \(leads\.created_at\), more than the RPO of 1 h/);
    } finally {
      pg.psql("app", "DELETE FROM leads WHERE title = 'fresh'");
    }
  });

  it("the drill fails clearly on a corrupted backup (checksum, archive, data) and cleans up", () => {
    const good = path.join(backupDir, dumps()[0]);
    const bytes = fs.readFileSync(good);

    // Newer than the good one, same sidecar format, one flipped byte in the middle.
    const flippedName = "app-29991231T000000Z.dump";
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.length / 2)] ^= 0xff;
    fs.writeFileSync(path.join(backupDir, flippedName), flipped);
    fs.writeFileSync(path.join(backupDir, `${flippedName}.sha256`), `${sha256(good)}  ${flippedName}\n`);
    let result = run(drillSh);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`backup ${flippedName} is corrupted: its sha256 is`);
    fs.rmSync(path.join(backupDir, flippedName));
    fs.rmSync(path.join(backupDir, `${flippedName}.sha256`));

    // No sidecar, not an archive at all.
    const garbage = path.join(backupDir, "app-20000101T000000Z.dump");
    fs.writeFileSync(garbage, "this is not a pg_dump archive\n");
    result = run(drillSh, ["--backup", path.basename(garbage)]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("backup app-20000101T000000Z.dump is corrupted or not a pg_dump custom-format archive");

    // No sidecar, valid header and table of contents, damaged data.
    const damaged = Buffer.from(bytes);
    for (let i = Math.floor(damaged.length * 0.5); i < damaged.length - 64; i += 7) damaged[i] ^= 0x5a;
    fs.writeFileSync(garbage, damaged);
    result = run(drillSh, ["--backup", garbage]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      "restore of app-20000101T000000Z.dump into app_restore_drill failed, the backup is corrupted or incomplete: ",
    );
    fs.rmSync(garbage);

    expect(databases()).not.toContain("app_restore_drill");
    const failed = runs().filter((r) => r.kind === "drill" && !r.ok);
    expect(failed.length).toBeGreaterThanOrEqual(5);
    expect(failed.at(-3)!.detail).toContain("is corrupted: its sha256 is");
  });

  it("the drill fails clearly when there is no backup", () => {
    const empty = tempDir("ballast-empty-");
    let result = run(drillSh, [], { BACKUP_DIR: empty });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      `no backup of app found in ${empty} (expected app-<UTC timestamp>.dump or .dump.age): run the backup job first`,
    );
    result = run(drillSh, ["--backup", "app-20200101T000000Z.dump"]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`backup ${backupDir}/app-20200101T000000Z.dump does not exist`);
    expect(runs().at(-1)).toMatchObject({ kind: "drill", ok: false });
    expect(runs().at(-1)!.detail).toContain("does not exist");
  });

  it("a backup that cannot dump is recorded as failed and leaves no file behind", async () => {
    const holder = holdSession("app", "BEGIN; LOCK TABLE leads IN ACCESS EXCLUSIVE MODE;");
    try {
      await waitFor(
        () =>
          pg.psql("app", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder' AND state = 'idle in transaction'") ===
          "1",
        "the lock holder",
      );
      const before = fs.readdirSync(backupDir).sort();
      const result = run(backupSh, [], { LOCK_WAIT_TIMEOUT: "1s" });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("pg_dump of app failed");
      expect(fs.readdirSync(backupDir).sort()).toEqual(before);
      const failed = runs().at(-1)!;
      expect(failed).toMatchObject({ kind: "backup", ok: false, bytes: null });
      expect(failed.detail).toMatch(/pg_dump of app failed: .*(lock|timeout)/s);
    } finally {
      holder.kill();
    }
  });

  it("publishes the dump last, so a set whose dump is there is complete (a drill beside the backup never sees half a set)", () => {
    // mv on PATH logs each rename, then does it.
    const bin = tempDir("ballast-mv-log-");
    const log = path.join(bin, "renames.log");
    fs.writeFileSync(path.join(bin, "mv"), `#!/bin/sh\nprintf '%s\\n' "$*" >>${log}\nexec /bin/mv "$@"\n`, { mode: 0o755 });
    const config = tempDir("ballast-stack-config-");
    fs.writeFileSync(path.join(config, "docker-compose.yml"), "name: app\n");
    const result = run(backupSh, [], { PATH: `${bin}:${pg.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, STACK_CONFIG_DIR: config });
    expect(result.status, result.stderr).toBe(0);
    const published = fs
      .readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((line) => path.basename(line.split(" ").at(-1)!))
      .filter((name) => !name.endsWith(".sha256"));
    expect(published).toHaveLength(2);
    expect(published[0]).toMatch(/^app-\d{8}T\d{6}Z\.config\.tar\.gz$/);
    expect(published[1]).toMatch(/^app-\d{8}T\d{6}Z\.dump$/);
    expect(runs().at(-1)!.detail).toMatch(/^app-\d{8}T\d{6}Z\.dump sha256=[0-9a-f]{64} .*; set: app-\S+\.dump app-\S+\.config\.tar\.gz;/);
  });

  it("retention never deletes a set while a drill or restore reads one (they hold the sets lock shared)", async () => {
    const dir = tempDir("ballast-sets-lock-");
    const env = { BACKUP_DIR: dir, RETAIN_DAILY: "1", RETAIN_WEEKLY: "0", RETAIN_MONTHLY: "0" };
    expect(run(backupSh, [], env).status).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    // A reader of the sets, as restore-drill.sh holds it for its run: a shared lock on the directory.
    const locked = path.join(dir, "..", `${path.basename(dir)}.reader-locked`);
    const reader = spawn("bash", ["-c", 'exec 8<"$1" && flock --shared 8 && : >"$2" && exec sleep 60', "reader", dir, locked], {
      stdio: "ignore",
    });
    try {
      await waitFor(() => fs.existsSync(locked), "the reader's lock");
      const held = run(backupSh, [], env);
      expect(held.status, held.stderr).toBe(0);
      expect(dumps(dir)).toHaveLength(2);
      expect(runs().at(-1)!.detail).toContain("kept all 2 backups: a drill or restore is reading a set (the next run applies retention)");
    } finally {
      reader.kill();
      fs.rmSync(locked, { force: true });
    }
    await new Promise((r) => setTimeout(r, 1100));
    expect(run(backupSh, [], env).status).toBe(0);
    expect(dumps(dir)).toHaveLength(1);
    expect(runs().at(-1)!.detail).toContain("kept 1 of 3 backups (daily 1, weekly 0, monthly 0), deleted 2");
  });

  it("a backup on a full disk fails naming the disk, keeps no partial file and records why (a real 1 MiB tmpfs)", () => {
    // The backup directory is a tmpfs filled to the last byte, mounted in a private user and mount
    // namespace (no root needed); the listing after the run comes from inside that namespace.
    const wrapper = path.join(tempDir("ballast-full-disk-"), "full-disk.sh");
    fs.writeFileSync(
      wrapper,
      [
        "exec unshare --user --map-root-user --mount bash -c '",
        '  mount -t tmpfs -o size=1m,mode=0700 tmpfs "$BACKUP_DIR" || exit 90',
        '  head -c 2M /dev/zero >"$BACKUP_DIR/filler" 2>/dev/null',
        '  bash "$1"; echo "exit=$?"',
        '  ls -A "$BACKUP_DIR"',
        '\' full-disk "$1"',
      ].join("\n"),
    );
    const before = runs().length;
    const result = run(wrapper, [backupSh]);
    expect(result.status, result.stderr).toBe(0);
    const [exit, ...left] = result.stdout.trim().split("\n");
    expect(exit).toBe("exit=1");
    expect(left, "nothing but the filler is left on the full disk").toEqual(["filler"]);
    expect(result.stderr).toContain(
      `ERROR: the backup disk is full: ${backupDir} (the backups volume) has 0 B free of 1.0 MiB; this run kept nothing`,
    );
    const failed = runs();
    expect(failed).toHaveLength(before + 1);
    expect(failed.at(-1)).toMatchObject({ kind: "backup", ok: false, bytes: null });
    expect(failed.at(-1)!.detail).toMatch(/^the backup disk is full: .* \(pg_dump of app failed: .*No space left on device/s);
  });

  it("the real restore needs the explicit flags and refuses while sessions are connected", async () => {
    let result = run(drillSh, ["--restore-for-real"]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      "refusing the real restore: it replaces database app; confirm with --restore-for-real --i-understand-this-replaces app",
    );
    result = run(drillSh, ["--restore-for-real", "--i-understand-this-replaces", "other"]);
    expect(result.status).not.toBe(0);

    const holder = holdSession("app", "SELECT 1;");
    try {
      await waitFor(
        () => pg.psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder'") === "1",
        "the session",
      );
      result = run(drillSh, ["--restore-for-real", "--i-understand-this-replaces", "app"]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("1 other session(s) are connected to app (holder@127.0.0.1): stop the app and workers first");
      expect(pg.psql("postgres", "SELECT datallowconn FROM pg_database WHERE datname = 'app'")).toBe("t");
      expect(databases().filter((d) => d.includes("before_restore"))).toEqual([]);
    } finally {
      holder.kill();
    }
  });

  it("a real restore that fails puts the live database back and keeps the partial copy", () => {
    const good = fs.readFileSync(path.join(backupDir, dumps()[0]));
    const damaged = Buffer.from(good);
    for (let i = Math.floor(damaged.length * 0.5); i < damaged.length - 64; i += 7) damaged[i] ^= 0x5a;
    const name = "app-20000101T000000Z.dump";
    fs.writeFileSync(path.join(backupDir, name), damaged);
    try {
      const result = run(drillSh, ["--restore-for-real", "--i-understand-this-replaces", "app", "--backup", name]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain("live database app renamed to app_before_restore_");
      expect(result.stderr).toMatch(/app is back as it was before, the partial restore is kept as app_failed_restore_\d{8}T\d{6}Z/);
    } finally {
      fs.rmSync(path.join(backupDir, name));
    }
    expect(pg.psql("app", SNAPSHOT)).toBe(before);
    const left = databases().filter((d) => d.startsWith("app_"));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^app_failed_restore_\d{8}T\d{6}Z$/);
    expect(runs().at(-1)).toMatchObject({ kind: "drill", ok: false });
    pg.psql("postgres", `DROP DATABASE "${left[0]}"`);
  });

  it("after a mass delete, the real restore brings the data back and keeps the damaged database", () => {
    pg.psql("app", 'DELETE FROM leads; DROP TABLE "Users";');
    const result = run(drillSh, ["--restore-for-real", "--i-understand-this-replaces", "app", "--terminate-connections"]);
    expect(result.stderr).toContain("restore ok: restore-for-real of app-");
    expect(result.status).toBe(0);
    expect(pg.psql("app", SNAPSHOT)).toBe(before);
    const kept = databases().filter((d) => /^app_before_restore_\d{8}T\d{6}Z$/.test(d));
    expect(kept).toHaveLength(1);
    expect(pg.psql(kept[0], "SELECT count(*) FROM leads")).toBe("0");
    expect(pg.psql("app", "SELECT extname FROM pg_extension ORDER BY extname")).toBe("pg_trgm\npgcrypto\nplpgsql");
    expect(pg.psql("app", "EXPLAIN SELECT id FROM leads WHERE title % 'lead 42'")).toBeTruthy();
    const last = runs().at(-1)!;
    expect(last).toMatchObject({ kind: "drill", ok: true });
    expect(last.detail).toContain(`previous database kept as ${kept[0]}`);
    pg.psql("postgres", `DROP DATABASE "${kept[0]}"`);
  });

  it("after the database is dropped, the real restore recreates it from the newest backup", () => {
    pg.psql("postgres", "DROP DATABASE app");
    const result = run(drillSh, ["--restore-for-real", "--i-understand-this-replaces", "app"]);
    expect(result.stderr).toContain("database app does not exist: restoring into a new one");
    expect(result.status).toBe(0);
    expect(pg.psql("app", SNAPSHOT)).toBe(before);
    expect(JSON.parse(pg.psql("app", SNAPSHOT))).toMatchObject({ leads: 1000, users: 40 });
    expect(runs().at(-1)!.detail).toContain("previous database kept as <none>");
    // And the restored database is a normal live database again: the drill passes on it.
    expect(run(drillSh).status).toBe(0);
  });
});
