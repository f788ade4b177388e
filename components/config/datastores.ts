/**
 * Schemas of `ballast:postgres` (with its pgvector HNSW index) and `ballast:redis`.
 * Defaults: ./defaults.ts.
 */
import { z } from "zod";
import { imageRef } from "./images";
import { dnsLabel, lowerSqlName, resources, sqlIdentifier, tableName } from "./primitives";

export const HNSW_OPCLASSES = [
  "vector_cosine_ops",
  "vector_l2_ops",
  "vector_ip_ops",
  "vector_l1_ops",
  "halfvec_cosine_ops",
  "halfvec_l2_ops",
  "halfvec_ip_ops",
] as const;

export function defaultIndexName(table: string, column: string): string {
  return `${table.split(".").pop()}_${column}_hnsw_idx`;
}

/** `ballast:postgres.hnswIndex`: a pgvector HNSW index ensured after every migration (nyxcore: m=16, ef_construction=64, cosine). */
export const pgvectorIndexSchema = z
  .strictObject({
    table: tableName,
    column: sqlIdentifier("column"),
    /** Index name; default `<table>_<column>_hnsw_idx`. */
    name: sqlIdentifier("name").optional(),
    /** Max connections per layer (pgvector: 2..100). */
    m: z.number().int().min(2).max(100),
    /** Candidate list size at build time (pgvector: 4..1000 and at least 2 × m). */
    efConstruction: z.number().int().min(4).max(1000),
    opclass: z.enum(HNSW_OPCLASSES),
  })
  .superRefine((value, ctx) => {
    if (value.efConstruction < 2 * value.m) {
      ctx.addIssue({
        code: "custom",
        path: ["efConstruction"],
        message: `must be at least 2 × m = ${2 * value.m} (pgvector refuses a smaller ef_construction)`,
      });
    }
    const name = value.name ?? defaultIndexName(value.table, value.column);
    if (name.length > 63) {
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: `the default index name "${name}" is longer than 63 characters: set a shorter name`,
      });
    }
  });

export const postgresSchema = z.strictObject({
  /**
   * A managed database (Supabase, RDS, Neon …) instead of the in-stack one: its connection URL
   * is the secret `database-url` (ballast:secretValues); no Postgres workload is deployed.
   */
  external: z.boolean(),
  /** Service / object name (the AI Training Portal's `db`). */
  name: dnsLabel,
  image: imageRef,
  database: lowerSqlName,
  /** The superuser Postgres is initialised with (`POSTGRES_USER`): Postgres itself, init, the restore drill and the pgvector step. */
  user: lowerSqlName,
  /**
   * The in-stack database's login roles besides the superuser, each with its own generated password:
   * `app` (owns the database and its schema; the app, workers, cron jobs and migrations),
   * `monitor` (pg_monitor: the postgres exporter), `backup` (pg_read_all_data: the backup job).
   */
  roles: z.strictObject({ app: lowerSqlName, monitor: lowerSqlName, backup: lowerSqlName }),
  storageGiB: z.number().int().min(1).max(65536),
  resources,
  /** Extensions created at init, `vector` first. */
  extensions: z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/, { message: 'must be an extension name such as "vector"' })),
  /** SQL run once when the database is created (RLS policies, roles …). */
  initSql: z.string(),
  maxConnections: z.number().int().min(10).max(10000),
  hnswIndex: pgvectorIndexSchema.optional(),
});

/** Redis memory sizes as redis.conf accepts them. */
const redisSize = z.string().regex(/^\d+(kb|mb|gb)$/, { message: 'must be a size like "256mb" or "4gb"' });
export const EVICTION_POLICIES = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
] as const;

export const redisSchema = z.strictObject({
  /** false: no Redis in the stack (and no REDIS_URL injected). */
  enabled: z.boolean(),
  name: dnsLabel,
  image: imageRef,
  maxmemory: redisSize,
  evictionPolicy: z.enum(EVICTION_POLICIES),
  /** RDB save policy, e.g. `900 1 300 10 60 10000`; "" disables snapshots. */
  save: z.string().regex(/^(\d+ \d+( \d+ \d+)*)?$/, {
    message: 'must be pairs of "<seconds> <changes>", e.g. "900 1 300 10 60 10000", or "" to disable snapshots',
  }),
  appendonly: z.boolean(),
  storageGiB: z.number().int().min(1).max(65536),
  resources,
});
