/**
 * The typed, validated stack configuration, derived from the schemas (never re-declared).
 * `parsePlatformConfig` (./load.ts) is the only producer; components consume these types
 * and never read Pulumi config themselves. Field documentation lives on the schemas.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { backupsSchema } from "./backups";
import type { bootstrapSchema, composeSchema, maintenanceSchema, sshSchema } from "./compose";
import type { pgvectorIndexSchema, postgresSchema, redisSchema } from "./datastores";
import type { hostSchema, registrySchema } from "./host";
import type { kubernetesSchema } from "./kubernetes";
import type { monitoringSchema, receiverSchema } from "./monitoring";
import type { resources } from "./primitives";
import type { proxySchema } from "./proxy";
import type { RepositoryFiles } from "./repository-files";
import type { platformInputSchema } from "./schema";
import type { appSchema, buildSchema, cronJobSchema, extraServiceSchema, healthSchema, migrationSchema, workerSchema } from "./workloads";

export type { Environment, TargetKind } from "./environment";
export type PlatformInput = z.output<typeof platformInputSchema>;

export type Resources = z.output<typeof resources>;
export type Autoscaling = AppConfig["autoscaling"];
export type ImageBuild = z.output<typeof buildSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
export type AppConfig = z.output<typeof appSchema>;
export type MigrationConfig = z.output<typeof migrationSchema>;
export type WorkerConfig = z.output<typeof workerSchema>;
export type CronJobConfig = z.output<typeof cronJobSchema>;
export type ExtraServiceConfig = z.output<typeof extraServiceSchema>;
export type PostgresConfig = z.output<typeof postgresSchema>;
export type PgvectorIndexConfig = z.output<typeof pgvectorIndexSchema>;
export type RedisConfig = z.output<typeof redisSchema>;
export type ProxyConfig = z.output<typeof proxySchema>;
export type SshConnection = z.output<typeof sshSchema>;
export type BootstrapConfig = z.output<typeof bootstrapSchema>;
export type MaintenanceConfig = z.output<typeof maintenanceSchema>;
export type ComposeConfig = z.output<typeof composeSchema>;
export type KubernetesConfig = z.output<typeof kubernetesSchema>;
export type HostSize = z.output<typeof hostSchema>;
export type RegistryConfig = z.output<typeof registrySchema>;
export type BackupsConfig = z.output<typeof backupsSchema>;
export type MonitoringConfig = z.output<typeof monitoringSchema>;
export type ReceiverConfig = z.output<typeof receiverSchema>;
export type AlertsConfig = MonitoringConfig["alerts"];
export type AppMetricNames = AlertsConfig["metrics"];
export type ErrorsMetric = AppMetricNames["errorsTotal"];
export type { RepositoryFiles, RuleGroup, TeamDashboard, TeamRuleFile, RuleTestFile } from "./repository-files";
export type AlertRouteConfig = MonitoringConfig["alertmanager"]["routes"][number];
export type SloConfig = MonitoringConfig["slos"][number];

/** The whole validated stack: the `ballast:` namespace plus the Pulumi project and stack names. */
export type PlatformConfig = PlatformInput & {
  /** Pulumi project name. */
  project: string;
  /** Pulumi stack name. */
  stack: string;
  /** The repository files the config names (dashboards, rule files, rule tests), read and checked. */
  repositoryFiles: RepositoryFiles;
};

/** Secret inputs read from config; always Pulumi secrets, never plain values. */
export interface SecretConfig {
  /** SSH private key for the Compose host (`ballast:sshPrivateKey`). */
  sshPrivateKey?: pulumi.Output<string>;
  /** SSH private key of the host bootstrap's admin user (`ballast:bootstrapSshPrivateKey`), never the deploy key. */
  bootstrapSshPrivateKey?: pulumi.Output<string>;
  /** Supplied secret values by secret name (`ballast:secretValues`). */
  values: Record<string, pulumi.Output<string>>;
}
