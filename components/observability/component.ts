/**
 * Observability: the monitoring set of a stack (specs from ./index.ts), how it instruments the
 * other workloads, and the context the renderers need, derived from the stack config in one place.
 */
import type { PlatformConfig } from "../config";
import { PROXY_NAME, stackEndpoints, stackNames } from "../names";
import type { WorkloadSpec } from "../spec";
import { monitoringNames, type ObservabilityContext } from "./context";
import { observabilityWorkloads, scrapedBy, tracedWorkloads, tracingEnv, withTracingEnv } from "./index";

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

/** Pure: the monitoring set's workloads (none with `ballast:monitoring.enabled` off). */
export function monitoringWorkloads(config: PlatformConfig): WorkloadSpec[] {
  return config.monitoring.enabled ? observabilityWorkloads(config.monitoring, observabilityContext(config)) : [];
}

/** Pure: Grafana's public URL when the monitoring set routes it through Traefik. */
export function grafanaUrl(monitoring: WorkloadSpec[]): string | undefined {
  const grafana = monitoring.find((s) => s.name === monitoringNames.grafana);
  return grafana?.route ? `${grafana.route.tls ? "https" : "http"}://${grafana.route.host}` : undefined;
}

/**
 * Pure: the other workloads with monitoring's peers allowed in and the OTLP environment
 * handed to every traced workload (app, workers, cron jobs, services with `tracing: true`),
 * under the stack's own variables. Unchanged with monitoring off.
 */
export function instrumentWorkloads(config: PlatformConfig, workloads: WorkloadSpec[]): WorkloadSpec[] {
  if (!config.monitoring.enabled) return workloads;
  const context = observabilityContext(config);
  const traced = new Set(tracedWorkloads(context));
  const instrumented = workloads.map((w) =>
    traced.has(w.name) ? { ...w, env: withTracingEnv(w.env, w.secretEnv, tracingEnv(config.monitoring, context, w.name)) } : w,
  );
  return scrapedBy(instrumented, config.monitoring, context);
}
