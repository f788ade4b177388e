/**
 * Redis: password always required, memory policy and persistence from config
 * (runbook: maxmemory 4gb, allkeys-lru, save "900 1 300 10 60 10000"), dangerous
 * commands disabled, `redis-cli ping` health.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import { resourceSpec } from "./resources";
import { healthCheck, runAs, workload, type WorkloadSpec } from "./spec";

/** Commands nobody should run against production through the app's credentials. */
export const disabledRedisCommands = ["FLUSHALL", "FLUSHDB", "DEBUG", "SHUTDOWN", "MONITOR"];

/** Pure: redis.conf without the password (that arrives as an environment secret). */
export function redisConf(config: PlatformConfig): string {
  const redis = config.redis;
  return [
    "# Rendered by Ballast. requirepass is passed on the command line from a secret.",
    "bind 0.0.0.0",
    "protected-mode yes",
    "port 6379",
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
    name: "redis",
    component: "redis",
    role: "stateful",
    description: `Redis (${config.redis.image}), maxmemory ${config.redis.maxmemory} ${config.redis.evictionPolicy}`,
    image: config.redis.image,
    // The password never lands in a file or ConfigMap: the shell reads it from the secret env.
    command: ["sh", "-c", 'exec redis-server /usr/local/etc/redis/redis.conf --requirepass "$REDIS_PASSWORD"'],
    ports: [{ name: "redis", port: 6379 }],
    secretEnv: { REDIS_PASSWORD: "redis-password" },
    health: healthCheck({ exec: ["sh", "-c", 'redis-cli --no-auth-warning -a "$REDIS_PASSWORD" ping | grep -q PONG'] }),
    resources: resourceSpec(config.redis.resources),
    volumes: [{ kind: "persistent", name: "redis-data", mountPath: "/data", sizeGiB: config.redis.storageGiB }],
    configFiles: [{ name: "redis.conf", mountPath: "/usr/local/etc/redis/redis.conf", content: redisConf(config) }],
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    security: runAs(999, 1000, 1000),
  });
}

export class Redis extends pulumi.ComponentResource {
  readonly spec: WorkloadSpec;
  readonly endpoint = "redis:6379";

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:redis:Redis", name, {}, opts);
    this.spec = redisSpec(args.config);
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
