/**
 * Backups: the data-safety jobs of the stack as one component: the pre-deploy migration,
 * the pgvector ensure step, scheduled pg_dump with retention, the offsite copy and the
 * monthly restore drill (specs from ./index.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { stackEndpoints, stackNames } from "../names";
import { ACME_VOLUME } from "../proxy";
import type { WorkloadSpec } from "../spec";
import {
  BACKUP_JOB,
  DRILL_JOB,
  MIGRATION_JOB,
  backupWorkloads,
  migrationWorkload,
  pgvectorEnsureWorkload,
  type BackupContext,
} from "./index";

export interface BackupsArgs {
  /** Validated stack config: `backups`, `postgres`, `app.migration`. */
  config: PlatformConfig;
  /** The app's spec: the migration runs with its image, environment and secrets. */
  app: WorkloadSpec;
}

export class Backups extends pulumi.ComponentResource {
  /** Scheduled jobs (backup, offsite copy, drill). */
  readonly scheduled: WorkloadSpec[];
  /** One-shot jobs run on every deploy before the app rolls out (migration, pgvector ensure). */
  readonly beforeApp: WorkloadSpec[];

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:backups:Backups", name, {}, opts);
    const { config, app } = args;
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
    this.scheduled = backupWorkloads(config.backups, ctx);
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
    this.beforeApp = [migration, ensure].filter((w): w is WorkloadSpec => w !== undefined);
    this.registerOutputs({
      schedule: config.backups.enabled ? config.backups.schedule : "disabled",
      jobs: [...this.scheduled, ...this.beforeApp].map((w) => w.name),
      drill: this.scheduled.some((w) => w.name === DRILL_JOB),
      backup: this.scheduled.some((w) => w.name === BACKUP_JOB),
      encrypted: config.backups.enabled && config.backups.encryption !== undefined,
    });
  }
}
