/**
 * Redis: password always required, memory policy and persistence from config
 * (runbook: maxmemory 4gb, allkeys-lru, save "900 1 300 10 60 10000"), dangerous
 * commands disabled, `redis-cli ping` health.
 */
import type { PlatformConfig } from "./config";
import { REDIS_PORT, stackEndpoints } from "./names";
import { resourceSpec } from "./resources";
import { healthCheck, runAs, workload, type WorkloadSpec } from "./spec";

/** The secret holding Redis' password (its container's REDIS_PASSWORD; KEDA and autoscale.sh read queues with it). */
export const REDIS_PASSWORD_SECRET = "redis-password";

/** Commands nobody should run against production through the app's credentials. */
export const disabledRedisCommands = ["FLUSHALL", "FLUSHDB", "DEBUG", "SHUTDOWN", "MONITOR"];

/** Pure: redis.conf without the password (that arrives as an environment secret). */
export function redisConf(config: PlatformConfig): string {
  const redis = config.redis;
  return [
    "# Rendered by Ballast. requirepass is passed on the command line from a secret.",
    "bind 0.0.0.0",
    "protected-mode yes",
    `port ${REDIS_PORT}`,
    "dir /data",
    `maxmemory ${redis.maxmemory}`,
    `maxmemory-policy ${redis.evictionPolicy}`,
    redis.save ? `save "${redis.save}"` : 'save ""',
    `appendonly ${redis.appendonly ? "yes" : "no"}`,
    "appendfsync everysec",
    ...disabledRedisCommands.map((command) => `rename-command ${command} ""`),
    "",
  ].join("\n");
}

/** Pure: the Redis workload spec. */
export function redisSpec(config: PlatformConfig): WorkloadSpec {
  return workload({
    name: config.redis.name,
    component: "redis",
    role: "stateful",
    description: `Redis (${config.redis.image}), maxmemory ${config.redis.maxmemory} ${config.redis.evictionPolicy}`,
    image: config.redis.image,
    // The password never lands in a file or ConfigMap: the shell reads it from the secret env.
    command: ["sh", "-c", 'exec redis-server /usr/local/etc/redis/redis.conf --requirepass "$REDIS_PASSWORD"'],
    ports: [{ name: "redis", port: REDIS_PORT }],
    secretEnv: { REDIS_PASSWORD: REDIS_PASSWORD_SECRET },
    // REDISCLI_AUTH, not -a: the password must not show in the process list.
    health: healthCheck({ exec: ["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG'] }),
    resources: resourceSpec(config.redis.resources),
    sizedBy: "ballast:redis.resources",
    volumes: [{ kind: "persistent", name: "redis-data", mountPath: "/data", sizeGiB: config.redis.storageGiB }],
    configFiles: [{ name: "redis.conf", mountPath: "/usr/local/etc/redis/redis.conf", content: redisConf(config) }],
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    security: runAs(999, 1000, 1000),
  });
}

/** Pure: the in-stack Redis, or none when `ballast:redis.enabled` is false. */
export function redisWorkloads(config: PlatformConfig): WorkloadSpec[] {
  return stackEndpoints(config).redis ? [redisSpec(config)] : [];
}
