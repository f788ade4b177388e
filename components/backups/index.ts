/**
 * Data safety as workloads: the scheduled backup, the optional offsite copy, the
 * restore drill, the one-shot schema migration and the pgvector "ensure" step.
 *
 * Pure functions from config to `WorkloadSpec`s; the Platform hands them to the
 * target like every other workload. The scripts live next to this file
 * (`scripts/*.sh`) and travel as config files, so reviewers read the exact shell that
 * runs, and the tools suite runs the same files against a real PostgreSQL.
 *
 * Volume contract with the targets: every job here mounts ONE persistent volume named
 * `backups` at /backups. Compose renders it as the named volume `<project>_backups`
 * (jobs run as one-off containers that mount it); Kubernetes renders one
 * PersistentVolumeClaim `backups` shared by the three CronJobs (they never run at the
 * same time by default; with ReadWriteOnce storage they must land on the same node
 * when they do).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { resourceSpec } from "../resources";
import { workload, type ImageRef, type SecretName, type SecuritySpec, type VolumeSpec, type WorkloadSpec } from "../spec";
import {
  BACKUP_S3_SECRETS,
  checkMigrationSafety,
  defaultImages,
  type BackupsConfig,
  type Environment,
  type MigrationConfig,
  type PgvectorIndexConfig,
} from "../config";
import type { PostgresEndpoint } from "../names";
import { orderedExtensions, renderPgvectorSql } from "./pgvector";

export { orderedExtensions, renderPgvectorSql } from "./pgvector";

export interface BackupContext {
  environment: Environment;
  /** The database: in-stack (host and port), or external (its URL is the `database-url` secret). */
  postgres: PostgresEndpoint & {
    /** Extensions of the database (`vector` is added first when missing). */
    extensions: string[];
    /** Workload name of the in-stack database, which the jobs wait for. */
    service?: string;
  };
}

/** The volume every backup job shares; name agreed with both targets. */
export const BACKUP_VOLUME = "backups";
export const BACKUP_MOUNT = "/backups";
/** Where the scripts are mounted inside the job containers. */
export const SCRIPT_DIR = "/etc/ballast/backups";
/** Secret holding the database password (the Postgres component's). */
export const POSTGRES_PASSWORD_SECRET: SecretName = "postgres-password";
/** Secret holding an external database's connection URL. */
export const DATABASE_URL_SECRET: SecretName = "database-url";

/** Workload names, fixed: the docs' commands use them (`docker compose run --rm backup`). */
export const BACKUP_JOB = "backup";
export const OFFSITE_JOB = "backup-offsite";
export const DRILL_JOB = "restore-drill";
export const MIGRATION_JOB = "migrate";
export const PGVECTOR_ENSURE_JOB = "pgvector-ensure";

/** uid/gid of `postgres` in the official (Debian) postgres and pgvector images. */
const POSTGRES_UID = 999;

const SCRIPTS = ["common.sh", "backup.sh", "restore-drill.sh"] as const;
type ScriptName = (typeof SCRIPTS)[number];

const scriptCache = new Map<ScriptName, string>();

/** The text of a script shipped in ./scripts (read once; the files are part of the code). */
export function backupScript(name: ScriptName): string {
  let text = scriptCache.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(__dirname, "scripts", name), "utf8");
    scriptCache.set(name, text);
  }
  return text;
}

function scriptFiles(...names: ScriptName[]) {
  return names.map((name) => ({
    name,
    mountPath: `${SCRIPT_DIR}/${name}`,
    content: backupScript(name),
    mode: 0o555,
  }));
}

function backupsVolume(backups: BackupsConfig): VolumeSpec {
  return { kind: "persistent", name: BACKUP_VOLUME, mountPath: BACKUP_MOUNT, sizeGiB: backups.storageGiB };
}

const tmpVolume: VolumeSpec = { kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 };

/** libpq environment of the jobs: host and port in-stack; an external database's come from DATABASE_URL (common.sh). */
function connectionEnv(ctx: BackupContext): Record<string, string> {
  const pg = ctx.postgres;
  return {
    ...(pg.kind === "in-stack" ? { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGDATABASE: pg.database } : {}),
    PGCONNECT_TIMEOUT: "15",
    BACKUP_DIR: BACKUP_MOUNT,
    HOME: "/tmp",
  };
}

/** The credential secret of the jobs: the password in-stack, the whole URL for an external database. */
function connectionSecretEnv(ctx: BackupContext): Record<string, SecretName> {
  return ctx.postgres.kind === "in-stack" ? { PGPASSWORD: POSTGRES_PASSWORD_SECRET } : { DATABASE_URL: DATABASE_URL_SECRET };
}

function databaseDependency(ctx: BackupContext): string[] {
  return ctx.postgres.kind === "in-stack" && ctx.postgres.service ? [ctx.postgres.service] : [];
}

const postgresUser = {
  runAsUser: POSTGRES_UID,
  runAsGroup: POSTGRES_UID,
  fsGroup: POSTGRES_UID,
  readOnlyRootFilesystem: true,
  addCapabilities: [],
  runAsRoot: false,
  privileged: false,
  hostPid: false,
  hostNetwork: false,
};

/**
 * The backup CronJobs: `backup` (pg_dump + retention), `backup-offsite` (when
 * `s3` is set) and `restore-drill` (when `drill.enabled`). Empty when backups are
 * disabled.
 */
export function backupWorkloads(backups: BackupsConfig, ctx: BackupContext): WorkloadSpec[] {
  if (!backups.enabled) return [];
  const resources = resourceSpec(backups.resources);
  const specs: WorkloadSpec[] = [];

  specs.push(
    workload({
      name: BACKUP_JOB,
      component: "backups",
      role: "job",
      description: `pg_dump of ${ctx.postgres.database} to the backups volume, ${backups.schedule} UTC; keeps ${backups.retention.daily} daily, ${backups.retention.weekly} weekly, ${backups.retention.monthly} monthly`,
      image: backups.image,
      command: ["bash", `${SCRIPT_DIR}/backup.sh`],
      env: {
        ...connectionEnv(ctx),
        RETAIN_DAILY: String(backups.retention.daily),
        RETAIN_WEEKLY: String(backups.retention.weekly),
        RETAIN_MONTHLY: String(backups.retention.monthly),
      },
      secretEnv: connectionSecretEnv(ctx),
      resources,
      sizedBy: "ballast:backups.resources",
      volumes: [backupsVolume(backups), tmpVolume],
      configFiles: scriptFiles("common.sh", "backup.sh"),
      dependsOn: databaseDependency(ctx),
      network: { fromProxy: false, allowFrom: [], egressInternet: ctx.postgres.kind === "external" },
      schedule: backups.schedule,
      jobTimeoutSeconds: backups.timeoutMinutes * 60,
      security: postgresUser,
      labels: { "ballast.dev/data-safety": "backup" },
    }),
  );

  if (backups.s3) {
    const s3 = backups.s3;
    const remote = `offsite:${s3.bucket}${s3.prefix ? `/${s3.prefix}` : ""}`;
    specs.push(
      workload({
        name: OFFSITE_JOB,
        component: "backups",
        role: "job",
        description: `Copies new dumps from the backups volume to s3://${s3.bucket}/${s3.prefix} (rclone copy --immutable: never deletes or overwrites offsite)`,
        image: s3.image,
        command: ["rclone"],
        args: [
          "copy",
          BACKUP_MOUNT,
          remote,
          "--include",
          "*.dump",
          "--include",
          "*.dump.sha256",
          "--immutable",
          "--s3-no-check-bucket",
          "--retries",
          "5",
          "--stats-one-line",
          "-v",
        ],
        env: {
          HOME: "/tmp",
          XDG_CACHE_HOME: "/tmp/.cache",
          RCLONE_CONFIG: "/tmp/rclone.conf",
          RCLONE_CONFIG_OFFSITE_TYPE: "s3",
          RCLONE_CONFIG_OFFSITE_PROVIDER: s3.endpoint ? "Other" : "AWS",
          RCLONE_CONFIG_OFFSITE_ENV_AUTH: "false",
          RCLONE_CONFIG_OFFSITE_REGION: s3.region,
          ...(s3.endpoint ? { RCLONE_CONFIG_OFFSITE_ENDPOINT: s3.endpoint } : {}),
        },
        secretEnv: {
          RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID: BACKUP_S3_SECRETS.accessKeyId,
          RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY: BACKUP_S3_SECRETS.secretAccessKey,
        },
        resources,
        volumes: [backupsVolume(backups), tmpVolume],
        schedule: s3.schedule,
        jobTimeoutSeconds: backups.timeoutMinutes * 60,
        network: { fromProxy: false, allowFrom: [], egressInternet: true },
        security: postgresUser,
        labels: { "ballast.dev/data-safety": "offsite" },
      }),
    );
  }

  if (backups.drill.enabled) {
    const drill = backups.drill;
    specs.push(
      workload({
        name: DRILL_JOB,
        component: "backups",
        role: "job",
        description: `Restores the newest backup into ${ctx.postgres.database}_restore_drill, compares row counts (±${drill.tolerancePercent}%) and freshness (RPO ${backups.rpoHours} h), ${drill.schedule} UTC`,
        image: backups.image,
        command: ["bash", `${SCRIPT_DIR}/restore-drill.sh`],
        env: {
          ...connectionEnv(ctx),
          EXTENSIONS: orderedExtensions(ctx.postgres.extensions).join(","),
          DRILL_TABLES: drill.tables.join(","),
          DRILL_TOLERANCE_PERCENT: String(drill.tolerancePercent),
          FRESHNESS_TABLE: drill.freshness?.table ?? "",
          FRESHNESS_COLUMN: drill.freshness?.column ?? "",
          RPO_HOURS: String(backups.rpoHours),
          DRILL_GOAL_SECONDS: String(drill.timeoutMinutes * 60),
          RESTORE_JOBS: String(Math.max(1, Math.min(4, Math.round(backups.resources.cpu * 2)))),
        },
        secretEnv: connectionSecretEnv(ctx),
        resources,
        sizedBy: "ballast:backups.resources",
        volumes: [backupsVolume(backups), tmpVolume],
        configFiles: scriptFiles("common.sh", "restore-drill.sh"),
        dependsOn: databaseDependency(ctx),
        network: { fromProxy: false, allowFrom: [], egressInternet: ctx.postgres.kind === "external" },
        schedule: drill.schedule,
        // The script fails a drill slower than the goal itself (and records why); the
        // hard limit is generous so that record gets written.
        jobTimeoutSeconds: drill.timeoutMinutes * 60 * 4,
        security: postgresUser,
        labels: { "ballast.dev/data-safety": "drill" },
      }),
    );
  }
  return specs;
}

/** Workloads that connect to Postgres: the Postgres spec's `network.allowFrom` must list them. */
export function backupPostgresClients(backups: BackupsConfig): string[] {
  if (!backups.enabled) return [];
  return [BACKUP_JOB, ...(backups.drill.enabled ? [DRILL_JOB] : [])];
}

/** What the migration job needs from the app. */
export interface MigrationApp {
  environment: Environment;
  image: ImageRef;
  /** The app's build when its image is built (renders show the repository instead of an unresolved digest). */
  builtFrom?: WorkloadSpec["builtFrom"];
  /** Workloads the migration waits for (the in-stack database). */
  dependsOn: string[];
  /** The app's user and hardening: the migration runs the app's image the same way. */
  security: SecuritySpec;
  env: Record<string, string>;
  secretEnv: Record<string, SecretName>;
  /** Limits; requests are half. */
  resources: { cpu: number; memoryMiB: number };
}

/**
 * The one-shot schema migration, run with the app's image and environment before
 * the app rolls out (no schedule: the target runs it once per deploy and waits for
 * it). Throws on prod for a schema push (see `checkMigrationSafety`).
 */
export function migrationWorkload(migration: MigrationConfig, app: MigrationApp): WorkloadSpec {
  const refusal = checkMigrationSafety(app.environment, migration.command);
  if (refusal) throw new Error(refusal);
  return workload({
    name: MIGRATION_JOB,
    component: "app",
    role: "job",
    description: `Schema migration before the app rolls out: ${migration.command.join(" ")}`,
    image: app.image,
    ...(app.builtFrom ? { builtFrom: app.builtFrom } : {}),
    command: [...migration.command],
    env: { ...app.env, HOME: "/tmp", npm_config_cache: "/tmp/.npm" },
    secretEnv: { ...app.secretEnv },
    resources: resourceSpec(app.resources),
    sizedBy: "ballast:app.resources",
    volumes: [tmpVolume],
    dependsOn: app.dependsOn,
    network: { fromProxy: false, allowFrom: [], egressInternet: true },
    jobTimeoutSeconds: migration.timeoutSeconds,
    security: app.security,
    labels: { "ballast.dev/data-safety": "migration" },
  });
}

/**
 * The pgvector ensure step: extensions and the HNSW index, applied after the
 * migration (tables exist by then). Idempotent; one-shot like the migration.
 */
export function pgvectorEnsureWorkload(
  hnsw: PgvectorIndexConfig | undefined,
  ctx: BackupContext & { postgres: { kind: "in-stack" } },
  options: {
    /** An image with psql (the backups image). */
    image?: ImageRef;
    /** Jobs that must complete first: the migration job when there is one. */
    after?: string[];
  } = {},
): WorkloadSpec {
  return workload({
    name: PGVECTOR_ENSURE_JOB,
    component: "postgres",
    role: "job",
    description: hnsw
      ? `Ensures extensions and the HNSW index on ${hnsw.table}(${hnsw.column}) after migrations`
      : "Ensures the database extensions after migrations",
    image: options.image ?? defaultImages.postgres,
    command: ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", `${SCRIPT_DIR}/pgvector.sql`],
    env: { ...connectionEnv(ctx), HOME: "/tmp" },
    secretEnv: { PGPASSWORD: POSTGRES_PASSWORD_SECRET },
    resources: resourceSpec({ cpu: 0.5, memoryMiB: 128 }),
    volumes: [tmpVolume],
    configFiles: [
      { name: "pgvector.sql", mountPath: `${SCRIPT_DIR}/pgvector.sql`, content: renderPgvectorSql(ctx.postgres.extensions, hnsw) },
    ],
    dependsOn: [...databaseDependency(ctx), ...(options.after ?? [])],
    // Building an HNSW index on a large table takes a while.
    jobTimeoutSeconds: 3600,
    security: postgresUser,
    labels: { "ballast.dev/data-safety": "pgvector" },
  });
}
