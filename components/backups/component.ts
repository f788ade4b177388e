/**
 * Backups: the data-safety jobs of the stack: the pre-deploy migration,
 * the pgvector ensure step, scheduled pg_dump with retention, the offsite copy and the
 * monthly restore drill (specs from ./index.ts).
 */
import type { PlatformConfig } from "../config";
import { stackEndpoints, stackNames } from "../names";
import { ACME_VOLUME } from "../proxy";
import type { WorkloadSpec } from "../spec";
import { MIGRATION_JOB, backupWorkloads, migrationWorkload, pgvectorEnsureWorkload, type BackupContext } from "./index";

/** The data-safety jobs of a stack, by when they run. */
export interface BackupJobs {
  /** Scheduled jobs (backup, offsite copy, drill). */
  scheduled: WorkloadSpec[];
  /** One-shot jobs run on every deploy before the app rolls out (migration, pgvector ensure). */
  beforeApp: WorkloadSpec[];
}

/**
 * Pure: the stack's data-safety jobs. `app` is the app's spec: the migration runs with its image,
 * environment and secrets.
 */
export function backupJobs(config: PlatformConfig, app: WorkloadSpec): BackupJobs {
  const endpoint = stackEndpoints(config).postgres;
  const redis = stackEndpoints(config).redis;
  const ctx: BackupContext = {
    environment: config.environment,
    target: config.target,
    ...(redis ? { redis, redisService: stackNames(config).redis } : {}),
    // Compose always runs Traefik; acme.json exists only with TLS.
    ...(config.target === "compose" && config.tls ? { acmeVolume: ACME_VOLUME } : {}),
    postgres: {
      ...endpoint,
      extensions: config.postgres.extensions,
      service: endpoint.kind === "in-stack" ? stackNames(config).postgres : undefined,
    },
  };
  const migration = config.app.migration
    ? migrationWorkload(config.app.migration, {
        environment: config.environment,
        image: app.image,
        builtFrom: app.builtFrom,
        env: app.env,
        secretEnv: app.secretEnv,
        resources: app.resources.limits,
        dependsOn: app.dependsOn,
        security: app.security,
      })
    : undefined;
  const inStack = ctx.postgres.kind === "in-stack" ? (ctx as BackupContext & { postgres: { kind: "in-stack" } }) : undefined;
  const ensure =
    config.postgres.hnswIndex && inStack
      ? pgvectorEnsureWorkload(config.postgres.hnswIndex, inStack, {
          image: config.backups.image,
          after: migration ? [MIGRATION_JOB] : [],
        })
      : undefined;
  return {
    scheduled: backupWorkloads(config.backups, ctx),
    beforeApp: [migration, ensure].filter((w): w is WorkloadSpec => w !== undefined),
  };
}
