/**
 * App: the web/API service. Public through the proxy, scraped by Prometheus when it
 * exposes metrics, autoscaled on Kubernetes, health-gated on both targets.
 */
import { builtFrom } from "./build";
import type { PlatformConfig } from "./config";
import { healthSpecs } from "./health";
import { stackNames } from "./names";
import { resourceSpec } from "./resources";
import { runAs, workload, type ImageRef, type WorkloadSpec } from "./spec";

/** Host name of the app route (`app.example.com`, or the apex when the sub-domain is empty). */
export function appHost(config: Pick<PlatformConfig, "domain" | "app">): string {
  return config.app.subdomain ? `${config.app.subdomain}.${config.domain}` : config.domain;
}

/** The datastores a workload of the app's kind waits for at start. */
export function datastoreDependencies(config: PlatformConfig): string[] {
  const names = stackNames(config);
  return [...(config.postgres.external ? [] : [names.postgres]), ...(config.redis.enabled ? [names.redis] : [])];
}

/**
 * The app's container ports: traffic, then metrics and health when they are served apart. The
 * deep-health probe (blackbox exporter) reaches the health port through the Service and the
 * NetworkPolicy, which open only the ports listed here.
 */
export function appPorts(port: number, metricsPort: number | undefined, healthPort: number | undefined): WorkloadSpec["ports"] {
  const ports: WorkloadSpec["ports"] = [{ name: "http", port }];
  if (metricsPort !== undefined && metricsPort !== port) ports.push({ name: "metrics", port: metricsPort });
  if (healthPort !== undefined && healthPort !== port && healthPort !== metricsPort) ports.push({ name: "health", port: healthPort });
  return ports;
}

/** Pure: the app's workload spec. `image` is the pinned image or the built one. */
export function appSpec(config: PlatformConfig, image: ImageRef): WorkloadSpec {
  const app = config.app;
  const metrics = app.metrics === false ? undefined : { port: app.metrics.port ?? app.port, path: app.metrics.path };
  return workload({
    name: app.name,
    component: "app",
    role: "stateless",
    description: "Web/API application",
    image,
    ...builtFrom(app.build),
    command: app.command,
    ports: appPorts(app.port, metrics?.port, app.health.port),
    env: { NODE_ENV: config.environment === "dev" ? "development" : "production", PORT: String(app.port), ...app.env },
    secretEnv: { ...app.secretEnv },
    ...healthSpecs(app.health, app.port),
    resources: resourceSpec(app.resources),
    sizedBy: "ballast:app.resources",
    replicas: app.autoscaling.enabled ? app.autoscaling.minReplicas : app.replicas,
    autoscaling: app.autoscaling.enabled
      ? {
          minReplicas: app.autoscaling.minReplicas,
          maxReplicas: app.autoscaling.maxReplicas,
          cpuTargetPercent: app.autoscaling.cpuTargetPercent,
        }
      : undefined,
    // Read-only root with a writable /tmp: Node/Next.js caches go there.
    volumes: [{ kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 512 }],
    route: { host: appHost(config), pathPrefix: "/", port: app.port, tls: config.tls },
    metrics,
    dependsOn: datastoreDependencies(config),
    network: { fromProxy: true, allowFrom: [], egressInternet: true },
    stopGracePeriodSeconds: app.stopGracePeriodSeconds,
    security: runAs(1000),
  });
}
