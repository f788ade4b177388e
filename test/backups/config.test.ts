/**
 * `ballast:backups`, `ballast:postgres.hnswIndex` and `ballast:app.migration`, through the config
 * pipeline `pulumi up` runs (parsePlatformConfig): the defaults and messages users get.
 */
import { describe, expect, it } from "vitest";
import { checkMigrationSafety, maxGapHours, parseCron } from "../../components/config";
import { configFor, loadStack, problemsOf } from "../fixtures/config";

const backupsOf = (backups: Record<string, unknown>, secretValues?: Record<string, string>) =>
  configFor({ backups }, "staging", secretValues).backups;
const problems = (values: Record<string, unknown>, environment: "dev" | "staging" | "prod" = "staging") =>
  problemsOf(values, environment).join("\n");
const s3Keys = { "backup-s3-access-key-id": "AKIA", "backup-s3-secret-access-key": "secret" };

describe("ballast:backups", () => {
  it("fills every default from an absent key; the job image follows the database image", () => {
    expect(configFor().backups).toEqual({
      enabled: true,
      schedule: "15 3 * * *",
      retention: { daily: 7, weekly: 4, monthly: 6 },
      storageGiB: 20,
      rpoHours: 24,
      timeoutMinutes: 120,
      drill: { enabled: true, schedule: "30 4 1 * *", tables: [], tolerancePercent: 5, timeoutMinutes: 15 },
      redis: false,
      config: true,
      image: "pgvector/pgvector:0.8.0-pg16",
      resources: { cpu: 1, memoryMiB: 512 },
    });
    expect(configFor({ postgres: { image: "pgvector/pgvector:0.8.1-pg17" } }).backups.image).toBe("pgvector/pgvector:0.8.1-pg17");
  });

  it("fills nested defaults under partial objects", () => {
    const backups = backupsOf(
      {
        retention: { daily: 14 },
        drill: { tables: ["leads", "public.users"], freshness: { table: "leads", column: "created_at" } },
        s3: { bucket: "acme-backups" },
      },
      s3Keys,
    );
    expect(backups.retention).toEqual({ daily: 14, weekly: 4, monthly: 6 });
    expect(backups.drill.schedule).toBe("30 4 1 * *");
    expect(backups.drill.freshness).toEqual({ table: "leads", column: "created_at" });
    expect(backups.s3).toEqual({
      bucket: "acme-backups",
      prefix: "",
      region: "us-east-1",
      schedule: "45 * * * *",
      image: "rclone/rclone:1.68.2",
    });
  });

  it("takes resources in the one shape every key uses ({cpu, memory})", () => {
    expect(backupsOf({ resources: { cpu: "500m", memory: "1Gi" } }).resources).toEqual({ cpu: 0.5, memoryMiB: 1024 });
    expect(problems({ backups: { resources: { cpu: 1, memoryMiB: 512 } } })).toContain(
      "ballast:backups.resources.memoryMiB: unknown key; did you mean ballast:backups.resources.memory? (allowed here: cpu, memory)",
    );
  });

  it("refuses unknown keys, naming the full key and what is allowed", () => {
    const message = problems({ backups: { retention: { hourly: 24 }, schedlue: "0 3 * * *" } });
    expect(message).toContain("ballast:backups.retention.hourly: unknown key (allowed here: daily, weekly, monthly)");
    expect(message).toContain(
      "ballast:backups.schedlue: unknown key; did you mean ballast:backups.schedule? (allowed here: enabled, schedule, retention, storageGiB,",
    );
  });

  it("refuses bad values with the key, the value and the rule", () => {
    const message = problems({
      backups: {
        retention: { daily: 0 },
        schedule: "every night",
        drill: { tables: ["leads; drop table users"], tolerancePercent: 120, freshness: { table: "leads", column: "1x" } },
        image: "pgvector/pgvector",
        s3: { bucket: "Not_A_Bucket", endpoint: "s3.example.com" },
      },
    });
    expect(message).toContain(
      "ballast:backups.retention.daily: must be an integer of at least 1: the newest backup is always kept (got 0)",
    );
    expect(message).toMatch(
      /ballast:backups\.schedule: must be a five-field numeric cron expression in UTC such as "15 3 \* \* \*" .*\(got "every night"\)/,
    );
    expect(message).toContain("ballast:backups.drill.tables[0]: must be a table name");
    expect(message).toContain("ballast:backups.drill.tolerancePercent: must be a percentage between 0 and 100 (got 120)");
    expect(message).toContain("ballast:backups.drill.freshness.column: column must be a Postgres identifier");
    expect(message).toContain('ballast:backups.image: must be pinned by an exact version tag (e.g. "redis:7.4.2-alpine") or a digest');
    expect(message).toContain("ballast:backups.s3.bucket: must be an S3 bucket name");
    expect(message).toContain("ballast:backups.s3.endpoint: must be an http(s) URL");
  });

  it("refuses a schedule that cannot meet the RPO", () => {
    expect(problems({ backups: { schedule: "15 3 * * 0" } })).toContain(
      'ballast:backups.schedule: "15 3 * * 0" leaves up to 168 h between backups, longer than rpoHours 24: run it more often or raise rpoHours',
    );
    expect(backupsOf({ schedule: "15 3 * * 0", rpoHours: 168 }).schedule).toBe("15 3 * * 0");
    expect(backupsOf({ schedule: "0 */6 * * *", rpoHours: 6 }).rpoHours).toBe(6);
    expect(problems({ backups: { schedule: "0 0 31 2 *" } })).toContain("never runs");
  });

  it("requires the S3 credentials by secret name only when s3 is set", () => {
    expect(() => configFor({ backups: {} })).not.toThrow();
    const offsite = { backups: { s3: { bucket: "acme-backups", endpoint: "https://s3.eu-central-1.amazonaws.com" } } };
    const missing = problemsOf(offsite, "staging", { "backup-s3-access-key-id": "AKIA" });
    expect(missing).toEqual([
      "ballast:secretValues.backup-s3-secret-access-key: required because ballast:backups.s3 is set (offsite copy credentials); supply it with `pulumi config set --secret --path 'ballast:secretValues.backup-s3-secret-access-key' <value>`",
    ]);
    expect(() => configFor(offsite, "staging", s3Keys)).not.toThrow();
  });

  it("warns (outside dev) when the safety net is weakened: the warnings pulumi preview prints", () => {
    const warnings = loadStack({}, "prod").warnings.join("\n");
    expect(warnings).toContain("ballast:backups.s3 is not set");
    expect(warnings).toContain("ballast:backups.drill.tables is empty");
    expect(loadStack({}, "dev").warnings.filter((w) => w.includes("backups"))).toEqual([]);
    expect(loadStack({ backups: { enabled: false } }, "prod").warnings[0]).toContain("nothing backs up the database");
  });
});

describe("ballast:backups redis, config and encryption", () => {
  const RECIPIENT = "age1kgpj0txpla5thvw8cgmmnvl0nnlzupa0ssftzckhrvyx2pvw745q5dzp6s";
  const IDENTITY = { "backup-encryption-identity": "AGE-SECRET-KEY-1EXAMPLE" };
  const image = "ghcr.io/acme/ballast-backup:16.6.1";

  it("takes a Redis snapshot, the config archive and an age recipient", () => {
    const backups = configFor(
      { backups: { redis: true, config: false, encryption: { recipient: RECIPIENT }, image } },
      "staging",
      IDENTITY,
    ).backups;
    expect(backups).toMatchObject({ redis: true, config: false, encryption: { recipient: RECIPIENT }, image });
  });

  it("refuses a recipient that is not an age public key, naming key and value", () => {
    for (const recipient of ["age1short", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG", "0xDEADBEEF"]) {
      expect(problems({ backups: { encryption: { recipient }, image } })).toContain(
        `ballast:backups.encryption.recipient: must be an age public key: "age1" followed by 58 lower-case letters and digits, as \`age-keygen\` prints it (GPG keys are not accepted) (got ${JSON.stringify(recipient)})`,
      );
    }
    expect(problems({ backups: { encryption: { recipient: RECIPIENT, passphrase: "x" }, image } })).toContain(
      "ballast:backups.encryption.passphrase: unknown key (allowed here: recipient)",
    );
  });

  it("requires the drill's identity secret when encryption and the drill are on, not otherwise", () => {
    expect(problemsOf({ backups: { encryption: { recipient: RECIPIENT }, image } }, "staging")).toEqual([
      "ballast:secretValues.backup-encryption-identity: required because ballast:backups.encryption is set and ballast:backups.drill.enabled is true (the drill decrypts the sets with it); supply the age identity with `pulumi config set --secret --path 'ballast:secretValues.backup-encryption-identity' \"$(grep AGE-SECRET-KEY key.txt)\"`",
    ]);
    expect(
      configFor({ backups: { encryption: { recipient: RECIPIENT }, image, drill: { enabled: false } } }, "staging").backups.encryption,
    ).toEqual({ recipient: RECIPIENT });
    expect(configFor({ backups: { encryption: { recipient: RECIPIENT }, image } }, "staging", IDENTITY).backups.drill.enabled).toBe(true);
  });

  it("refuses a Redis snapshot without Redis", () => {
    expect(problemsOf({ redis: { enabled: false }, backups: { redis: true, image } }, "staging")).toEqual([
      "ballast:backups.redis: true, but ballast:redis.enabled is false: there is no Redis to snapshot (set backups.redis false or enable Redis)",
    ]);
  });

  it("refuses the database image for jobs that need redis-cli or age", () => {
    expect(problemsOf({ backups: { redis: true, encryption: { recipient: RECIPIENT } } }, "staging", IDENTITY)).toEqual([
      'ballast:backups.image: "pgvector/pgvector:0.8.0-pg16" is the database image, which lacks redis-cli and redis-server (backups.redis) and age (backups.encryption): build components/backups/image/Dockerfile (FROM your database image) and set ballast:backups.image to it',
    ]);
  });

  it("warns when the offsite copy is not encrypted", () => {
    const offsite = { backups: { s3: { bucket: "acme-backups" } } };
    expect(loadStack(offsite, "prod", s3Keys).warnings).toContain(
      "ballast:backups.s3 is set without ballast:backups.encryption: the offsite copy is readable by whoever can read the bucket",
    );
    const encrypted = { backups: { s3: { bucket: "acme-backups" }, encryption: { recipient: RECIPIENT }, image } };
    expect(loadStack(encrypted, "prod", { ...s3Keys, ...IDENTITY }).warnings.join("\n")).not.toContain("readable by whoever");
  });
});

describe("cron", () => {
  it("parses numeric five-field expressions and refuses the rest", () => {
    expect(typeof parseCron("15 3 * * *")).toBe("object");
    expect(typeof parseCron("*/15 0-6,22 1-7 */2 1-5")).toBe("object");
    expect(parseCron("@daily")).toContain("expected five fields");
    expect(parseCron("61 * * * *")).toContain('minute "61" is outside 0-59');
    expect(parseCron("0 3 * * mon")).toContain('day of week "mon" is not a number');
  });

  it("measures the longest gap between runs", () => {
    const gap = (expression: string) => {
      const cron = parseCron(expression);
      if (typeof cron === "string") throw new Error(cron);
      return maxGapHours(cron);
    };
    expect(gap("15 3 * * *")).toBe(24);
    expect(gap("0 */6 * * *")).toBe(6);
    expect(gap("45 * * * *")).toBe(1);
    expect(gap("30 4 1 * *")).toBe(31 * 24);
    expect(gap("0 3 * * 1-5")).toBe(72);
    // Vixie rule: both day fields restricted -> either matches.
    expect(gap("0 0 1 * 0")).toBeLessThanOrEqual(7 * 24);
  });
});

describe("ballast:postgres.hnswIndex", () => {
  const index = (hnswIndex: Record<string, unknown>) => configFor({ postgres: { hnswIndex } }).postgres.hnswIndex;
  const refused = (hnswIndex: Record<string, unknown>) => problems({ postgres: { hnswIndex } });

  it("defaults to the nyxcore runbook's index (m=16, ef_construction=64, cosine)", () => {
    expect(index({ table: "workflow_insights", column: "embedding" })).toEqual({
      table: "workflow_insights",
      column: "embedding",
      m: 16,
      efConstruction: 64,
      opclass: "vector_cosine_ops",
    });
  });

  it("refuses parameters pgvector refuses, naming the key", () => {
    expect(refused({ table: "t", column: "c", m: 48 })).toContain("ballast:postgres.hnswIndex.efConstruction: must be at least 2 × m = 96");
    expect(refused({ table: "t", column: "c", m: 1 })).toContain("ballast:postgres.hnswIndex.m: must be at least 2 (got 1)");
    expect(refused({ table: "t", column: "c", opclass: "vector_hamming" })).toContain(
      'ballast:postgres.hnswIndex.opclass: must be one of "vector_cosine_ops"',
    );
    expect(refused({ column: "c" })).toContain("ballast:postgres.hnswIndex.table: required, expected string");
    expect(refused({ table: "t", column: "c", lists: 100 })).toContain("ballast:postgres.hnswIndex.lists: unknown key");
  });
});

describe("ballast:app.migration", () => {
  const migration = (value: Record<string, unknown>, environment: "staging" | "prod" = "staging") =>
    configFor({ app: { image: "ghcr.io/acme/app:1.0.0", migration: value } }, environment).app.migration;

  it("defaults the timeout and requires a command", () => {
    expect(migration({ command: ["npx", "prisma", "migrate", "deploy"] })?.timeoutSeconds).toBe(600);
    expect(problems({ app: { migration: { command: [] } } })).toContain(
      'ballast:app.migration.command: must name a command, e.g. ["node", "dist/worker.js"] (got [])',
    );
  });

  it("refuses a schema push on prod with the nyxcore runbook's reason", () => {
    const refusal = problems({ app: { migration: { command: ["npx", "prisma", "db", "push"] } } }, "prod");
    expect(refusal).toContain('ballast:app.migration.command: ["npx","prisma","db","push"] is refused on prod');
    expect(refusal).toContain("drops pgvector embedding columns");
    expect(refusal).toContain('Allowed: a command that applies reviewed migration files, e.g. ["npx", "prisma", "migrate", "deploy"]');
  });

  it("catches pushes hidden in a shell line, npm scripts and --accept-data-loss", () => {
    for (const command of [
      ["sh", "-c", "npx prisma db push && node seed.js"],
      ["npm", "run", "db:push"],
      ["npx", "prisma", "migrate", "deploy", "--accept-data-loss"],
      ["npx", "prisma", "migrate", "reset", "--force"],
      ["npx", "drizzle-kit", "push"],
    ]) {
      expect(checkMigrationSafety("prod", command), command.join(" ")).toContain("is refused on prod");
    }
    expect(problems({ app: { migration: { command: ["npm", "run", "db:push"] } } }, "prod")).toContain("a `db:push` script");
  });

  it("allows real migrations on prod and pushes elsewhere", () => {
    expect(checkMigrationSafety("prod", ["./scripts/db-migrate-safe.sh", "--apply"])).toBeUndefined();
    expect(checkMigrationSafety("dev", ["npx", "prisma", "db", "push", "--accept-data-loss"])).toBeUndefined();
    expect(migration({ command: ["npx", "prisma", "db", "push"] })?.command).toEqual(["npx", "prisma", "db", "push"]);
    expect(migration({ command: ["npx", "prisma", "migrate", "deploy"], timeoutSeconds: 300 }, "prod")).toEqual({
      command: ["npx", "prisma", "migrate", "deploy"],
      timeoutSeconds: 300,
    });
  });
});
