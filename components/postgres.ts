/**
 * Postgres with pgvector: extensions created at init (vector first, before any table
 * that uses it), the stack's init SQL (e.g. RLS policies), scram-sha-256 auth,
 * `pg_isready` health, and retained persistent storage.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { healthCheck, workload, type WorkloadSpec } from "./spec";

/** Pure: SQL run once at initialisation: extensions first, then the stack's own SQL. */
export function postgresInitSql(extensions: string[], initSql: string): { name: string; content: string }[] {
  const ordered = ["vector", ...extensions.filter((e) => e !== "vector")].filter((e) => extensions.includes(e));
  const files = [
    {
      name: "00-extensions.sql",
      content: `-- Rendered by Ballast: extensions exist before any table that uses them.\n${ordered
        .map((e) => `CREATE EXTENSION IF NOT EXISTS ${e};`)
        .join("\n")}\n`,
    },
  ];
  if (initSql.trim()) files.push({ name: "10-init.sql", content: initSql.endsWith("\n") ? initSql : `${initSql}\n` });
  return files;
}

/** Pure: the Postgres workload spec. */
export function postgresSpec(config: PlatformConfig): WorkloadSpec {
  const pg = config.postgres;
  return workload({
    name: "postgres",
    component: "postgres",
    role: "stateful",
    description: `PostgreSQL (${pg.image}) with ${pg.extensions.join(", ") || "no extensions"}`,
    image: pg.image,
    args: ["postgres", "-c", `max_connections=${pg.maxConnections}`, "-c", "password_encryption=scram-sha-256"],
    ports: [{ name: "postgres", port: 5432 }],
    env: {
      POSTGRES_DB: pg.database,
      POSTGRES_USER: pg.user,
      // A sub-directory: a fresh volume's lost+found must not sit in the data directory.
      PGDATA: "/var/lib/postgresql/data/pgdata",
      POSTGRES_INITDB_ARGS: "--auth-host=scram-sha-256 --auth-local=scram-sha-256",
      POSTGRES_HOST_AUTH_METHOD: "scram-sha-256",
    },
    secretEnv: { POSTGRES_PASSWORD: "postgres-password" },
    health: healthCheck({ exec: ["pg_isready", "-U", pg.user, "-d", pg.database, "-h", "127.0.0.1"] }, { startPeriodSeconds: 60 }),
    resources: resourceSpec(pg.resources),
    volumes: [
      { kind: "persistent", name: "postgres-data", mountPath: "/var/lib/postgresql/data", sizeGiB: pg.storageGiB },
      { kind: "scratch", name: "run", mountPath: "/var/run/postgresql", sizeMiB: 16 },
      { kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 },
    ],
    configFiles: postgresInitSql(pg.extensions, pg.initSql).map((file) => ({
      name: file.name,
      mountPath: `/docker-entrypoint-initdb.d/${file.name}`,
      content: file.content,
    })),
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    stopGracePeriodSeconds: 120,
    security: { runAsUser: 999, runAsGroup: 999, fsGroup: 999, readOnlyRootFilesystem: true, addCapabilities: [], runAsRoot: false, privileged: false, hostPid: false, hostNetwork: false },
  });
}

export class Postgres extends pulumi.ComponentResource {
  readonly spec: WorkloadSpec;
  /** In-stack connection endpoint (credentials stay in the `database-url` secret). */
  readonly endpoint: string;

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:postgres:Postgres", name, {}, opts);
    this.spec = postgresSpec(args.config);
    this.endpoint = `postgres:5432/${args.config.postgres.database}`;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
