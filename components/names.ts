/**
 * The one typed source of the stack's built-in workload names and in-stack endpoints.
 * The app, database and cache names are the stack's choice (`ballast:app.name`,
 * `ballast:postgres.name`, `ballast:redis.name`: the AI Training Portal runs `web` and
 * `db`); every component and target asks here instead of writing "app", "postgres",
 * "redis", 5432 or 6379.
 */
import type { PlatformConfig } from "./config";

export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;
/** The reverse proxy's workload name (Traefik). */
export const PROXY_NAME = "traefik";

export interface StackNames {
  app: string;
  postgres: string;
  redis: string;
  proxy: string;
}

export function stackNames(config: Pick<PlatformConfig, "app" | "postgres" | "redis">): StackNames {
  return { app: config.app.name, postgres: config.postgres.name, redis: config.redis.name, proxy: PROXY_NAME };
}

/** Where the stack's Postgres answers: in-stack, or an external (managed) database reached through `database-url`. */
export type PostgresEndpoint =
  | {
      kind: "in-stack";
      host: string;
      port: number;
      database: string;
      /** The superuser (`ballast:postgres.user`). */
      user: string;
      /** The login roles of the stack's clients (`ballast:postgres.roles`): app, postgres exporter, backup job. */
      roles: { app: string; monitor: string; backup: string };
    }
  | { kind: "external"; database: string; user: string };

export interface StackEndpoints {
  postgres: PostgresEndpoint;
  /** Absent when `ballast:redis.enabled` is false. */
  redis?: { host: string; port: number };
}

export function stackEndpoints(config: Pick<PlatformConfig, "app" | "postgres" | "redis">): StackEndpoints {
  const names = stackNames(config);
  const { database, user } = config.postgres;
  return {
    postgres: config.postgres.external
      ? { kind: "external", database, user }
      : { kind: "in-stack", host: names.postgres, port: POSTGRES_PORT, database, user, roles: { ...config.postgres.roles } },
    redis: config.redis.enabled ? { host: names.redis, port: REDIS_PORT } : undefined,
  };
}
