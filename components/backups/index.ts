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
  BACKUP_ENCRYPTION_IDENTITY_SECRET,
  BACKUP_S3_SECRETS,
  checkMigrationSafety,
  defaultImages,
  type BackupsConfig,
  type Environment,
  type MigrationConfig,
  type PgvectorIndexConfig,
} from "../config";
import type { PostgresEndpoint } from "../names";
import { declaredExtensions, renderPgvectorSql } from "./pgvector";
import { PROXY_UID } from "../proxy";

export { declaredExtensions, orderedExtensions, renderPgvectorSql } from "./pgvector";

export interface BackupContext {
  environment: Environment;
  /** Where the jobs run: file ownership on a Compose host decides their user (see jobUser); absent: as on Kubernetes. */
  target?: "compose" | "kubernetes";
  /** The in-stack Redis the backup snapshots (only when `backups.redis`). */
  redis?: { host: string; port: number };
  /**
   * Compose with TLS: the volume holding Traefik's acme.json (ACME account key and certificates),
   * archived with the stack config. Not on Kubernetes: there it sits on the Traefik pod's
   * ReadWriteOnce claim (or in a cluster-wide ingress controller) that a job cannot share.
   */
  acmeVolume?: { name: string; sizeGiB: number };
  /** Workload name of the in-stack Redis, which the backup waits for when it snapshots it. */
  redisService?: string;
  /** The database: in-stack (host and port), or external (its URL is the `database-url` secret). */
  postgres: PostgresEndpoint & {
    /** Extensions of the database; the drill and a restore create them first (`vector` first when declared). */
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
/** Secret holding the superuser's password: the drill (it creates a database with extensions) and the pgvector step. */
export const POSTGRES_PASSWORD_SECRET: SecretName = "postgres-password";
/** Secret holding the backup role's password (pg_read_all_data): the backup job. */
export const POSTGRES_BACKUP_PASSWORD_SECRET: SecretName = "postgres-backup-password";
/** Secret holding an external database's connection URL. */
export const DATABASE_URL_SECRET: SecretName = "database-url";

/** The Redis password, read by redis-cli from REDISCLI_AUTH (never -a: it would show in the process list). */
export const REDIS_PASSWORD_SECRET: SecretName = "redis-password";
/** Where the backup job sees the stack's non-secret config (and, on Compose, acme/acme.json). */
export const STACK_CONFIG_MOUNT = "/stack";
/** Where the drill, and only the drill, sees the age identity. */
export const ENCRYPTION_IDENTITY_FILE = "/run/ballast/backup-encryption-identity";

/** Workload names, fixed: the docs' commands use them (`docker compose run --rm backup`). */
export const BACKUP_JOB = "backup";
export const OFFSITE_JOB = "backup-offsite";
export const DRILL_JOB = "restore-drill";
export const MIGRATION_JOB = "migrate";
export const PGVECTOR_ENSURE_JOB = "pgvector-ensure";

/** uid/gid of `postgres` in the official (Debian) postgres and pgvector images. */
const POSTGRES_UID = 999;

/** The job scripts shipped under ./scripts. */
type ScriptName = "common.sh" | "backup.sh" | "restore-drill.sh";

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

function backupsVolume(backups: BackupsConfig, ctx: BackupContext): VolumeSpec {
  return { kind: "persistent", name: BACKUP_VOLUME, mountPath: BACKUP_MOUNT, sizeGiB: backups.storageGiB, ...backupsOwner(ctx) };
}

const tmpVolume: VolumeSpec = { kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 };

/**
 * Who a job logs in as on the in-stack database: the backup job as the backup role (it only
 * reads, and records its run); the drill and the pgvector step as the superuser (they create a
 * database or extensions, which pgvector allows only the superuser).
 */
type JobLogin = "backup" | "superuser";

/** libpq environment of the jobs: host and port in-stack; an external database's come from DATABASE_URL (common.sh). */
function connectionEnv(ctx: BackupContext, login: JobLogin): Record<string, string> {
  const pg = ctx.postgres;
  return {
    ...(pg.kind === "in-stack"
      ? { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: login === "backup" ? pg.roles.backup : pg.user, PGDATABASE: pg.database }
      : {}),
    PGCONNECT_TIMEOUT: "15",
    BACKUP_DIR: BACKUP_MOUNT,
    HOME: "/tmp",
  };
}

/** The credential secret of the jobs: the login's password in-stack, the whole URL for an external database. */
function connectionSecretEnv(ctx: BackupContext, login: JobLogin): Record<string, SecretName> {
  if (ctx.postgres.kind !== "in-stack") return { DATABASE_URL: DATABASE_URL_SECRET };
  return { PGPASSWORD: login === "backup" ? POSTGRES_BACKUP_PASSWORD_SECRET : POSTGRES_PASSWORD_SECRET };
}

function databaseDependency(ctx: BackupContext): string[] {
  return ctx.postgres.kind === "in-stack" && ctx.postgres.service ? [ctx.postgres.service] : [];
}

/**
 * The jobs' user. Kubernetes: the postgres uid with fsGroup, so the claim is theirs. Compose:
 * Traefik's uid, never root: the backup archives acme.json, which Traefik keeps at mode 0600
 * (it refuses a group-readable one), and a non-root container cannot be given
 * CAP_DAC_READ_SEARCH (Docker sets no ambient capabilities, moby/moby#50083). The backups
 * volume is given to the same uid before a release starts (components/volume-owners.ts).
 */
function jobUser(ctx: BackupContext): SecuritySpec {
  if (ctx.target !== "compose") return postgresUser;
  return { ...postgresUser, runAsUser: PROXY_UID, runAsGroup: PROXY_UID, fsGroup: PROXY_UID };
}

/** Compose: the backups volume belongs to the jobs' user (Docker creates it root-owned). */
function backupsOwner(ctx: BackupContext): { owner?: { uid: number; gid: number } } {
  return ctx.target === "compose" ? { owner: { uid: PROXY_UID, gid: PROXY_UID } } : {};
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

/** The stack's config, read-only, and on Compose with TLS Traefik's ACME store under it. */
function stackConfigVolumes(backups: BackupsConfig, ctx: BackupContext): VolumeSpec[] {
  if (!backups.config) return [];
  const acme = ctx.target === "compose" ? ctx.acmeVolume : undefined;
  return [
    { kind: "stack-config", name: "stack-config", mountPath: STACK_CONFIG_MOUNT, readOnly: true },
    ...(acme
      ? [{ kind: "persistent" as const, name: acme.name, mountPath: `${STACK_CONFIG_MOUNT}/acme`, sizeGiB: acme.sizeGiB, readOnly: true }]
      : []),
  ];
}

/**
 * What the offsite job copies, anchored to the top of the volume (a drill's work directory
 * below it is never copied). Encrypted: only the .age files and their sums, so nothing
 * readable without the private key ever leaves the host.
 */
function offsiteIncludes(backups: BackupsConfig): string[] {
  if (backups.encryption) return ["/*.age", "/*.age.sha256"];
  return ["/*.dump", "/*.redis.rdb", "/*.config.tar.gz", "/*.sha256"];
}

/**
 * The backup CronJobs: `backup` (pg_dump + retention), `backup-offsite` (when
 * `s3` is set) and `restore-drill` (when `drill.enabled`). Empty when backups are
 * disabled.
 */
export function backupWorkloads(backups: BackupsConfig, ctx: BackupContext): WorkloadSpec[] {
  if (!backups.enabled) return [];
  const resources = resourceSpec(backups.resources);
  const specs: WorkloadSpec[] = [];
  const redis = backups.redis ? ctx.redis : undefined;
  const parts = ["pg_dump", ...(redis ? ["Redis RDB"] : []), ...(backups.config ? ["stack config"] : [])].join(" + ");

  specs.push(
    workload({
      name: BACKUP_JOB,
      component: "backups",
      role: "job",
      description: `${parts} of ${ctx.postgres.database}${backups.encryption ? ", age-encrypted," : ""} to the backups volume, ${backups.schedule} UTC; keeps ${backups.retention.daily} daily, ${backups.retention.weekly} weekly, ${backups.retention.monthly} monthly`,
      image: backups.image,
      command: ["bash", `${SCRIPT_DIR}/backup.sh`],
      env: {
        ...connectionEnv(ctx, "backup"),
        RETAIN_DAILY: String(backups.retention.daily),
        RETAIN_WEEKLY: String(backups.retention.weekly),
        RETAIN_MONTHLY: String(backups.retention.monthly),
        ...(redis ? { REDIS_HOST: redis.host, REDIS_PORT: String(redis.port) } : {}),
        ...(backups.config ? { STACK_CONFIG_DIR: STACK_CONFIG_MOUNT } : {}),
        ...(backups.encryption ? { ENCRYPTION_RECIPIENT: backups.encryption.recipient } : {}),
      },
      secretEnv: { ...connectionSecretEnv(ctx, "backup"), ...(redis ? { REDISCLI_AUTH: REDIS_PASSWORD_SECRET } : {}) },
      resources,
      sizedBy: "ballast:backups.resources",
      volumes: [backupsVolume(backups, ctx), tmpVolume, ...stackConfigVolumes(backups, ctx)],
      configFiles: scriptFiles("common.sh", "backup.sh"),
      dependsOn: [...databaseDependency(ctx), ...(redis && ctx.redisService ? [ctx.redisService] : [])],
      network: { fromProxy: false, allowFrom: [], egressInternet: ctx.postgres.kind === "external" },
      schedule: backups.schedule,
      jobTimeoutSeconds: backups.timeoutMinutes * 60,
      security: jobUser(ctx),
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
        description: `Copies new backup sets${backups.encryption ? " (age-encrypted files only)" : ""} from the backups volume to s3://${s3.bucket}/${s3.prefix} (rclone copy --immutable: never deletes or overwrites offsite)`,
        image: s3.image,
        command: ["rclone"],
        args: [
          "copy",
          BACKUP_MOUNT,
          remote,
          ...offsiteIncludes(backups).flatMap((pattern) => ["--include", pattern]),
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
        volumes: [backupsVolume(backups, ctx), tmpVolume],
        schedule: s3.schedule,
        jobTimeoutSeconds: backups.timeoutMinutes * 60,
        network: { fromProxy: false, allowFrom: [], egressInternet: true },
        security: jobUser(ctx),
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
        description: `Restores the newest backup${backups.encryption ? " (decrypted with its own identity)" : ""} into ${ctx.postgres.database}_restore_drill, compares row counts (±${drill.tolerancePercent}%) and freshness (RPO ${backups.rpoHours} h)${redis ? ", loads the Redis snapshot" : ""}${backups.config ? ", lists the config archive" : ""}, ${drill.schedule} UTC`,
        image: backups.image,
        command: ["bash", `${SCRIPT_DIR}/restore-drill.sh`],
        env: {
          ...connectionEnv(ctx, "superuser"),
          EXTENSIONS: declaredExtensions(ctx.postgres.extensions).join(","),
          DRILL_TABLES: drill.tables.join(","),
          DRILL_TOLERANCE_PERCENT: String(drill.tolerancePercent),
          FRESHNESS_TABLE: drill.freshness?.table ?? "",
          FRESHNESS_COLUMN: drill.freshness?.column ?? "",
          RPO_HOURS: String(backups.rpoHours),
          DRILL_GOAL_SECONDS: String(drill.timeoutMinutes * 60),
          RESTORE_JOBS: String(Math.max(1, Math.min(4, Math.round(backups.resources.cpu * 2)))),
          EXPECT_REDIS: redis ? "1" : "0",
          EXPECT_CONFIG: backups.config ? "1" : "0",
          ...(backups.encryption ? { ENCRYPTION_IDENTITY_FILE } : {}),
        },
        secretEnv: connectionSecretEnv(ctx, "superuser"),
        // The private key reaches the drill and nothing else: the backup job only ever sees the public key.
        secretFiles: backups.encryption ? [{ secret: BACKUP_ENCRYPTION_IDENTITY_SECRET, mountPath: ENCRYPTION_IDENTITY_FILE }] : [],
        resources,
        sizedBy: "ballast:backups.resources",
        volumes: [backupsVolume(backups, ctx), tmpVolume],
        configFiles: scriptFiles("common.sh", "restore-drill.sh"),
        dependsOn: databaseDependency(ctx),
        network: { fromProxy: false, allowFrom: [], egressInternet: ctx.postgres.kind === "external" },
        schedule: drill.schedule,
        // The script fails a drill slower than the goal itself (and records why); the
        // hard limit is generous so that record gets written.
        jobTimeoutSeconds: drill.timeoutMinutes * 60 * 4,
        security: jobUser(ctx),
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
    env: { ...connectionEnv(ctx, "superuser"), HOME: "/tmp" },
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
