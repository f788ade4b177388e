import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  backupPostgresClients,
  backupWorkloads,
  migrationWorkload,
  pgvectorEnsureWorkload,
  type BackupContext,
} from "../../components/backups";
import type { BackupsConfig, PgvectorIndexConfig } from "../../components/config";
import { runAs } from "../../components/spec";
import { configFor } from "../fixtures/config";

const ctx: BackupContext & { postgres: { kind: "in-stack" } } = {
  environment: "prod",
  postgres: {
    kind: "in-stack",
    host: "postgres",
    port: 5432,
    database: "app",
    user: "app",
    roles: { app: "ballast_app", monitor: "ballast_monitor", backup: "ballast_backup" },
    extensions: ["vector", "pg_trgm"],
    service: "postgres",
  },
};
/** `ballast:backups` as the config pipeline parses it (S3 credentials supplied). */
const parseBackups = (backups: Record<string, unknown>): BackupsConfig =>
  configFor({ backups }, "staging", { "backup-s3-access-key-id": "AKIA", "backup-s3-secret-access-key": "secret" }).backups;
const parsePgvectorIndex = (hnswIndex: Record<string, unknown>): PgvectorIndexConfig =>
  configFor({ postgres: { hnswIndex } }).postgres.hnswIndex as PgvectorIndexConfig;
const scriptsDir = path.join(__dirname, "../../components/backups/scripts");

describe("backupWorkloads", () => {
  it("declares the scheduled backup and restore drill by default, no offsite without s3", () => {
    const specs = backupWorkloads(parseBackups({}), ctx);
    expect(specs.map((s) => s.name)).toEqual(["backup", "restore-drill"]);
    for (const spec of specs) {
      expect(spec.role).toBe("job");
      expect(spec.component).toBe("backups");
      expect(spec.resources.limits).toEqual({ cpu: 1, memoryMiB: 512 });
      expect(spec.resources.requests.cpu).toBeGreaterThan(0);
      expect(spec.jobTimeoutSeconds).toBeGreaterThan(0);
      expect(spec.dependsOn).toEqual(["postgres"]);
      expect(spec.network).toEqual({ fromProxy: false, allowFrom: [], egressInternet: false });
      expect(spec.security.runAsRoot).toBe(false);
      expect(spec.security.readOnlyRootFilesystem).toBe(true);
    }
    const [backup, drill] = specs;
    expect(backup.schedule).toBe("15 3 * * *");
    expect(drill.schedule).toBe("30 4 1 * *");
  });

  it("mounts the shared persistent volume `backups` at /backups and a scratch /tmp; the backup also the stack config", () => {
    const specs = backupWorkloads(parseBackups({ storageGiB: 50, s3: { bucket: "acme-backups" } }), ctx);
    for (const spec of specs) {
      expect(spec.volumes.slice(0, 2)).toEqual([
        { kind: "persistent", name: "backups", mountPath: "/backups", sizeGiB: 50 },
        { kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 },
      ]);
      expect(spec.volumes.slice(2)).toEqual(
        spec.name === "backup" ? [{ kind: "stack-config", name: "stack-config", mountPath: "/stack", readOnly: true }] : [],
      );
    }
  });

  it("passes the database password by secret reference only", () => {
    const specs = backupWorkloads(parseBackups({ s3: { bucket: "acme-backups" } }), ctx);
    const backup = specs.find((s) => s.name === "backup")!;
    // The backup job logs in as the backup role (pg_read_all_data), the drill as the superuser (it creates a database with extensions).
    expect(backup.secretEnv).toEqual({ PGPASSWORD: "postgres-backup-password" });
    expect(backup.env).toMatchObject({
      PGHOST: "postgres",
      PGPORT: "5432",
      PGUSER: "ballast_backup",
      PGDATABASE: "app",
      BACKUP_DIR: "/backups",
    });
    const drill = specs.find((s) => s.name === "restore-drill")!;
    expect(drill.secretEnv).toEqual({ PGPASSWORD: "postgres-password" });
    expect(drill.env).toMatchObject({ PGUSER: "app" });
    expect(backup.env).toMatchObject({ RETAIN_DAILY: "7", RETAIN_WEEKLY: "4", RETAIN_MONTHLY: "6" });
    for (const spec of specs) {
      expect(Object.keys(spec.env).some((k) => /PASSWORD|SECRET|ACCESS_KEY/.test(k))).toBe(false);
    }
    const offsite = specs.find((s) => s.name === "backup-offsite")!;
    expect(offsite.secretEnv).toEqual({
      RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID: "backup-s3-access-key-id",
      RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY: "backup-s3-secret-access-key",
    });
  });

  it("ships the scripts from components/backups/scripts as config files", () => {
    const [backup, drill] = backupWorkloads(parseBackups({}), ctx);
    expect(backup.command).toEqual(["bash", "/etc/ballast/backups/backup.sh"]);
    expect(backup.configFiles.map((f) => f.mountPath)).toEqual(["/etc/ballast/backups/common.sh", "/etc/ballast/backups/backup.sh"]);
    expect(backup.configFiles[1].content).toBe(fs.readFileSync(path.join(scriptsDir, "backup.sh"), "utf8"));
    expect(drill.command).toEqual(["bash", "/etc/ballast/backups/restore-drill.sh"]);
    expect(drill.configFiles.map((f) => f.name)).toEqual(["common.sh", "restore-drill.sh"]);
    expect(drill.configFiles[1].content).toBe(fs.readFileSync(path.join(scriptsDir, "restore-drill.sh"), "utf8"));
  });

  it("configures the drill from ballast:backups.drill, extensions vector first", () => {
    const backups = parseBackups({
      rpoHours: 12,
      schedule: "0 */6 * * *",
      drill: {
        tables: ["leads", "public.users"],
        tolerancePercent: 2.5,
        freshness: { table: "leads", column: "created_at" },
        timeoutMinutes: 20,
      },
    });
    const drill = backupWorkloads(backups, { ...ctx, postgres: { ...ctx.postgres, extensions: ["pg_trgm", "vector"] } })[1];
    expect(drill.env).toMatchObject({
      EXTENSIONS: "vector,pg_trgm",
      DRILL_TABLES: "leads,public.users",
      DRILL_TOLERANCE_PERCENT: "2.5",
      FRESHNESS_TABLE: "leads",
      FRESHNESS_COLUMN: "created_at",
      RPO_HOURS: "12",
      DRILL_GOAL_SECONDS: "1200",
    });
    expect(drill.jobTimeoutSeconds).toBeGreaterThan(1200);
  });

  it("creates only the declared extensions in the drill: a database without pgvector (extensions []) restores without it", () => {
    const drillOf = (extensions: string[]) => backupWorkloads(parseBackups({}), { ...ctx, postgres: { ...ctx.postgres, extensions } })[1];
    expect(drillOf([]).env.EXTENSIONS).toBe("");
    expect(drillOf(["pg_trgm"]).env.EXTENSIONS).toBe("pg_trgm");
    expect(drillOf(["vector"]).env.EXTENSIONS).toBe("vector");
  });

  it("renders the offsite copy as a pinned rclone job that never deletes offsite", () => {
    const backups = parseBackups({
      s3: { bucket: "acme-backups", prefix: "ballast/prod", endpoint: "https://fsn1.your-objectstorage.com", region: "eu-central" },
    });
    const offsite = backupWorkloads(backups, ctx).find((s) => s.name === "backup-offsite")!;
    expect(offsite.image).toBe("rclone/rclone:1.68.2");
    expect(offsite.schedule).toBe("45 * * * *");
    expect(offsite.command).toEqual(["rclone"]);
    expect(offsite.args?.slice(0, 3)).toEqual(["copy", "/backups", "offsite:acme-backups/ballast/prod"]);
    expect(offsite.args).toContain("--immutable");
    expect(offsite.args).not.toContain("sync");
    expect(offsite.env).toMatchObject({
      RCLONE_CONFIG_OFFSITE_TYPE: "s3",
      RCLONE_CONFIG_OFFSITE_PROVIDER: "Other",
      RCLONE_CONFIG_OFFSITE_ENDPOINT: "https://fsn1.your-objectstorage.com",
      RCLONE_CONFIG_OFFSITE_REGION: "eu-central",
    });
    expect(offsite.network.egressInternet).toBe(true);
  });

  it("declares nothing when backups are disabled, and names the Postgres clients", () => {
    expect(backupWorkloads(parseBackups({ enabled: false }), ctx)).toEqual([]);
    expect(backupPostgresClients(parseBackups({}))).toEqual(["backup", "restore-drill"]);
    expect(backupPostgresClients(parseBackups({ drill: { enabled: false } }))).toEqual(["backup"]);
    expect(backupWorkloads(parseBackups({ drill: { enabled: false } }), ctx).map((s) => s.name)).toEqual(["backup"]);
  });
});

describe("migrationWorkload", () => {
  const app = {
    environment: "prod" as const,
    image: "ghcr.io/acme/app:1.4.2",
    env: { NODE_ENV: "production" },
    secretEnv: { DATABASE_URL: "database-url" },
    resources: { cpu: 1, memoryMiB: 1024 },
    dependsOn: ["postgres"],
    security: runAs(1000),
  };

  it("is a one-shot job with the app's image and secrets by reference", () => {
    const spec = migrationWorkload({ command: ["npx", "prisma", "migrate", "deploy"], timeoutSeconds: 300 }, app);
    expect(spec).toMatchObject({
      name: "migrate",
      role: "job",
      image: "ghcr.io/acme/app:1.4.2",
      command: ["npx", "prisma", "migrate", "deploy"],
      secretEnv: { DATABASE_URL: "database-url" },
      jobTimeoutSeconds: 300,
      dependsOn: ["postgres"],
    });
    expect(spec.schedule).toBeUndefined();
    expect(spec.env.NODE_ENV).toBe("production");
    expect(spec.resources.limits).toEqual({ cpu: 1, memoryMiB: 1024 });
  });

  it("refuses a schema push on prod", () => {
    expect(() => migrationWorkload({ command: ["npx", "prisma", "db", "push"], timeoutSeconds: 300 }, app)).toThrow(
      /ballast:app\.migration\.command: .* is refused on prod/,
    );
    expect(
      migrationWorkload({ command: ["npx", "prisma", "db", "push"], timeoutSeconds: 300 }, { ...app, environment: "staging" }).name,
    ).toBe("migrate");
  });
});

describe("pgvectorEnsureWorkload", () => {
  it("applies the rendered SQL with psql after the migration", () => {
    const spec = pgvectorEnsureWorkload(parsePgvectorIndex({ table: "workflow_insights", column: "embedding" }), ctx, {
      after: ["migrate"],
    });
    expect(spec.role).toBe("job");
    expect(spec.dependsOn).toEqual(["postgres", "migrate"]);
    expect(spec.secretEnv).toEqual({ PGPASSWORD: "postgres-password" });
    expect(spec.command).toEqual(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", "/etc/ballast/backups/pgvector.sql"]);
    expect(spec.configFiles[0].content).toContain('USING hnsw ("embedding" vector_cosine_ops) WITH (m = 16, ef_construction = 64)');
  });
});
