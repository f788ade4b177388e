/**
 * Which monitoring workloads a config deploys. Parts that only feed another part are
 * dropped with it: exporters and Alertmanager serve Prometheus, Alloy ships to Loki, and
 * cAdvisor is replaced by the kubelet's own on Kubernetes.
 */
import type { MonitoringConfig, TargetKind } from "../config";
import { agentsNamespaceOf } from "../config/kubernetes";

export interface EnabledParts {
  prometheus: boolean;
  alertmanager: boolean;
  grafana: boolean;
  loki: boolean;
  alloy: boolean;
  nodeExporter: boolean;
  /** The cAdvisor workload (Compose only). */
  cadvisor: boolean;
  /** Container metrics are scraped: from cAdvisor on Compose, from the kubelet on Kubernetes. */
  containerMetrics: boolean;
  /** The read-only Docker API proxy (Compose, with cAdvisor or Alloy). */
  dockerSocketProxy: boolean;
  postgresExporter: boolean;
  redisExporter: boolean;
  /** Probes the app's deep health (DeepHealthFailing). */
  blackboxExporter: boolean;
  /** The tracing backend is Tempo (`monitoring.tracing.backend: tempo`). */
  tempo: boolean;
  /** The tracing backend is Jaeger (`monitoring.tracing.backend: jaeger`). */
  jaeger: boolean;
}

/** What the rest of the stack has that some parts depend on. */
export interface StackShape {
  /** The stack runs Redis (the exporter has something to scrape). */
  redis: boolean;
  /** The app declares a deep health path (the blackbox exporter has something to probe). */
  deepHealth: boolean;
}

export function enabledParts(
  monitoring: MonitoringConfig,
  target: TargetKind,
  stack: StackShape = { redis: true, deepHealth: true },
): EnabledParts {
  const on = monitoring.enabled;
  const prometheus = on && monitoring.prometheus.enabled;
  const loki = on && monitoring.loki.enabled;
  const alloy = loki && monitoring.alloy.enabled;
  const cadvisor = prometheus && monitoring.cadvisor.enabled && target === "compose";
  return {
    prometheus,
    alertmanager: prometheus && monitoring.alertmanager.enabled,
    grafana: on && monitoring.grafana.enabled,
    loki,
    alloy,
    nodeExporter: prometheus && monitoring.nodeExporter.enabled,
    cadvisor,
    containerMetrics: prometheus && monitoring.cadvisor.enabled,
    dockerSocketProxy: target === "compose" && (alloy || cadvisor),
    postgresExporter: prometheus && monitoring.postgresExporter.enabled,
    redisExporter: prometheus && monitoring.redisExporter.enabled && stack.redis,
    blackboxExporter: prometheus && monitoring.blackboxExporter.enabled && stack.deepHealth,
    tempo: on && monitoring.tracing.enabled && monitoring.tracing.backend === "tempo",
    jaeger: on && monitoring.tracing.enabled && monitoring.tracing.backend === "jaeger",
  };
}

/** The parts a stack enables, from its observability context. */
export function partsOf(
  monitoring: MonitoringConfig,
  ctx: { target: TargetKind; redis?: unknown; app: { deepHealth?: unknown } },
): EnabledParts {
  return enabledParts(monitoring, ctx.target, { redis: ctx.redis !== undefined, deepHealth: ctx.app.deepHealth !== undefined });
}

/**
 * Kubernetes: the namespaces holding the stack's pods, which Prometheus and Alloy discover: the
 * application namespace, and the per-node agents' (`<namespace>-agents`) when Alloy or
 * node-exporter runs.
 */
export function stackNamespacesOf(monitoring: MonitoringConfig, ctx: Parameters<typeof partsOf>[1] & { namespace: string }): string[] {
  const parts = partsOf(monitoring, ctx);
  return parts.alloy || parts.nodeExporter ? [ctx.namespace, agentsNamespaceOf(ctx.namespace)] : [ctx.namespace];
}
