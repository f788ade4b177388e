import { describe, expect, it } from "vitest";
import {
  backupWarnings,
  backupsSchema,
  checkBackupSecrets,
  checkMigrationSafety,
  migrationSchema,
  parseBackups,
  parseMigration,
  parsePgvectorIndex,
  pgvectorIndexSchema,
  requiredBackupSecrets,
} from "../../components/backups/config";
import { maxGapHours, parseCron } from "../../components/backups/cron";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a refusal, got none");
}

describe("ballast:backups schema", () => {
  it("fills every default from an absent key", () => {
    const backups = parseBackups(undefined);
    expect(backups).toEqual({
      enabled: true,
      schedule: "15 3 * * *",
      retention: { daily: 7, weekly: 4, monthly: 6 },
      storageGiB: 20,
      rpoHours: 24,
      timeoutMinutes: 120,
      drill: { enabled: true, schedule: "30 4 1 * *", tables: [], tolerancePercent: 5, timeoutMinutes: 15 },
      image: "pgvector/pgvector:pg16",
      resources: { cpu: 1, memoryMiB: 512 },
    });
    expect(backups.s3).toBeUndefined();
  });

  it("fills nested defaults under partial objects", () => {
    const backups = parseBackups({
      retention: { daily: 14 },
      drill: { tables: ["leads", "public.users"], freshness: { table: "leads", column: "created_at" } },
      s3: { bucket: "acme-backups" },
    });
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

  it("refuses unknown keys, naming the full key and what is allowed", () => {
    const message = errorOf(() => parseBackups({ retention: { hourly: 24 }, schedlue: "0 3 * * *" }));
    expect(message).toContain("ballast:backups.retention.hourly: unknown key (allowed here: daily, weekly, monthly)");
    expect(message).toContain("ballast:backups.schedlue: unknown key (allowed here: enabled, schedule, retention,");
  });

  it("refuses bad values with the key, the value and the rule", () => {
    const message = errorOf(() =>
      parseBackups({
        retention: { daily: 0 },
        schedule: "every night",
        drill: { tables: ["leads; drop table users"], tolerancePercent: 120, freshness: { table: "leads", column: "1x" } },
        image: "pgvector/pgvector",
        s3: { bucket: "Not_A_Bucket", endpoint: "s3.example.com" },
      }),
    );
    expect(message).toContain("ballast:backups.retention.daily: must be an integer of at least 1: the newest backup is always kept (got 0)");
    expect(message).toMatch(/ballast:backups\.schedule: must be a five-field numeric cron expression in UTC such as "15 3 \* \* \*" .*\(got "every night"\)/);
    expect(message).toContain('ballast:backups.drill.tables[0]: must be a table name');
    expect(message).toContain("ballast:backups.drill.tolerancePercent: must be a percentage between 0 and 100 (got 120)");
    expect(message).toContain("ballast:backups.drill.freshness.column: column must be a Postgres identifier");
    expect(message).toContain('ballast:backups.image: must be pinned by a tag other than "latest"');
    expect(message).toContain("ballast:backups.s3.bucket: must be an S3 bucket name");
    expect(message).toContain("ballast:backups.s3.endpoint: must be an http(s) URL");
  });

  it("refuses a schedule that cannot meet the RPO", () => {
    const weekly = errorOf(() => parseBackups({ schedule: "15 3 * * 0" }));
    expect(weekly).toContain('ballast:backups.schedule: "15 3 * * 0" leaves up to 168 h between backups, longer than rpoHours 24');
    expect(parseBackups({ schedule: "15 3 * * 0", rpoHours: 168 }).schedule).toBe("15 3 * * 0");
    expect(parseBackups({ schedule: "0 */6 * * *", rpoHours: 6 }).rpoHours).toBe(6);
    expect(errorOf(() => parseBackups({ schedule: "0 0 31 2 *" }))).toContain("never runs");
  });

  it("types the output (the schema is what the lead embeds)", () => {
    const parsed = backupsSchema.parse({});
    expect(parsed.retention.daily).toBe(7);
    expect(backupsSchema.safeParse({ enabled: "yes" }).success).toBe(false);
  });

  it("requires the S3 credentials by secret name only when s3 is set", () => {
    const local = parseBackups({});
    expect(requiredBackupSecrets(local)).toEqual([]);
    const offsite = parseBackups({ s3: { bucket: "acme-backups", endpoint: "https://s3.eu-central-1.amazonaws.com" } });
    expect(requiredBackupSecrets(offsite)).toEqual(["backup-s3-access-key-id", "backup-s3-secret-access-key"]);
    const missing = checkBackupSecrets(offsite, ["backup-s3-access-key-id"]);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toContain("ballast:secretValues.backup-s3-secret-access-key: required because ballast:backups.s3 is set");
    expect(checkBackupSecrets(offsite, ["backup-s3-access-key-id", "backup-s3-secret-access-key"])).toEqual([]);
  });

  it("warns (outside dev) when the safety net is weakened", () => {
    const warnings = backupWarnings(parseBackups({}), "prod");
    expect(warnings.join("\n")).toContain("ballast:backups.s3 is not set");
    expect(warnings.join("\n")).toContain("ballast:backups.drill.tables is empty");
    expect(backupWarnings(parseBackups({}), "dev")).toEqual([]);
    expect(backupWarnings(parseBackups({ enabled: false }), "prod")[0]).toContain("nothing backs up the database");
  });
});

describe("cron", () => {
  it("parses numeric five-field expressions and refuses the rest", () => {
    expect(typeof parseCron("15 3 * * *")).toBe("object");
    expect(typeof parseCron("*/15 0-6,22 1-7 */2 1-5")).toBe("object");
    expect(parseCron("@daily")).toContain("expected five fields");
    expect(parseCron("61 * * * *")).toContain("minute \"61\" is outside 0-59");
    expect(parseCron("0 3 * * mon")).toContain("day of week \"mon\" is not a number");
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
  it("defaults to the nyxcore runbook's index (m=16, ef_construction=64, cosine)", () => {
    expect(parsePgvectorIndex({ table: "workflow_insights", column: "embedding" })).toEqual({
      table: "workflow_insights",
      column: "embedding",
      m: 16,
      efConstruction: 64,
      opclass: "vector_cosine_ops",
    });
  });

  it("refuses parameters pgvector refuses, naming the key", () => {
    expect(errorOf(() => parsePgvectorIndex({ table: "t", column: "c", m: 48 }))).toContain(
      "ballast:postgres.hnswIndex.efConstruction: must be at least 2 × m = 96",
    );
    expect(errorOf(() => parsePgvectorIndex({ table: "t", column: "c", m: 1 }))).toContain(
      "ballast:postgres.hnswIndex.m: must be at least 2 (got 1)",
    );
    expect(errorOf(() => parsePgvectorIndex({ table: "t", column: "c", opclass: "vector_hamming" }))).toContain(
      'ballast:postgres.hnswIndex.opclass: must be one of "vector_cosine_ops"',
    );
    expect(errorOf(() => parsePgvectorIndex({ column: "c" }))).toContain("ballast:postgres.hnswIndex.table: required");
    expect(pgvectorIndexSchema.safeParse({ table: "t", column: "c", lists: 100 }).success).toBe(false);
  });
});

describe("ballast:app.migration", () => {
  it("defaults the timeout and requires a command", () => {
    expect(migrationSchema.parse({ command: ["npx", "prisma", "migrate", "deploy"] }).timeoutSeconds).toBe(600);
    expect(errorOf(() => parseMigration({ command: [] }, "prod"))).toContain(
      'ballast:app.migration.command: must name the migration command, e.g. ["npx", "prisma", "migrate", "deploy"]',
    );
  });

  it("refuses a schema push on prod with the nyxcore runbook's reason", () => {
    const refusal = checkMigrationSafety("prod", ["npx", "prisma", "db", "push"]);
    expect(refusal).toBeDefined();
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
    expect(errorOf(() => parseMigration({ command: ["npm", "run", "db:push"] }, "prod"))).toContain("a `db:push` script");
  });

  it("allows real migrations on prod and pushes elsewhere", () => {
    expect(checkMigrationSafety("prod", ["npx", "prisma", "migrate", "deploy"])).toBeUndefined();
    expect(checkMigrationSafety("prod", ["./scripts/db-migrate-safe.sh", "--apply"])).toBeUndefined();
    expect(checkMigrationSafety("staging", ["npx", "prisma", "db", "push"])).toBeUndefined();
    expect(checkMigrationSafety("dev", ["npx", "prisma", "db", "push", "--accept-data-loss"])).toBeUndefined();
    expect(parseMigration({ command: ["npx", "prisma", "migrate", "deploy"], timeoutSeconds: 300 }, "prod")).toEqual({
      command: ["npx", "prisma", "migrate", "deploy"],
      timeoutSeconds: 300,
    });
  });
});
