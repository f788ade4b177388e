/**
 * Defaults per environment, in one place. Stack files only say what differs.
 * prod follows the NomosX runbook (API 2 CPU / 4 GiB, HPA 3-10 at 70 %; workers 4 CPU / 8 GiB,
 * HPA 5-20 at 80 %); staging is sized so app, workers, datastores and monitoring fit a
 * 4 vCPU / 8 GiB VPS; dev fits a laptop.
 */
import { bootstrapDefaults } from "../host/config";
import type { Environment } from "./types";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

interface Sizing {
  app: { cpu: number; memory: string; replicas: number; autoscaling: JsonObject };
  worker: { cpu: number; memory: string; replicas: number; autoscaling: JsonObject };
  cron: { cpu: number; memory: string };
  postgres: { cpu: number; memory: string; storageGiB: number; maxConnections: number };
  redis: { cpu: number; memory: string; maxmemory: string; storageGiB: number };
  service: { cpu: number; memory: string };
  proxy: { cpu: number; memory: string };
}

const sizing: Record<Environment, Sizing> = {
  dev: {
    app: { cpu: 0.5, memory: "512Mi", replicas: 1, autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 2, cpuTargetPercent: 70 } },
    worker: { cpu: 0.5, memory: "512Mi", replicas: 1, autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 2, cpuTargetPercent: 80 } },
    cron: { cpu: 0.25, memory: "256Mi" },
    postgres: { cpu: 0.5, memory: "512Mi", storageGiB: 5, maxConnections: 50 },
    redis: { cpu: 0.25, memory: "192Mi", maxmemory: "128mb", storageGiB: 1 },
    service: { cpu: 0.5, memory: "512Mi" },
    proxy: { cpu: 0.25, memory: "128Mi" },
  },
  staging: {
    app: { cpu: 0.5, memory: "1Gi", replicas: 1, autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 3, cpuTargetPercent: 70 } },
    worker: { cpu: 0.5, memory: "1Gi", replicas: 1, autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 3, cpuTargetPercent: 80 } },
    cron: { cpu: 0.25, memory: "256Mi" },
    postgres: { cpu: 0.5, memory: "1536Mi", storageGiB: 20, maxConnections: 100 },
    redis: { cpu: 0.25, memory: "768Mi", maxmemory: "512mb", storageGiB: 2 },
    service: { cpu: 0.25, memory: "512Mi" },
    proxy: { cpu: 0.25, memory: "256Mi" },
  },
  prod: {
    app: { cpu: 2, memory: "4Gi", replicas: 3, autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 10, cpuTargetPercent: 70 } },
    worker: { cpu: 4, memory: "8Gi", replicas: 5, autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 20, cpuTargetPercent: 80 } },
    cron: { cpu: 0.5, memory: "1Gi" },
    postgres: { cpu: 4, memory: "16Gi", storageGiB: 200, maxConnections: 300 },
    redis: { cpu: 2, memory: "5Gi", maxmemory: "4gb", storageGiB: 20 },
    service: { cpu: 1, memory: "2Gi" },
    proxy: { cpu: 1, memory: "512Mi" },
  },
};

/** Pinned default images (runbook versions; Traefik pinned instead of the runbook's `latest`). */
export const defaultImages = {
  postgres: "pgvector/pgvector:pg16",
  redis: "redis:7-alpine",
  traefik: "traefik:v3.2.3",
} as const;

/** Top-level defaults for an environment (lists are filled per item by `itemDefaults`). */
export function environmentDefaults(environment: Environment, stack: string, project: string): JsonObject {
  const size = sizing[environment];
  const local = environment === "dev";
  return {
    target: local ? "compose" : environment === "prod" ? "kubernetes" : "compose",
    domain: local ? "localhost" : "example.com",
    acmeEmail: "",
    tls: !local,
    allowDataLoss: false,
    compose: {
      mode: local ? "local" : "ssh",
      project,
      localDir: `.ballast/${stack}`,
      keepReleases: 5,
      deployTimeoutSeconds: 300,
      composeCommand: "docker compose",
      bootstrap: bootstrapDefaults(environment) as unknown as JsonObject,
    },
    kubernetes: {
      namespace: project,
      storageClass: "",
      ingressClass: "traefik",
      deployTraefik: true,
      context: "",
      renderYamlToDirectory: "",
      ingressControllerNamespace: "kube-system",
    },
    app: {
      port: 3000,
      healthPath: "/api/health",
      metricsPath: "/api/v1/metrics",
      subdomain: local ? "" : "app",
      replicas: size.app.replicas,
      resources: { cpu: size.app.cpu, memory: size.app.memory },
      autoscaling: size.app.autoscaling,
      env: {},
      secretEnv: {},
    },
    workers: [],
    cronJobs: [],
    postgres: {
      image: defaultImages.postgres,
      database: "app",
      user: "app",
      storageGiB: size.postgres.storageGiB,
      resources: { cpu: size.postgres.cpu, memory: size.postgres.memory },
      extensions: ["vector"],
      initSql: "",
      maxConnections: size.postgres.maxConnections,
    },
    redis: {
      image: defaultImages.redis,
      maxmemory: size.redis.maxmemory,
      evictionPolicy: "allkeys-lru",
      save: "900 1 300 10 60 10000",
      appendonly: false,
      storageGiB: size.redis.storageGiB,
      resources: { cpu: size.redis.cpu, memory: size.redis.memory },
    },
    services: [],
    proxy: {
      image: defaultImages.traefik,
      resources: { cpu: size.proxy.cpu, memory: size.proxy.memory },
      httpPort: local ? 8080 : 80,
      httpsPort: local ? 8443 : 443,
      bindAddress: "",
      acmeStaging: false,
    },
    secrets: {},
    rotation: {},
    host: { cpus: 4, memoryGiB: 8 },
    // Defaults of backups live in its schema (components/backups/config.ts).
    backups: {},
    // Sizes of monitoring depend on the environment: applied after parsing (components/observability/config.ts).
    monitoring: {},
  };
}

/** Defaults for one item of a list key (`workers`, `cronJobs`, `services`), given the app image. */
export function itemDefaults(environment: Environment, list: "workers" | "cronJobs" | "services", appImage: Json): JsonObject {
  const size = sizing[environment];
  switch (list) {
    case "workers":
      return {
        image: appImage,
        replicas: size.worker.replicas,
        resources: { cpu: size.worker.cpu, memory: size.worker.memory },
        autoscaling: size.worker.autoscaling,
        env: {},
        secretEnv: {},
      };
    case "cronJobs":
      return { image: appImage, resources: { cpu: size.cron.cpu, memory: size.cron.memory }, timeoutSeconds: 3600, env: {}, secretEnv: {} };
    case "services":
      return { resources: { cpu: size.service.cpu, memory: size.service.memory }, env: {}, secretEnv: {}, allowFrom: [] };
  }
}

/** Default SSH connection settings, merged under `ballast:compose.ssh` when it is given. */
export const sshDefaults: JsonObject = { port: 22, user: "deploy", remoteDir: "/opt/ballast", dialTimeoutSeconds: 10, dialAttempts: 3 };
