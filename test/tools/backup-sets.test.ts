/**
 * Backup sets for real: Debian's PostgreSQL 15 and redis-server 7 in temp directories,
 * real `age` keys (age-keygen), the shipped scripts run as the jobs run them. Proves that
 * one backup run writes one dated set (dump + Redis RDB snapshot + config archive), that an
 * encrypted set is unreadable without the identity (not even a marker string survives in
 * the bytes), and that the drill decrypts it with the identity alone and reports what it
 * restored (tables and row counts, Redis key count, config files).
 * A missing tool fails the suite (apt-get install -y postgresql redis-server age).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startLocalPostgres, type LocalPostgres } from "../backups/support/local-postgres";

const scriptsDir = path.join(__dirname, "../../components/backups/scripts");
const backupSh = path.join(scriptsDir, "backup.sh");
const drillSh = path.join(scriptsDir, "restore-drill.sh");
const MARKER = "marker-7f3a9c-plaintext";
const REDIS_PASSWORD = "redis-pw-for-the-test";

let pg: LocalPostgres;
let redis: ChildProcess;
let redisPort: number;
let configDir: string;
const temps: string[] = [];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

function requireTool(tool: string, install: string): void {
  const which = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  if (which.status !== 0) throw new Error(`${tool} is not installed: apt-get install -y ${install}`);
}

/** A fresh age key pair: the identity file and its public key. */
function ageKey(): { identity: string; recipient: string } {
  const dir = tempDir("ballast-age-");
  const identity = path.join(dir, "identity.txt");
  const result = spawnSync("age-keygen", ["-o", identity], { encoding: "utf8" });
  expect(result.status).toBe(0);
  const recipient = /age1[0-9a-z]+/.exec(fs.readFileSync(identity, "utf8"))![0];
  return { identity, recipient };
}

function redisCli(...args: string[]): string {
  const result = spawnSync("redis-cli", ["-p", String(redisPort), "--no-auth-warning", ...args], {
    encoding: "utf8",
    env: { ...process.env, REDISCLI_AUTH: REDIS_PASSWORD },
  });
  return result.stdout.trim();
}

function run(script: string, backupDir: string, env: Record<string, string> = {}) {
  const result = spawnSync("bash", [script], {
    encoding: "utf8",
    env: {
      PATH: `${pg.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      HOME: os.tmpdir(),
      ...pg.env("app"),
      BACKUP_DIR: backupDir,
      DRILL_TABLES: "notes",
      ...env,
    },
    timeout: 110_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const redisEnv = () => ({ REDIS_HOST: "127.0.0.1", REDIS_PORT: String(redisPort), REDISCLI_AUTH: REDIS_PASSWORD });

function lastRun(): { kind: string; ok: boolean; detail: string } {
  return JSON.parse(
    pg.psql("app", "SELECT row_to_json(r) FROM (SELECT kind, ok, detail FROM ballast.backup_runs ORDER BY id DESC LIMIT 1) r"),
  );
}

beforeAll(async () => {
  requireTool("redis-server", "redis-server");
  requireTool("redis-check-rdb", "redis-server");
  requireTool("age", "age");
  pg = await startLocalPostgres();
  pg.psql("postgres", "CREATE DATABASE app");
  pg.psql(
    "app",
    `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
     INSERT INTO notes SELECT g, '${MARKER} ' || g FROM generate_series(1, 25) g;`,
  );

  redisPort = await freePort();
  const redisDir = tempDir("ballast-redis-");
  redis = spawn(
    "redis-server",
    [
      "--port",
      String(redisPort),
      "--bind",
      "127.0.0.1",
      "--requirepass",
      REDIS_PASSWORD,
      "--dir",
      redisDir,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100 && redisCli("ping") !== "PONG"; i++) await new Promise((r) => setTimeout(r, 100));
  expect(redisCli("ping")).toBe("PONG");
  for (let i = 1; i <= 30; i++) redisCli("set", `session:${i}`, `${MARKER} ${i}`);
  redisCli("-n", "1", "rpush", "queue:jobs", "a", "b", "c");

  // The stack config as the Compose target mounts it: the compose file, config/<workload>/<file>, acme.json.
  configDir = tempDir("ballast-stack-config-");
  fs.writeFileSync(path.join(configDir, "docker-compose.yml"), `name: app\n# ${MARKER}\n`);
  fs.mkdirSync(path.join(configDir, "config/prometheus"), { recursive: true });
  fs.writeFileSync(path.join(configDir, "config/prometheus/prometheus.yml"), "global: {}\n");
  fs.mkdirSync(path.join(configDir, "acme"));
  fs.writeFileSync(path.join(configDir, "acme/acme.json"), '{"letsencrypt": {}}\n', { mode: 0o600 });
});

afterAll(() => {
  redis?.kill();
  pg?.stop();
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a backup set with Redis and the stack config, encrypted with age", () => {
  let backupDir: string;
  let key: { identity: string; recipient: string };
  let set: string[];

  it("backup.sh writes one dated set, every file encrypted, and records it", () => {
    backupDir = tempDir("ballast-sets-");
    key = ageKey();
    const result = run(backupSh, backupDir, { ...redisEnv(), STACK_CONFIG_DIR: configDir, ENCRYPTION_RECIPIENT: key.recipient });
    expect(result.stderr).toContain("backup ok: app-");
    expect(result.status).toBe(0);
    set = fs.readdirSync(backupDir).sort();
    const stamp = /^app-(\d{8}T\d{6}Z)\.config\.tar\.gz\.age$/.exec(set[0])![1];
    expect(set).toEqual(
      ["config.tar.gz.age", "config.tar.gz.age.sha256", "dump.age", "dump.age.sha256", "redis.rdb.age", "redis.rdb.age.sha256"].map(
        (s) => `app-${stamp}.${s}`,
      ),
    );
    for (const file of set) expect(fs.statSync(path.join(backupDir, file)).mode & 0o777).toBe(0o600);
    const detail = lastRun().detail;
    expect(detail).toContain(`set: app-${stamp}.dump.age app-${stamp}.redis.rdb.age app-${stamp}.config.tar.gz.age`);
    expect(detail).toContain("redis 31 keys");
    expect(detail).toContain("config 3 files");
    expect(detail).toContain(`encrypted to ${key.recipient}`);
  });

  it("the set cannot be read without the identity: no plaintext in its bytes, tools refuse it, another key cannot decrypt", () => {
    for (const file of set.filter((f) => f.endsWith(".age"))) {
      const bytes = fs.readFileSync(path.join(backupDir, file));
      expect(bytes.subarray(0, 21).toString()).toBe("age-encryption.org/v1");
      expect(bytes.includes(Buffer.from(MARKER))).toBe(false);
      expect(bytes.includes(Buffer.from("session:1"))).toBe(false);
    }
    const dump = path.join(
      backupDir,
      set.find((f) => f.endsWith(".dump.age"))!,
    );
    expect(spawnSync(path.join(pg.binDir, "pg_restore"), ["--list", dump], { encoding: "utf8" }).status).not.toBe(0);
    const other = ageKey();
    const wrong = spawnSync("age", ["--decrypt", "--identity", other.identity, dump], { encoding: "utf8" });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain("no identity matched any of the recipients");
    const right = spawnSync("age", [
      "--decrypt",
      "--identity",
      key.identity,
      "--output",
      path.join(tempDir("ballast-plain-"), "x.dump"),
      dump,
    ]);
    expect(right.status).toBe(0);
  });

  it("the drill refuses an encrypted set without the identity, or with another one", () => {
    let result = run(drillSh, backupDir, { EXPECT_REDIS: "1", EXPECT_CONFIG: "1" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/backup app-\d{8}T\d{6}Z\.dump\.age is encrypted but ENCRYPTION_IDENTITY_FILE is not set/);
    result = run(drillSh, backupDir, { ENCRYPTION_IDENTITY_FILE: ageKey().identity });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/cannot decrypt app-\d{8}T\d{6}Z\.dump\.age with the identity in .*no identity matched/s);
    expect(lastRun()).toMatchObject({ kind: "drill", ok: false });
    expect(lastRun().detail).toContain("cannot decrypt");
    expect(fs.readdirSync(backupDir).sort()).toEqual(set);
  });

  it("the drill decrypts with the identity and reports tables, Redis keys and config files, leaving no plaintext behind", () => {
    const result = run(drillSh, backupDir, { ENCRYPTION_IDENTITY_FILE: key.identity, EXPECT_REDIS: "1", EXPECT_CONFIG: "1" });
    expect(result.stderr).toContain("drill ok:");
    expect(result.status).toBe(0);
    const detail = lastRun().detail;
    expect(lastRun()).toMatchObject({ kind: "drill", ok: true });
    expect(detail).toContain("set decrypted with the drill's identity");
    expect(detail).toContain("notes restored 25 / live 25 (0.00%)");
    expect(detail).toMatch(/redis: app-\d{8}T\d{6}Z\.redis\.rdb\.age loads, 31 keys/);
    expect(detail).toMatch(
      /config: app-\d{8}T\d{6}Z\.config\.tar\.gz\.age holds 3 files \(acme\/acme\.json config\/prometheus\/prometheus\.yml docker-compose\.yml\)/,
    );
    // Decrypted copies and the throwaway Redis are gone.
    expect(fs.readdirSync(backupDir).sort()).toEqual(set);
  });

  it("the drill fails when the set lacks the Redis snapshot the stack backs up, or the snapshot is damaged", () => {
    const rdb = set.find((f) => f.endsWith(".redis.rdb.age"))!;
    const aside = tempDir("ballast-aside-");
    fs.renameSync(path.join(backupDir, rdb), path.join(aside, rdb));
    try {
      const result = run(drillSh, backupDir, { ENCRYPTION_IDENTITY_FILE: key.identity, EXPECT_REDIS: "1" });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(
        /drill failed: the set has no Redis snapshot \(app-\d{8}T\d{6}Z\.redis\.rdb\): did the backup job snapshot Redis\?/,
      );
    } finally {
      fs.renameSync(path.join(aside, rdb), path.join(backupDir, rdb));
    }
    // A plain snapshot with one flipped byte (no sidecar): redis-check-rdb refuses it.
    const plain = path.join(aside, "plain.rdb");
    expect(spawnSync("age", ["--decrypt", "--identity", key.identity, "--output", plain, path.join(backupDir, rdb)]).status).toBe(0);
    const bytes = fs.readFileSync(plain);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.renameSync(path.join(backupDir, rdb), path.join(aside, rdb));
    const damaged = path.join(backupDir, rdb.replace(/\.age$/, ""));
    fs.writeFileSync(damaged, bytes);
    try {
      const result = run(drillSh, backupDir, { ENCRYPTION_IDENTITY_FILE: key.identity, EXPECT_REDIS: "1" });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/Redis snapshot app-\d{8}T\d{6}Z\.redis\.rdb fails redis-check-rdb/);
    } finally {
      fs.rmSync(damaged);
      fs.renameSync(path.join(aside, rdb), path.join(backupDir, rdb));
    }
  });

  it("the real restore decrypts the dump too", () => {
    pg.psql("app", "DELETE FROM notes WHERE id > 5");
    const result = run(drillSh, backupDir, { ENCRYPTION_IDENTITY_FILE: key.identity });
    expect(result.status).not.toBe(0);
    const real = spawnSync("bash", [drillSh, "--restore-for-real", "--i-understand-this-replaces", "app", "--terminate-connections"], {
      encoding: "utf8",
      env: {
        PATH: `${pg.binDir}:${process.env.PATH}`,
        HOME: os.tmpdir(),
        ...pg.env("app"),
        BACKUP_DIR: backupDir,
        DRILL_TABLES: "notes",
        ENCRYPTION_IDENTITY_FILE: key.identity,
      },
    });
    expect(real.stderr).toContain("restore ok: restore-for-real of app-");
    expect(real.status).toBe(0);
    expect(pg.psql("app", "SELECT count(*) FROM notes")).toBe("25");
    for (const db of pg
      .psql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'app_before_restore_%'")
      .split("\n")
      .filter(Boolean)) {
      pg.psql("postgres", `DROP DATABASE "${db}"`);
    }
  });
});

describe("plain sets and failures", () => {
  it("without a recipient the set is plain and the drill reports it the same way", () => {
    const backupDir = tempDir("ballast-sets-plain-");
    expect(run(backupSh, backupDir, { ...redisEnv(), STACK_CONFIG_DIR: configDir }).status).toBe(0);
    expect(
      fs
        .readdirSync(backupDir)
        .map((f) => f.replace(/^app-\d{8}T\d{6}Z/, "SET"))
        .sort(),
    ).toEqual(["SET.config.tar.gz", "SET.config.tar.gz.sha256", "SET.dump", "SET.dump.sha256", "SET.redis.rdb", "SET.redis.rdb.sha256"]);
    const result = run(drillSh, backupDir, { EXPECT_REDIS: "1", EXPECT_CONFIG: "1" });
    expect(result.status).toBe(0);
    expect(lastRun().detail).toMatch(/redis: app-\d{8}T\d{6}Z\.redis\.rdb loads, 31 keys/);
    expect(lastRun().detail).not.toContain("decrypted");
  });

  it("archives a Kubernetes projected ConfigMap volume (the kubelet's ..data symlinks) as plain files", () => {
    // The kubelet's atomic writer: a timestamped directory, ..data pointing at it, and one symlink per top-level entry.
    const projected = tempDir("ballast-projected-");
    const real = path.join(projected, "..2026_12_06_09_00_00.123456789");
    fs.mkdirSync(path.join(real, "redis"), { recursive: true });
    fs.mkdirSync(path.join(real, "traefik"));
    fs.writeFileSync(path.join(real, "redis/redis.conf"), "maxmemory 4gb\n");
    fs.writeFileSync(path.join(real, "traefik/traefik.yml"), "log: {}\n");
    fs.symlinkSync(path.basename(real), path.join(projected, "..data"));
    fs.symlinkSync("..data/redis", path.join(projected, "redis"));
    fs.symlinkSync("..data/traefik", path.join(projected, "traefik"));
    const backupDir = tempDir("ballast-sets-k8s-");
    expect(run(backupSh, backupDir, { STACK_CONFIG_DIR: projected }).status).toBe(0);
    const archive = fs.readdirSync(backupDir).find((f) => f.endsWith(".config.tar.gz"))!;
    const listing = spawnSync("tar", ["-tvzf", path.join(backupDir, archive)], { encoding: "utf8" }).stdout;
    const files = listing
      .split("\n")
      .filter((line) => line.startsWith("-"))
      .map((line) => line.split(/\s+/).at(-1))
      .sort();
    expect(files).toEqual(["./redis/redis.conf", "./traefik/traefik.yml"]);
    expect(listing).not.toContain("..data");
    expect(run(drillSh, backupDir, { EXPECT_CONFIG: "1" }).status).toBe(0);
    expect(lastRun().detail).toMatch(
      /config: app-\d{8}T\d{6}Z\.config\.tar\.gz holds 2 files \(redis\/redis\.conf traefik\/traefik\.yml\)/,
    );
  });

  it("a wrong Redis password fails the run and publishes no part of the set", () => {
    const backupDir = tempDir("ballast-sets-fail-");
    const result = run(backupSh, backupDir, {
      ...redisEnv(),
      REDISCLI_AUTH: "wrong",
      STACK_CONFIG_DIR: configDir,
      ENCRYPTION_RECIPIENT: ageKey().recipient,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`redis-cli --rdb from 127.0.0.1:${redisPort} failed`);
    expect(fs.readdirSync(backupDir)).toEqual([]);
    expect(lastRun()).toMatchObject({ kind: "backup", ok: false });
    expect(result.stderr).not.toContain(REDIS_PASSWORD);
  });

  it("refuses a recipient that is not an age public key", () => {
    const result = run(backupSh, tempDir("ballast-sets-bad-"), { ENCRYPTION_RECIPIENT: "age1notakey" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("ENCRYPTION_RECIPIENT is not an age public key (age1 and 58 more characters)");
  });

  it("retention deletes whole sets (dump, snapshot, archive, sidecars) and keeps the newest", () => {
    const dir = tempDir("ballast-sets-retention-");
    const stamps = ["20261123T031500Z", "20261122T031500Z", "20261121T031500Z"];
    for (const stamp of stamps) {
      for (const part of ["dump.age", "redis.rdb.age", "config.tar.gz.age"]) {
        fs.writeFileSync(path.join(dir, `app-${stamp}.${part}`), "x");
        fs.writeFileSync(path.join(dir, `app-${stamp}.${part}.sha256`), "0  x\n");
      }
    }
    fs.writeFileSync(path.join(dir, ".app-20261124T031500Z.dump.partial"), "in progress");
    const result = spawnSync("bash", [backupSh, "--prune-only"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH, PGDATABASE: "app", BACKUP_DIR: dir, RETAIN_DAILY: "1", RETAIN_WEEKLY: "0", RETAIN_MONTHLY: "0" },
    });
    expect(result.stderr).toContain("retention: kept 1 of 3 backups (daily 1, weekly 0, monthly 0), deleted 2");
    expect(result.status).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual([
      ".app-20261124T031500Z.dump.partial",
      ...["config.tar.gz.age", "config.tar.gz.age.sha256", "dump.age", "dump.age.sha256", "redis.rdb.age", "redis.rdb.age.sha256"].map(
        (s) => `app-20261123T031500Z.${s}`,
      ),
    ]);
  });
});
