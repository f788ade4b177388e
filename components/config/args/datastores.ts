/** The stack's datastores: Postgres with pgvector (in the stack or external) and Redis. */
import type { ResourcesArgs } from "./shared";

/** The in-stack database's login roles besides the superuser, each with its own generated password. */
export interface PostgresRolesArgs {
  /** Owns the database and its objects, no superuser; `database-url` logs in as it (app, workers, cron jobs, migrations). @default "ballast_app" */
  app?: string;
  /** `pg_monitor`: the postgres exporter logs in as it. @default "ballast_monitor" */
  monitor?: string;
  /** `pg_read_all_data` and `BYPASSRLS`: the backup job logs in as it. @default "ballast_backup" */
  backup?: string;
}

/**
 * A pgvector HNSW index ensured, idempotently, after every migration (nyxcore: m 16, ef_construction 64,
 * cosine). Only on the in-stack database: an external one's indexes are the migration's job.
 */
export interface HnswIndexArgs {
  /** Table of the vector column, optionally schema-qualified (`"documents"`, `"public.documents"`). @default none (required) */
  table: string;
  /** The vector column. @default none (required) */
  column: string;
  /** Index name (at most 63 characters). @default "<table>_<column>_hnsw_idx" */
  name?: string;
  /** Max connections per layer (pgvector: 2-100). @default 16 */
  m?: number;
  /** Candidate list size at build time (4-1000, at least 2 × `m`). @default 64 */
  efConstruction?: number;
  /** Operator class: the distance the index serves (`vector_*` or `halfvec_*`). @default "vector_cosine_ops" */
  opclass?:
    "vector_cosine_ops" | "vector_l2_ops" | "vector_ip_ops" | "vector_l1_ops" | "halfvec_cosine_ops" | "halfvec_l2_ops" | "halfvec_ip_ops";
}

/** Postgres with pgvector: a stateful workload of the stack, or an external managed database. */
export interface PostgresArgs {
  /**
   * Use a managed database (Supabase, RDS, Neon ...) instead of the in-stack one: its connection URL is
   * the secret `database-url` (required in `secretValues`) and no Postgres workload is deployed; backups
   * are off unless enabled.
   * @default false
   */
  external?: boolean;
  /** Service / object name, a DNS label (`"db"` for the AI Training Portal). @default "postgres" */
  name?: string;
  /** Pinned image (pgvector's, or one with the extensions you list). @default "pgvector/pgvector:0.8.0-pg16" */
  image?: string;
  /** Database created at init (a lower-case SQL name). @default "app" */
  database?: string;
  /** The superuser Postgres is initialised with (`POSTGRES_USER`): only Postgres itself, the restore drill and the pgvector step log in as it. @default "app" */
  user?: string;
  /** Names of the login roles the app, the exporter and the backup job use (ignored with `external`). @default see {@link PostgresRolesArgs} */
  roles?: PostgresRolesArgs;
  /** Size of the data volume in GiB. @default 5 (dev, small), 20 (staging), 200 (prod) */
  storageGiB?: number;
  /**
   * CPU and memory limits.
   * @default {cpu: 0.5, memory: "512Mi"} (dev), {cpu: 0.5, memory: "1536Mi"} (staging), {cpu: 4, memory: "16Gi"} (prod), {cpu: 0.3, memory: "256Mi"} (small)
   */
  resources?: ResourcesArgs;
  /** Extensions created at init, `vector` first. @default ["vector"] */
  extensions?: string[];
  /** SQL run once when the database is created (RLS policies, roles ...). @default "" */
  initSql?: string;
  /** `max_connections` (10-10000). @default 50 (dev), 100 (staging), 300 (prod), 20 (small) */
  maxConnections?: number;
  /** A pgvector HNSW index ensured after every migration. @default none (no index) */
  hnswIndex?: HnswIndexArgs;
}

/** Redis: a cache and queue store of the stack (or none). */
export interface RedisArgs {
  /** `false`: no Redis in the stack, no `REDIS_URL` injected, no exporter. @default true */
  enabled?: boolean;
  /** Service / object name, a DNS label. @default "redis" */
  name?: string;
  /** Pinned image. @default "redis:7.4.2-alpine" */
  image?: string;
  /** `maxmemory` as redis.conf takes it (`"256mb"`, `"4gb"`). @default "128mb" (dev), "512mb" (staging), "4gb" (prod), "24mb" (small) */
  maxmemory?: string;
  /** `maxmemory-policy`: what Redis evicts when it is full. @default "allkeys-lru" */
  evictionPolicy?:
    "noeviction" | "allkeys-lru" | "allkeys-lfu" | "allkeys-random" | "volatile-lru" | "volatile-lfu" | "volatile-random" | "volatile-ttl";
  /** RDB snapshot policy, pairs of `<seconds> <changes>`; `""` disables snapshots. @default "900 1 300 10 60 10000" */
  save?: string;
  /** Append-only-file persistence. @default false */
  appendonly?: boolean;
  /** Size of the data volume in GiB. @default 1 (dev, small), 2 (staging), 20 (prod) */
  storageGiB?: number;
  /**
   * CPU and memory limits.
   * @default {cpu: 0.25, memory: "192Mi"} (dev), {cpu: 0.25, memory: "768Mi"} (staging), {cpu: 2, memory: "5Gi"} (prod), {cpu: 0.1, memory: "48Mi"} (small)
   */
  resources?: ResourcesArgs;
}
