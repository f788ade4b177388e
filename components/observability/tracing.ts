/**
 * Tracing, whichever backend stores the traces (Tempo or Jaeger): who sends spans, where
 * to, and the OpenTelemetry SDK environment those workloads get. The stack's own OTEL_*
 * values win: a workload that sets OTEL_SERVICE_NAME keeps it, and OTEL_RESOURCE_ATTRIBUTES
 * is merged with Ballast's (deployment.environment, service.namespace), the stack's value
 * winning on the same key.
 */
import type { MonitoringConfig } from "../config";
import { monitoringNames, monitoringPorts, type ObservabilityContext } from "./context";

export const OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME";
export const OTEL_RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES";

/** The workload that receives OTLP and stores traces: `tempo` or `jaeger`. */
export function tracingCollector(monitoring: MonitoringConfig): string {
  return monitoring.tracing.backend === "jaeger" ? monitoringNames.jaeger : monitoringNames.tempo;
}

/** Tracing deploys a collector and instruments workloads. */
export function tracingOn(monitoring: MonitoringConfig): boolean {
  return monitoring.enabled && monitoring.tracing.enabled;
}

/** Workloads that send spans: the app, every worker and cron job, and the extra services with `tracing: true`. */
export function tracedWorkloads(ctx: ObservabilityContext): string[] {
  return [
    ctx.app.name,
    ...ctx.workers.map((w) => w.name),
    ...ctx.services.filter((s) => s.tracing).map((s) => s.name),
    ...(ctx.cronJobs ?? []).map((j) => j.name),
  ];
}

/**
 * OpenTelemetry SDK environment of one traced workload: empty when tracing is off, so the
 * caller can always merge it. `serviceName` sets OTEL_SERVICE_NAME for one workload.
 */
export function tracingEnv(monitoring: MonitoringConfig, ctx: ObservabilityContext, serviceName?: string): Record<string, string> {
  if (!tracingOn(monitoring)) return {};
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${tracingCollector(monitoring)}:${monitoringPorts.otlpHttp}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_TRACES_EXPORTER: "otlp",
    // The tracing backend stores traces only; metrics stay with Prometheus and logs with Loki.
    OTEL_METRICS_EXPORTER: "none",
    OTEL_LOGS_EXPORTER: "none",
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: String(monitoring.tracing.sampleRatio),
    [OTEL_RESOURCE_ATTRIBUTES]: `deployment.environment=${ctx.environment},service.namespace=${ctx.project}`,
    ...(serviceName ? { [OTEL_SERVICE_NAME]: serviceName } : {}),
  };
}

/** `k1=v1,k2=v2` (the OTEL_RESOURCE_ATTRIBUTES format) -> ordered [key, value] pairs; blank entries dropped. */
function resourceAttributes(text: string): [string, string][] {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const equals = entry.indexOf("=");
      return equals < 0 ? [entry, ""] : [entry.slice(0, equals).trim(), entry.slice(equals + 1).trim()];
    });
}

/** The stack's attributes as written, then Ballast's whose keys the stack does not set. */
export function mergeResourceAttributes(ours: string, theirs: string): string {
  const given = resourceAttributes(theirs);
  const keys = new Set(given.map(([key]) => key));
  const added = resourceAttributes(ours).filter(([key]) => !keys.has(key));
  return [...given, ...added].map(([key, value]) => `${key}=${value}`).join(",");
}

/**
 * A workload's environment with the tracing variables added under it: every variable the
 * stack sets (plain or from a secret) is kept, OTEL_RESOURCE_ATTRIBUTES is merged, and no
 * OTEL_SERVICE_NAME is added when the stack names the service in its resource attributes
 * (OTEL_SERVICE_NAME would take precedence over its `service.name`).
 */
export function withTracingEnv(
  env: Record<string, string>,
  secretEnv: Record<string, string>,
  tracing: Record<string, string>,
): Record<string, string> {
  const added = Object.fromEntries(Object.entries(tracing).filter(([name]) => !(name in env) && !(name in secretEnv)));
  const merged = { ...added, ...env };
  const ours = tracing[OTEL_RESOURCE_ATTRIBUTES];
  const theirs = env[OTEL_RESOURCE_ATTRIBUTES];
  if (ours !== undefined && theirs !== undefined) {
    merged[OTEL_RESOURCE_ATTRIBUTES] = mergeResourceAttributes(ours, theirs);
    if (resourceAttributes(theirs).some(([key]) => key === "service.name") && !(OTEL_SERVICE_NAME in env)) delete merged[OTEL_SERVICE_NAME];
  }
  return merged;
}
