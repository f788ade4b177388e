/**
 * Observability: the monitoring set as one component (specs from ./index.ts), and the
 * context the renderers need, derived from the stack config in one place.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { PROXY_NAME, stackEndpoints, stackNames } from "../names";
import type { SecretSpec, WorkloadSpec } from "../spec";
import { monitoringNames, type ObservabilityContext } from "./context";
import {
  monitoringFootprint,
  monitoringSecrets,
  observabilityWorkloads,
  scrapedBy,
  tracedWorkloads,
  tracingEnv,
  withTracingEnv,
} from "./index";

/** Pure: what the monitoring renderers know about the rest of the stack. */
export function observabilityContext(config: PlatformConfig): ObservabilityContext {
  const endpoints = stackEndpoints(config);
  const app = config.app;
  const health = app.health;
  const healthPort = health.port ?? app.port;
  return {
    target: config.target,
    environment: config.environment,
    project: config.target === "compose" ? config.compose.project : config.project,
    namespace: config.kubernetes.namespace,
    domain: config.domain,
    tls: config.tls,
    app: {
      name: app.name,
      metrics: app.metrics === false ? undefined : { port: app.metrics.port ?? app.port, path: app.metrics.path },
      healthPaths: [...new Set([health.liveness, health.readiness, health.deep].filter((p): p is string => p !== undefined))],
      deepHealth: health.deep !== undefined ? { path: health.deep, port: healthPort } : undefined,
    },
    workers: config.workers.map((w) => ({ name: w.name, metrics: w.metrics })),
    services: config.services.map((s) => ({
      name: s.name,
      metrics: s.metrics ? { port: s.metrics.port ?? s.port, path: s.metrics.path } : undefined,
      tracing: s.tracing,
    })),
    cronJobs: config.cronJobs.map((j) => ({ name: j.name })),
    postgres: {
      ...endpoints.postgres,
      maxConnections: config.postgres.maxConnections,
      service: endpoints.postgres.kind === "in-stack" ? stackNames(config).postgres : undefined,
    },
    redis: endpoints.redis,
    proxyName: PROXY_NAME,
    team: { dashboards: config.repositoryFiles.dashboards, ruleFiles: config.repositoryFiles.ruleFiles },
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
    const grafana = this.specs.find((s) => s.name === monitoringNames.grafana);
    this.grafanaUrl = grafana?.route ? `${grafana.route.tls ? "https" : "http"}://${grafana.route.host}` : undefined;
    const footprint = monitoringFootprint(this.specs);
    this.registerOutputs({
      workloads: this.specs.map((s) => s.name),
      grafanaUrl: this.grafanaUrl ?? "disabled",
      memoryLimitMiB: footprint.limits.memoryMiB,
    });
  }

  /**
   * Pure: the other workloads with monitoring's peers allowed in and the OTLP environment
   * handed to every traced workload (app, workers, cron jobs, services with `tracing: true`),
   * under the stack's own variables.
   */
  instrument(workloads: WorkloadSpec[]): WorkloadSpec[] {
    if (!this.config.monitoring.enabled) return workloads;
    const traced = new Set(tracedWorkloads(this.context));
    const instrumented = workloads.map((w) =>
      traced.has(w.name) ? { ...w, env: withTracingEnv(w.env, w.secretEnv, tracingEnv(this.config.monitoring, this.context, w.name)) } : w,
    );
    return scrapedBy(instrumented, this.config.monitoring, this.context);
  }
}
