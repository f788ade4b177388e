/**
 * Observability: the monitoring set as one component (specs from ./index.ts), and the
 * context the renderers need, derived from the stack config in one place.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import type { SecretSpec, WorkloadSpec } from "../spec";
import type { ObservabilityContext } from "./context";
import { monitoringFootprint, monitoringSecrets, observabilityWorkloads, scrapedBy, tracingEnv } from "./index";

/** Pure: what the monitoring renderers know about the rest of the stack. */
export function observabilityContext(config: PlatformConfig): ObservabilityContext {
  return {
    target: config.target,
    environment: config.environment,
    project: config.target === "compose" ? config.compose.project : config.project,
    namespace: config.kubernetes.namespace,
    domain: config.domain,
    tls: config.tls,
    app: { name: "app", metricsPort: config.app.port, metricsPath: config.app.metricsPath, healthPath: config.app.healthPath },
    workers: config.workers.map((w) => ({ name: w.name, metrics: w.metrics })),
    postgres: { host: "postgres", port: 5432, database: config.postgres.database, user: config.postgres.user, maxConnections: config.postgres.maxConnections },
    redis: { host: "redis", port: 6379 },
    proxyName: "traefik",
  };
}

export class Observability extends pulumi.ComponentResource {
  readonly specs: WorkloadSpec[];
  readonly secrets: SecretSpec[];
  readonly context: ObservabilityContext;
  readonly grafanaUrl?: string;
  private readonly config: PlatformConfig;

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:observability:Observability", name, {}, opts);
    const { config } = args;
    this.config = config;
    this.context = observabilityContext(config);
    this.specs = config.monitoring.enabled ? observabilityWorkloads(config.monitoring, this.context) : [];
    this.secrets = config.monitoring.enabled ? monitoringSecrets(config.monitoring, this.context) : [];
    const grafana = this.specs.find((s) => s.name === "grafana");
    this.grafanaUrl = grafana?.route ? `${grafana.route.tls ? "https" : "http"}://${grafana.route.host}` : undefined;
    const footprint = monitoringFootprint(this.specs);
    this.registerOutputs({
      workloads: this.specs.map((s) => s.name),
      grafanaUrl: this.grafanaUrl ?? "disabled",
      memoryLimitMiB: footprint.limits.memoryMiB,
    });
  }

  /** Pure: the other workloads with monitoring's peers allowed in and tracing env handed to app and workers. */
  instrument(workloads: WorkloadSpec[]): WorkloadSpec[] {
    if (!this.config.monitoring.enabled) return workloads;
    const instrumented = workloads.map((w) =>
      w.component === "app" || w.component === "workers" ? { ...w, env: { ...w.env, ...tracingEnv(this.config.monitoring, this.context, w.name) } } : w,
    );
    return scrapedBy(instrumented, this.config.monitoring, this.context);
  }
}
